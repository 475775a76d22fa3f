"""The manual's Monitoring settings act: plug rejection, contactor monitoring, DC residual current
monitoring, overcurrent detection and out-of-balance suppression — provoked in the simulator,
shown on the status page and the dashboard, and reported as runtime events."""

from __future__ import annotations

from typing import Any

import pytest

from chargepoints.controller.monitoring import (
    CONTACTOR,
    EVZE,
    OVERCURRENT,
    PLUG_REJECTED,
    RESIDUAL,
    UNBALANCE,
    Monitor,
    Settings,
    rejected_cable,
)
from chargepoints.models import ChargePointConfig
from tests.conftest import RuntimeThread, cp_id
from wbm.roles import Role
from wbm.runtime import events as ev
from wbm.runtime.backends.controller import HardwareReading
from wbm.runtime.snapshot import MeterReading, Vehicle

# --- the rules, tick by tick --------------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "socket_outlet": True,
        "plug_rejection": "reject_13",
        "contactor_input": 0,
        "aux_contact": "nc",
        "dc_residual_monitoring": True,
        "has_meter": True,
        "overcurrent_detection": "shutdown",
        "out_of_balance_suppression": False,
        "current_min_a": 6.0,
    }
    return Settings(**{**base, **overrides})


def reading(
    *, drawn: tuple[float, float, float] = (16.0, 16.0, 16.0), cable: int | None = None, **overrides: Any
) -> HardwareReading:
    base: dict[str, Any] = {
        "iec_state": "C",
        "pwm_limit_a": 16.0,
        "currents_a": drawn,
        "meter": MeterReading(
            currents_a=drawn, voltages_v=(230.0,) * 3, power_w=0.0, energy_wh=0.0, power_factor=1.0, frequency_hz=50.0
        ),
        "vehicle": Vehicle(phases=3, max_current_a=32, ventilation=False, mode="requesting", cable_a=cable),
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


@pytest.mark.parametrize(
    ("rule", "cable", "rejected"),
    [
        ("reject_13", 13, True),
        ("reject_13", 20, False),
        ("reject_20_13", 20, True),
        ("reject_20_13", 13, True),
        ("reject_20_13", 32, False),
        ("reject_20_13", None, False),  # a fixed cable has no PP rating
        ("", 13, False),
    ],
)
def test_plug_rejection_refuses_cables_rated_too_low(rule, cable, rejected):
    assert rejected_cable(rule, cable) is rejected


def test_a_rejected_cable_blocks_and_is_an_error_only_at_a_socket_outlet():
    verdict = Monitor().step(settings(), reading(cable=13), set_a=16.0, now=0.0)
    assert PLUG_REJECTED in verdict.blocks and verdict.fault == ("OtherError", PLUG_REJECTED)
    fixed = Monitor().step(settings(socket_outlet=False), reading(cable=13), set_a=16.0, now=0.0)
    assert fixed.blocks == () and fixed.fault is None


def test_a_dc_residual_current_trips_and_stays_tripped_until_unplug():
    monitor = Monitor()
    assert monitor.step(settings(), reading(dc_residual_ma=3.0), set_a=16, now=0).fault is None
    tripped = monitor.step(settings(), reading(dc_residual_ma=8.0), set_a=16, now=1)
    assert tripped.fault == ("GroundFailure", RESIDUAL) and monitor.history == [RESIDUAL]
    assert RESIDUAL in monitor.step(settings(), reading(dc_residual_ma=0.0), set_a=0, now=2).blocks
    monitor.unplugged()
    assert monitor.step(settings(), reading(dc_residual_ma=0.0), set_a=0, now=3).fault is None
    ignored = Monitor().step(settings(dc_residual_monitoring=False), reading(dc_residual_ma=30.0), set_a=16, now=0)
    assert ignored.fault is None


@pytest.mark.parametrize("aux", ["nc", "no"])
def test_a_welded_contactor_is_detected_through_its_auxiliary_contact(aux):
    monitor = Monitor()
    s = settings(contactor_input=2, aux_contact=aux)
    # not charging: the contactor should be open; N/C then shows 12 V, N/O none
    healthy = (False, aux == "nc", False, False)
    welded = (False, aux != "nc", False, False)
    assert monitor.step(s, reading(iec_state="B", digital_inputs=healthy), set_a=0, now=0).fault is None
    assert monitor.step(s, reading(iec_state="B", digital_inputs=welded), set_a=0, now=1).fault is None  # grace
    failed = monitor.step(s, reading(iec_state="B", digital_inputs=welded), set_a=0, now=2.5)
    assert failed.fault == ("PowerSwitchFailure", CONTACTOR) and CONTACTOR in failed.blocks
    repaired = monitor.step(s, reading(iec_state="B", digital_inputs=healthy), set_a=0, now=3)
    assert repaired.fault is None and monitor.history == [CONTACTOR + ":cleared"]


def test_overcurrent_shutdown_pauses_a_minute_then_faults_on_the_second_trip():
    monitor = Monitor()
    over = reading(drawn=(20.0, 20.0, 20.0))  # 125 % of 16 A
    assert OVERCURRENT not in monitor.step(settings(), over, set_a=16, now=0).blocks
    assert OVERCURRENT not in monitor.step(settings(), over, set_a=16, now=9).blocks
    tripped = monitor.step(settings(), over, set_a=16, now=10)
    assert OVERCURRENT in tripped.blocks and tripped.fault is None  # paused, not yet a fault
    assert OVERCURRENT in monitor.step(settings(), reading(drawn=(0.0,) * 3), set_a=0, now=69).blocks
    assert OVERCURRENT not in monitor.step(settings(), over, set_a=16, now=70).blocks  # charging again
    failed = monitor.step(settings(), over, set_a=16, now=80)
    assert failed.fault == ("OverCurrentFailure", OVERCURRENT)


def test_a_slight_overcurrent_needs_100_seconds():
    monitor = Monitor()
    slight = reading(drawn=(18.0, 18.0, 18.0))  # 112.5 %
    for now in range(0, 100, 10):
        assert OVERCURRENT not in monitor.step(settings(), slight, set_a=16, now=now).blocks
    assert OVERCURRENT in monitor.step(settings(), slight, set_a=16, now=100).blocks


def test_ev_ze_ready_derates_in_stages_instead_of_stopping():
    monitor = Monitor()
    s = settings(overcurrent_detection="ev_ze_ready")
    over = reading(drawn=(18.0, 18.0, 18.0))
    assert monitor.step(s, over, set_a=16, now=0).caps == ()
    first = monitor.step(s, over, set_a=16, now=10)
    assert first.caps == ((EVZE, 14.4),) and first.blocks == ()
    second = monitor.step(s, reading(drawn=(16.5,) * 3), set_a=14.4, now=20)
    assert second.caps == ((EVZE, 12.8),)


def test_out_of_balance_suppression_caps_a_single_phase_load_at_20_a():
    one_phase = reading(drawn=(31.0, 0.0, 0.0))
    assert Monitor().step(settings(out_of_balance_suppression=True), one_phase, set_a=32, now=0).caps == (
        (UNBALANCE, 20.0),
    )
    assert Monitor().step(settings(out_of_balance_suppression=True), reading(), set_a=32, now=0).caps == ()
    assert Monitor().step(settings(out_of_balance_suppression=False), one_phase, set_a=32, now=0).caps == ()


# --- in the controller, provoked in the simulator ----------------------------------------------------


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result
    return result


def configure(name: str, **fields: Any) -> int:
    pk = cp_id(name)
    ChargePointConfig.objects.filter(pk=pk).update(**fields)
    return pk


def reload(rt: RuntimeThread) -> None:
    ok(rt.call("config.reload"))


def test_a_cable_rated_too_low_is_rejected_and_shown_as_an_error(runtime, client_as):
    pk = configure("P1-02", connection_type="socket_outlet", plug_rejection="reject_20_13")
    reload(runtime)
    events = runtime.run(_subscribe(runtime))
    ok(runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, cable_a=20))
    state = runtime.step().chargepoint(pk)
    assert (state.ocpp_status, state.dashboard_status, state.error_code) == ("Faulted", "error", "OtherError")
    assert state.pwm_limit_a == 0 and state.decision.block_reason == PLUG_REJECTED
    page = client_as(Role.USER).get(f"/chargepoints/{pk}/").content.decode()
    assert "current rating is too low" in page
    dashboard = client_as(Role.GUEST).get("/").content.decode()
    assert "current rating is too low" in dashboard
    raised = [e for e in events.pending() if isinstance(e, ev.FaultRaised) and e.cp_id == pk]
    assert [(e.code, e.info) for e in raised] == [("OtherError", PLUG_REJECTED)]
    ok(runtime.call("sim.unplug", cp=pk))
    ok(runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, cable_a=32))
    assert runtime.step().chargepoint(pk).dashboard_status == "charging"


