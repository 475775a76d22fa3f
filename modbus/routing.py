from __future__ import annotations

from django.urls import path

from modbus.consumers import ModbusConsumer

websocket_urlpatterns = [
    path("ws/modbus/", ModbusConsumer.as_asgi()),
    path("ws/modbus/<int:pk>/", ModbusConsumer.as_asgi()),
]
