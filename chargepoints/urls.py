from __future__ import annotations

from django.urls import path

from chargepoints import views

app_name = "chargepoints"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("<int:pk>/release/", views.ReleaseView.as_view(), name="release"),
]