async def _subscribe(rt: RuntimeThread) -> ev.Subscription:
    return rt.runtime.events.subscribe(ev.FaultRaised, ev.FaultCleared, ev.ProtectionTripped, name="test")


def test_a_welded_contactor_is_a_power_switch_failure(runtime):
    pk = configure("P1-02", contactor_monitoring_input=3, aux_contact_type="nc")
    reload(runtime)
    ok(runtime.call("sim.contactor", cp=pk, welded=True))
    runtime.clock.advance(2)
    state = runtime.step().chargepoint(pk)
    assert (state.error_code, state.ocpp_status) == ("PowerSwitchFailure", "Faulted")
    ok(runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16))
    assert runtime.step().chargepoint(pk).pwm_limit_a == 0  # no charging on a welded contactor


def test_a_dc_residual_current_stops_charging_with_a_ground_failure(runtime):
    pk = configure("P1-02", dc_residual_monitoring=True)
    reload(runtime)
    ok(runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16))
    assert runtime.step().chargepoint(pk).dashboard_status == "charging"
    ok(runtime.call("sim.residual", cp=pk, milliamps=12))
    runtime.step()
    state = runtime.step().chargepoint(pk)
    assert (state.error_code, state.pwm_limit_a, state.iec_state) == ("GroundFailure", 0.0, "B")


