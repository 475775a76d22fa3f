"""The load-management allocator: properties (hypothesis) and the manual's scenarios."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace

from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadmgmt.allocator import (
    STEP_A,
    Allocation,
    AllocatorState,
    CircuitInput,
    PointInput,
    Reason,
    Upstream,
    allocate,
    grid_phases,
    reason_text,
)

EPS = 1e-6
CAPACITY_REASONS = {Reason.CIRCUIT_FUSE, Reason.HIGHER_FUSE, Reason.CEILING}
ROTATIONS = ["", "L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3"]
GRID = {"L1": 0, "L2": 1, "L3": 2}
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def point(cp_id: int, **kw: object) -> PointInput:
    values: dict[str, object] = {"min_a": 6.0, "max_a": 32.0, "wants_current": True, "phase_rotation": "L1L2L3"}
    values.update(kw)
    return PointInput(cp_id=cp_id, **values)  # type: ignore[arg-type]


def counted_on(p: PointInput) -> set[int]:
    """Independent of the allocator: the grid phases a point's current lands on."""
    if len(p.phase_rotation) != 6 or p.vehicle_phases not in (1, 2):
        return {0, 1, 2}
    return {GRID[p.phase_rotation[2 * k : 2 * k + 2]] for k in range(p.vehicle_phases)}


def per_phase(points: Sequence[PointInput], result: Allocation) -> list[float]:
    amps = result.by_cp()
    totals = [0.0, 0.0, 0.0]
    for p in points:
        for g in counted_on(p):
            totals[g] += amps[p.cp_id].amps
    return totals


def check_safe(circuit: CircuitInput, points: Sequence[PointInput], result: Allocation) -> None:
    totals = per_phase(points, result)
    for g in range(3):
        assert abs(totals[g] - result.planned_a[g]) < EPS
        assert totals[g] <= circuit.fuse_a + EPS
        if circuit.limit_a is not None:
            assert totals[g] <= circuit.limit_a + EPS
        if circuit.upstream is not None:
            other = result.other_loads_a
            assert other is not None
            assert totals[g] <= circuit.upstream.higher_fuse_a - other[g] + EPS or totals[g] == 0
    amps = result.by_cp()
    for p in points:
        a = amps[p.cp_id]
        assert a.amps == 0 or p.min_a - EPS <= a.amps <= p.max_a + EPS, (p, a)
        if p.ceiling_a is not None:
            assert a.amps <= p.ceiling_a + EPS
        if not p.wants_current:
            assert a.amps == 0 and a.reason is Reason.NO_VEHICLE
        assert abs(a.amps / STEP_A - round(a.amps / STEP_A)) < 1e-6  # on the 0.1 A grid


def check_fair(points: Sequence[PointInput], result: Allocation) -> None:
    """Max-min fairness: a point stopped by a phase's capacity has the highest level on that phase
    (but for those held at their minimum), the phase is full, and those stopped by the same phase
    get the same (within the 0.1 A grid)."""
    inputs = {p.cp_id: p for p in points}
    amps = result.by_cp()
    for a in result.points:
        if a.reason not in CAPACITY_REASONS or a.binding_phase is None or a.amps == 0:
            continue  # (0: its minimum does not fit that phase even alone)
        g = a.binding_phase - 1
        sharing = [b for b in result.points if b.amps > 0 and g in counted_on(inputs[b.cp_id])]
        for b in sharing:
            if b.reason is not Reason.MINIMUM_RULE:
                assert b.amps <= a.amps + STEP_A + EPS, (a, b)
        assert result.planned_a[g] >= result.capacity_a[g] - STEP_A * len(sharing) - EPS
    by_phase: dict[int, list[float]] = {}
    for a in result.points:
        if a.reason in CAPACITY_REASONS and a.binding_phase is not None and a.amps > 0:
            by_phase.setdefault(a.binding_phase, []).append(amps[a.cp_id].amps)
    for levels in by_phase.values():
        assert max(levels) - min(levels) <= STEP_A + EPS


