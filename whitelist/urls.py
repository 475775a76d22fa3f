from __future__ import annotations

from django.urls import path

from whitelist import views

app_name = "whitelist"
urlpatterns = [path("", views.EntryListView.as_view(), name="list")]
