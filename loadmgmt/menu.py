from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [MenuItem(_("Load Management"), "loadmgmt:status", Perm.LOADMGMT_VIEW, "scale", key="loadmgmt", order=40)]
