from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "ocppcfg"
    verbose_name = _("OCPP")
    wbm_urls = (("ocpp/", "ocppcfg.urls"),)
    wbm_api_urls = "ocppcfg.api"
    wbm_websocket_urls = "ocppcfg.routing"
    wbm_menu = "ocppcfg.menu.MENU"
    wbm_agents = ("ocppcfg.agent.OcppAgent",)
