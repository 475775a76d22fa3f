from __future__ import annotations

from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.SessionListView.as_view(), name="list"),
    path("export.csv", views.SessionExportView.as_view(), name="export"),
    path("<int:pk>/", views.SessionDetailView.as_view(), name="detail"),
]
