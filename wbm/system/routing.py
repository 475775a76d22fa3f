from __future__ import annotations

from django.urls import path

from wbm.system.consumers import SystemConsumer

websocket_urlpatterns = [path("ws/system/", SystemConsumer.as_asgi())]
