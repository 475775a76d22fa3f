from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [MenuItem(_("Whitelist"), "whitelist:list", Perm.WHITELIST_VIEW, "id-card", key="whitelist", order=30)]
