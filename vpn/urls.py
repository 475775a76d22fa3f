from __future__ import annotations

from django.urls import path

from vpn import views

app_name = "vpn"
urlpatterns = [path("", views.VpnView.as_view(), name="index")]
