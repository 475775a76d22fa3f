"""The load-management allocator: pure code, no Django models, no I/O.

Each cycle the load-management agent hands in the load circuit (``CircuitInput``) and every
charge point assigned to it (``PointInput``); ``allocate()`` returns one current per charge point
(``PointAllocation.amps``: 0 or within min..max, on the 0.1 A grid) that the agent puts on the
claim board as an expiring ``LOAD_MANAGEMENT`` cap, plus the state to hand in next cycle.

Guarantees (tests/loadmgmt/test_allocator.py checks them as properties):

- on every grid phase L1..L3 the planned total of the points stays within the load circuit fuse,
  the circuit's extra limit (``CircuitInput.limit_a``) and, with an upstream meter, the higher
  level fuse minus the other loads that meter sees;
- no point above its own maximum or another source's ceiling (``PointInput.ceiling_a``);
- equal distribution (the manual's only strategy): every served point gets the same level, or
  less where its own maximum, its ceiling or its vehicle stops it; what one point does not take
  goes to the others, also across phases (1-phase vehicles leave current on the other phases);
- when not even the minimum fits for all, the points charging longest are paused first; a paused
  point comes back at a later cycle (after ``rotate_after_s`` at the latest, when it fits alone).

Phases. A charge point's ``phase_rotation`` (chargepoints.choices.PhaseRotation value, e.g.
"L2L3L1") maps its own phases 1/2/3 (connector and meter order) onto the grid: "L2L3L1" means its
phase 1 is on L2, 2 on L3, 3 on L1. A 1-phase vehicle draws on the point's phase 1, a 2-phase one
on phases 1 and 2. Rotation **not set** (""): the allocator does not know which grid phase a
1- or 2-phase vehicle is on, so its current counts on all three grid phases (safe, never above a
fuse; the manual: the rotation "improves load management behavior"). Meter readings of such a
point count as the smallest of its phase currents on every grid phase (other loads are
over-estimated, never under-estimated).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import accumulate, chain
from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STEP_A = 0.1  # allocations are on this grid (decide() rounds the PWM to 0.1 A)
ROTATE_AFTER_S = 900.0  # a paused point may take over from one charging longer after this
SETTLE_S = 10.0  # judge a vehicle's draw only when its specification is this old (IEC: 5 s to follow)

Phases = tuple[float, float, float]  # grid order L1, L2, L3


class Reason(StrEnum):
    """Why a point (and phase) gets what it gets; ``reason_text()`` has the plain words."""

    OWN_MAX = "own_max"  # the charge point's maximum current
    VEHICLE = "vehicle"  # the vehicle takes less (threshold to current reduction)
    CIRCUIT_FUSE = "circuit_fuse"  # the load circuit fuse
    HIGHER_FUSE = "higher_fuse"  # the higher level fuse minus the other loads
    CEILING = "ceiling"  # another source's cap on this point or on the whole circuit
    MINIMUM_RULE = "minimum_rule"  # its minimum current, more than the equal share
    PAUSED_FOR_OTHERS = "paused_for_others"  # paused so that others can charge (longest first)
    NO_VEHICLE = "no_vehicle"  # no vehicle, or not released
    PHASE_UNUSED = "phase_unused"  # (per phase) the vehicle does not charge on this phase


@dataclass(frozen=True, slots=True, kw_only=True)
class PointInput:
    """One assigned charge point, this cycle."""

    cp_id: int
    min_a: float  # minimum current (the PWM is off below it)
    max_a: float  # the point's configured maximum
    ceiling_a: float | None = None  # Decision.ceiling_a: the lowest cap of other sources; None: none
    phase_rotation: str = ""  # PhaseRotation value; "" = not set (see the module docstring)
    vehicle_phases: int = 3  # 1, 2 or 3 phases the vehicle charges on; 0 = not known (counts as 3)
    drawn_a: Phases = (0.0, 0.0, 0.0)  # the point's meter, in the point's own phase order 1..3
    wants_current: bool = False  # a vehicle is plugged in and released (Decision.released)
    offered_a: float | None = None  # Decision.offered_a: what the PWM offers now; None: our last amps
    charging_since: float | None = None  # monotonic start of the session's charging (used when no state)


@dataclass(frozen=True, slots=True, kw_only=True)
class Upstream:
    """The higher-level measuring device at the feed-in (fuse A)."""

    higher_fuse_a: float  # per phase
    measured_a: Phases  # total current per grid phase at the feed-in, the park's own draw included


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitInput:
    """The load circuit (fuse B) this cycle."""

    fuse_a: float  # load circuit fuse, per phase
    threshold_a: float  # threshold to current reduction (manual: spec 16 A, actual 13 A, 4 A: kept, 2 A: reduced)
    now: float  # monotonic seconds, the same clock as the points' times
    upstream: Upstream | None = None
    limit_a: float | None = None  # another source's limit on the whole circuit, per phase (None: none)
    rotate_after_s: float = ROTATE_AFTER_S
    settle_s: float = SETTLE_S


class PointMemory(NamedTuple):
    """What the allocator remembers of a point between cycles (only points that want current).

    A NamedTuple, like ``PointAllocation``: thousands are made per cycle, and a frozen dataclass
    costs three times as much to build."""

    amps: float  # last allocation
    raised_at: float  # when that allocation was last raised
    before_raise_a: float = 0.0  # the allocation before that raise (what the vehicle has surely followed)
    running_since: float | None = None  # served (amps > 0) without a break since
    paused_since: float | None = None  # paused by the minimum rule since
    vehicle_limit_a: float | None = None  # the reduced specification (threshold), None: not reduced


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocatorState:
    """Hand back to the next ``allocate()``; kept in memory by the agent (None after a start)."""

    points: Mapping[int, PointMemory] = field(default_factory=dict)


class PointAllocation(NamedTuple):
    """One point's result (immutable; a NamedTuple for speed, read it by attribute)."""

    cp_id: int
    amps: float  # the cap to put: 0 or within min..max, per phase
    reason: Reason
    grid_a: Phases  # planned current per grid phase L1..L3 (amps on the phases it counts on)
    binding_phase: int | None = None  # 1..3 when a phase's fuse or limit bound it

    def phase_reasons(self) -> tuple[Reason, Reason, Reason]:
        """Per grid phase: the point's reason where it counts, PHASE_UNUSED elsewhere."""
        if self.amps == 0:
            return (self.reason, self.reason, self.reason)
        unused = Reason.PHASE_UNUSED
        l1, l2, l3 = self.grid_a
        return (self.reason if l1 else unused, self.reason if l2 else unused, self.reason if l3 else unused)


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    points: tuple[PointAllocation, ...]
    planned_a: Phases  # per grid phase, the sum of the points' grid_a
    capacity_a: Phases  # per grid phase, what the points may draw together
    capacity_reason: tuple[Reason, Reason, Reason]  # CIRCUIT_FUSE, HIGHER_FUSE or CEILING per phase
    other_loads_a: Phases | None  # per grid phase, upstream measured minus the park's own draw
    limiting: bool  # a fuse (or the circuit limit) gives less than the vehicles want

    def by_cp(self) -> dict[int, PointAllocation]:
        return {p.cp_id: p for p in self.points}


