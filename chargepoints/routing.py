from __future__ import annotations

from django.urls import path

from chargepoints.consumers import ChargePointConsumer, OverviewConsumer, RfidBoardConsumer, SimulatorConsumer

websocket_urlpatterns = [
    path("ws/chargepoints/<int:pk>/", ChargePointConsumer.as_asgi()),
    path("ws/chargepoints/rfid-board/", RfidBoardConsumer.as_asgi()),
    path("ws/chargepoints/overview/", OverviewConsumer.as_asgi()),
    path("ws/system/simulator/<int:pk>/", SimulatorConsumer.as_asgi()),
]
