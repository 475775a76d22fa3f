"""The app's routes under /api/v1/ (collected by the shell, named in the ``api`` namespace)."""

from __future__ import annotations

from django.urls import path

from chargepoints.api import config, park, rfidboard, status

urlpatterns = [
    path("park/", park.ParkApi.as_view(), name="park"),
    path("chargepoints/<int:pk>/", park.ChargePointStateApi.as_view(), name="chargepoint"),
    path("chargepoints/<int:pk>/release/", park.ChargePointReleaseApi.as_view(), name="chargepoint-release"),
    path("chargepoints/<int:pk>/status/", status.ChargePointStatusApi.as_view(), name="chargepoint-status"),
    path(
        "chargepoints/<int:pk>/availability/",
        status.ChargePointAvailabilityApi.as_view(),
        name="chargepoint-availability",
    ),
    path("chargepoints/<int:pk>/unlock/", status.ChargePointUnlockApi.as_view(), name="chargepoint-unlock"),
    path("chargepoints/<int:pk>/lock/", status.ChargePointLockApi.as_view(), name="chargepoint-lock"),
    path("chargepoints/rfid-boards/", rfidboard.RfidBoardListApi.as_view(), name="rfidboards"),
    path("chargepoints/rfid-boards/<int:pk>/", rfidboard.RfidBoardApi.as_view(), name="rfidboard"),
    path("chargepoints/<int:pk>/config/", config.ChargePointConfigApi.as_view(), name="chargepoint-config"),
    path(
        "chargepoints/<int:pk>/config/export/",
        config.ChargePointConfigExportApi.as_view(),
        name="chargepoint-config-export",
    ),
    path("chargepoints/config/import/", config.ChargePointConfigImportApi.as_view(), name="chargepoint-config-import"),
    # one route per simulator operation (each documented with its own body), then the generic one
    *(
        path(f"simulator/chargepoints/<int:pk>/{op}/", api.as_view(), name=f"simulator-{op.replace('_', '-')}")
        for op, api in park.SIMULATOR_OP_APIS.items()
    ),
    path(
        "simulator/chargepoints/<int:pk>/<str:op>/",
        park.SimulatorAnyOpApi.as_view(),
        name="simulator",
    ),
]