@st.composite
def scenes(draw: st.DrawFn) -> tuple[CircuitInput, list[PointInput]]:
    n = draw(st.integers(0, 25))
    points = []
    for cp_id in range(n):
        min_a = draw(st.sampled_from([6.0, 6.0, 8.0, 10.0]))
        max_a = draw(st.sampled_from([0.0, 5.0, 6.0, 10.0, 16.0, 20.0, 32.0, 63.0]))
        ceiling = draw(st.none() | st.floats(0, 40, allow_nan=False))
        drawn = draw(st.tuples(*[st.floats(0, 40, allow_nan=False)] * 3))
        points.append(
            PointInput(
                cp_id=cp_id,
                min_a=min_a,
                max_a=max_a,
                ceiling_a=ceiling,
                phase_rotation=draw(st.sampled_from(ROTATIONS)),
                vehicle_phases=draw(st.integers(0, 3)),
                drawn_a=drawn,
                wants_current=draw(st.booleans()),
                offered_a=draw(st.none() | st.floats(0, 32, allow_nan=False)),
                charging_since=draw(st.none() | st.floats(0, 5000, allow_nan=False)),
            )
        )
    upstream = None
    if draw(st.booleans()):
        upstream = Upstream(
            higher_fuse_a=draw(st.floats(0, 400, allow_nan=False)),
            measured_a=draw(st.tuples(*[st.floats(0, 500, allow_nan=False)] * 3)),
        )
    circuit = CircuitInput(
        fuse_a=draw(st.floats(0, 250, allow_nan=False)),
        threshold_a=draw(st.floats(0, 6, allow_nan=False)),
        now=10_000.0,
        upstream=upstream,
        limit_a=draw(st.none() | st.floats(0, 250, allow_nan=False)),
    )
    return circuit, points


@HYPOTHESIS
@given(scenes())
def test_never_above_a_fuse_or_a_limit_and_fair(scene: tuple[CircuitInput, list[PointInput]]) -> None:
    circuit, points = scene
    result, state = allocate(circuit, points, None)
    check_safe(circuit, points, result)
    check_fair(points, result)
    # a paused point's minimum did not fit (single cycle: nobody has waited a turn yet)
    inputs = {p.cp_id: p for p in points}
    for a in result.points:
        if a.reason is Reason.PAUSED_FOR_OTHERS:
            p = inputs[a.cp_id]
            assert any(result.capacity_a[g] - result.planned_a[g] < p.min_a - EPS for g in counted_on(p))
    # and the next cycles, with the state carried, stay safe and fair
    for step in range(1, 4):
        circuit = replace(circuit, now=circuit.now + 7.0 * step)
        result, state = allocate(circuit, points, state)
        check_safe(circuit, points, result)
        check_fair(points, result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(2, 14),
    fuse=st.floats(6, 60, allow_nan=False),
    phases=st.lists(st.sampled_from([1, 3]), min_size=14, max_size=14),
    rotations=st.lists(st.sampled_from(ROTATIONS[1:]), min_size=14, max_size=14),
)
def test_no_point_paused_forever(n: int, fuse: float, phases: list[int], rotations: list[str]) -> None:
    """Many cycles with more vehicles than minimums fit: every vehicle whose minimum fits alone is
    served again and again."""
    turn = 300.0
    circuit = CircuitInput(fuse_a=fuse, threshold_a=2.0, now=0.0, rotate_after_s=turn)
    points = [
        point(i, vehicle_phases=phases[i], phase_rotation=rotations[i], charging_since=float(-i)) for i in range(n)
    ]
    served_at: dict[int, list[float]] = {i: [] for i in range(n)}
    state: AllocatorState | None = None
    cycle_s = 30.0
    horizon = (n + 2) * turn * 2
    t = 0.0
    while t <= horizon:
        result, state = allocate(replace(circuit, now=t), points, state)
        check_safe(circuit, points, result)
        for a in result.points:
            if a.amps > 0:
                served_at[a.cp_id].append(t)
        t += cycle_s
    for i in range(n):  # the minimum fits alone: 6 A <= fuse
        times = served_at[i]
        assert times, f"point {i} never served"
        gaps = [b - a for a, b in zip([0.0, *times], [*times, horizon], strict=True)]
        assert max(gaps) <= (n + 1) * turn + 2 * cycle_s, (i, max(gaps))


