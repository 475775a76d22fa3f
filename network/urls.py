from __future__ import annotations

from django.urls import path

from network import views

app_name = "network"
urlpatterns = [path("", views.EthernetView.as_view(), name="ethernet")]
