from __future__ import annotations

from django.urls import path

from wbm.system import portability_views, revisions_views, update_views, views

app_name = "system"
urlpatterns = [
    path("importexport/", portability_views.ImportExportView.as_view(), name="importexport"),
    path("audit/", revisions_views.AuditView.as_view(), name="audit"),
    path("software/", update_views.SoftwareView.as_view(), name="software"),
    # system:importexport-marker (Import/Export, audit trail, software update)
    path("", views.StatusView.as_view(), name="status"),
    path("time/", views.TimeView.as_view(), name="time"),
    path("logs/", views.LogsView.as_view(), name="logs"),
    path("reboot/", views.RebootView.as_view(), name="reboot"),
    path("developer/", views.DeveloperView.as_view(), name="developer"),
]
