from __future__ import annotations

from django.urls import path

from network import views

app_name = "network"
urlpatterns = [
    path("", views.EthernetView.as_view(), name="ethernet"),
    path("wlan/", views.WlanView.as_view(), name="wlan"),
    path("ports/", views.PortsView.as_view(), name="ports"),
    path("modem/", views.ModemView.as_view(), name="modem"),
    path("routes/", views.RoutesView.as_view(), name="routes"),
    path("confirm/", views.ConfirmView.as_view(), name="confirm"),
]
