"""The pure rules: which current the vehicle is offered, and which status a person sees."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chargepoints.choices import DashboardStatus, OcppStatus, ReleaseMode
from chargepoints.controller import rules
from chargepoints.controller.rules import Control, CpConfig
from wbm.runtime.backends.controller import HardwareReading
from wbm.runtime.claims import Claim, Decision, Kind, Offer, Source, Verdict, decide
from wbm.runtime.snapshot import Vehicle


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


# --- what a configuration and the hardware claim, decided --------------------------------------------


def offered(cfg: CpConfig, hw: HardwareReading, *claims: Claim, granted: bool = True) -> Decision:
    """The decision for a charge point with ``cfg`` and ``hw``, a user's grant, and ``claims``."""
    all_claims = [*rules.standing_claims(1, cfg, hw), *claims]
    if granted:
        all_claims.append(Claim(cp_id=1, kind=Kind.GRANT, source=Source.USER))
    return decide(limits=cfg.limits(), claims=all_claims, vehicle=hw.vehicle is not None, previous=Offer(), now=1000.0)


def cap(amps: float, source: Source = Source.LOAD_MANAGEMENT) -> Claim:
    return Claim(cp_id=1, kind=Kind.CAP, source=source, amps=amps)


def test_a_released_vehicle_is_offered_the_configured_maximum():
    decision = offered(config(current_max_a=32), reading())
    assert (decision.offered_a, decision.binding) == (32.0, Source.CONFIG)


@pytest.mark.parametrize(
    ("cfg", "hw", "granted", "verdict"),
    [
        pytest.param(config(), reading(vehicle=None), True, Verdict.NO_VEHICLE, id="no vehicle"),
        pytest.param(config(), reading(), False, Verdict.NOT_RELEASED, id="no release"),
        pytest.param(config(), reading(fault_code="OverCurrentFailure"), True, Verdict.BLOCKED, id="fault"),
        pytest.param(
            config(), reading(fault_code="EVCommunicationError"), True, Verdict.BLOCKED, id="ev communication error"
        ),
        pytest.param(
            config(hlc_mode="required"), reading(), True, Verdict.BLOCKED, id="ISO 15118 required, vehicle without"
        ),
    ],
)
def test_no_pwm_is_offered_when_charging_is_not_allowed(cfg, hw, granted, verdict):
    decision = offered(cfg, hw, granted=granted)
    assert (decision.offered_a, decision.verdict) == (0.0, verdict)


def test_the_permanent_release_is_a_grant_of_the_configuration():
    decision = offered(config(release_mode=ReleaseMode.PERMANENT), reading(), granted=False)
    assert (decision.released, decision.offered_a) == (True, 32.0)


def test_a_cap_lowers_the_offered_current_but_never_raises_it():
    cfg = config(current_max_a=16)
    assert offered(cfg, reading(), cap(10)).offered_a == 10.0
    decision = offered(cfg, reading(), cap(63))
    assert (decision.offered_a, decision.binding) == (16.0, Source.CONFIG)


def test_a_cap_below_the_configured_minimum_switches_the_pwm_off():
    cfg = config(current_min_a=8, current_max_a=16)
    assert offered(cfg, reading(), cap(8)).offered_a == 8.0
    decision = offered(cfg, reading(), cap(7.5))
    assert (decision.offered_a, decision.verdict, decision.binding) == (
        0.0,
        Verdict.BELOW_MINIMUM,
        Source.LOAD_MANAGEMENT,
    )


def test_pt1000_derating_lowers_the_current_linearly_between_start_and_stop_temperature():
    cfg = config(
        current_max_a=32,
        derating_sensor="pt1000",
        derating_start_temp_c=60,
        derating_stop_temp_c=80,
        derating_start_current_a=16,
        derating_stop_current_a=6,
    )
    assert offered(cfg, reading(temperature_c=60.0)).offered_a == 32.0  # not yet derating
    assert offered(cfg, reading(temperature_c=61.0)).offered_a == 15.5
    decision = offered(cfg, reading(temperature_c=70.0))
    assert (decision.offered_a, decision.binding, decision.binding_key) == (11.0, Source.SAFETY, "derating")
    assert offered(cfg, reading(temperature_c=80.0)).offered_a == 0.0  # stop temperature


def test_a_ptc_chain_stops_charging_when_it_trips():
    cfg = config(derating_sensor="ptc")
    assert offered(cfg, reading(temperature_c=79.0)).offered_a == 32.0
    assert offered(cfg, reading(temperature_c=rules.PTC_TRIP_C)).offered_a == 0.0


def test_without_a_derating_sensor_temperature_does_not_limit():
    assert offered(config(), reading(temperature_c=120.0)).offered_a == 32.0


def test_a_ventilation_request_is_rejected_only_where_status_d_is_rejected():
    venting = reading(vehicle=vehicle(ventilation=True))
    rejecting = config(status_d_rejection="reject")
    assert rules.ventilation_rejected(rejecting, venting)
    decision = offered(rejecting, venting)
    assert (decision.offered_a, decision.block_reason) == (0.0, "ventilation_rejected")
    assert not rules.ventilation_rejected(config(status_d_rejection="accept"), venting)
    assert offered(config(status_d_rejection="accept"), venting).offered_a == 32.0
    assert not rules.ventilation_rejected(rejecting, reading())  # no ventilation requested


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
    assert rules.ocpp_status(cfg, ctl, hw) == expected


def test_every_ocpp_status_is_reached_by_some_path():
    """The parametrised table above covers all nine statuses of OCPP 1.6."""
    reached = {
        rules.ocpp_status(cfg, ctl, hw)
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
    assert rules.dashboard_status(ocpp) == shown


# --- release modes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "from_web", "survives_unplug", "sources"),
    [
        (ReleaseMode.DASHBOARD, True, False, {Source.USER}),
        (ReleaseMode.WHITELIST, True, False, {Source.WHITELIST, Source.USER}),
        (ReleaseMode.REMOTE, True, True, {Source.USER}),
        (ReleaseMode.PERMANENT, False, True, {Source.CONFIG}),
        (ReleaseMode.OCPP, False, False, {Source.OCPP}),
        (ReleaseMode.MODBUS, False, True, {Source.MODBUS}),
    ],
)
def test_release_mode_decides_who_may_release_and_what_survives_unplugging(mode, from_web, survives_unplug, sources):
    cfg = config(release_mode=mode)
    assert cfg.accepts_user_release is from_web
    assert cfg.release.survives_unplug is survives_unplug
    assert cfg.release.sources == sources
    assert set(rules.RELEASE) == set(ReleaseMode), "every release mode is in the one table"


def test_a_grant_from_a_source_the_release_mode_does_not_accept_does_not_release():
    ocpp_mode = config(release_mode=ReleaseMode.OCPP)
    assert not offered(ocpp_mode, reading()).released  # the user's grant
    grant = Claim(cp_id=1, kind=Kind.GRANT, source=Source.OCPP)
    assert offered(ocpp_mode, reading(), grant, granted=False).released


def test_locking_on_connect_needs_a_socket_outlet_in_ev_connected_mode():
    assert config().locks_on_connect
    assert not config(locking_mode="remote").locks_on_connect
    assert not replace(config(), connection_type="connector").locks_on_connect
