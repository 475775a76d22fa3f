from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

# the manual's order under OCPP: Status, Settings, Server variables, Modbus
MENU = [MenuItem(_("Modbus"), "modbus:index", Perm.MODBUS_VIEW, parent="ocpp", order=40)]
