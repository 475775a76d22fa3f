"""Load management through a running runtime with the simulated park: the agent shares the
load circuit, reads the higher-level meter over Modbus/TCP, falls back when it stops answering
and recovers, and its caps lapse to the fallback current when it is stopped."""

from __future__ import annotations

import time

import pytest

from chargepoints.choices import ReleaseMode
from loadmgmt import services
from loadmgmt.agent import CAP_TTL_S, METER_HOLD_S, NAME
from loadmgmt.choices import MeterConnection, UpstreamMeterType
from tests.conftest import RuntimeThread, cp_id
from tests.factories import make_configured_chargepoint, vehicle_args
from tests.loadmgmt.meter_server import MeterServer
from wbm.audit import Actor
from wbm.roles import Role
from wbm.runtime import local
from wbm.runtime.claims import Source

DEMO = ("P1-01", "P1-02", "P1-03", "Visitor-01")


def wait_for(probe, timeout: float = 8.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out (last: {last!r})")


def configure(**data):  # type: ignore[no-untyped-def]
    return services.load_circuit_update(data=data, actor=Actor.system())


def lm_state(rt: RuntimeThread) -> dict:
    snapshot = rt.runtime.snapshot
    return (snapshot.agent_state(NAME) if snapshot else None) or {}


def grid_totals(snapshot, ids: list[int], rotations: dict[int, str] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """What the PWM offers, summed per grid phase (the vehicles' phases, after rotation)."""
    rotations = rotations or {}
    total = [0.0, 0.0, 0.0]
    for pk in ids:
        cp = snapshot.chargepoint(pk)
        if cp.vehicle is None or cp.pwm_limit_a <= 0:
            continue
        rotation = rotations.get(pk, "")
        for phase in range(cp.vehicle.phases):
            grid = int(rotation[2 * phase + 1]) - 1 if rotation else phase
            total[grid] += cp.pwm_limit_a
    return total


@pytest.fixture
def park(transactional_db, settings):  # type: ignore[no-untyped-def]
    """The demo park and two more charge points: six with a meter-free permanent release."""
    from chargepoints.demo import load_demo_park

    settings.WBM_MODBUS_HOST, settings.WBM_MODBUS_PORT = "127.0.0.1", 0
    load_demo_park()
    extra = [
        make_configured_chargepoint(release_mode=ReleaseMode.PERMANENT, current_max_a=32, name=f"LM-{i}")
        for i in range(2)
    ]
    return [cp_id(name) for name in DEMO] + [cp.pk for cp in extra]


@pytest.fixture
def runtime_for(park):  # type: ignore[no-untyped-def]
    threads: list[RuntimeThread] = []

    def start() -> RuntimeThread:
        rt = RuntimeThread()
        threads.append(rt)
        wait_for(lambda: lm_state(rt).get("running"))
        return rt

    yield start
    for rt in threads:
        rt.close()
    local.set_current(None)


def charge(rt, ids: list[int], **vehicle) -> None:  # type: ignore[no-untyped-def]
    for pk in ids:
        assert rt.call("sim.plug_in", cp=pk, **vehicle_args(**{"phases": 3, "max_current_a": 32, **vehicle}))["ok"]
    rt.step()
    for pk in ids:
        cp = rt.runtime.snapshot.chargepoint(pk)
        if cp.accepts_user_release and not cp.release:
            assert rt.call("cp.release", cp=pk, allow=True)["ok"]
    rt.step()


async def _cycle(agent) -> None:  # type: ignore[no-untyped-def]
    agent.cycle()


def tick(rt, seconds: float = 1.0):  # type: ignore[no-untyped-def]
    """``seconds`` pass on the runtime's clock: one load management cycle (as the agent does every
    second of real time, which the manual clock does not have), then one controller tick."""
    rt.runtime.clock.advance(seconds)
    agent = rt.runtime.agent(NAME)
    if agent is not None:
        rt.run(_cycle(agent))
    return rt.step()


def settle(rt: RuntimeThread, probe, rounds: int = 40):  # type: ignore[no-untyped-def]
    """Tick (letting the rate limit pass) until ``probe(snapshot)`` holds."""

    def once():  # type: ignore[no-untyped-def]
        snapshot = tick(rt)
        return probe(snapshot) and snapshot

    return wait_for(once, timeout=rounds * 0.3)


def test_six_vehicles_share_a_32_a_circuit_and_no_phase_is_ever_above_it(park, runtime_for, client_as):
    configure(fuse_a=32, chargepoints=park)
    rt = runtime_for()
    charge(rt, park)
    highest = 0.0
    for _ in range(30):  # every picture on the way, not only the last
        snapshot = tick(rt)
        highest = max(highest, *grid_totals(snapshot, park))
    assert highest <= 32.0
    snapshot = settle(rt, lambda s: sum(1 for pk in park if s.chargepoint(pk).pwm_limit_a > 0) >= 5)
    served = [s for s in (snapshot.chargepoint(pk) for pk in park) if s.pwm_limit_a > 0]
    assert max(grid_totals(snapshot, park)) <= 32.0
    assert all(cp.decision.binding is Source.LOAD_MANAGEMENT for cp in served)
    state = lm_state(rt)
    assert state["limiting"] is True and state["monitored"] == 6
    assert max(state["planned_a"]) <= 32.0
    # 6 × 6 A minimum does not fit 32 A: one pauses, to let the others charge
    paused = [p for p in state["points"] if p["amps"] == 0]
    assert [p["reason"] for p in paused] == ["paused_for_others"]
    # the status page says it in words, per charge point and phase
    html = client_as(Role.USER).get("/loadmanagement/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="lm-monitored">6<' in html and "<strong>Yes</strong>" in html
    assert html.count("paused to let others charge") == 4  # the point and its three phases
    assert "the load circuit fuse" in html


def test_a_one_phase_car_on_l2_by_phase_rotation_leaves_l1_and_l3_to_the_others(park, runtime_for):
    from chargepoints.models import ChargePointConfig

    one, others = park[4], park[:2]
    ChargePointConfig.objects.filter(pk=one).update(phase_rotation="L2L3L1")  # its phase 1 is on L2
    configure(fuse_a=32, chargepoints=[one, *others])
    rt = runtime_for()
    charge(rt, [one], phases=1)
    charge(rt, others)
    rotations = {one: "L2L3L1"}
    snapshot = settle(rt, lambda s: s.chargepoint(one).pwm_limit_a > 0 and s.chargepoint(others[0]).pwm_limit_a > 0)
    totals = grid_totals(snapshot, [one, *others], rotations)
    assert max(totals) <= 32.0
    state = lm_state(rt)
    row = next(p for p in state["points"] if p["id"] == one)
    assert row["reasons"][0] == "phase_unused" and row["reasons"][2] == "phase_unused"
    assert row["grid_a"][1] > 0 and row["grid_a"][0] == 0


@pytest.mark.parametrize("meter_type", [UpstreamMeterType.EEM_MA370, UpstreamMeterType.EEM_EM377])
def test_a_large_other_load_on_the_upstream_meter_leaves_the_park_less(
    park, runtime_for, settings, monkeypatch, meter_type
):
    monkeypatch.setattr("loadmgmt.agent.METER_EVERY_S", 0.05)
    meter = MeterServer(meter_type)
    try:
        settings.WBM_LOADMGMT_METER_PORT = meter.start()
        meter.currents = (50.0, 50.0, 50.0)  # the park draws nothing yet: 50 A of other loads
        ids = park[:2]
        configure(
            fuse_a=63,
            chargepoints=ids,
            meter_connection=MeterConnection.TCP,
            meter_ip="127.0.0.1",
            meter_type=meter_type,
            higher_fuse_a=63,
        )
        rt = runtime_for()
        wait_for(lambda: (lm_state(rt).get("meter") or {}).get("online"))
        charge(rt, ids)

        def feed_in(s):  # type: ignore[no-untyped-def]
            """The meter at the feed-in sees the other loads and the park's own draw."""
            draw = [sum(s.chargepoint(pk).currents_a[i] for pk in ids) for i in range(3)]
            meter.currents = (50.0 + draw[0], 50.0 + draw[1], 50.0 + draw[2])
            time.sleep(0.1)  # read
            return all(s.chargepoint(pk).pwm_limit_a > 0 for pk in ids)

        snapshot = settle(rt, feed_in)
        for _ in range(5):
            snapshot = tick(rt)
            feed_in(snapshot)
            assert max(grid_totals(snapshot, ids)) <= 63 - 50 + 0.01  # 13 A left for the two
        state = lm_state(rt)
        assert all(abs(a - 50.0) < 1.0 for a in state["other_loads_a"])
        assert {p["reason"] for p in state["points"]} == {"higher_fuse"}
        unit, function, address, count = meter.requests[-1]
        expected = {UpstreamMeterType.EEM_MA370: (1, 3, 32782), UpstreamMeterType.EEM_EM377: (255, 4, 14)}
        assert (unit, function, address, count) == (*expected[meter_type], 6)
    finally:
        meter.close()


def test_the_meter_going_silent_applies_the_fallback_and_it_recovers_by_itself(
    park, runtime_for, settings, client, monkeypatch
):
    monkeypatch.setattr("loadmgmt.agent.METER_EVERY_S", 0.05)
    meter = MeterServer(UpstreamMeterType.EEM_MA370_R)
    try:
        settings.WBM_LOADMGMT_METER_PORT = meter.start()
        ids = park[:2]
        configure(
            fuse_a=63,
            chargepoints=ids,
            meter_connection=MeterConnection.TCP,
            meter_ip="127.0.0.1",
            meter_type=UpstreamMeterType.EEM_MA370_R,
            higher_fuse_a=100,
        )
        rt = runtime_for()
        wait_for(lambda: (lm_state(rt).get("meter") or {}).get("online"))
        charge(rt, ids)
        settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a >= 16 for pk in ids))
        meter.stop()
        rt.runtime.clock.advance(METER_HOLD_S + 1)
        wait_for(lambda: lm_state(rt).get("fallback"))
        snapshot = settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a == 6 for pk in ids))  # fallback 6 A
        assert all(p["reason"] == "meter_offline" for p in lm_state(rt)["points"])
        assert snapshot.chargepoint(ids[0]).decision.binding is Source.LOAD_MANAGEMENT
        page = client.get("/").content.decode()
        assert 'data-testid="lm-offline-banner"' in page and "6 A" in page
        meter.start()  # answers again, on the same port
        wait_for(lambda: not lm_state(rt).get("fallback"))
        settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a >= 16 for pk in ids))
        assert 'data-testid="lm-offline-banner"' not in client.get("/").content.decode()
    finally:
        meter.close()


