from __future__ import annotations

from django.urls import path

from whitelist import views

app_name = "whitelist"
urlpatterns = [
    path("", views.EntryListView.as_view(), name="list"),
    path("add/", views.EntryEditView.as_view(), name="add"),
    path("<int:pk>/edit/", views.EntryEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.EntryDeleteView.as_view(), name="delete"),
    path("import/", views.EntryImportView.as_view(), name="import"),
    path("export.csv", views.EntryExportView.as_view(), name="export"),
]