_EPS = 1e-9
_STEPS_PER_A = round(1 / STEP_A)
_INF = float("inf")
_ALL = (0, 1, 2)
_GRID = {"L1": 0, "L2": 1, "L3": 2}


def _rotation(value: str) -> tuple[int, int, int] | None:
    """ "L2L3L1" -> (1, 2, 0): the grid index of the point's phases 1, 2, 3; None when not set/unknown."""
    if len(value) != 6:
        return None
    try:
        grid = tuple(_GRID[value[i : i + 2]] for i in (0, 2, 4))
    except KeyError:
        return None
    return grid if len(set(grid)) == 3 else None  # type: ignore[return-value]


_ROTATIONS: dict[str, tuple[int, int, int] | None] = {}


def _rotation_of(value: str) -> tuple[int, int, int] | None:
    if value not in _ROTATIONS:
        _ROTATIONS[value] = _rotation(value)
    return _ROTATIONS[value]


def grid_phases(phase_rotation: str, vehicle_phases: int) -> tuple[int, ...]:
    """The grid phases (0 = L1 .. 2 = L3) a point's current counts on."""
    rotation = _rotation_of(phase_rotation)
    if rotation is None or vehicle_phases not in (1, 2):
        return _ALL
    return tuple(sorted(rotation[:vehicle_phases]))