def test_rs485_meter_follows_its_chargepoints_meter(park, runtime_for):
    rs485 = cp_id("P1-01")  # has an EEM-350 meter
    ids = park[:2]
    configure(
        fuse_a=40, chargepoints=ids, meter_connection=MeterConnection.RS485, rs485_chargepoint=rs485, higher_fuse_a=40
    )
    rt = runtime_for()
    wait_for(lambda: (lm_state(rt).get("meter") or {}).get("online"))
    assert lm_state(rt)["meter"]["type"] == "eem_350"
    assert rt.call("sim.fault", cp=rs485, code="PowerMeterFailure")["ok"]
    rt.step()
    rt.runtime.clock.advance(METER_HOLD_S + 1)
    wait_for(lambda: lm_state(rt).get("fallback"))
    assert rt.call("sim.clear_fault", cp=rs485)["ok"]
    rt.step()
    wait_for(lambda: not lm_state(rt).get("fallback"))


def test_a_stopped_agent_leaves_caps_that_lapse_to_the_fallback_never_unlimited(park, runtime_for):
    ids = park[:2]
    configure(fuse_a=63, chargepoints=ids)
    rt = runtime_for()
    charge(rt, ids)
    settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a >= 16 for pk in ids))
    assert rt.call("agent.stop", agent=NAME)["ok"]
    rt.runtime.clock.advance(CAP_TTL_S + 1)
    snapshot = rt.step()
    for pk in ids:
        decision = snapshot.chargepoint(pk).decision
        assert decision.binding is Source.FALLBACK and decision.lapsed is Source.LOAD_MANAGEMENT
        assert snapshot.chargepoint(pk).pwm_limit_a == 6.0  # the configured fallback current
    assert rt.call("agent.start", agent=NAME)["ok"]
    settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a >= 16 for pk in ids))


