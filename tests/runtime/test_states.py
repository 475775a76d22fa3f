"""The pure rules: which current the vehicle is offered, and which status a person sees."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chargepoints.choices import DashboardStatus, OcppStatus, ReleaseMode
from wbm.runtime import states
from wbm.runtime.backends.controller import HardwareReading
from wbm.runtime.snapshot import Vehicle
from wbm.runtime.states import Control, CpConfig


def config(**overrides: Any) -> CpConfig:
    base: dict[str, Any] = {
        "name": "P1-01",
        "location": "bay 1",
        "release_mode": ReleaseMode.DASHBOARD,
        "current_min_a": 6,
        "current_max_a": 32,
        "fallback_current_a": 6,
        "fallback_time_s": 60,
        "meter_type": "eem_350",
        "status_d_rejection": "accept",
        "connection_type": "socket_outlet",
        "locking_mode": "ev_connected",
        "rfid_reader_id": None,
        "rfid_timeout_s": 60,
        "derating_sensor": "",
        "derating_start_temp_c": 60,
        "derating_stop_temp_c": 80,
        "derating_start_current_a": 16,
        "derating_stop_current_a": 6,
        "hlc_mode": "disabled",
        "ocpp_connector_id": 1,
    }
    return CpConfig(**{**base, **overrides})


def control(**overrides: Any) -> Control:
    base: dict[str, Any] = {
        "enabled": True,
        "release": True,
        "had_release": True,
        "unlock_enforced": False,
        "reserved": False,
        "external_limit_a": None,
    }
    return Control(**{**base, **overrides})


def vehicle(**overrides: Any) -> Vehicle:
    base: dict[str, Any] = {"phases": 3, "max_current_a": 32.0, "ventilation": False, "mode": "requesting"}
    return Vehicle(**{**base, **overrides})


def reading(**overrides: Any) -> HardwareReading:
    base: dict[str, Any] = {
        "iec_state": "B",
        "pwm_limit_a": 0.0,
        "currents_a": (0.0, 0.0, 0.0),
        "meter": None,
        "vehicle": vehicle(),
        "locked": True,
        "temperature_c": 22.0,
        "fault_code": "NoError",
        "fault_info": "",
        "digital_inputs": (False,) * 4,
        "digital_outputs": ("low",) * 4,
        "analog_inputs_v": (0.0, 0.0),
        "bus_connected": True,
    }
    return HardwareReading(**{**base, **overrides})


# --- PWM setpoint ----------------------------------------------------------------------------------


def test_a_released_vehicle_is_offered_the_configured_maximum():
    assert states.pwm_setpoint(config(current_max_a=32), control(), reading()) == 32.0


@pytest.mark.parametrize(
    ("cfg", "ctl", "hw"),
    [
        pytest.param(None, control(), reading(), id="not configured"),
        pytest.param(config(), control(), reading(vehicle=None), id="no vehicle"),
        pytest.param(config(), control(enabled=False), reading(), id="disabled"),
        pytest.param(config(), control(release=False), reading(), id="no release"),
        pytest.param(config(), control(unlock_enforced=True), reading(), id="unlocking enforced"),
        pytest.param(config(), control(), reading(fault_code="OverCurrentFailure"), id="fault"),
        pytest.param(config(), control(), reading(fault_code="EVCommunicationError"), id="ev communication error"),
    ],
)
def test_no_pwm_is_offered_when_charging_is_not_allowed(cfg, ctl, hw):
    assert states.pwm_setpoint(cfg, ctl, hw) == 0.0


def test_an_external_limit_lowers_the_offered_current_but_never_raises_it():
    cfg = config(current_max_a=16)
    assert states.pwm_setpoint(cfg, control(external_limit_a=10), reading()) == 10.0
    assert states.pwm_setpoint(cfg, control(external_limit_a=63), reading()) == 16.0


def test_a_limit_below_the_configured_minimum_switches_the_pwm_off():
    cfg = config(current_min_a=8, current_max_a=16)
    assert states.pwm_setpoint(cfg, control(external_limit_a=8), reading()) == 8.0
    assert states.pwm_setpoint(cfg, control(external_limit_a=7.5), reading()) == 0.0


def test_pt1000_derating_lowers_the_current_linearly_between_start_and_stop_temperature():
    cfg = config(
        current_max_a=32,
        derating_sensor="pt1000",
        derating_start_temp_c=60,
        derating_stop_temp_c=80,
        derating_start_current_a=16,
        derating_stop_current_a=6,
    )
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=60.0)) == 32.0  # not yet derating
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=61.0)) == 15.5
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=70.0)) == 11.0  # half way: 16 → 6
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=80.0)) == 0.0  # stop temperature


def test_a_ptc_chain_stops_charging_when_it_trips():
    cfg = config(derating_sensor="ptc")
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=79.0)) == 32.0
    assert states.pwm_setpoint(cfg, control(), reading(temperature_c=states.PTC_TRIP_C)) == 0.0


def test_without_a_derating_sensor_temperature_does_not_limit():
    assert states.pwm_setpoint(config(), control(), reading(temperature_c=120.0)) == 32.0


def test_a_ventilation_request_is_rejected_only_where_status_d_is_rejected():
    venting = reading(vehicle=vehicle(ventilation=True))
    rejecting = config(status_d_rejection="reject")
    assert states.ventilation_rejected(rejecting, venting)
    assert states.pwm_setpoint(rejecting, control(), venting) == 0.0
    assert not states.ventilation_rejected(config(status_d_rejection="accept"), venting)
    assert states.pwm_setpoint(config(status_d_rejection="accept"), control(), venting) == 32.0
    assert not states.ventilation_rejected(rejecting, reading())  # no ventilation requested


# --- OCPP status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cfg", "ctl", "hw", "expected"),
    [
        pytest.param(None, control(), reading(vehicle=None), OcppStatus.UNAVAILABLE, id="not configured"),
        pytest.param(config(), control(enabled=False), reading(vehicle=None), OcppStatus.UNAVAILABLE, id="disabled"),
        pytest.param(
            config(), control(), reading(fault_code="GroundFailure", iec_state="F"), OcppStatus.FAULTED, id="fault"
        ),
        pytest.param(
            config(),
            control(),
            reading(vehicle=None, fault_code="PowerMeterFailure"),
            OcppStatus.FAULTED,
            id="meter fault without vehicle",
        ),
        pytest.param(
            config(),
            control(release=False, had_release=False),
            reading(vehicle=None, iec_state="A"),
            OcppStatus.AVAILABLE,
            id="available",
        ),
        pytest.param(
            config(), control(reserved=True), reading(vehicle=None, iec_state="A"), OcppStatus.RESERVED, id="reserved"
        ),
        pytest.param(config(), control(), reading(iec_state="C"), OcppStatus.CHARGING, id="charging C"),
        pytest.param(
            config(),
            control(),
            reading(iec_state="D", vehicle=vehicle(ventilation=True)),
            OcppStatus.CHARGING,
            id="charging D",
        ),
        pytest.param(
            config(),
            control(),
            reading(fault_code="EVCommunicationError"),
            OcppStatus.SUSPENDED_EVSE,
            id="ev communication error",
        ),
        pytest.param(
            config(),
            control(release=False, had_release=False),
            reading(),
            OcppStatus.PREPARING,
            id="waiting for release",
        ),
        pytest.param(
            config(), control(release=False, had_release=True), reading(), OcppStatus.FINISHING, id="release withdrawn"
        ),
        pytest.param(
            config(), control(), reading(vehicle=vehicle(mode="finished")), OcppStatus.FINISHING, id="vehicle finished"
        ),
        pytest.param(
            config(), control(), reading(vehicle=vehicle(mode="paused")), OcppStatus.SUSPENDED_EV, id="vehicle paused"
        ),
        pytest.param(
            config(),
            control(),
            reading(vehicle=vehicle(mode="requesting")),
            OcppStatus.SUSPENDED_EVSE,
            id="vehicle wants current not offered",
        ),
    ],
)
def test_ocpp_status_follows_configuration_control_and_hardware(cfg, ctl, hw, expected):
    assert states.ocpp_status(cfg, ctl, hw) == expected


def test_every_ocpp_status_is_reached_by_some_path():
    """The parametrised table above covers all nine statuses of OCPP 1.6."""
    reached = {
        states.ocpp_status(cfg, ctl, hw)
        for cfg, ctl, hw in [
            (None, control(), reading()),
            (config(), control(), reading(fault_code="OtherError")),
            (config(), control(), reading(vehicle=None)),
            (config(), control(reserved=True), reading(vehicle=None)),
            (config(), control(), reading(iec_state="C")),
            (config(), control(), reading(fault_code="EVCommunicationError")),
            (config(), control(release=False, had_release=False), reading()),
            (config(), control(release=False, had_release=True), reading()),
            (config(), control(), reading(vehicle=vehicle(mode="paused"))),
        ]
    }
    assert reached == set(OcppStatus.values)


# --- dashboard status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ocpp", "shown"),
    [
        (OcppStatus.AVAILABLE, DashboardStatus.AVAILABLE),
        (OcppStatus.RESERVED, DashboardStatus.RESERVED),
        (OcppStatus.CHARGING, DashboardStatus.CHARGING),
        (OcppStatus.PREPARING, DashboardStatus.OCCUPIED),
        (OcppStatus.SUSPENDED_EV, DashboardStatus.OCCUPIED),
        (OcppStatus.SUSPENDED_EVSE, DashboardStatus.OCCUPIED),
        (OcppStatus.FINISHING, DashboardStatus.OCCUPIED),
        (OcppStatus.UNAVAILABLE, DashboardStatus.ERROR),
        (OcppStatus.FAULTED, DashboardStatus.ERROR),
    ],
)
def test_dashboard_shows_occupied_for_every_plugged_in_state_that_is_not_charging(ocpp, shown):
    assert states.dashboard_status(ocpp) == shown


# --- release modes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "from_web", "survives_unplug"),
    [
        (ReleaseMode.DASHBOARD, True, False),
        (ReleaseMode.WHITELIST, True, False),
        (ReleaseMode.REMOTE, True, True),
        (ReleaseMode.PERMANENT, False, True),
        (ReleaseMode.OCPP, False, False),
        (ReleaseMode.MODBUS, False, True),
    ],
)
def test_release_mode_decides_web_release_and_what_survives_unplugging(mode, from_web, survives_unplug):
    cfg = config(release_mode=mode)
    assert states.release_allowed_from_web(cfg) is from_web
    assert states.release_survives_unplug(cfg) is survives_unplug


def test_locking_on_connect_needs_a_socket_outlet_in_ev_connected_mode():
    assert config().locks_on_connect
    assert not config(locking_mode="remote").locks_on_connect
    assert not replace(config(), connection_type="connector").locks_on_connect
