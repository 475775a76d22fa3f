from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

# a page of Charging Stations: the sessions are what its charge points did
MENU = [MenuItem(_("Sessions"), "ledger:list", Perm.SESSIONS_VIEW, parent="chargepoints", order=15)]
