from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

# the manual's order under OCPP: Status, Settings, Server variables, Modbus (modbus.menu)
MENU = [
    MenuItem(_("OCPP"), "ocppcfg:status", Perm.OCPP_VIEW, "cloud", key="ocpp", order=20),
    MenuItem(_("Status"), "ocppcfg:status", Perm.OCPP_VIEW, parent="ocpp", order=10),
    MenuItem(_("Settings"), "ocppcfg:settings", Perm.OCPP_SETTINGS_EDIT, parent="ocpp", order=20),
    MenuItem(_("Server variables"), "ocppcfg:variables", Perm.OCPP_SETTINGS_EDIT, parent="ocpp", order=30),
]
