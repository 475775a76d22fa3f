"""/api/v1/loadmgmt/: the load management status (User and up) and
/api/v1/loadmgmt/config/: its configuration (GET User and up, PATCH Operator and up, all or
nothing with the page's rules and service). The configuration answers an ``ETag`` (its
revision); a PATCH with a stale ``If-Match`` is refused with 412."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loadmgmt import selectors, services
from loadmgmt.choices import MeterConnection, Strategy, UpstreamMeterType
from loadmgmt.status import reason_label, status_context
from wbm.api.schema import ErrorSerializer
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot


class LoadManagementPhaseSerializer(serializers.Serializer):
    phase = serializers.CharField(help_text="grid phase L1, L2 or L3")
    amps = serializers.FloatField(allow_null=True, help_text="planned current on this grid phase")
    drawn = serializers.FloatField(allow_null=True, help_text="drawn now on this grid phase")
    reason = serializers.CharField(help_text="why not more, in words (the request's language)")
    reason_code = serializers.CharField()


class LoadManagementPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    amps = serializers.FloatField(allow_null=True, help_text="the cap load management puts, per phase")
    reason = serializers.CharField()
    reason_code = serializers.CharField(
        help_text="own_max, vehicle, circuit_fuse, higher_fuse, ceiling, minimum_rule, paused_for_others, "
        "no_vehicle, meter_offline"
    )
    phases = LoadManagementPhaseSerializer(many=True)
    rotation = serializers.CharField(help_text="the connector phase rotation, empty: not set")
    vehicle_phases = serializers.IntegerField(allow_null=True)


class LoadManagementMeterSerializer(serializers.Serializer):
    connection = serializers.ChoiceField(choices=MeterConnection.values)
    type = serializers.CharField()
    address = serializers.CharField()
    rs485_chargepoint = serializers.IntegerField(allow_null=True)
    online = serializers.BooleanField()
    currents_a = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    read_at = serializers.FloatField(allow_null=True, help_text="UTC epoch seconds of the last good reading")
    error = serializers.CharField(allow_blank=True)


class LoadManagementStatusSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="the load management agent runs")
    limiting = serializers.BooleanField()
    monitored = serializers.IntegerField(help_text="charging points monitored by load management")
    current_a = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="L1, L2, L3")
    planned_a = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="L1, L2, L3")
    capacity_a = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="what the charging points may draw, per phase"
    )
    fallback = serializers.BooleanField(help_text="energy management offline: the fallback currents apply")
    dynamic_a = serializers.FloatField(allow_null=True, help_text="register 167 from a Modbus client")
    meter = LoadManagementMeterSerializer(allow_null=True)
    points = LoadManagementPointSerializer(many=True)
    history = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="[epoch seconds, L1, L2, L3, limit] over the last minutes",
    )


class LoadManagementConfigSerializer(serializers.Serializer):
    park_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    fuse_a = serializers.IntegerField(required=False, help_text="load circuit fuse, per phase")
    threshold_a = serializers.IntegerField(required=False)
    meter_connection = serializers.ChoiceField(choices=MeterConnection.values, required=False)
    meter_ip = serializers.CharField(allow_null=True, allow_blank=True, required=False, help_text="only with tcp")
    meter_type = serializers.ChoiceField(
        choices=["", *UpstreamMeterType.values], allow_blank=True, required=False, help_text="only with tcp"
    )
    rs485_chargepoint = serializers.IntegerField(allow_null=True, required=False, help_text="only with rs485")
    higher_fuse_a = serializers.IntegerField(allow_null=True, required=False, help_text="with a measuring device")
    strategy = serializers.ChoiceField(choices=Strategy.values, required=False)
    chargepoints = serializers.ListField(child=serializers.IntegerField(), required=False)


class LoadManagementConfigOutSerializer(LoadManagementConfigSerializer):
    revision = serializers.IntegerField(help_text="the configuration's revision (its ETag)")


class LoadManagementStaleSerializer(ErrorSerializer):
    revision = serializers.IntegerField()


def status_document() -> dict[str, Any]:
    ctx = status_context(read_snapshot())
    lm = ctx["lm"]
    return {
        "active": ctx["lm_running"],
        "limiting": ctx["limiting"] and ctx["lm_running"],
        "monitored": ctx["monitored"],
        "current_a": [r["current"] for r in ctx["phase_rows"]],
        "planned_a": [r["planned"] for r in ctx["phase_rows"]],
        "capacity_a": [r["capacity"] for r in ctx["phase_rows"]],
        "fallback": ctx["fallback"],
        "dynamic_a": ctx["dynamic_a"],
        "meter": ctx["meter"],
        "points": [{**p, "reason": reason_label(p["reason_code"])} for p in ctx["points"]],
        "history": lm.get("history") or [],
    }


def config_document() -> dict[str, Any]:
    circuit = selectors.load_circuit_get()
    return {**selectors.circuit_values(circuit), "revision": circuit.revision}


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _if_match(request: Request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    if "*" in tags:
        return None
    current = selectors.load_circuit_revision()
    return current if current in [int(t) for t in tags if t.isdigit()] else -1


class LoadManagementStatusApi(APIView):
    """The live status: agent running, limiting, monitored charging points, currents per phase,
    the allocation per charging point and phase with its reason, the higher-level meter."""

    required = Perm.LOADMGMT_VIEW

    @extend_schema(responses=LoadManagementStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(status_document())


class LoadManagementConfigApi(APIView):
    """The configuration. PATCH: any of the fields; the result is checked as a whole (400 with
    ``errors`` per field; nothing written)."""

    required = Perm.LOADMGMT_VIEW
    required_by_method = {"PATCH": Perm.LOADMGMT_EDIT}
    api_error_statuses = {"PATCH": (412,)}

    @extend_schema(responses=LoadManagementConfigOutSerializer)
    def get(self, request: Request) -> Response:
        document = config_document()
        return Response(document, headers={"ETag": _etag(document["revision"])})

    @extend_schema(
        request=LoadManagementConfigSerializer,
        responses={200: LoadManagementConfigOutSerializer, 412: LoadManagementStaleSerializer},
    )
    def patch(self, request: Request) -> Response:
        incoming = LoadManagementConfigSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        try:
            services.load_circuit_update(
                data=incoming.validated_data, actor=Actor.from_request(request), revision=_if_match(request)
            )
        except services.CircuitInvalid as exc:
            return Response(
                {
                    "detail": _("Some values are not valid; nothing was written."),
                    "code": "invalid",
                    "errors": exc.errors,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        except services.StaleRevision as exc:
            return Response(
                {
                    "detail": _(
                        "Someone else changed the load management configuration since you read it; nothing was written."
                    ),
                    "code": "precondition_failed",
                    "revision": exc.revision,
                },
                status=status.HTTP_412_PRECONDITION_FAILED,
                headers={"ETag": _etag(exc.revision)},
            )
        document = config_document()
        return Response(document, headers={"ETag": _etag(document["revision"])})


urlpatterns = [
    path("loadmgmt/", LoadManagementStatusApi.as_view(), name="loadmgmt"),
    path("loadmgmt/config/", LoadManagementConfigApi.as_view(), name="loadmgmt-config"),
]