# --- scenarios -----------------------------------------------------------------------------------


def settled(circuit: CircuitInput, points: list[PointInput], cycles: int = 3) -> tuple[Allocation, AllocatorState]:
    """Run a few cycles, 20 s apart (longer than the settle time)."""
    state: AllocatorState | None = None
    result: Allocation | None = None
    for k in range(cycles):
        result, state = allocate(replace(circuit, now=circuit.now + 20.0 * k), points, state)
    assert result is not None and state is not None
    return result, state


def test_threshold_example_from_the_manual() -> None:
    """Spec 16 A, actual 13 A: threshold 4 A -> not reduced; 2 A -> reduced (to 13 + 2 = 15 A)."""
    for threshold, expected, reason in ((4.0, 16.0, Reason.OWN_MAX), (2.0, 15.0, Reason.VEHICLE)):
        circuit = CircuitInput(fuse_a=63.0, threshold_a=threshold, now=0.0)
        first, state = allocate(circuit, [point(1, max_a=16.0)])
        assert first.by_cp()[1].amps == 16.0
        drawing = [point(1, max_a=16.0, drawn_a=(13.0, 13.0, 13.0), offered_a=16.0)]
        early, state = allocate(replace(circuit, now=5.0), drawing, state)
        assert early.by_cp()[1].amps == 16.0  # the vehicle has not had the settle time yet
        later, state = allocate(replace(circuit, now=20.0), drawing, state)
        assert later.by_cp()[1].amps == expected
        assert later.by_cp()[1].reason is reason


def test_current_a_vehicle_does_not_take_goes_to_the_others() -> None:
    circuit = CircuitInput(fuse_a=32.0, threshold_a=2.0, now=0.0)
    points = [point(1), point(2)]
    result, state = allocate(circuit, points)
    assert [a.amps for a in result.points] == [16.0, 16.0]
    points = [point(1, drawn_a=(8.0, 8.0, 8.0), offered_a=16.0), point(2, drawn_a=(15.5, 15.5, 15.5), offered_a=16.0)]
    result, state = allocate(replace(circuit, now=20.0), points, state)
    a = result.by_cp()
    assert a[1].amps == 10.0 and a[1].reason is Reason.VEHICLE
    assert a[2].amps == 22.0 and a[2].reason is Reason.CIRCUIT_FUSE
    # the slow vehicle starts taking more: its specification follows (draw + threshold)
    points = [point(1, drawn_a=(9.5, 9.5, 9.5), offered_a=10.0), point(2, drawn_a=(21.0, 21.0, 21.0), offered_a=22.0)]
    result, state = allocate(replace(circuit, now=40.0), points, state)
    assert result.by_cp()[1].amps == 11.5


def test_six_vehicles_on_a_32_a_circuit() -> None:
    """6 x 6 A do not fit 32 A: five share it equally, the one charging longest is paused."""
    circuit = CircuitInput(fuse_a=32.0, threshold_a=2.0, now=1000.0)
    points = [point(i, charging_since=900.0 + i) for i in range(6)]
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[0].amps == 0 and a[0].reason is Reason.PAUSED_FOR_OTHERS
    assert [a[i].amps for i in range(1, 6)] == [6.4] * 5
    assert all(a[i].reason is Reason.CIRCUIT_FUSE for i in range(1, 6))
    assert result.limiting and result.planned_a == (32.0, 32.0, 32.0)
    # five fit 32 A with 6.4 A each; four would get 8 A
    result, _ = allocate(circuit, points[:4])
    assert [x.amps for x in result.points] == [8.0] * 4


