from __future__ import annotations

from django.urls import include, path

from wbm.dashboard.views import DashboardView
from wbm.health import HealthView

urlpatterns = [
    path("", DashboardView.as_view(), name="home"),
    path("dashboard/", include(([path("", DashboardView.as_view(), name="index")], "dashboard"))),
    path("accounts/", include("wbm.accounts.urls")),
    path("chargepoints/", include("chargepoints.urls")),
    path("ocpp/", include("ocppcfg.urls")),
    path("whitelist/", include("whitelist.urls")),
    path("loadmanagement/", include("loadmgmt.urls")),
    path("network/", include("network.urls")),
    path("system/", include("wbm.system.urls")),
    path("api/v1/", include("wbm.api.urls")),
    path("healthz", HealthView.as_view(), name="health"),
]

handler400 = "wbm.errors.bad_request"
handler403 = "wbm.errors.permission_denied"
handler404 = "wbm.errors.page_not_found"
handler500 = "wbm.errors.server_error"
