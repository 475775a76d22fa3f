from __future__ import annotations

from django.urls import path

from chargepoints.simulator import views

app_name = "simulator"
urlpatterns = [path("", views.SimulatorView.as_view(), name="index")]
