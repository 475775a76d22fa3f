from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

MENU = [
    MenuItem(_("Network"), "network:ethernet", Perm.NETWORK_VIEW, "network", key="network", order=50),
    MenuItem(_("Ethernet"), "network:ethernet", Perm.NETWORK_VIEW, parent="network", order=10),
    MenuItem(_("WLAN"), "network:wlan", Perm.NETWORK_VIEW, parent="network", order=20),
    MenuItem(_("Port Sharing"), "network:ports", Perm.NETWORK_VIEW, parent="network", order=30),
    MenuItem(_("Modem"), "network:modem", Perm.NETWORK_VIEW, parent="network", order=40),
    MenuItem(_("Routing Table"), "network:routes", Perm.NETWORK_VIEW, parent="network", order=60),
]