def test_one_phase_car_on_l2_through_the_phase_rotation() -> None:
    """Charge point phase 1 on L2 ("L2L3L1"): the 1-phase car loads L2 only."""
    assert grid_phases("L2L3L1", 1) == (1,)
    assert grid_phases("L3L1L2", 2) == (0, 2)
    assert grid_phases("", 1) == (0, 1, 2)  # not set: counts on all three
    circuit = CircuitInput(fuse_a=20.0, threshold_a=2.0, now=0.0)
    points = [
        point(1, vehicle_phases=1, phase_rotation="L2L3L1"),
        point(2, vehicle_phases=1, phase_rotation="L1L2L3"),
        point(3, vehicle_phases=1, phase_rotation="L2L1L3"),
    ]
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[1].grid_a == (0.0, 10.0, 0.0) and a[3].grid_a == (0.0, 10.0, 0.0)  # two share L2
    assert a[2].grid_a == (20.0, 0.0, 0.0) and a[2].reason is Reason.CIRCUIT_FUSE  # alone on L1
    assert result.planned_a == (20.0, 20.0, 0.0)
    assert a[1].phase_reasons() == (Reason.PHASE_UNUSED, Reason.CIRCUIT_FUSE, Reason.PHASE_UNUSED)
    # the same cars without a rotation: each counts on all phases, so all three share every phase
    unknown = [replace(p, phase_rotation="") for p in points]
    result, _ = allocate(circuit, unknown)
    assert [x.amps for x in result.points] == [6.6] * 3


def test_one_and_three_phase_mix_uses_current_left_on_a_phase() -> None:
    """32 A circuit: 1-phase cars on L2 and L3 (16 A max), two 3-phase cars. L1 carries only the
    3-phase cars, so they get what the L2/L3 sharing allows; the current the 1-phase cars leave on
    L1 is not wasted, and each 1-phase car gets its full 16 A where its phase allows."""
    circuit = CircuitInput(fuse_a=32.0, threshold_a=2.0, now=0.0)
    points = [
        point(1, vehicle_phases=1, phase_rotation="L2L3L1", max_a=16.0),
        point(2, vehicle_phases=1, phase_rotation="L3L1L2", max_a=16.0),
        point(3, vehicle_phases=3),
        point(4, vehicle_phases=3),
    ]
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[1].amps == a[3].amps == a[4].amps == 10.6  # L2 and L3 hold three each; L2 is full first
    assert a[2].amps == 10.8  # what flooring to 0.1 A left on L3
    # a 1-phase car that takes only 6 A leaves L2 to the 3-phase cars
    points[0] = replace(points[0], max_a=6.0)
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[1].amps == 6.0 and a[1].reason is Reason.OWN_MAX
    assert a[2].amps == a[3].amps == a[4].amps == 10.6  # L3 now binds
    assert a[3].binding_phase == 3
    # a 1-phase car alone on L1 beside two 3-phase cars capped at 10 A takes the rest of L1
    points = [point(1, vehicle_phases=1, max_a=32.0), point(3, max_a=10.0), point(4, max_a=10.0)]
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[3].amps == a[4].amps == 10.0 and a[1].amps == 12.0 and a[1].grid_a == (12.0, 0.0, 0.0)


def test_upstream_meter_with_a_large_other_load() -> None:
    """Fuse A 63 A; the meter sees 55 A on L1 of which the park draws 12 A: 43 A other load leaves
    20 A for the park on L1."""
    points = [point(1, drawn_a=(6.0, 6.0, 6.0)), point(2, drawn_a=(6.0, 6.0, 6.0))]
    circuit = CircuitInput(
        fuse_a=63.0,
        threshold_a=10.0,
        now=0.0,
        upstream=Upstream(higher_fuse_a=63.0, measured_a=(55.0, 20.0, 12.0)),
    )
    result, _ = allocate(circuit, points)
    assert result.other_loads_a == (43.0, 8.0, 0.0)
    assert result.capacity_a == (20.0, 55.0, 63.0)
    assert result.capacity_reason[0] is Reason.HIGHER_FUSE
    a = result.by_cp()
    assert a[1].amps == a[2].amps == 10.0 and a[1].reason is Reason.HIGHER_FUSE and a[1].binding_phase == 1
    assert result.limiting
    # other loads take so much that not even one minimum fits: nobody charges, the page says why
    circuit = replace(circuit, upstream=Upstream(higher_fuse_a=63.0, measured_a=(70.0, 20.0, 12.0)))
    result, _ = allocate(circuit, points)
    assert all(x.amps == 0 and x.reason is Reason.HIGHER_FUSE for x in result.points)