def test_a_vehicle_drawing_too_much_is_stopped_for_a_minute_then_faulted(runtime):
    pk = configure("P1-02", overcurrent_detection="shutdown")  # P1-02 has a meter
    reload(runtime)
    events = runtime.run(_subscribe(runtime))
    ok(runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=32))
    ok(runtime.call("sim.overdraw", cp=pk, factor=1.25))
    for _ in range(3):
        runtime.clock.advance(5)
        runtime.step()
    state = runtime.step().chargepoint(pk)
    assert state.pwm_limit_a == 0 and state.decision.block_reason == OVERCURRENT
    assert any(isinstance(e, ev.ProtectionTripped) and e.what == OVERCURRENT for e in events.pending())
    runtime.clock.advance(61)
    runtime.step()
    runtime.clock.advance(5)  # the PWM comes back after the vehicle's 5 s
    assert runtime.step().chargepoint(pk).dashboard_status == "charging"
    for _ in range(3):
        runtime.clock.advance(5)
        runtime.step()
    state = runtime.step().chargepoint(pk)
    assert (state.error_code, state.ocpp_status) == ("OverCurrentFailure", "Faulted")


def test_a_single_phase_load_is_capped_at_20_a(runtime):
    pk = configure("P1-02", out_of_balance_suppression=True, current_max_a=32)
    reload(runtime)
    ok(runtime.call("sim.plug_in", cp=pk, phases=1, max_current_a=32))
    runtime.step()
    runtime.clock.advance(5)
    state = runtime.step().chargepoint(pk)
    assert state.pwm_limit_a == 20.0 and state.decision.binding_key == UNBALANCE
