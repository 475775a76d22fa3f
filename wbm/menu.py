"""The menu tree of the manual, assembled from what the apps register and filtered per role.

Each app lists its entries in ``AppConfig.wbm_menu`` (``wbm.registry``): top-level sections with
a ``key``, and pages hung under a section with ``parent``. Every entry names the permission it
needs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

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
    key: str = ""  # a section others hang pages under
    parent: str = ""  # the key of the section this page belongs to
    order: int = 100  # position among its siblings


# The shell's own entry; the apps bring the rest.
SHELL_MENU = [MenuItem(_("Dashboard"), "dashboard:index", Perm.DASHBOARD_VIEW, "gauge", key="dashboard", order=0)]


@cache
def menu() -> tuple[MenuItem, ...]:
    """The whole tree, sections in order, each with its pages in order."""
    from wbm.registry import menu_items

    items = [*SHELL_MENU, *menu_items()]
    sections = sorted((i for i in items if not i.parent), key=lambda i: i.order)
    keys = {s.key for s in sections if s.key}
    orphans = [i for i in items if i.parent and i.parent not in keys]
    if orphans:
        raise LookupError(f"menu entries under a section nobody registers: {orphans}")
    return tuple(
        dataclasses.replace(
            section,
            children=tuple(
                sorted(
                    (*section.children, *(i for i in items if section.key and i.parent == section.key)),
                    key=lambda i: i.order,
                )
            ),
        )
        for section in sections
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

    from wbm.registry import menu_hidden

    hidden = menu_hidden()  # e.g. a client module: the server took these functions over
    return [e for e in (build(i) for i in menu() if not (i.key and i.key in hidden)) if e is not None]
