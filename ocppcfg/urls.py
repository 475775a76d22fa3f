from __future__ import annotations

from django.urls import path

from ocppcfg import views

app_name = "ocppcfg"
urlpatterns = [
    path("", views.StatusView.as_view(), name="status"),
    path("messages/", views.MessagesView.as_view(), name="messages"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/restart/", views.RestartView.as_view(), name="restart"),
    path("variables/", views.VariablesView.as_view(), name="variables"),
]
