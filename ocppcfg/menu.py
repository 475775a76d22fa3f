from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [
    MenuItem(_("OCPP"), "ocppcfg:status", Perm.OCPP_VIEW, "cloud", key="ocpp", order=20),
    MenuItem(_("Status"), "ocppcfg:status", Perm.OCPP_VIEW, parent="ocpp", order=10),
]
