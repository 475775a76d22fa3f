"""The runtime's command handlers: what a person can do at a charge point, and what is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chargepoints.demo import load_demo_park
from chargepoints.models import ChargePoint, ChargingSession
from tests.conftest import RuntimeThread, cp_id
from wbm.runtime import local
from wbm.runtime.clock import ManualClock
from wbm.runtime.snapshot import ChargePointState


@pytest.fixture
def clock(runtime: RuntimeThread) -> ManualClock:
    """The runtime's own clock: a test lets minutes pass at once."""
    return runtime.clock


def state(runtime: RuntimeThread, name: str) -> ChargePointState:
    snapshot = runtime.runtime.snapshot
    assert snapshot is not None
    cp = snapshot.chargepoint(cp_id(name))
    assert cp is not None
    return cp


def agent_op(runtime: RuntimeThread, command: str, name: str) -> dict[str, Any]:
    return runtime.call(command, agent=name)


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result
    return result


def plug(runtime: RuntimeThread, name: str, **kwargs: Any) -> dict[str, Any]:
    args = {"phases": 3, "max_current_a": 16, "ventilation": False, **kwargs}
    return runtime.call("sim.plug_in", cp=cp_id(name), **args)


def pass_time(runtime: RuntimeThread, clock: ManualClock, seconds: int) -> None:
    """Let time pass in steps the simulator accepts (it caps one step at 60 s)."""
    while seconds > 0:
        clock.advance(min(seconds, 30))
        seconds -= 30
        runtime.step()


# --- what works ---------------------------------------------------------------------------------


def test_a_vehicle_at_a_permanently_released_charge_point_charges_at_once(runtime):
    ok(plug(runtime, "P1-02", phases=1, max_current_a=32))
    cp = state(runtime, "P1-02")
    assert cp.iec_state == "C"
    assert cp.ocpp_status == "Charging"
    assert cp.dashboard_status == "charging"
    assert cp.pwm_limit_a == 16.0  # the configured maximum of P1-02
    assert cp.vehicle is not None and cp.vehicle.phases == 1


def test_the_dashboard_release_starts_and_stops_charging(runtime):
    ok(plug(runtime, "P1-01"))
    assert state(runtime, "P1-01").ocpp_status == "Preparing"
    ok(runtime.call("cp.release", cp=cp_id("P1-01"), allow=True))
    assert state(runtime, "P1-01").ocpp_status == "Charging"
    ok(runtime.call("cp.release", cp=cp_id("P1-01"), allow=False))
    cp = state(runtime, "P1-01")
    assert cp.ocpp_status == "Finishing"
    assert cp.dashboard_status == "occupied"
    assert cp.pwm_limit_a == 0.0


def test_the_demo_card_at_the_reader_releases_the_whitelist_charge_point(runtime):
    ok(plug(runtime, "P1-03"))
    ok(runtime.call("sim.rfid", cp=cp_id("P1-03"), tag="0000BEEF"))
    runtime.step()
    assert state(runtime, "P1-03").ocpp_status == "Preparing"  # not on the whitelist
    ok(runtime.call("sim.rfid", cp=cp_id("P1-03"), tag="04:a1:b2:c3:d4:e5:f6"))
    runtime.step()
    cp = state(runtime, "P1-03")
    assert cp.ocpp_status == "Charging"
    assert cp.rfid == "04A1B2C3D4E5F6"


def test_disabling_a_charge_point_aborts_charging_and_shows_an_error(runtime, clock):
    ok(plug(runtime, "P1-02"))
    ok(runtime.call("cp.availability", cp=cp_id("P1-02"), enabled=False))
    cp = state(runtime, "P1-02")
    assert (cp.iec_state, cp.ocpp_status, cp.dashboard_status) == ("F", "Unavailable", "error")
    assert cp.decision.verdict == "blocked" and cp.decision.block_reason == "disabled"
    ok(runtime.call("cp.availability", cp=cp_id("P1-02"), enabled=True))
    # the PWM was lowered to 0 a moment ago: raising it again waits the vehicle's 5 s
    assert state(runtime, "P1-02").decision.pending_a == 16.0
    clock.advance(5)
    runtime.step()
    assert state(runtime, "P1-02").ocpp_status == "Charging"  # permanent release comes back


