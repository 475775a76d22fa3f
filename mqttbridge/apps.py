from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MqttBridgeConfig(AppConfig):
    """MQTT Bridge: the remote broker, the topic forwarding rows, the publisher of the live state
    on the local broker and the bridge agent (``wbm.registry``)."""

    name = "mqttbridge"
    verbose_name = _("MQTT Bridge")
    wbm_agents = ("mqttbridge.publisher.MqttPublisherAgent", "mqttbridge.bridge.MqttBridgeAgent")
    wbm_urls = (("network/mqtt/", "mqttbridge.urls"),)
    wbm_api_urls = "mqttbridge.api"
    wbm_menu = "mqttbridge.menu.MENU"
