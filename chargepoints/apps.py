from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChargepointsConfig(AppConfig):
    name = "chargepoints"
    verbose_name = _("Charging Stations")
    # what the app contributes to the shell (wbm.registry)
    wbm_agents = ("chargepoints.controller.agent.ControllerAgent",)
    wbm_urls = (("chargepoints/", "chargepoints.urls"), ("system/simulator/", "chargepoints.simulator.urls"))
    wbm_api_urls = "chargepoints.api.urls"
    wbm_websocket_urls = "chargepoints.routing"
    wbm_menu = "chargepoints.menu.MENU"
    wbm_station_names = "chargepoints.selectors.station_names"