def test_an_injected_fault_shows_faulted_until_cleared(runtime, clock):
    ok(plug(runtime, "P1-02"))
    ok(runtime.call("sim.fault", cp=cp_id("P1-02"), code="GroundFailure", info="RCD tripped"))
    cp = state(runtime, "P1-02")
    assert (cp.iec_state, cp.ocpp_status, cp.dashboard_status) == ("F", "Faulted", "error")
    assert (cp.error_code, cp.error_info) == ("GroundFailure", "RCD tripped")
    assert cp.decision.block_reason == "GroundFailure"
    ok(runtime.call("sim.clear_fault", cp=cp_id("P1-02")))
    clock.advance(5)  # the PWM comes back after the vehicle's 5 s
    cp = runtime.step().chargepoint(cp_id("P1-02"))
    assert (cp.ocpp_status, cp.error_code) == ("Charging", "NoError")


def test_an_ev_communication_error_suspends_the_charge_point(runtime):
    ok(plug(runtime, "P1-02"))
    ok(runtime.call("sim.fault", cp=cp_id("P1-02"), code="EVCommunicationError"))
    runtime.step()
    cp = state(runtime, "P1-02")
    assert cp.ocpp_status == "SuspendedEVSE"
    assert cp.dashboard_status == "occupied"
    assert cp.iec_state != "F"


def test_a_power_meter_failure_makes_the_meter_not_available(runtime):
    ok(plug(runtime, "P1-02"))
    runtime.step()
    assert state(runtime, "P1-02").meter is not None
    ok(runtime.call("sim.fault", cp=cp_id("P1-02"), code="PowerMeterFailure"))
    cp = state(runtime, "P1-02")
    assert cp.meter is None
    assert cp.power_w is None
    assert cp.ocpp_status == "Faulted"


def test_a_rejected_ventilation_request_is_explained_on_the_charge_point(runtime):
    ok(plug(runtime, "P1-02", ventilation=True))
    cp = state(runtime, "P1-02")  # the demo keeps the default: status D is rejected
    assert (cp.error_info, cp.pwm_limit_a, cp.iec_state) == ("ventilation_rejected", 0.0, "B")
    assert cp.dashboard_status == "occupied"
    assert cp.currents_a == (0.0, 0.0, 0.0)


def test_a_vehicle_can_pause_and_resume(runtime):
    ok(plug(runtime, "P1-02"))
    ok(runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="pause"))
    runtime.step()
    assert state(runtime, "P1-02").ocpp_status == "SuspendedEV"
    ok(runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="start"))
    runtime.step()
    assert state(runtime, "P1-02").ocpp_status == "Charging"
    ok(runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="finish"))
    runtime.step()
    assert state(runtime, "P1-02").ocpp_status == "Finishing"


def test_inputs_and_temperature_reach_the_live_state(runtime):
    ok(runtime.call("sim.input", cp=cp_id("P1-01"), index=3, value=True))
    ok(runtime.call("sim.analog", cp=cp_id("P1-01"), index=2, volts=7.5))
    ok(runtime.call("sim.temperature", cp=cp_id("P1-01"), celsius=41.5))
    cp = state(runtime, "P1-01")
    assert cp.digital_inputs == (False, False, True, False)
    assert cp.analog_inputs_v == (0.0, 7.5)
    assert cp.temperature_c == 41.5


# --- what is refused --------------------------------------------------------------------------------

REFUSALS: list[tuple[str, str, dict[str, Any], str]] = [
    # (charge point, command, arguments, code)
    ("P1-02", "sim.unplug", {}, "no_vehicle"),
    ("P1-01", "sim.vehicle", {"action": "pause"}, "no_vehicle"),
    ("P1-01", "cp.release", {"allow": True}, "no_vehicle"),
    ("P1-02", "cp.release", {"allow": True}, "release_mode_forbids"),
    ("Visitor-01", "cp.release", {"allow": False}, "release_mode_forbids"),
    ("P1-02", "sim.rfid", {"tag": "XYZ"}, "bad_rfid"),
    ("P1-02", "sim.rfid", {"tag": "0A"}, "bad_rfid"),
    ("P1-02", "sim.plug_in", {"phases": 2}, "out_of_range"),
    ("P1-02", "sim.plug_in", {"max_current_a": 5}, "out_of_range"),
    ("P1-02", "sim.plug_in", {"max_current_a": 81}, "out_of_range"),
    ("P1-02", "sim.input", {"index": 5, "value": True}, "out_of_range"),
    ("P1-02", "sim.analog", {"index": 1, "volts": 10.5}, "out_of_range"),
    ("P1-02", "sim.analog", {"index": 3, "volts": 1}, "out_of_range"),
    ("P1-02", "sim.temperature", {"celsius": 151}, "out_of_range"),
    ("P1-02", "sim.fault", {"code": "Meltdown"}, "bad_choice"),
    ("P1-02", "sim.fault", {"code": "NoError"}, "bad_choice"),
    ("P1-02", "sim.clear_fault", {}, "no_fault"),
    ("P1-02", "sim.plug_in", {"colour": "red"}, "bad_argument"),
    ("P1-02", "sim.rfid", {}, "bad_argument"),
    ("P1-02", "sim.input", {"index": "1", "value": True}, "bad_argument"),
    ("P1-02", "cp.release", {"allow": "yes"}, "bad_argument"),
]


