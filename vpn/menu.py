from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

# the manual's order under Network: Ethernet, WLAN, port sharing, modem, OpenVPN, routing table
MENU = [MenuItem(_("OpenVPN"), "vpn:index", Perm.NETWORK_VIEW, parent="network", order=50)]
