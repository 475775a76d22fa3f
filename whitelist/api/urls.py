"""The whitelist's routes under /api/v1/ (collected by the shell, named in the ``api`` namespace)."""

from __future__ import annotations

from django.urls import path

from whitelist.api import views

urlpatterns = [
    path("whitelist/entries/", views.EntryListApi.as_view(), name="whitelist-entries"),
    path("whitelist/entries/<int:pk>/", views.EntryApi.as_view(), name="whitelist-entry"),
    path("whitelist/export/", views.ExportApi.as_view(), name="whitelist-export"),
    path("whitelist/import/", views.ImportApi.as_view(), name="whitelist-import"),
    path("whitelist/recent-scans/", views.RecentScansApi.as_view(), name="whitelist-recent-scans"),
    path("whitelist/ocpp-local-list/", views.OcppLocalListApi.as_view(), name="whitelist-ocpp-local-list"),
]