@pytest.mark.parametrize(
    ("name", "command", "args", "code"),
    REFUSALS,
    ids=[f"{c}-{code}-{i}" for i, (_n, c, _a, code) in enumerate(REFUSALS)],
)
def test_an_impossible_operation_is_refused_with_its_reason(runtime, name, command, args, code):
    before = state(runtime, name)
    result = runtime.call(command, cp=cp_id(name), **args)
    assert result["ok"] is False
    assert result["error"] == code
    after = runtime.step().chargepoint(cp_id(name))
    assert (after.vehicle, after.release, after.error_code) == (before.vehicle, before.release, before.error_code)


def test_plugging_in_twice_is_refused_and_keeps_the_first_vehicle(runtime):
    ok(plug(runtime, "P1-02", phases=1, max_current_a=20))
    result = plug(runtime, "P1-02", phases=3, max_current_a=32)
    assert (result["ok"], result["error"], result["params"]) == (False, "already_plugged", {"cp": "P1-02"})
    vehicle = state(runtime, "P1-02").vehicle
    assert vehicle is not None
    assert (vehicle.phases, vehicle.max_current_a) == (1, 20.0)


def test_the_same_vehicle_action_twice_is_refused(runtime):
    ok(plug(runtime, "P1-02"))
    result = runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="start")  # it already requests current
    assert (result["ok"], result["error"]) == (False, "vehicle_already")
    ok(runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="pause"))
    result = runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="pause")
    assert (result["ok"], result["error"]) == (False, "vehicle_already")
    result = runtime.call("sim.vehicle", cp=cp_id("P1-02"), action="fly")
    assert (result["ok"], result["error"]) == (False, "bad_choice")


@pytest.mark.parametrize(
    ("bad_id", "code"),
    [(999_999, "unknown_chargepoint"), (-1, "unknown_chargepoint"), ("1", "bad_argument"), (None, "bad_argument")],
)
def test_an_unknown_charge_point_is_refused(runtime, bad_id, code):
    for command, args in [("sim.plug_in", {}), ("cp.release", {"allow": True}), ("sim.unplug", {})]:
        result = runtime.call(command, cp=bad_id, **args)
        assert (result["ok"], result["error"]) == (False, code)


def test_an_unconfigured_charge_point_cannot_be_released(runtime):
    unconfigured = ChargePoint.objects.get(config__isnull=True)
    result = runtime.call("cp.release", cp=unconfigured.pk, allow=True)
    assert (result["ok"], result["error"]) == (False, "not_configured")


def test_an_unknown_command_is_refused(runtime):
    result = runtime.call("sim.teleport", cp=cp_id("P1-01"))
    assert (result["ok"], result["error"], result["params"]) == (False, "unknown_command", {"name": "sim.teleport"})


def test_with_the_controller_agent_stopped_charge_point_operations_are_refused(runtime):
    ok(agent_op(runtime, "agent.stop", "controller"))
    result = plug(runtime, "P1-02")
    assert (result["ok"], result["error"], result["params"]) == (False, "agent_stopped", {"name": "controller"})
    ok(agent_op(runtime, "agent.start", "controller"))
    ok(plug(runtime, "P1-02"))


def test_an_unknown_agent_is_refused(runtime):
    result = agent_op(runtime, "agent.restart", "teapot")
    assert (result["ok"], result["error"]) == (False, "unknown_agent")


# --- charging time and plug-in duration (manual: Dashboard) -------------------------------------------


