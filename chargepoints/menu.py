from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm


def _rfid_boards_exist() -> bool:
    from chargepoints.selectors import rfid_boards_exist

    return rfid_boards_exist()


MENU = [
    MenuItem(_("Charging Stations"), "chargepoints:overview", Perm.PARK_VIEW, "plug", key="chargepoints", order=10),
    MenuItem(_("Overview"), "chargepoints:overview", Perm.PARK_VIEW, parent="chargepoints", order=10),
    MenuItem(
        _("CHARX RFID/NFC Board"),
        "chargepoints:rfidboard",
        Perm.RFID_BOARD_VIEW,
        visible=_rfid_boards_exist,
        parent="chargepoints",
        order=20,
    ),
    MenuItem(_("Simulator"), "simulator:index", Perm.SIMULATOR_USE, parent="system", order=90),
]
