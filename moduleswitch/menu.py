from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [MenuItem(_("Module Switch"), "moduleswitch:page", Perm.SYSTEM_MODULE_SWITCH, parent="system", order=70)]