def test_charging_time_counts_only_while_charging_and_plug_in_duration_from_plug_to_unplug(runtime, clock):
    ok(plug(runtime, "P1-01"))  # dashboard release: waits in B
    pass_time(runtime, clock, 60)
    cp = state(runtime, "P1-01")
    assert (cp.charging_s, cp.plugin_s) == (0, 60)

    ok(runtime.call("cp.release", cp=cp_id("P1-01"), allow=True))
    pass_time(runtime, clock, 120)
    cp = state(runtime, "P1-01")
    assert (cp.iec_state, cp.charging_s, cp.plugin_s) == ("C", 120, 180)

    ok(runtime.call("sim.vehicle", cp=cp_id("P1-01"), action="pause"))
    pass_time(runtime, clock, 60)
    cp = state(runtime, "P1-01")
    assert (cp.iec_state, cp.charging_s, cp.plugin_s) == ("B", 120, 240)

    ok(runtime.call("sim.vehicle", cp=cp_id("P1-01"), action="start"))
    pass_time(runtime, clock, 30)
    cp = state(runtime, "P1-01")
    assert (cp.charging_s, cp.plugin_s) == (150, 270)
    assert cp.session_energy_wh is not None and cp.session_energy_wh > 0

    ok(runtime.call("sim.unplug", cp=cp_id("P1-01")))
    cp = state(runtime, "P1-01")
    assert (cp.charging_s, cp.plugin_s, cp.plugged_since, cp.session_energy_wh) == (0, 0, None, None)
    pass_time(runtime, clock, 60)
    assert state(runtime, "P1-01").plugin_s == 0


def test_a_new_plug_in_starts_charging_time_from_zero(runtime, clock):
    ok(plug(runtime, "P1-02"))
    pass_time(runtime, clock, 90)
    assert state(runtime, "P1-02").charging_s == 90
    ok(runtime.call("sim.unplug", cp=cp_id("P1-02")))
    ok(plug(runtime, "P1-02"))
    pass_time(runtime, clock, 30)
    assert (state(runtime, "P1-02").charging_s, state(runtime, "P1-02").plugin_s) == (30, 30)


def test_a_plug_in_is_recorded_as_a_charging_session_with_meter_values(runtime, clock):
    ok(plug(runtime, "P1-02"))
    pass_time(runtime, clock, 600)
    ok(runtime.call("sim.unplug", cp=cp_id("P1-02")))
    runtime.drain()
    session = ChargingSession.objects.get(chargepoint_id=cp_id("P1-02"))
    assert session.ended_at is not None
    assert (session.ended_at - session.started_at).total_seconds() == pytest.approx(600, abs=1)
    assert session.meter_stop_wh is not None
    # 10 minutes at ~16 A on three phases ≈ 1.8 kWh
    assert 1500 < session.meter_stop_wh - session.meter_start_wh < 2000


# --- the energy register survives restarts ------------------------------------------------------------


@pytest.fixture
def demo_park(transactional_db) -> Iterator[None]:
    load_demo_park()
    yield
    local.set_current(None)


def test_the_energy_register_is_persisted_and_restored_by_a_new_runtime(demo_park):
    target = cp_id("P1-02")
    first = RuntimeThread()
    fake = first.clock
    try:
        initial = first.step().chargepoint(target).meter.energy_wh
        assert initial == ChargePoint.objects.get(pk=target).energy_register_wh
        first.call("sim.plug_in", cp=target, phases=3, max_current_a=16, ventilation=False)
        for _ in range(20):
            fake.advance(30)
            first.step()
        first.run(first.runtime.agent("controller").persist())
        charged = first.runtime.backend.energy_registers()[target]  # raw Wh, not the 0.1 Wh display
        assert charged - initial > 1000  # 10 minutes at 16 A on three phases
        assert ChargePoint.objects.get(pk=target).energy_register_wh == int(charged)
        for _ in range(4):
            fake.advance(30)
            first.step()
        charged = first.runtime.backend.energy_registers()[target]
    finally:
        first.close()  # stopping persists the last value
    assert ChargePoint.objects.get(pk=target).energy_register_wh == int(charged)

    second = RuntimeThread()
    try:
        restored = second.step().chargepoint(target)
        assert restored.vehicle is None
        assert restored.meter.energy_wh == int(charged)
        second.call("sim.plug_in", cp=target, phases=3, max_current_a=16, ventilation=False)
        second.clock.advance(30)
        assert second.step().chargepoint(target).meter.energy_wh > int(charged)
    finally:
        second.close()


def test_a_dashboard_release_ends_with_the_plug_in_and_a_permanent_one_does_not(runtime):
    for name in ("P1-01", "P1-02"):
        ok(plug(runtime, name))
    ok(runtime.call("cp.release", cp=cp_id("P1-01"), allow=True))
    for name in ("P1-01", "P1-02"):
        ok(runtime.call("sim.unplug", cp=cp_id(name)))
        ok(plug(runtime, name))
    assert state(runtime, "P1-01").ocpp_status == "Preparing"
    assert state(runtime, "P1-02").ocpp_status == "Charging"
