from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [
    MenuItem(_("System Control"), "system:status", Perm.SYSTEM_VIEW, "cpu", key="system", order=90),
    MenuItem(_("Status"), "system:status", Perm.SYSTEM_VIEW, parent="system", order=10),
    MenuItem(_("Time"), "system:time", Perm.SYSTEM_VIEW, parent="system", order=20),
    MenuItem(_("Log Files"), "system:logs", Perm.SYSTEM_LOGS_DOWNLOAD, parent="system", order=30),
    MenuItem(_("Developer Mode"), "system:developer", Perm.SYSTEM_DEVELOPER_MODE, parent="system", order=60),
    MenuItem(_("Import/Export"), "system:importexport", Perm.SYSTEM_IMPORT_EXPORT, parent="system", order=35),
    MenuItem(_("Software"), "system:software", Perm.SYSTEM_SOFTWARE_UPDATE, parent="system", order=80),
    MenuItem(_("Audit Trail"), "system:audit", Perm.SYSTEM_AUDIT_VIEW, parent="system", order=85),
]
