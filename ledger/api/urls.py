"""The app's routes under /api/v1/ (collected by the shell, named in the ``api`` namespace)."""

from __future__ import annotations

from django.urls import path

from ledger.api import views

urlpatterns = [
    path("sessions/", views.SessionListApi.as_view(), name="sessions"),
    path("sessions/totals/", views.SessionTotalsApi.as_view(), name="session-totals"),
    path("sessions/export.csv", views.SessionExportApi.as_view(), name="session-export"),
    path("sessions/<int:pk>/", views.SessionApi.as_view(), name="session"),
]
