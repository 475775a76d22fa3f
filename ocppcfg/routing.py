from __future__ import annotations

from django.urls import path

from ocppcfg.consumers import OcppStatusConsumer, OcppVariablesConsumer

websocket_urlpatterns = [
    path("ws/ocpp/", OcppStatusConsumer.as_asgi()),
    path("ws/ocpp/variables/", OcppVariablesConsumer.as_asgi()),
]
