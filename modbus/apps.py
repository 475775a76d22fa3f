from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModbusConfig(AppConfig):
    """OCPP → Modbus: the start addresses of the charge points' register blocks, the Modbus/TCP
    server's state and its register map (what the app contributes: ``wbm.registry``)."""

    name = "modbus"
    verbose_name = _("Modbus")
    wbm_agents = ("modbus.agent.ModbusAgent",)
    wbm_urls = (("ocpp/modbus/", "modbus.urls"),)
    wbm_api_urls = "modbus.api"
    wbm_websocket_urls = "modbus.routing"
    wbm_menu = "modbus.menu.MENU"
