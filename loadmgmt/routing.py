from __future__ import annotations

from django.urls import path

from loadmgmt.consumers import LoadManagementConsumer

websocket_urlpatterns = [path("ws/loadmgmt/", LoadManagementConsumer.as_asgi())]
