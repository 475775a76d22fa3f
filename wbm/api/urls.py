from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chargepoints.api import config as cp_config
from chargepoints.api import rfidboard as cp_rfidboard
from chargepoints.api import status as cp_status
from wbm.access import RoleRequiredMixin
from wbm.api import views
from wbm.roles import Perm


class SchemaView(RoleRequiredMixin, SpectacularAPIView):
    required = Perm.API_DOCS_VIEW


class DocsView(RoleRequiredMixin, SpectacularSwaggerView):
    required = Perm.API_DOCS_VIEW


app_name = "api"
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", views.TokenApi.as_view(), name="token"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("dashboard/", views.DashboardApi.as_view(), name="dashboard"),
    path("park/", views.ParkApi.as_view(), name="park"),
    path("chargepoints/<int:pk>/", views.ChargePointStateApi.as_view(), name="chargepoint"),
    path("chargepoints/<int:pk>/release/", views.ChargePointReleaseApi.as_view(), name="chargepoint-release"),
    path("chargepoints/<int:pk>/status/", cp_status.ChargePointStatusApi.as_view(), name="chargepoint-status"),
    path(
        "chargepoints/<int:pk>/availability/",
        cp_status.ChargePointAvailabilityApi.as_view(),
        name="chargepoint-availability",
    ),
    path("chargepoints/<int:pk>/unlock/", cp_status.ChargePointUnlockApi.as_view(), name="chargepoint-unlock"),
    path("chargepoints/rfid-boards/", cp_rfidboard.RfidBoardListApi.as_view(), name="rfidboards"),
    path("chargepoints/rfid-boards/<int:pk>/", cp_rfidboard.RfidBoardApi.as_view(), name="rfidboard"),
    path("chargepoints/<int:pk>/config/", cp_config.ChargePointConfigApi.as_view(), name="chargepoint-config"),
    path(
        "chargepoints/<int:pk>/config/export/",
        cp_config.ChargePointConfigExportApi.as_view(),
        name="chargepoint-config-export",
    ),
    path(
        "chargepoints/config/import/", cp_config.ChargePointConfigImportApi.as_view(), name="chargepoint-config-import"
    ),
    path("simulator/chargepoints/<int:pk>/<str:op>/", views.SimulatorApi.as_view(), name="simulator"),
    path("system/agents/", views.AgentListApi.as_view(), name="agents"),
    path("system/agents/<str:name>/restart/", views.AgentRestartApi.as_view(), name="agent-restart"),
]
