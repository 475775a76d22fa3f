from __future__ import annotations

from rest_framework import serializers


class MeterSerializer(serializers.Serializer):
    currents_a = serializers.ListField(child=serializers.FloatField())
    voltages_v = serializers.ListField(child=serializers.FloatField())
    power_w = serializers.FloatField()
    energy_wh = serializers.FloatField()
    power_factor = serializers.FloatField()
    frequency_hz = serializers.FloatField()


class VehicleSerializer(serializers.Serializer):
    phases = serializers.IntegerField()
    max_current_a = serializers.FloatField()
    ventilation = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=["requesting", "paused", "finished"])
    hlc = serializers.BooleanField()
    evcc_id = serializers.CharField()


class Iso15118Serializer(serializers.Serializer):
    start_charging_utc = serializers.CharField()
    departure_utc = serializers.CharField()
    progress = serializers.CharField()
    session_id = serializers.CharField()
    evcc_id = serializers.CharField()
    energy_transfer_mode = serializers.CharField()
    tcp_status = serializers.CharField()
    qca_link_status = serializers.CharField()
    error = serializers.CharField()


class ChargePointStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    station_id = serializers.IntegerField()
    position = serializers.IntegerField()
    configured = serializers.BooleanField()
    name = serializers.CharField()
    location = serializers.CharField()
    iec_state = serializers.CharField()
    ocpp_status = serializers.CharField()
    dashboard_status = serializers.CharField()
    local_bus = serializers.CharField()
    pwm_limit_a = serializers.FloatField()
    currents_a = serializers.ListField(child=serializers.FloatField())
    meter_configured = serializers.BooleanField()
    meter = MeterSerializer(allow_null=True)
    session_energy_wh = serializers.FloatField(allow_null=True)
    charging_s = serializers.IntegerField()
    plugin_s = serializers.IntegerField()
    enabled = serializers.BooleanField()
    release = serializers.BooleanField()
    release_mode = serializers.CharField()
    locked = serializers.BooleanField()
    unlock_enforced = serializers.BooleanField()
    vehicle = VehicleSerializer(allow_null=True)
    rfid = serializers.CharField()
    temperature_c = serializers.FloatField()
    temperature_configured = serializers.BooleanField()
    error_code = serializers.CharField()
    error_info = serializers.CharField()
    digital_inputs = serializers.ListField(child=serializers.BooleanField())
    digital_outputs = serializers.ListField(child=serializers.CharField())
    analog_inputs_v = serializers.ListField(child=serializers.FloatField())
    iso15118 = Iso15118Serializer(allow_null=True)
    rfid_board_firmware = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    available = serializers.IntegerField()
    occupied = serializers.IntegerField()
    charging = serializers.IntegerField()
    total_power_w = serializers.FloatField()


class StationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    hostname = serializers.CharField()
    head_ip = serializers.CharField()
    head_mac = serializers.CharField()
    chargepoints = serializers.ListField(child=serializers.IntegerField())


class ParkSerializer(serializers.Serializer):
    generated_at = serializers.FloatField()
    summary = SummarySerializer()
    stations = StationSerializer(many=True)
    chargepoints = ChargePointStateSerializer(many=True)


class AgentSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    started_at = serializers.FloatField(allow_null=True)
    restarts = serializers.IntegerField()
    last_error = serializers.CharField()


class ReleaseSerializer(serializers.Serializer):
    allow = serializers.BooleanField()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    role = serializers.ChoiceField(choices=["guest", "user", "operator", "manufacturer"])


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=["guest", "user", "operator", "manufacturer"])
    permissions = serializers.ListField(child=serializers.CharField())


class OkSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
