from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [
    MenuItem(_("Calibration Law"), "calibration:page", Perm.SYSTEM_CALIBRATION_LAW, parent="system", order=50),
]