def test_register_167_is_the_circuits_limit_while_load_management_runs_it(park, runtime_for):
    from pymodbus.client import ModbusTcpClient

    ids = park[:2]
    configure(fuse_a=63, chargepoints=ids)
    rt = runtime_for()
    port = wait_for(lambda: (rt.runtime.snapshot.agent_state("modbus") or {}).get("port"))
    charge(rt, ids)
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
    assert client.connect()
    try:
        assert not client.write_register(167, 20).isError()
        wait_for(lambda: lm_state(rt).get("dynamic_a") == 20)
        snapshot = settle(rt, lambda s: max(grid_totals(s, ids)) <= 20.0 and s.chargepoint(ids[0]).pwm_limit_a > 0)
        # the Modbus agent's own even split is off: only load management caps
        assert all(snapshot.chargepoint(pk).decision.binding is Source.LOAD_MANAGEMENT for pk in ids)
        assert not any(c.source is Source.MODBUS for pk in ids for c in rt.runtime.claims.claims(pk))
    finally:
        client.close()


def test_a_point_taken_out_of_the_circuit_while_the_agent_stood_is_freed_at_its_start(park, runtime_for):
    ids = park[:2]
    configure(fuse_a=63, chargepoints=ids)
    rt = runtime_for()
    charge(rt, ids)
    settle(rt, lambda s: all(s.chargepoint(pk).pwm_limit_a >= 16 for pk in ids))
    assert rt.call("agent.stop", agent=NAME)["ok"]
    configure(chargepoints=ids[:1])  # told nobody: the agent is stopped
    assert rt.call("agent.start", agent=NAME)["ok"]
    wait_for(lambda: lm_state(rt).get("monitored") == 1)
    assert not any(c.source is Source.LOAD_MANAGEMENT for c in rt.runtime.claims.claims(ids[1]))
