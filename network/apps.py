from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    """Network: Ethernet, WLAN, port sharing, modem and the routing table, applied through the OS
    interface (``network.osbackend``)."""

    name = "network"
    verbose_name = _("Network")
    wbm_urls = (("network/", "network.urls"),)
    wbm_agents = ("network.agent.NetworkAgent", "network.agent.ModemAgent")
    wbm_api_urls = "network.api"
    wbm_menu = "network.menu.MENU"
