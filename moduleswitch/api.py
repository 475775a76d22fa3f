"""/api/v1/system/module-switch/: GET the mode, PUT ``{"mode": "client"|"server", "confirm": true}``."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints.models import Station
from moduleswitch import services
from wbm.access import HasPerm
from wbm.audit import Actor
from wbm.roles import Perm


class ModuleSwitchInSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["client", "server"])
    confirm = serializers.BooleanField(help_text="must be true: the controller restarts, the WBM is reduced")


class ModuleSwitchApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_MODULE_SWITCH

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        stations = [{"id": s.pk, "hostname": s.hostname, "kind": s.kind} for s in Station.objects.order_by("pk")]
        return Response({"mode": services.module_mode(), "stations": stations, "usb_address": services.USB_ADDRESS})

    @extend_schema(request=ModuleSwitchInSerializer, responses={202: dict})
    def put(self, request: Request) -> Response:
        incoming = ModuleSwitchInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        if not incoming.validated_data["confirm"]:
            raise ValidationError({"confirm": [_("Confirm the module switch: the controller restarts.")]})
        try:
            result = services.module_switch(to=incoming.validated_data["mode"], actor=Actor.from_request(request))
        except services.AlreadyInMode:
            return Response(
                {"detail": _("The controller already runs in this mode."), "code": "already_in_mode"},
                status=status.HTTP_409_CONFLICT,
            )
        return Response({**result, "restarting": True}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("system/module-switch/", ModuleSwitchApi.as_view(), name="system-module-switch")]
