"""Serializers of /api/v1.

Output serializers of the live state: exactly one per state slice, each with every field of its
frozen dataclass (``wbm.runtime.snapshot``, ``wbm.runtime.claims.Decision``) and the same
nullability; ``tests/test_state_serializers.py`` fails when a dataclass gains a field its
serializer lacks. Fields that are not in the dataclass are derived and listed in that test.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wbm.api.fields import StrictBooleanField
from wbm.runtime.claims import Source, Verdict
from wbm.runtime.reasons import decision_text
from wbm.runtime.snapshot import ChargePointState

_SOURCES = [source.value for source in Source]


@extend_schema_field({"type": "string", "enum": _SOURCES}, component_name="Source")
class SourceField(serializers.ChoiceField):
    """A claim source (``wbm.runtime.claims.Source``): one named enum in the schema for every
    field that holds one, instead of one enum per field name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=_SOURCES, **kwargs)


def _phases(child: serializers.Field, help_text: str) -> serializers.ListField:
    """One value per phase: L1, L2, L3."""
    return serializers.ListField(child=child, min_length=3, max_length=3, help_text=help_text)


# --- live state: one serializer per slice -------------------------------------------------------


class MeterSerializer(serializers.Serializer):
    """What the energy measuring device reports (MeterReading)."""

    currents_a = _phases(serializers.FloatField(), "A, L1-L3")
    voltages_v = _phases(serializers.FloatField(), "V, L1-L3")
    power_w = serializers.FloatField()
    energy_wh = serializers.FloatField(help_text="total register, only grows")
    power_factor = serializers.FloatField()
    frequency_hz = serializers.FloatField()


class VehicleSerializer(serializers.Serializer):
    """The (simulated) vehicle plugged in (Vehicle)."""

    phases = serializers.IntegerField(help_text="1 or 3")
    max_current_a = serializers.FloatField(help_text="per phase")
    ventilation = serializers.BooleanField(help_text="requests status D")
    mode = serializers.ChoiceField(choices=["requesting", "paused", "finished"])
    hlc = serializers.BooleanField(help_text="speaks ISO 15118")
    evcc_id = serializers.CharField(help_text="ISO 15118 EVCC ID (hex), empty without ISO 15118")
    cable_a = serializers.IntegerField(allow_null=True, help_text="the cable's current rating (PP); null: fixed cable")
    overdraw = serializers.FloatField(help_text="draws this many times the offered current (simulator)")


class Iso15118Serializer(serializers.Serializer):
    """The ISO 15118 session of a charge point with high level communication (Iso15118State)."""

    start_charging_utc = serializers.CharField()
    departure_utc = serializers.CharField()
    progress = serializers.CharField()
    session_id = serializers.CharField()
    evcc_id = serializers.CharField()
    energy_transfer_mode = serializers.CharField()
    tcp_status = serializers.CharField()
    qca_link_status = serializers.CharField()
    error = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    """What the PWM offers and which source's claim binds it (Decision)."""

    offered_a = serializers.FloatField(help_text="the PWM setpoint per phase, 0 = off")
    verdict = serializers.ChoiceField(choices=[verdict.value for verdict in Verdict])
    released = serializers.BooleanField()
    cap_a = serializers.FloatField(allow_null=True, help_text="the lowest live cap; null: nothing caps")
    binding = SourceField(allow_null=True, help_text="whose cap is the lowest")
    binding_key = serializers.CharField()
    lapsed = SourceField(allow_null=True, help_text="binding is the fallback: the source that stopped renewing")
    blocked_by = SourceField(allow_null=True)
    block_reason = serializers.CharField()
    ceiling_a = serializers.FloatField(
        allow_null=True, help_text="the lowest cap except load management's: what the allocator may hand out"
    )
    pending_a = serializers.FloatField(allow_null=True, help_text="a raise held back by the rate limit")


class ChargePointStateSerializer(serializers.Serializer):
    """One charge point as the runtime sees it (ChargePointState), plus `limit_text`, derived from
    `decision`."""

    id = serializers.IntegerField()
    station_id = serializers.IntegerField()
    position = serializers.IntegerField()
    configured = serializers.BooleanField()
    name = serializers.CharField()
    location = serializers.CharField()
    iec_state = serializers.CharField(help_text="A..F")
    ocpp_status = serializers.CharField()
    dashboard_status = serializers.CharField()
    local_bus = serializers.CharField()
    pwm_limit_a = serializers.FloatField(help_text="0 without a vehicle or without release")
    currents_a = _phases(serializers.FloatField(), "A, L1-L3, drawn by the vehicle")
    meter_configured = serializers.BooleanField()
    meter = MeterSerializer(allow_null=True, help_text="null: not available")
    session_energy_wh = serializers.FloatField(allow_null=True)
    charging_s = serializers.IntegerField(help_text="time in state C/D this plug-in")
    plugin_s = serializers.IntegerField(help_text="time since the vehicle was plugged in")
    plugged_since = serializers.FloatField(allow_null=True, help_text="epoch seconds; null: no vehicle")
    enabled = serializers.BooleanField()
    release = serializers.BooleanField()
    release_mode = serializers.CharField()
    locked = serializers.BooleanField()
    unlock_enforced = serializers.BooleanField()
    reserved = serializers.BooleanField()
    vehicle = VehicleSerializer(allow_null=True)
    rfid = serializers.CharField()
    temperature_c = serializers.FloatField()
    temperature_configured = serializers.BooleanField()
    error_code = serializers.CharField(help_text='OCPP error code, "NoError" when fine')
    error_info = serializers.CharField()
    digital_inputs = serializers.ListField(child=serializers.BooleanField())
    digital_outputs = serializers.ListField(child=serializers.CharField())
    analog_inputs_v = serializers.ListField(child=serializers.FloatField())
    iso15118 = Iso15118Serializer(allow_null=True)
    rfid_board_firmware = serializers.CharField(help_text="empty: no CHARX RFID/NFC board")
    rfid_event = serializers.CharField(help_text='"accepted" | "rejected" for one second after a card read, else empty')
    decision = DecisionSerializer()
    accepts_user_release = serializers.BooleanField(help_text="the release mode takes Allow / Prohibit from the web")
    remote_locking = serializers.BooleanField(help_text="locking mode Remote control: lock/unlock via /lock/")
    # derived, not a field of ChargePointState
    limit_text = serializers.SerializerMethodField(
        help_text="the decision in one sentence, in the request's language: “10 A, limited by load management”"
    )

    def get_limit_text(self, state: ChargePointState) -> str:
        return decision_text(state.decision)


