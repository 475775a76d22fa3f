from __future__ import annotations

from django.urls import path

from calibration import views

app_name = "calibration"
urlpatterns = [path("", views.CalibrationLawView.as_view(), name="page")]
