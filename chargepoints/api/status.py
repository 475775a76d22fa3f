"""/api/v1 for the Charge Point Status page: the same groups and the same operations, through the
same services and the same permission map."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import selectors, services
from chargepoints.models import ChargePoint
from chargepoints.status import DeviceInfo, device_info, live_state, status_context
from chargepoints.views_status import pending_message
from wbm.api.fields import StrictBooleanField
from wbm.api.liveness import runtime_liveness
from wbm.api.serializers import ChargePointStateSerializer, RuntimeLivenessSerializer
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.commands import RuntimeUnavailable
from wbm.runtime.snapshot import ChargePointState


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return selectors.chargepoint_get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise Http404 from None


def _live(pk: int) -> ChargePointState:
    live = live_state(pk)
    if live is None:
        raise RuntimeUnavailable
    return live


def status_document(device: DeviceInfo, live: ChargePointState) -> dict[str, Any]:
    """The status page as data: hidden groups are null, values that cannot be read are null."""
    context = status_context(device, live)
    meter = live.meter
    current: dict[str, Any] = {
        "status": live.dashboard_status if live.configured else "not_configured",
        "error_code": live.error_code,
        "error_info": live.error_info,
        "enabled": live.enabled,
        "local_bus": live.local_bus,
        "charging_s": live.charging_s,
        "plugin_s": live.plugin_s,
        "pwm_limit_a": live.pwm_limit_a,
        "currents_a": list(meter.currents_a) if meter else None,
        "charged_energy_wh": None,
        "charging_power_w": None,
    }
    if live.meter_configured and meter is not None:
        current["charged_energy_wh"] = live.session_energy_wh if live.plugged_since else None
        current["charging_power_w"] = meter.power_w
    meter_group = None
    if live.meter_configured:
        meter_group = {
            "available": meter is not None,
            "currents_a": list(meter.currents_a) if meter else None,
            "voltages_v": list(meter.voltages_v) if meter else None,
            "energy_wh": meter.energy_wh if meter else None,
            "power_factor": meter.power_factor if meter else None,
            "frequency_hz": meter.frequency_hz if meter else None,
        }
    iso = None
    if live.iso15118 is not None:
        iso = {
            **{k: getattr(live.iso15118, k) for k in live.iso15118.__dataclass_fields__},
            "error_text": context["iso_error_text"],
        }
    return {
        "id": device.pk,
        "name": device.name,
        "configured": device.configured,
        "current": current,
        "device": {"name": device.device_name, "uid": device.device_uid},
        "base_module": {"hardware_version": device.hardware_version, "firmware_version": device.firmware_version},
        "bus": {"position": device.position, "head_ip": device.head_ip, "head_mac": device.head_mac},
        "meter": meter_group,
        "details": {
            "iec_state": live.iec_state,
            "iec_state_text": context["iec_label"],
            "rfid": live.rfid,
            "temperature_c": live.temperature_c if live.temperature_configured else None,
        },
        "iso15118": iso,
        "operations": {
            "release": live.release,
            "release_mode": live.release_mode,
            "enabled": live.enabled,
            "unlock_enforced": live.unlock_enforced,
            "locked": live.locked,
        },
    }


class _CurrentSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="available | occupied | charging | reserved | error | not_configured")
    error_code = serializers.CharField()
    error_info = serializers.CharField()
    enabled = serializers.BooleanField()
    local_bus = serializers.CharField()
    charging_s = serializers.IntegerField()
    plugin_s = serializers.IntegerField()
    pwm_limit_a = serializers.FloatField()
    currents_a = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="null: no measuring device connected"
    )
    charged_energy_wh = serializers.FloatField(allow_null=True)
    charging_power_w = serializers.FloatField(allow_null=True)


class _DeviceSerializer(serializers.Serializer):
    name = serializers.CharField()
    uid = serializers.CharField()


class _BaseModuleSerializer(serializers.Serializer):
    hardware_version = serializers.CharField()
    firmware_version = serializers.CharField()


class _BusSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    head_ip = serializers.CharField()
    head_mac = serializers.CharField()


class _MeterSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    currents_a = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    voltages_v = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    energy_wh = serializers.FloatField(allow_null=True)
    power_factor = serializers.FloatField(allow_null=True)
    frequency_hz = serializers.FloatField(allow_null=True)


class _DetailsSerializer(serializers.Serializer):
    iec_state = serializers.CharField()
    iec_state_text = serializers.CharField()
    rfid = serializers.CharField()
    temperature_c = serializers.FloatField(allow_null=True, help_text="null: no temperature evaluation configured")


class _IsoSerializer(serializers.Serializer):
    start_charging_utc = serializers.CharField()
    departure_utc = serializers.CharField()
    progress = serializers.CharField()
    session_id = serializers.CharField()
    evcc_id = serializers.CharField()
    energy_transfer_mode = serializers.CharField()
    tcp_status = serializers.CharField()
    qca_link_status = serializers.CharField()
    error = serializers.CharField()
    error_text = serializers.CharField()


class _OperationsSerializer(serializers.Serializer):
    release = serializers.BooleanField()
    release_mode = serializers.CharField()
    enabled = serializers.BooleanField()
    unlock_enforced = serializers.BooleanField()
    locked = serializers.BooleanField()


class StatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    configured = serializers.BooleanField()
    current = _CurrentSerializer()
    device = _DeviceSerializer()
    base_module = _BaseModuleSerializer()
    bus = _BusSerializer()
    meter = _MeterSerializer(allow_null=True, help_text="null: no energy measuring device configured")
    details = _DetailsSerializer()
    iso15118 = _IsoSerializer(allow_null=True, help_text="null: ISO 15118 not configured")
    operations = _OperationsSerializer()
    runtime = RuntimeLivenessSerializer(
        help_text="whether the controller runtime is running: stale state is answered too, flagged here"
    )


class AvailabilitySerializer(serializers.Serializer):
    enabled = StrictBooleanField(help_text="false: status F, shown as Error, charging aborted")


class UnlockSerializer(serializers.Serializer):
    enforce = StrictBooleanField(help_text="true: abort charging and unlock until reverted")


class LockSerializer(serializers.Serializer):
    locked = StrictBooleanField(help_text="true: lock the socket, false: unlock it (locking mode Remote control)")


class ChargePointStatusApi(APIView):
    """Every group of the Charge Point Status page."""

    required = Perm.PARK_VIEW

    @extend_schema(responses=StatusSerializer)
    def get(self, request: Request, pk: int) -> Response:
        chargepoint = _chargepoint(pk)
        document = status_document(device_info(chargepoint), _live(pk))
        document["runtime"] = RuntimeLivenessSerializer(runtime_liveness()).data
        return Response(document)


class ChargePointAvailabilityApi(APIView):
    """Disable or enable a charge point (Manufacturer)."""

    required = Perm.CHARGEPOINT_AVAILABILITY

    @extend_schema(request=AvailabilitySerializer, responses=ChargePointStateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = AvailabilitySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        chargepoint = _chargepoint(pk)
        enabled = incoming.validated_data["enabled"]
        applied = services.chargepoint_availability_set(
            chargepoint=chargepoint, enabled=enabled, actor=Actor.from_request(request)
        )
        if not applied:  # stored; the runtime takes it up by itself
            return Response(
                {"detail": pending_message(enabled), "code": "runtime_pending", "enabled": enabled},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(ChargePointStateSerializer(_live(pk)).data)


class ChargePointUnlockApi(APIView):
    """Enforce or revert unlocking (Manufacturer only)."""

    required = Perm.CHARGEPOINT_UNLOCK

    @extend_schema(request=UnlockSerializer, responses=ChargePointStateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = UnlockSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        chargepoint = _chargepoint(pk)
        services.chargepoint_unlock_set(
            chargepoint=chargepoint, enforce=incoming.validated_data["enforce"], actor=Actor.from_request(request)
        )
        return Response(ChargePointStateSerializer(_live(pk)).data)


class ChargePointLockApi(APIView):
    """Lock or unlock the socket of a charge point in the locking mode "Remote control" (the
    manual: locking "must be controlled externally ... via the REST API"). 409 in any other mode."""

    required = Perm.CHARGEPOINT_LOCK

    @extend_schema(request=LockSerializer, responses=ChargePointStateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = LockSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        chargepoint = _chargepoint(pk)
        services.chargepoint_lock_set(
            chargepoint=chargepoint, locked=incoming.validated_data["locked"], actor=Actor.from_request(request)
        )
        return Response(ChargePointStateSerializer(_live(pk)).data)
