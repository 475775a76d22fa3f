"""/api/v1/system/calibration-law/: the findings (GET) and the switch (PUT ``{"active": bool}``)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calibration import rules, services
from wbm.access import HasPerm
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.system.views import runtime_error


class CalibrationInSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="true: switch calibration law on (the controller restarts)")


class CalibrationLawApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_CALIBRATION_LAW

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        found = rules.findings()
        return Response(
            {
                "active": services.calibration_law_active(),
                "counts": rules.summary(found),
                "findings": [f.as_dict() for f in found],
            }
        )

    @extend_schema(request=CalibrationInSerializer, responses={202: dict})
    def put(self, request: Request) -> Response:
        incoming = CalibrationInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        on = incoming.validated_data["active"]
        try:
            services.calibration_law_switch(on=on, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            return Response(
                {"active": on, "restarting": False, "detail": runtime_error(exc)}, status=status.HTTP_202_ACCEPTED
            )
        return Response({"active": on, "restarting": True}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("system/calibration-law/", CalibrationLawApi.as_view(), name="system-calibration-law")]
