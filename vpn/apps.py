from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VpnConfig(AppConfig):
    """Network → OpenVPN: the client configuration (pasted or imported), the activation mode, the
    tunnel's status and its agent (``wbm.registry``)."""

    name = "vpn"
    verbose_name = _("OpenVPN")
    wbm_agents = ("vpn.agent.OpenVpnAgent",)
    wbm_urls = (("network/openvpn/", "vpn.urls"),)
    wbm_api_urls = "vpn.api"
    wbm_menu = "vpn.menu.MENU"
