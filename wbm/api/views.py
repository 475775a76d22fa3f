"""/api/v1: the same services and the same permission map as the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import services as cp_services
from chargepoints.models import ChargePoint, Station
from wbm.api import serializers as s
from wbm.audit import Actor
from wbm.roles import Perm, allowed_perms, role_of
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import RuntimeUnavailable
from wbm.system import services as system_services
from wbm.system.simulator import OPS


def _snapshot():  # type: ignore[no-untyped-def]
    snapshot = read_snapshot()
    if snapshot is None:
        raise RuntimeUnavailable
    return snapshot


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return ChargePoint.objects.get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise NotFound(_("There is no charging point %(cp)s.") % {"cp": pk}) from None


class TokenApi(APIView):
    """Exchange user name and password for an API token (failed attempts count for lockout)."""

    required = Perm.DASHBOARD_VIEW
    authentication_classes: list[Any] = []

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer})
    def post(self, request: Request) -> Response:
        incoming = s.TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=incoming.validated_data["username"], password=incoming.validated_data["password"]
        )
        if user is None:
            return Response(
                {"detail": _("Wrong user name or password."), "code": "invalid_credentials"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        if user.profile.must_change_password:
            return Response(
                {"detail": _("Change the default password before using the API."), "code": "password_change_required"},
                status=status.HTTP_403_FORBIDDEN,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "role": role_of(user).name.lower()})


class MeApi(APIView):
    """Who is calling, with which role and permissions."""

    required = Perm.DASHBOARD_VIEW

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            {
                "username": user.get_username() if user.is_authenticated else "",
                "role": role_of(user).name.lower(),  # a stable key, not the translated label
                "permissions": sorted(allowed_perms(user)),
            }
        )


class ParkApi(APIView):
    """Park summary, stations and the live state of every charge point."""

    required = Perm.PARK_VIEW

    @extend_schema(responses=s.ParkSerializer)
    def get(self, request: Request) -> Response:
        snapshot = _snapshot()
        stations = [
            {
                "id": st.pk,
                "kind": st.kind,
                "hostname": st.hostname,
                "head_ip": st.head_ip,
                "head_mac": st.head_mac,
                "chargepoints": [cp.pk for cp in st.chargepoints.all()],
            }
            for st in Station.objects.prefetch_related("chargepoints")
        ]
        return Response(
            s.ParkSerializer(
                {
                    "generated_at": snapshot.generated_at,
                    "summary": snapshot.summary,
                    "stations": stations,
                    "chargepoints": snapshot.chargepoints,
                }
            ).data
        )


class DashboardApi(APIView):
    """What the dashboard shows: summary and configured charge points (Guest may read)."""

    required = Perm.DASHBOARD_VIEW

    @extend_schema(responses=s.ParkSerializer)
    def get(self, request: Request) -> Response:
        snapshot = _snapshot()
        return Response(
            {
                "generated_at": snapshot.generated_at,
                "summary": s.SummarySerializer(snapshot.summary).data,
                "chargepoints": [
                    {
                        "id": cp.id,
                        "name": cp.name,
                        "location": cp.location,
                        "status": cp.dashboard_status,
                        "power_w": cp.power_w,
                        "session_energy_wh": cp.session_energy_wh,
                        "charging_s": cp.charging_s,
                        "plugin_s": cp.plugin_s,
                    }
                    for cp in snapshot.configured
                ],
            }
        )


class ChargePointStateApi(APIView):
    required = Perm.PARK_VIEW

    @extend_schema(responses=s.ChargePointStateSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cp = _snapshot().chargepoint(pk)
        if cp is None:
            raise Http404
        return Response(s.ChargePointStateSerializer(cp).data)


class ChargePointReleaseApi(APIView):
    """Allow or prohibit charging."""

    required = Perm.CHARGEPOINT_RELEASE

    @extend_schema(request=s.ReleaseSerializer, responses=s.ChargePointStateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = s.ReleaseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        chargepoint = _chargepoint(pk)
        cp_services.chargepoint_release_set(
            chargepoint=chargepoint, allow=incoming.validated_data["allow"], actor=Actor.from_request(request)
        )
        return Response(s.ChargePointStateSerializer(_snapshot().chargepoint(pk)).data)


class SimulatorApi(APIView):
    """Drive the simulated hardware: plug_in {phases, max_current_a, ventilation}, unplug,
    vehicle {action: start|pause|finish}, rfid {tag}, input {index, value: high|low},
    analog {index, volts}, fault {code, info}, clear_fault, temperature {celsius|null}."""

    required = Perm.SIMULATOR_USE

    @extend_schema(
        parameters=[OpenApiParameter("op", str, OpenApiParameter.PATH, enum=sorted(OPS))],
        request=OpenApiTypes.OBJECT,
        responses=s.ChargePointStateSerializer,
    )
    def post(self, request: Request, pk: int, op: str) -> Response:
        if op not in OPS:
            raise NotFound(_("The runtime does not know this operation."))
        chargepoint = _chargepoint(pk)
        data = request.data if isinstance(request.data, dict) else {}
        form = OPS[op].form(data={k: ("" if v is None else v) for k, v in data.items()})
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        system_services.simulator_apply(
            chargepoint=chargepoint, op=op, data=form.cleaned_data, actor=Actor.from_request(request)
        )
        return Response(s.ChargePointStateSerializer(_snapshot().chargepoint(pk)).data)


class AgentListApi(APIView):
    """The runtime's services and their state."""

    required = Perm.SYSTEM_VIEW

    @extend_schema(responses=s.AgentSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.AgentSerializer(_snapshot().agents, many=True).data)


class AgentRestartApi(APIView):
    required = Perm.SYSTEM_SERVICE_RESTART

    @extend_schema(request=None, responses=s.OkSerializer)
    def post(self, request: Request, name: str) -> Response:
        system_services.agent_restart(name=name, actor=Actor.from_request(request))
        return Response({"ok": True})
