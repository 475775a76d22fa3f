"""The menu tree of the manual, filtered per role. Each entry names the permission it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wbm.roles import Perm, allows


@dataclass(frozen=True)
class MenuItem:
    title: str | Promise
    url_name: str
    perm: Perm
    icon: str = ""
    children: tuple[MenuItem, ...] = field(default_factory=tuple)
    visible: Callable[[], bool] | None = None  # shown only while this says so (e.g. hardware present)


def _rfid_boards_exist() -> bool:
    from chargepoints.selectors import rfid_boards_exist

    return rfid_boards_exist()


MENU: tuple[MenuItem, ...] = (
    MenuItem(_("Dashboard"), "dashboard:index", Perm.DASHBOARD_VIEW, "gauge"),
    MenuItem(
        _("Charging Stations"),
        "chargepoints:overview",
        Perm.PARK_VIEW,
        "plug",
        (
            MenuItem(_("Overview"), "chargepoints:overview", Perm.PARK_VIEW),
            MenuItem(
                _("CHARX RFID/NFC Board"), "chargepoints:rfidboard", Perm.RFID_BOARD_VIEW, visible=_rfid_boards_exist
            ),
        ),
    ),
    MenuItem(
        _("OCPP"), "ocppcfg:status", Perm.OCPP_VIEW, "cloud", (MenuItem(_("Status"), "ocppcfg:status", Perm.OCPP_VIEW),)
    ),
    MenuItem(_("Whitelist"), "whitelist:list", Perm.WHITELIST_VIEW, "id-card"),
    MenuItem(_("Load Management"), "loadmgmt:status", Perm.LOADMGMT_VIEW, "scale"),
    MenuItem(
        _("Network"),
        "network:ethernet",
        Perm.NETWORK_VIEW,
        "network",
        (MenuItem(_("Ethernet"), "network:ethernet", Perm.NETWORK_VIEW),),
    ),
    MenuItem(
        _("System Control"),
        "system:status",
        Perm.SYSTEM_VIEW,
        "cpu",
        (
            MenuItem(_("Status"), "system:status", Perm.SYSTEM_VIEW),
            MenuItem(_("Time"), "system:time", Perm.SYSTEM_VIEW),
            MenuItem(_("Log Files"), "system:logs", Perm.SYSTEM_LOGS_DOWNLOAD),
            MenuItem(_("Simulator"), "system:simulator", Perm.SIMULATOR_USE),
        ),
    ),
)


@dataclass(frozen=True)
class NavEntry:
    title: str | Promise
    url: str
    icon: str
    active: bool
    children: tuple[NavEntry, ...]


def navigation(user: object, path: str) -> list[NavEntry]:
    """The menu entries this user may open, with the one for ``path`` marked active."""

    def build(item: MenuItem) -> NavEntry | None:
        if not allows(user, item.perm) or (item.visible is not None and not item.visible()):
            return None
        url = reverse(item.url_name)
        children = tuple(e for e in (build(c) for c in item.children) if e is not None)
        active = path == url or any(c.active for c in children) or (url != "/" and path.startswith(url))
        return NavEntry(item.title, url, item.icon, active, children)

    return [e for e in (build(i) for i in MENU) if e is not None]
