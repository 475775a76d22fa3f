from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "loadmgmt"
    verbose_name = _("Load Management")
    wbm_urls = (("loadmanagement/", "loadmgmt.urls"),)
    wbm_agents = ("loadmgmt.agent.LoadManagementAgent",)
    wbm_api_urls = "loadmgmt.api"
    wbm_websocket_urls = "loadmgmt.routing"
    wbm_menu = "loadmgmt.menu.MENU"