def _floor(amps: float) -> float:
    return math.floor(amps * _STEPS_PER_A + 1e-6) / _STEPS_PER_A if amps < _INF else amps


def _crossing(room: float, los: list[float], his: list[float]) -> float:
    """The level L at which sum(min(hi, max(lo, L))) reaches ``room``; ``los``/``his`` sorted, lo <= hi
    pairwise. Prefix sums and bisection: O(n) in C (sorting, summing), O(log² n) in Python."""
    if sum(los) >= room:
        return 0.0
    if sum(his) <= room:
        return _INF
    n = len(los)
    pre_lo = [0.0, *accumulate(los)]
    pre_hi = [0.0, *accumulate(his)]
    total_lo = pre_lo[n]

    def load(level: float) -> float:  # at level: hi where hi <= level, lo where lo > level, else level
        a = bisect_right(his, level)
        b = bisect_right(los, level)
        return pre_hi[a] + total_lo - pre_lo[b] + level * (b - a)

    breaks = sorted(chain(los, his))
    k = bisect_right(breaks, room, key=load) - 1  # the last break point with load <= room (k >= 0)
    level = breaks[k]
    slope = bisect_right(los, level) - bisect_right(his, level)
    return level + (room - load(level)) / slope


@dataclass(slots=True)
class _Candidate:
    point: PointInput
    index: int
    phases: tuple[int, ...]
    lo: float
    hi: float
    hi_reason: Reason
    vehicle_limit: float | None
    memory: PointMemory | None
    amps: float = 0.0
    reason: Reason = Reason.PAUSED_FOR_OTHERS
    binding_phase: int | None = None


def _capacity(circuit: CircuitInput, own: list[float]) -> tuple[list[float], list[Reason], Phases | None]:
    capacity = [circuit.fuse_a] * 3
    reasons = [Reason.CIRCUIT_FUSE] * 3
    if circuit.limit_a is not None and circuit.limit_a < circuit.fuse_a:
        capacity = [circuit.limit_a] * 3
        reasons = [Reason.CEILING] * 3
    other: Phases | None = None
    if circuit.upstream is not None:
        measured = circuit.upstream.measured_a
        other = (max(0.0, measured[0] - own[0]), max(0.0, measured[1] - own[1]), max(0.0, measured[2] - own[2]))
        for g in _ALL:
            room = circuit.upstream.higher_fuse_a - other[g]
            if room < capacity[g]:
                capacity[g], reasons[g] = room, Reason.HIGHER_FUSE
    return [max(0.0, c) for c in capacity], reasons, other


def _own_draw(points: Sequence[PointInput]) -> list[float]:
    """The park's own draw per grid phase; a point without rotation counts its smallest phase on each."""
    own = [0.0, 0.0, 0.0]
    for p in points:
        drawn = p.drawn_a
        if not (drawn[0] or drawn[1] or drawn[2]):
            continue
        rotation = _rotation_of(p.phase_rotation)
        if rotation is None:
            least = min(drawn)
            own[0] += least
            own[1] += least
            own[2] += least
        else:
            for k in _ALL:
                own[rotation[k]] += drawn[k]
    return own


