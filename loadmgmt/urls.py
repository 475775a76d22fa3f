from __future__ import annotations

from django.urls import path

from loadmgmt import views

app_name = "loadmgmt"
urlpatterns = [path("", views.StatusView.as_view(), name="status")]
