from __future__ import annotations

from django.urls import path

from mqttbridge import views

app_name = "mqttbridge"
urlpatterns = [path("", views.MqttBridgeView.as_view(), name="index")]