def _vehicle_limit(circuit: CircuitInput, p: PointInput, memory: PointMemory | None) -> float | None:
    """Threshold to current reduction: reduce the specification to the draw plus the threshold when
    the vehicle stays more than the threshold below it; a reduced one follows the draw up again."""
    if memory is None or memory.amps <= 0:
        return None
    limit = memory.vehicle_limit_a
    spec = memory.amps if p.offered_a is None else p.offered_a
    if circuit.now - memory.raised_at < circuit.settle_s:
        spec = min(spec, memory.before_raise_a)  # a raise the vehicle may not have followed yet
    if spec > 0:
        actual = max(p.drawn_a)
        if spec - actual > circuit.threshold_a + _EPS:
            limit = actual + circuit.threshold_a
        elif limit is not None:
            limit = max(limit, actual + circuit.threshold_a)
    if limit is not None and limit >= p.max_a:
        return None
    return limit


def allocate(
    circuit: CircuitInput, points: Sequence[PointInput], state: AllocatorState | None = None
) -> tuple[Allocation, AllocatorState]:
    """One cycle of equal distribution; pure (the same input gives the same output).

    ``state`` is the previous cycle's returned state (None at the agent's start).

    1. Capacity per grid phase: min(load circuit fuse, ``limit_a``, higher fuse minus other loads).
    2. Per point its upper bound: own maximum, another source's ceiling, the vehicle's reduced
       specification (never below the minimum). A point whose ceiling is below its minimum, or
       whose minimum does not fit a phase even alone, gets 0.
    3. Minimum rule: when not all minimums fit, points are admitted in this order while their
       minimum fits on all their phases: charging for less than ``rotate_after_s``; paused for
       longer than that (longest waiting first; one that does not fit reserves its minimum so
       later ones cannot take it); new; charging longer (longest last); paused recently. Those not
       admitted are paused.
    4. Equal distribution among the admitted (max-min fair water-filling per phase): a common level
       rises; a point stops at its upper bound; when a phase is full, its points stop there and the
       others keep rising on the remaining phases. Amounts are floored to 0.1 A.

    Cost: O(n log n), the sorting in C; about 2-3 µs per point in CPython.
    """
    now = circuit.now
    memories: Mapping[int, PointMemory] = state.points if state is not None else {}
    own = _own_draw(points) if circuit.upstream is not None else [0.0, 0.0, 0.0]
    capacity, capacity_reason, other = _capacity(circuit, own)

    done: dict[int, PointAllocation] = {}  # by position: points that get 0 whatever the others do
    wanting: list[_Candidate] = []
    zero = (0.0, 0.0, 0.0)
    phases_of: dict[tuple[str, int], tuple[int, ...]] = {}
    smallest: dict[tuple[int, ...], int] = {}  # phase set -> its phase with the least capacity
    judge = circuit.threshold_a + _EPS  # a vehicle within the threshold of its specification is not judged
    for index, p in enumerate(points):
        if not p.wants_current:
            done[index] = PointAllocation(p.cp_id, 0.0, Reason.NO_VEHICLE, zero)
            continue
        memory = memories.get(p.cp_id)
        phases = phases_of.get((p.phase_rotation, p.vehicle_phases))
        if phases is None:
            phases = phases_of[(p.phase_rotation, p.vehicle_phases)] = grid_phases(p.phase_rotation, p.vehicle_phases)
        lo = p.min_a
        hi, hi_reason = p.max_a, Reason.OWN_MAX
        if p.ceiling_a is not None and p.ceiling_a < hi:
            hi, hi_reason = p.ceiling_a, Reason.CEILING
        limit = None
        if memory is not None and memory.amps > 0:
            spec = memory.amps if p.offered_a is None else p.offered_a
            if memory.vehicle_limit_a is not None or spec - max(p.drawn_a) > judge:
                limit = _vehicle_limit(circuit, p, memory)
                if limit is not None and limit < hi:
                    hi, hi_reason = (limit if limit > lo else lo), Reason.VEHICLE
        if hi * _STEPS_PER_A != int(hi * _STEPS_PER_A):
            hi = _floor(hi)
        if p.max_a < lo or hi < lo - _EPS:
            done[index] = PointAllocation(p.cp_id, 0.0, hi_reason, zero)
            continue
        least = smallest.get(phases)
        if least is None:
            least = smallest[phases] = min(phases, key=capacity.__getitem__)
        if capacity[least] < lo - _EPS:
            done[index] = PointAllocation(p.cp_id, 0.0, capacity_reason[least], zero, least + 1)
            continue
        wanting.append(_Candidate(p, index, phases, lo, hi, hi_reason, limit, memory))

    admitted = _admit(circuit, wanting, capacity)
    _fill(admitted, capacity, capacity_reason)

    new_memories: dict[int, PointMemory] = {}
    planned = [0.0, 0.0, 0.0]
    limiting = False
    for c in wanting:
        p = c.point
        amps = c.amps
        if amps > 0:
            phases = c.phases
            grid = (amps if 0 in phases else 0.0, amps if 1 in phases else 0.0, amps if 2 in phases else 0.0)
            for g in phases:
                planned[g] += amps
        else:
            grid = zero
        if c.binding_phase is not None or c.reason is Reason.PAUSED_FOR_OTHERS:
            limiting = True
        done[c.index] = PointAllocation(p.cp_id, amps, c.reason, grid, c.binding_phase)
        new_memories[p.cp_id] = _remember(c, now)
    if not limiting and len(done) > len(wanting):
        limiting = any(a.binding_phase is not None for a in done.values())
    allocations = tuple(done[i] for i in range(len(points)))
    return (
        Allocation(
            points=allocations,
            planned_a=(planned[0], planned[1], planned[2]),
            capacity_a=(capacity[0], capacity[1], capacity[2]),
            capacity_reason=(capacity_reason[0], capacity_reason[1], capacity_reason[2]),
            other_loads_a=other,
            limiting=limiting,
        ),
        AllocatorState(points=new_memories),
    )