def test_ceilings_of_other_sources() -> None:
    circuit = CircuitInput(fuse_a=40.0, threshold_a=2.0, now=0.0, limit_a=30.0)
    points = [point(1, ceiling_a=8.0), point(2), point(3, ceiling_a=4.0)]
    result, _ = allocate(circuit, points)
    a = result.by_cp()
    assert a[1].amps == 8.0 and a[1].reason is Reason.CEILING
    assert a[2].amps == 22.0 and a[2].reason is Reason.CEILING and a[2].binding_phase is not None  # the circuit limit
    assert a[3].amps == 0 and a[3].reason is Reason.CEILING  # below its minimum
    assert result.capacity_a == (30.0, 30.0, 30.0)


def test_minimum_rule_pauses_the_longest_charging_first_and_rotates() -> None:
    """13 A fit two minimums of 6 A among three 3-phase cars. The car charging longest is paused;
    after its turn (rotate_after_s) it comes back and the one charging longest then is paused."""
    turn = 600.0
    circuit = CircuitInput(fuse_a=13.0, threshold_a=10.0, now=1000.0, rotate_after_s=turn)
    points = [point(1, charging_since=100.0), point(2, charging_since=500.0), point(3, charging_since=900.0)]
    result, state = allocate(circuit, points)
    a = result.by_cp()
    assert a[1].amps == 0 and a[1].reason is Reason.PAUSED_FOR_OTHERS
    assert a[2].amps == a[3].amps == 6.5
    history = [(1000.0, 1)]
    for k in range(1, 80):  # 30 s cycles, 40 minutes
        now = 1000.0 + 30.0 * k
        result, state = allocate(replace(circuit, now=now), points, state)
        paused = [x.cp_id for x in result.points if x.amps == 0]
        assert len(paused) == 1
        if not history or history[-1][1] != paused[0]:
            history.append((now, paused[0]))
    order = [cp for _, cp in history]
    assert order[:4] == [1, 2, 3, 1]  # 2 had charged longest when 1 came back, then 3
    changes = [t for t, _ in history]
    assert all(b - a >= turn for a, b in itertools.pairwise(changes))  # no flapping


def test_a_freed_place_goes_to_the_paused_car_at_once() -> None:
    circuit = CircuitInput(fuse_a=13.0, threshold_a=2.0, now=0.0)
    drawing = (6.4, 6.4, 6.4)
    points = [point(1, charging_since=-50.0, drawn_a=drawing), point(2, drawn_a=drawing), point(3, drawn_a=drawing)]
    result, state = allocate(circuit, points)
    assert result.by_cp()[1].amps == 0
    points[2] = replace(points[2], wants_current=False)  # car 3 leaves
    result, state = allocate(replace(circuit, now=30.0), points, state)
    a = result.by_cp()
    assert a[1].amps == 6.5 and a[2].amps == 6.5 and a[3].reason is Reason.NO_VEHICLE


def test_without_vehicles_nothing_is_planned() -> None:
    circuit = CircuitInput(fuse_a=32.0, threshold_a=2.0, now=0.0)
    result, state = allocate(circuit, [point(1, wants_current=False), point(2, wants_current=False)])
    assert result.planned_a == (0.0, 0.0, 0.0) and not result.limiting
    assert all(x.reason is Reason.NO_VEHICLE for x in result.points)
    assert dict(state.points) == {}


def test_reason_texts() -> None:
    for reason in Reason:
        assert str(reason_text(reason))
    with translation.override("de"):
        assert all(str(reason_text(r)) for r in Reason)


def test_allocations_are_floored_to_the_grid() -> None:
    circuit = CircuitInput(fuse_a=20.0, threshold_a=2.0, now=0.0)
    result, _ = allocate(circuit, [point(1), point(2), point(3)])
    assert [x.amps for x in result.points] == [6.6] * 3
    assert math.isclose(result.planned_a[0], 19.8)
