from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wbm.menu import MenuItem
from wbm.roles import Perm

# the manual puts "MQTT Bridge" at the end of the Network chapter (5.10.1)
MENU = [MenuItem(_("MQTT Bridge"), "mqttbridge:index", Perm.NETWORK_VIEW, parent="network", order=70)]