def _admit(circuit: CircuitInput, wanting: list[_Candidate], capacity: list[float]) -> list[_Candidate]:
    """The minimum rule: who is served this cycle (see allocate(), step 3)."""
    need = [0.0, 0.0, 0.0]
    for c in wanting:
        for g in c.phases:
            need[g] += c.lo
    if all(need[g] <= capacity[g] + _EPS for g in _ALL):
        return wanting  # every minimum fits: nobody is paused
    now, turn = circuit.now, circuit.rotate_after_s

    def order(c: _Candidate) -> tuple[int, float, int]:
        m = c.memory
        if m is not None and m.amps > 0 and m.running_since is not None:
            if now - m.running_since < turn:
                return (0, -m.running_since, c.point.cp_id)
            return (3, -m.running_since, c.point.cp_id)
        if m is not None and m.paused_since is not None:
            return (1 if now - m.paused_since >= turn else 4, m.paused_since, c.point.cp_id)
        since = c.point.charging_since
        return (2, -(now if since is None else since), c.point.cp_id)

    room = list(capacity)
    admitted: list[_Candidate] = []
    for key, c in sorted(((order(c), c) for c in wanting), key=_first):
        lo = c.lo
        need_lo = lo - _EPS
        if all(room[g] >= need_lo for g in c.phases):
            for g in c.phases:
                room[g] -= lo
            admitted.append(c)
        else:
            if key[0] == 1:  # waited its turn: keep its minimum free for it
                for g in c.phases:
                    room[g] = max(0.0, room[g] - lo)
            c.reason = Reason.PAUSED_FOR_OTHERS
    return admitted


def _first(item: tuple[tuple[int, float, int], _Candidate]) -> tuple[int, float, int]:
    return item[0]


