from __future__ import annotations

from django.urls import path

from wbm.system import views

app_name = "system"
urlpatterns = [
    path("", views.StatusView.as_view(), name="status"),
    path("time/", views.TimeView.as_view(), name="time"),
    path("logs/", views.LogsView.as_view(), name="logs"),
    path("reboot/", views.RebootView.as_view(), name="reboot"),
    path("developer/", views.DeveloperView.as_view(), name="developer"),
]
