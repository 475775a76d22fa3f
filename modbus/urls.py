from __future__ import annotations

from django.urls import path

from modbus import views

app_name = "modbus"
urlpatterns = [path("", views.ModbusView.as_view(), name="index")]
