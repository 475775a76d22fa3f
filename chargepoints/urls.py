from __future__ import annotations

from django.urls import path

from chargepoints import views, views_config, views_rfidboard, views_status

app_name = "chargepoints"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("<int:pk>/", views_status.StatusView.as_view(), name="status"),
    path("rfid-board/", views_rfidboard.RfidBoardView.as_view(), name="rfidboard"),
    path("<int:pk>/release/", views.ReleaseView.as_view(), name="release"),
    path("<int:pk>/availability/", views_status.AvailabilityView.as_view(), name="availability"),
    path("<int:pk>/unlock/", views_status.UnlockView.as_view(), name="unlock"),
    path("<int:pk>/lock/", views_status.LockView.as_view(), name="lock"),
    path("<int:pk>/config/", views_config.ConfigView.as_view(), name="config"),
    path("<int:pk>/export.json", views_config.export_config, name="export"),
    path("<int:pk>/delete/", views_config.DeleteView.as_view(), name="delete"),
    path("import/", views_config.ImportView.as_view(), name="import"),
]
