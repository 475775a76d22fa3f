from __future__ import annotations

from django.urls import include, path

from wbm.dashboard.views import DashboardView
from wbm.health import HealthView, LiveView
from wbm.registry import url_modules

urlpatterns = [
    path("", DashboardView.as_view(), name="home"),
    path("dashboard/", include(([path("", DashboardView.as_view(), name="index")], "dashboard"))),
    path("accounts/", include("wbm.accounts.urls")),
    # every app's pages (AppConfig.wbm_urls)
    *(path(prefix, include(module)) for prefix, module in url_modules()),
    path("api/v1/", include("wbm.api.urls")),
    path("healthz", HealthView.as_view(), name="health"),
    path("livez", LiveView.as_view(), name="live"),
]

handler400 = "wbm.errors.bad_request"
handler403 = "wbm.errors.permission_denied"
handler404 = "wbm.errors.page_not_found"
handler500 = "wbm.errors.server_error"
