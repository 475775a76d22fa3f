from __future__ import annotations

from django.urls import path

from moduleswitch import views

app_name = "moduleswitch"
urlpatterns = [path("", views.ModuleSwitchView.as_view(), name="page")]