class SummarySerializer(serializers.Serializer):
    """The dashboard's park summary over configured charge points (ParkSummary)."""

    available = serializers.IntegerField()
    occupied = serializers.IntegerField()
    charging = serializers.IntegerField()
    error = serializers.IntegerField(help_text="faulted, disabled or otherwise unavailable")
    total_power_w = serializers.FloatField()


class AgentSerializer(serializers.Serializer):
    """One of the runtime's agents (AgentStatus)."""

    name = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField(help_text="starting | running | stopped | failed | restarting")
    started_at = serializers.FloatField(allow_null=True, help_text="epoch seconds")
    restarts = serializers.IntegerField()
    last_error = serializers.CharField()


class SystemStatusSerializer(serializers.Serializer):
    """The host and the process, as the system monitor agent measures them (SystemStatus)."""

    rss_bytes = serializers.IntegerField()
    cpu_percent = serializers.FloatField()
    memory_total_bytes = serializers.IntegerField()
    memory_available_bytes = serializers.IntegerField()
    disk_total_bytes = serializers.IntegerField()
    disk_free_bytes = serializers.IntegerField()
    load_1m = serializers.FloatField()
    boot_time = serializers.FloatField(help_text="epoch seconds")
    process_started_at = serializers.FloatField(help_text="epoch seconds")


# --- documents built from the live state and the models ------------------------------------------


class RuntimeLivenessSerializer(serializers.Serializer):
    """Is the live state in this answer current? (``wbm.api.liveness.runtime_liveness``)"""

    alive = serializers.BooleanField(
        help_text="false: the controller runtime is not running (or its state cannot be read): "
        "the values are those it published last"
    )
    last_seen = serializers.DateTimeField(
        allow_null=True, help_text="UTC, the runtime's latest heartbeat; null: never seen (or unknown)"
    )
    age_s = serializers.FloatField(allow_null=True, help_text="seconds since last_seen")


class StationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    hostname = serializers.CharField()
    head_ip = serializers.CharField()
    head_mac = serializers.CharField()
    chargepoints = serializers.ListField(child=serializers.IntegerField())


_RUNTIME_HELP = "whether the controller runtime is running: stale state is answered too, flagged here"


class ParkSerializer(serializers.Serializer):
    generated_at = serializers.FloatField()
    runtime = RuntimeLivenessSerializer(help_text=_RUNTIME_HELP)
    summary = SummarySerializer()
    stations = StationSerializer(many=True)
    chargepoints = ChargePointStateSerializer(many=True)


class DashboardCardSerializer(serializers.Serializer):
    """One dashboard card: what a Guest may see of a configured charge point."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    location = serializers.CharField()
    status = serializers.CharField()
    power_w = serializers.FloatField(allow_null=True)
    session_energy_wh = serializers.FloatField(allow_null=True)
    charging_s = serializers.IntegerField()
    plugin_s = serializers.IntegerField()
    limit_text = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    generated_at = serializers.FloatField()
    runtime = RuntimeLivenessSerializer(help_text=_RUNTIME_HELP)
    summary = SummarySerializer()
    chargepoints = DashboardCardSerializer(many=True)


class ChargePointLiveSerializer(ChargePointStateSerializer):
    """One charge point's live state (``ChargePointStateSerializer``) with `runtime`: whether that
    state is current (pass ``context={"runtime": runtime_liveness()}``)."""

    runtime = serializers.SerializerMethodField(help_text=_RUNTIME_HELP)

    @extend_schema_field(RuntimeLivenessSerializer)
    def get_runtime(self, state: ChargePointState) -> dict[str, Any]:
        return dict(RuntimeLivenessSerializer(self.context["runtime"]).data)


# --- requests and small answers ------------------------------------------------------------------


class ReleaseSerializer(serializers.Serializer):
    allow = StrictBooleanField()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="shown this once: only its hash is stored")
    id = serializers.IntegerField(help_text="to revoke it: DELETE /api/v1/auth/tokens/{id}/")
    expires_at = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=["guest", "user", "operator", "manufacturer"])


class ApiTokenSerializer(serializers.Serializer):
    """A token as its owner (or an Operator, for a service account) sees it: never the secret."""

    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["login", "service"], help_text="login: POST /api/v1/auth/token/; service: manage.py apitoken"
    )
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="to the minute")
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    state = serializers.SerializerMethodField()

    def get_state(self, token: Any) -> str:
        return str(token.state())


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=["guest", "user", "operator", "manufacturer"])
    permissions = serializers.ListField(child=serializers.CharField())


class OkSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