def _fill(admitted: list[_Candidate], capacity: list[float], capacity_reason: list[Reason]) -> None:
    """Max-min fair water-filling over the three phases (see allocate(), step 4).

    Points on the same set of phases share their fate (a full phase stops all of its points), so
    the rounds (at most three, one per phase that fills) work on those at most seven groups."""
    groups: dict[tuple[int, ...], list[_Candidate]] = {}
    for c in admitted:
        groups.setdefault(c.phases, []).append(c)
    los = {k: [c.lo for c in v] for k, v in groups.items()}
    his = {k: [c.hi for c in v] for k, v in groups.items()}
    used = [0.0, 0.0, 0.0]  # by points already stopped
    open_phases = [0, 1, 2]
    while groups:
        level, full = _INF, -1
        for g in open_phases:
            keys = [k for k in groups if g in k]
            if keys:
                at = _crossing(
                    capacity[g] - used[g],
                    sorted(chain.from_iterable(los[k] for k in keys)),
                    sorted(chain.from_iterable(his[k] for k in keys)),
                )
                if at < level:
                    level, full = at, g
        stopped = [k for k in groups if full < 0 or full in k]
        floored = _floor(level)
        bound_reason = capacity_reason[full] if full >= 0 else Reason.OWN_MAX
        for k in stopped:
            total = 0.0
            for c in groups.pop(k):
                if c.hi <= level:
                    c.amps, c.reason = c.hi, c.hi_reason
                elif c.lo >= level:
                    c.amps, c.reason, c.binding_phase = c.lo, Reason.MINIMUM_RULE, full + 1
                else:
                    c.amps, c.reason, c.binding_phase = (floored if floored > c.lo else c.lo), bound_reason, full + 1
                total += c.amps
            for g in k:
                used[g] += total
        if full < 0:
            break
        open_phases.remove(full)


def _remember(c: _Candidate, now: float) -> PointMemory:
    m = c.memory
    amps = c.amps
    paused = c.reason is Reason.PAUSED_FOR_OTHERS
    limit = c.vehicle_limit if amps > 0 else None
    unchanged = m is not None and amps == m.amps and m.vehicle_limit_a == limit
    if (
        unchanged
        and m is not None
        and (m.paused_since is not None) == paused
        and (amps == 0 or m.running_since is not None)
    ):
        return m  # nothing changed (most points, most cycles)
    was_running = m is not None and m.amps > 0 and m.running_since is not None
    running_since: float | None = None
    if amps > 0:
        if m is not None and was_running:
            running_since = m.running_since
        elif m is None and c.point.charging_since is not None:
            running_since = c.point.charging_since  # the agent's start: the session tells how long
        else:
            running_since = now
    paused_since = None
    if paused:
        paused_since = m.paused_since if m is not None and m.paused_since is not None else now
    if m is None or amps > m.amps:
        raised_at, before = now, (0.0 if m is None else m.amps)
    else:
        raised_at, before = m.raised_at, m.before_raise_a
    return PointMemory(amps, raised_at, before, running_since, paused_since, limit)


_TEXTS: Mapping[Reason, Promise] = {
    Reason.OWN_MAX: _("the charging point's maximum current"),
    Reason.VEHICLE: _("the vehicle takes less"),
    Reason.CIRCUIT_FUSE: _("the load circuit fuse"),
    Reason.HIGHER_FUSE: _("the higher level fuse, with the other loads"),
    Reason.CEILING: _("a limit from another source"),
    Reason.MINIMUM_RULE: _("its minimum current (more than an equal share)"),
    Reason.PAUSED_FOR_OTHERS: _("paused to let others charge"),
    Reason.NO_VEHICLE: _("no vehicle charging"),
    Reason.PHASE_UNUSED: _("the vehicle does not use this phase"),
}


def reason_text(reason: Reason) -> Promise:
    """The reason in plain words (lazy, translated when rendered)."""
    return _TEXTS[reason]
