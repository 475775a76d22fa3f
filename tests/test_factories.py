"""The test factories build valid rows, new ones on every call."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from chargepoints.choices import HlcMode, MeterType, ModuleKind, ReleaseMode, RfidReaderType
from chargepoints.forms import CONFIG_FIELDS, ChargePointConfigForm, form_data_from_values
from chargepoints.models import MAX_POSITIONS, ChargePoint, ChargePointConfig
from tests.factories import (
    make_chargepoint,
    make_configured_chargepoint,
    make_station,
    vehicle_args,
)

pytestmark = pytest.mark.django_db


def test_stations_are_valid_and_the_first_is_the_server_module():
    first, second = make_station(), make_station()
    for station in (first, second):
        station.full_clean()
    assert (first.kind, second.kind) == (ModuleKind.SERVER, ModuleKind.CLIENT)
    assert first.hostname != second.hostname and first.head_ip != second.head_ip


def test_two_calls_give_two_distinct_charge_points():
    first, second = make_chargepoint(), make_chargepoint()
    for cp in (first, second):
        cp.full_clean()
        assert not cp.is_configured
    assert first.pk != second.pk and first.device_uid != second.device_uid
    assert ChargePoint.objects.count() == 2


def test_charge_points_of_one_station_take_the_next_free_position():
    station = make_station()
    first, second = make_chargepoint(station), make_chargepoint(station)
    assert (first.position, second.position) == (1, 2)
    assert make_chargepoint(station, position=7).position == 7
    assert make_chargepoint(station).position == 8
    with pytest.raises(ValidationError):
        make_chargepoint(station, position=7)  # taken


def test_a_full_station_has_no_free_position():
    station = make_station()
    for _ in range(MAX_POSITIONS):
        make_chargepoint(station)
    with pytest.raises(ValueError, match="no free position"):
        make_chargepoint(station)


def test_configured_charge_points_are_valid_and_distinct():
    first, second = make_configured_chargepoint(), make_configured_chargepoint()
    for cp in (first, second):
        cp.full_clean()
        cp.config.full_clean()
        assert ChargePointConfig.objects.get(pk=cp.pk) == cp.config
    assert first.pk != second.pk and first.config.name != second.config.name
    config = first.config
    assert (config.release_mode, config.current_min_a, config.current_max_a) == (ReleaseMode.DASHBOARD, 6, 16)
    assert (config.fallback_current_a, config.fallback_time_s) == (6, 60)
    assert config.has_meter and config.controller_uid == first.device_uid
    assert (config.hlc_mode, config.rfid_reader) == (HlcMode.DISABLED, None)


def test_the_defaults_pass_the_edit_form_too():
    """Not only the model's rules: the page would accept what the factory builds."""
    for cp in (
        make_configured_chargepoint(),
        make_configured_chargepoint(release_mode=ReleaseMode.WHITELIST, rfid_reader="self", meter=False),
        make_configured_chargepoint(release_mode=ReleaseMode.PERMANENT, hlc_mode=HlcMode.OPTIONAL),
    ):
        values = {name: getattr(cp.config, name) for name in CONFIG_FIELDS}
        form = ChargePointConfigForm(data=form_data_from_values(values), chargepoint=cp)
        assert form.is_valid(), form.errors


def test_options_of_the_configured_charge_point():
    reader = make_configured_chargepoint(release_mode=ReleaseMode.WHITELIST, rfid_reader="self", name="Gate")
    assert reader.config.name == "Gate"
    assert (reader.config.rfid_reader, reader.config.rfid_reader_type) == (reader, RfidReaderType.CHARX_RFID_NFC)
    assert make_configured_chargepoint(meter=False).config.meter_type == MeterType.NONE
    hlc = make_configured_chargepoint(hlc_mode=HlcMode.REQUIRED, current_max_a=32, evse_id="DE123E4567")
    assert hlc.supports_hlc and hlc.config.current_max_a == 32 and hlc.config.evse_id == "DE123E4567"
    station = make_station()
    assert make_configured_chargepoint(station=station).station == station
    with pytest.raises(ValidationError):
        make_configured_chargepoint(name="Gate")  # names are unique in the park


def test_vehicle_args_are_the_plug_in_command_s_arguments():
    assert vehicle_args() == {"phases": 3, "max_current_a": 16.0}
    assert vehicle_args(phases=1, max_current_a=10, hlc=True, evcc_id="00A0C9142A3F") == {
        "phases": 1,
        "max_current_a": 10.0,
        "hlc": True,
        "evcc_id": "00A0C9142A3F",
    }
    with pytest.raises(TypeError, match="colour"):
        vehicle_args(colour="red")
