from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "wbm.system"
    label = "wbm_system"
    verbose_name = _("System Control")
    wbm_agents = ("wbm.system.agents.SystemMonitorAgent", "wbm.system.update_agent.UpdateAgent")
    wbm_urls = (("system/", "wbm.system.urls"),)
    wbm_api_urls = "wbm.system.api"
    wbm_websocket_urls = "wbm.system.routing"
    wbm_menu = "wbm.system.menu.MENU"
