from __future__ import annotations

from django.urls import path

from ocppcfg import views

app_name = "ocppcfg"
urlpatterns = [path("", views.StatusView.as_view(), name="status")]
