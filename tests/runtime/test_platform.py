"""The runtime as a platform: what a user notices when things happen at once, fail, or restart.

- an operation while the runtime is busy with another one is neither lost nor answered late,
  and the database and the runtime agree afterwards;
- one charge point that fails does not stop the others;
- the simulated hardware outlives the software: a vehicle charging during a restart is still
  charging afterwards, its session is consistent, and the energy register never goes backwards;
- the page, the dashboard and the API say what limits a charge point.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from chargepoints import services
from chargepoints.controller.commands import SimInput
from chargepoints.demo import load_demo_park
from chargepoints.models import ChargePoint, ChargingSession
from tests.conftest import RuntimeThread, cp_id
from wbm.audit import Actor
from wbm.roles import Role
from wbm.runtime import local
from wbm.runtime.claims import Source


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"], result
    return result


def plug(rt: RuntimeThread, name: str, **kwargs: Any) -> dict[str, Any]:
    return ok(rt.call("sim.plug_in", cp=cp_id(name), phases=3, max_current_a=16, **kwargs))


def live(rt: RuntimeThread, name: str):  # type: ignore[no-untyped-def]
    snapshot = rt.runtime.snapshot
    assert snapshot is not None
    return snapshot.chargepoint(cp_id(name))


def pass_time(rt: RuntimeThread, seconds: int) -> None:
    while seconds > 0:
        rt.clock.advance(min(seconds, 30))
        seconds -= 30
        rt.step()


# --- operations at the same time ---------------------------------------------------------------


def test_disabling_while_a_plug_in_is_being_recorded_is_applied_at_once_and_stored(runtime, monkeypatch):
    """Regression: the availability command used to wait for the plug-in's database write and
    time out ("runtime not reachable"), after which the runtime said disabled and the database
    enabled."""
    slow_db = threading.Event()
    real_open = services.charging_session_open

    def slow_open(**kwargs: Any) -> int:
        slow_db.wait(timeout=10)  # the database is slow until the test lets it go
        return real_open(**kwargs)

    monkeypatch.setattr(services, "charging_session_open", slow_open)
    plug(runtime, "P1-02")  # answered although its database write still hangs

    chargepoint = ChargePoint.objects.get(pk=cp_id("P1-02"))
    applied = services.chargepoint_availability_set(
        chargepoint=chargepoint, enabled=False, actor=Actor(username="op", role=Role.MANUFACTURER, source="web")
    )
    assert applied is True
    assert live(runtime, "P1-02").enabled is False
    assert ChargePoint.objects.get(pk=chargepoint.pk).enabled is False

    slow_db.set()
    runtime.drain()
    session = ChargingSession.objects.get(chargepoint=chargepoint)
    assert session.ended_at is None  # still plugged in: the session stays open


def test_an_availability_change_that_missed_the_runtime_is_taken_up_from_the_database(runtime):
    ChargePoint.objects.filter(pk=cp_id("P1-02")).update(enabled=False)  # stored while unreachable
    runtime.run(runtime.runtime.agent("controller").persist())  # type: ignore[union-attr]
    state = runtime.step().chargepoint(cp_id("P1-02"))
    assert (state.enabled, state.iec_state) == (False, "F")


# --- isolation ---------------------------------------------------------------------------------


def test_a_charge_point_that_fails_does_not_stop_the_others(runtime, caplog):
    plug(runtime, "P1-02")
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16))
    broken = cp_id("P1-01")
    backend = runtime.runtime.backend
    real_read = backend.read

    def read(cp: int):  # type: ignore[no-untyped-def]
        if cp == broken:
            raise RuntimeError("bus frame with a bad checksum")
        return real_read(cp)

    backend.read = read  # type: ignore[method-assign]
    before = live(runtime, "P1-02").meter.energy_wh
    with caplog.at_level(logging.ERROR):
        pass_time(runtime, 90)
    after = live(runtime, "P1-02")
    assert after.dashboard_status == "charging" and after.meter.energy_wh > before
    assert live(runtime, "P1-01").vehicle is not None  # its last good picture stays
    failures = [r for r in caplog.records if "failed; the others keep running" in r.getMessage()]
    assert len(failures) == 1  # logged once, not every tick

    backend.read = real_read  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        runtime.step()
    assert any("works again" in r.getMessage() for r in caplog.records)


def test_a_claim_for_an_unknown_charge_point_is_refused_and_nothing_else_stops(runtime, caplog):
    from wbm.runtime.claims import ClaimRefused

    board = runtime.runtime.claims
    with pytest.raises(ClaimRefused) as refused:
        board.cap(999_999, Source.LOAD_MANAGEMENT, 10)
    assert refused.value.code == "unknown_chargepoint"
    with pytest.raises(ClaimRefused):
        board.cap(cp_id("P1-02"), Source.LOAD_MANAGEMENT, -3)
    plug(runtime, "P1-02")
    assert live(runtime, "P1-02").dashboard_status == "charging"
    assert "claim refused" in caplog.text


# --- claims decide, and the user sees why --------------------------------------------------------


def test_a_renewable_cap_limits_the_pwm_and_the_pages_say_so(runtime, client_as):
    plug(runtime, "P1-02")
    pk = cp_id("P1-02")
    runtime.run(_put_cap(runtime, pk, 10.0))
    state = runtime.step().chargepoint(pk)
    assert state.pwm_limit_a == 10.0
    assert (state.decision.binding, state.decision.ceiling_a) == (Source.EVENT_ACTION, 10.0)
    status_page = client_as(Role.USER).get(f"/chargepoints/{pk}/").content.decode()
    assert "10 A, limited by an Event Action" in status_page
    dashboard = client_as(Role.GUEST).get("/").content.decode()
    assert 'title="10 A, limited by an Event Action"' in dashboard
    german = client_as(Role.USER)
    german.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert "begrenzt durch eine Event Action" in german.get(f"/chargepoints/{pk}/").content.decode()


async def _put_cap(rt: RuntimeThread, pk: int, amps: float) -> None:
    # a source no running agent owns (load management's own agent withdraws stray caps of its
    # source; its caps are tested in tests/loadmgmt/)
    rt.runtime.claims.cap(pk, Source.EVENT_ACTION, amps, ttl_s=60, lapse_to_fallback=True)


def test_a_cap_that_is_not_renewed_falls_back_to_the_fallback_current(runtime):
    plug(runtime, "P1-02")
    pk = cp_id("P1-02")
    runtime.run(_put_cap(runtime, pk, 12.0))
    assert runtime.step().chargepoint(pk).pwm_limit_a == 12.0
    pass_time(runtime, 61)  # its source stopped renewing it
    decision = live(runtime, "P1-02").decision
    fallback = ChargePoint.objects.get(pk=pk).config.fallback_current_a
    assert (decision.offered_a, decision.binding, decision.lapsed) == (
        fallback,
        Source.FALLBACK,
        Source.EVENT_ACTION,
    )


# --- the hardware outlives the software ------------------------------------------------------------


@pytest.fixture
def demo_park(transactional_db):  # type: ignore[no-untyped-def]
    load_demo_park()
    yield
    local.set_current(None)


def _sessions(pk: int) -> list[ChargingSession]:
    return list(ChargingSession.objects.filter(chargepoint_id=pk).order_by("started_at", "pk"))


def test_a_vehicle_charging_through_a_restart_keeps_charging_in_the_same_session(demo_park, tmp_path: Path):
    hardware = tmp_path / "hardware.json"
    first = RuntimeThread(state_file=hardware)
    pk = cp_id("P1-02")  # permanent release
    try:
        plug(first, "P1-02")
        pass_time(first, 600)
        register_before = first.runtime.backend.energy_registers()[pk]
        first.drain()
    finally:
        first.close()
    [session] = _sessions(pk)
    assert session.ended_at is None
    assert ChargePoint.objects.get(pk=pk).energy_register_wh == int(register_before)

    second = RuntimeThread(state_file=hardware, clock=first.clock)
    try:
        state = second.step().chargepoint(pk)
        assert state.vehicle is not None and state.dashboard_status == "charging"
        assert state.meter.energy_wh >= round(register_before, 1)  # never backwards
        assert state.plugged_since == session.started_at.timestamp()
        pass_time(second, 120)
        ok(second.call("sim.unplug", cp=pk))
        second.drain()
        register_after = second.runtime.backend.energy_registers()[pk]
    finally:
        second.close()
    [resumed] = _sessions(pk)  # resumed, not doubled
    assert resumed.pk == session.pk and resumed.stop_reason == "EVDisconnected"
    assert resumed.meter_stop_wh == int(register_after)
    assert resumed.energy_wh is not None and resumed.energy_wh > 1500  # 12 minutes at ~16 A, 3 phases


def test_a_release_given_from_the_web_outlives_a_kill_of_the_runtime(demo_park, tmp_path: Path):
    """Release state comes back: the resumed session is released again by whoever released it
    (the standby taking over in scaled mode builds its runtime the same way)."""
    hardware = tmp_path / "hardware.json"
    first = RuntimeThread(state_file=hardware)
    pk = cp_id("P1-01")  # release from the web page
    plug(first, "P1-01")
    assert first.step().chargepoint(pk).dashboard_status != "charging"
    ok(first.call("cp.release", cp=pk, allow=True))
    pass_time(first, 60)
    assert live(first, "P1-01").dashboard_status == "charging"
    first.drain()
    first.kill()

    second = RuntimeThread(state_file=hardware, clock=first.clock)
    try:
        state = second.step().chargepoint(pk)
        assert state.dashboard_status == "charging", state.decision
        ok(second.call("sim.unplug", cp=pk))
        second.drain()
    finally:
        second.close()
    [session] = _sessions(pk)  # resumed, not doubled
    assert session.released_by == "user" and session.stop_reason == "EVDisconnected"


def test_after_a_kill_a_session_whose_vehicle_left_meanwhile_ends_with_power_loss(demo_park, tmp_path: Path):
    hardware = tmp_path / "hardware.json"
    first = RuntimeThread(state_file=hardware)
    pk = cp_id("P1-02")
    plug(first, "P1-02")
    pass_time(first, 300)
    first.drain()
    register = first.runtime.backend.energy_registers()[pk]
    first.kill()  # no clean stop: the runtime's mark stays, nothing is closed
    # the vehicle was unplugged while the software was down
    data = json.loads(hardware.read_text())
    uid = ChargePoint.objects.get(pk=pk).device_uid
    data["points"][uid]["vehicle"] = None
    hardware.write_text(json.dumps(data))

    second = RuntimeThread(state_file=hardware, clock=first.clock)
    try:
        state = second.step().chargepoint(pk)
        second.drain()
        assert state.vehicle is None
    finally:
        second.close()
    [session] = _sessions(pk)
    assert session.ended_at is not None and session.stop_reason == "PowerLoss"
    assert session.meter_stop_wh is not None and session.meter_stop_wh >= int(register) - 1
    assert ChargePoint.objects.get(pk=pk).energy_register_wh >= int(register) - 1


def test_a_stale_writer_cannot_move_a_stored_register_backwards(demo_park):
    pk = cp_id("P1-02")
    stored = ChargePoint.objects.get(pk=pk).energy_register_wh
    services.energy_registers_save(registers={pk: stored + 500})
    services.energy_registers_save(registers={pk: stored + 280})  # the stale runtime's last save
    assert ChargePoint.objects.get(pk=pk).energy_register_wh == stored + 500


def test_the_simulated_hardware_keeps_a_plugged_vehicle_across_a_restart(demo_park, tmp_path: Path):
    hardware = tmp_path / "hardware.json"
    first = RuntimeThread(state_file=hardware)
    try:
        plug(first, "P1-01", hlc=True, evcc_id="00A0C9142A3F")
        ok(first.call("sim.fault", cp=cp_id("P1-03"), code="GroundFailure", info="RCD"))
        ok(first.call("sim.input", cp=cp_id("P1-03"), index=2, value=True))
    finally:
        first.close()
    second = RuntimeThread(state_file=hardware)
    try:
        snapshot = second.step()
        vehicle = snapshot.chargepoint(cp_id("P1-01")).vehicle
        assert vehicle is not None and vehicle.evcc_id == "00A0C9142A3F"
        faulted = snapshot.chargepoint(cp_id("P1-03"))
        assert (faulted.error_code, faulted.digital_inputs[1]) == ("GroundFailure", True)
        # the dashboard release did not survive: only the hardware did
        assert snapshot.chargepoint(cp_id("P1-01")).ocpp_status == "Preparing"
    finally:
        second.close()


def test_commands_wake_the_loop_instead_of_each_running_a_step(runtime):
    """Several commands at once are answered after one published picture, not a full step per
    command: twelve commands arriving together take fewer than twelve steps."""
    controller = runtime.runtime.agent("controller")
    steps = {"n": 0}
    real_step = controller.step

    async def counting_step() -> None:
        steps["n"] += 1
        await real_step()

    controller.step = counting_step  # type: ignore[method-assign]
    names = ["P1-01", "P1-02", "P1-03"]
    ids = [cp_id(n) for n in names]
    commands = [SimInput(cp=pk, index=1, value=True) for pk in ids for _ in range(4)]

    async def together() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(runtime.runtime.execute(c) for c in commands)))

    results = runtime.run(together())
    assert all(r["ok"] for r in results), results
    assert steps["n"] < len(commands)
    assert all(live(runtime, n).digital_inputs[0] for n in names)


def test_losing_the_head_module_for_the_fallback_time_applies_the_fallback_current(runtime, client_as):
    plug(runtime, "P1-02")
    pk = cp_id("P1-02")
    config = ChargePoint.objects.get(pk=pk).config
    ok(runtime.call("sim.bus", cp=pk, connected=False))
    state = live(runtime, "P1-02")
    assert (state.local_bus, state.pwm_limit_a) == ("disconnected", float(config.current_max_a))  # not yet
    pass_time(runtime, config.fallback_time_s)
    decision = live(runtime, "P1-02").decision
    assert (decision.offered_a, decision.binding) == (float(config.fallback_current_a), Source.FALLBACK)
    page = client_as(Role.USER).get(f"/chargepoints/{pk}/").content.decode()
    assert "the connection to the head module is lost" in page
    ok(runtime.call("sim.bus", cp=pk, connected=True))
    runtime.clock.advance(5)  # raising back to the maximum waits the vehicle's 5 s
    assert runtime.step().chargepoint(pk).pwm_limit_a == float(config.current_max_a)


def test_the_dashboard_api_gives_each_card_with_what_limits_it(runtime, client_as):
    plug(runtime, "P1-02")
    runtime.run(_put_cap(runtime, cp_id("P1-02"), 10.0))
    runtime.step()
    data = client_as(Role.GUEST).get("/api/v1/dashboard/").json()
    cards = {card["name"]: card for card in data["chargepoints"]}
    assert cards["P1-02"]["status"] == "charging"
    assert cards["P1-02"]["limit_text"] == "10 A, limited by an Event Action"
    assert set(data["summary"]) == {"available", "occupied", "charging", "error", "total_power_w"}
