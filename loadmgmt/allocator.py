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
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import reduce
from itertools import accumulate, chain
from operator import add, itemgetter
from typing import NamedTuple, cast

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


# A point that wants current, while the cycle decides: a plain tuple (thousands are made per cycle)
# of its position in ``points``, cp_id, grid phase mask, lo, hi, hi_reason, the vehicle's reduced
# specification, its memory, the amps at which that memory stays as it is (None: it changes anyway)
# and its input.
_Want = tuple[int, int, int, float, float, Reason, float | None, PointMemory | None, float | None, PointInput]
_POS = itemgetter(0)
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_LO = itemgetter(3)
_HI = itemgetter(4)

# A set of grid phases as a bit mask (bit g: counts on grid phase g) and back.
_MASK_PHASES: tuple[tuple[int, ...], ...] = ((), (0,), (1,), (0, 1), (2,), (0, 2), (1, 2), (0, 1, 2))
_ALL_MASK = 7
_ZERO: Phases = (0.0, 0.0, 0.0)

# Makes a PointAllocation from a tuple of its fields, in C (a NamedTuple's own __new__ is Python code).
_new = tuple.__new__
_GRID_A = itemgetter(3)  # PointAllocation.grid_a

# Per phase rotation value, computed once: the point's draw (its phases 1..3) in grid order (None:
# rotation not set, the smallest phase counts on each), the grid phase mask of a 1- and a 2-phase vehicle.
_Layout = tuple[Callable[[Phases], Phases] | None, int, int]
_LAYOUTS: dict[str, _Layout] = {}


def _layout_of(value: str) -> _Layout:
    layout = _LAYOUTS.get(value)
    if layout is None:
        rotation = _rotation_of(value)
        if rotation is None:
            layout = (None, _ALL_MASK, _ALL_MASK)
        else:
            inverse = [0, 0, 0]
            for k, g in enumerate(rotation):
                inverse[g] = k
            one = 1 << rotation[0]
            layout = (itemgetter(*inverse), one, one | 1 << rotation[1])
        _LAYOUTS[value] = layout
    return layout


for _value in ("", "L1L2L3", "L1L3L2", "L2L1L3", "L2L3L1", "L3L1L2", "L3L2L1"):
    _layout_of(_value)
del _value


if sys.version_info >= (3, 12):

    def _sum(values: Iterable[float]) -> float:
        """Added one after the other (``sum()`` adds floats compensated from Python 3.12 on)."""
        return reduce(add, values, 0.0)

else:

    def _sum(values: Iterable[float]) -> float:
        """Added one after the other (``sum()`` of floats, in C)."""
        return sum(values, 0.0)


def _columns(rows: list[Phases]) -> list[float]:
    """Per grid phase the sum of the rows, added in the rows' order (the same float sums as a loop
    adding them one by one)."""
    if not rows:
        return [0.0, 0.0, 0.0]
    l1, l2, l3 = zip(*rows, strict=True)
    return [_sum(l1), _sum(l2), _sum(l3)]


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

    Cost: O(n log n), the sorting in C; in Python one pass over the points (a plain tuple per point
    wanting current) and one over those wanting current (their results): about 2 µs per point in
    CPython 3.11 (1,000 points with an upstream meter, all wanting current: about 2-2.5 ms).
    """
    now = circuit.now
    memories: Mapping[int, PointMemory] = state.points if state is not None else {}
    n = len(points)
    zero = _ZERO
    results: list[PointAllocation | None] = [None] * n
    by_mask: list[list[_Want]] = [[], [], [], [], [], [], [], []]
    own_l1 = own_l2 = own_l3 = 0.0  # with an upstream meter: the park's own draw per grid phase
    metered = circuit.upstream is not None
    layouts = _LAYOUTS
    threshold, settle = circuit.threshold_a, circuit.settle_s
    judge = threshold + _EPS  # a vehicle within the threshold of its specification is not judged
    steps = _STEPS_PER_A
    no_vehicle, own_max, ceiling_reason, vehicle = Reason.NO_VEHICLE, Reason.OWN_MAX, Reason.CEILING, Reason.VEHICLE
    floored_of: dict[float, float] = {}  # hi -> hi floored to the grid
    new, point_allocation, memory_of = _new, PointAllocation, memories.get
    for index, p in enumerate(points):
        try:
            to_grid, mask_1, mask_2 = layouts[p.phase_rotation]
        except KeyError:
            to_grid, mask_1, mask_2 = _layout_of(p.phase_rotation)
        drawn = p.drawn_a
        if metered:
            if to_grid is None:
                least = min(drawn)
                own_l1 += least
                own_l2 += least
                own_l3 += least
            else:
                on_l1, on_l2, on_l3 = to_grid(drawn)
                own_l1 += on_l1
                own_l2 += on_l2
                own_l3 += on_l3
        cp_id = p.cp_id
        if not p.wants_current:
            results[index] = new(point_allocation, (cp_id, 0.0, no_vehicle, zero, None))
            continue
        lo = p.min_a
        top = hi = p.max_a
        hi_reason = own_max
        ceiling = p.ceiling_a
        if ceiling is not None and ceiling < hi:
            hi, hi_reason = ceiling, ceiling_reason
        limit = unchanged_at = None
        memory = memory_of(cp_id)
        if memory is not None:
            last_a, raised_at, before_raise_a, running_since, paused_since, limit_a = memory
            if last_a > 0:
                offered = p.offered_a
                spec = last_a if offered is None else offered
                actual = max(drawn)
                if limit_a is not None or spec - actual > judge:
                    # threshold to current reduction: reduce the specification to the draw plus the
                    # threshold when the vehicle stays more than the threshold below it; a reduced one
                    # follows the draw up again
                    limit = limit_a
                    if now - raised_at < settle and before_raise_a < spec:
                        spec = before_raise_a  # a raise the vehicle may not have followed yet
                    if spec > 0 and (spec - actual > judge or (limit is not None and actual + threshold > limit)):
                        limit = actual + threshold
                    if limit is not None and limit >= top:
                        limit = None
                    if limit is not None and limit < hi:
                        hi, hi_reason = (limit if limit > lo else lo), vehicle
            if paused_since is None:  # (what _remember() keeps as it is)
                if last_a > 0:
                    if running_since is not None and limit_a == limit:
                        unchanged_at = last_a
                elif limit_a is None and (last_a == 0 or running_since is not None):
                    unchanged_at = last_a
        try:
            hi = floored_of[hi]
        except KeyError:
            hi = floored_of[hi] = _floor(hi) if hi * steps != int(hi * steps) else hi
        if top < lo or hi < lo - _EPS:
            results[index] = new(point_allocation, (cp_id, 0.0, hi_reason, zero, None))
            continue
        vehicle_phases = p.vehicle_phases
        mask = mask_1 if vehicle_phases == 1 else mask_2 if vehicle_phases == 2 else _ALL_MASK
        by_mask[mask].append((index, cp_id, mask, lo, hi, hi_reason, limit, memory, unchanged_at, p))

    own = [own_l1, own_l2, own_l3]
    capacity, capacity_reason, other = _capacity(circuit, own)

    # the points on one set of phases, the sets in the order of their first point; a point whose
    # minimum does not fit its weakest phase even alone gets 0
    limiting = False  # a fuse (or the circuit limit) gives less than the vehicles want
    groups: list[tuple[int, list[_Want]]] = []
    for mask in range(1, 8):
        group = by_mask[mask]
        if not group:
            continue
        least = min(_MASK_PHASES[mask], key=capacity.__getitem__)
        room = capacity[least]
        if room < max(map(_LO, group)) - _EPS:
            fits = []
            for c in group:
                if room < c[3] - _EPS:
                    results[c[0]] = _new(PointAllocation, (c[1], 0.0, capacity_reason[least], zero, least + 1))
                    limiting = True
                else:
                    fits.append(c)
            group = fits
        if group:
            groups.append((mask, group))
    groups.sort(key=_first_position)

    remembered: dict[int, PointMemory] = {}
    if not _all_minimums_fit(groups, capacity):
        groups, paused = _admit(
            circuit, sorted(chain.from_iterable(group for _mask, group in groups), key=_POS), capacity
        )
        paused_reason = Reason.PAUSED_FOR_OTHERS
        for index, cp_id, _mask, _lo, _hi, _reason, _limit, memory, _unchanged_at, p in paused:
            results[index] = new(point_allocation, (cp_id, 0.0, paused_reason, zero, None))
            if (
                memory is not None
                and memory.amps == 0
                and memory.paused_since is not None
                and memory.vehicle_limit_a is None
            ):
                remembered[cp_id] = memory  # paused before: nothing changed
            else:
                remembered[cp_id] = _remember(memory, 0.0, True, None, now, p.charging_since)
            limiting = True

    if _fill(groups, capacity, capacity_reason, now, results, remembered):
        limiting = True
    allocations = cast(tuple[PointAllocation, ...], tuple(results))
    planned = _columns(list(map(_GRID_A, allocations)))
    return (
        Allocation(
            points=allocations,
            planned_a=(planned[0], planned[1], planned[2]),
            capacity_a=(capacity[0], capacity[1], capacity[2]),
            capacity_reason=(capacity_reason[0], capacity_reason[1], capacity_reason[2]),
            other_loads_a=other,
            limiting=limiting,
        ),
        AllocatorState(points=remembered),
    )


def _first_position(item: tuple[int, list[_Want]]) -> int:
    return item[1][0][0]


def _all_minimums_fit(groups: list[tuple[int, list[_Want]]], capacity: list[float]) -> bool:
    """Whether every minimum fits (then the minimum rule pauses nobody).

    Summed per set of phases; only when a phase's sum is that close to its capacity that the order
    of adding could matter is it summed again in the points' order."""
    need = [0.0, 0.0, 0.0]
    for mask, group in groups:
        total = sum(map(_LO, group))
        for g in _MASK_PHASES[mask]:
            need[g] += total
    if any(abs(need[g] - (capacity[g] + _EPS)) <= 1e-9 * (1.0 + abs(need[g])) for g in _ALL):
        need = [0.0, 0.0, 0.0]
        for c in sorted(chain.from_iterable(group for _mask, group in groups), key=_POS):
            for g in _MASK_PHASES[c[2]]:
                need[g] += c[3]
    return all(need[g] <= capacity[g] + _EPS for g in _ALL)


def _admit(
    circuit: CircuitInput, wanting: list[_Want], capacity: list[float]
) -> tuple[list[tuple[int, list[_Want]]], list[_Want]]:
    """The minimum rule: who is served this cycle (see allocate(), step 3), by set of phases (the
    sets in the order of their first point admitted, each in the order admitted), and who is paused."""
    now, turn = circuit.now, circuit.rotate_after_s
    # the order: by class, then by time, then by cp_id. One list per class, sorted by cp_id and then
    # (stable) by time: the same order as one sort by (class, time, cp_id) tuples, but comparing
    # plain numbers (timsort compares floats and small ints fast, tuples slowly).
    classes: list[list[tuple[float, int, _Want]]] = [[], [], [], [], []]
    for c in wanting:
        m = c[7]
        if m is not None:
            last_a, _raised, _before, running_since, paused_since, _limit = m
            if last_a > 0 and running_since is not None:
                classes[0 if now - running_since < turn else 3].append((-running_since, c[1], c))
                continue
            if paused_since is not None:
                classes[1 if now - paused_since >= turn else 4].append((paused_since, c[1], c))
                continue
        since = c[9].charging_since
        classes[2].append((-(now if since is None else since), c[1], c))
    for ordered in classes:
        ordered.sort(key=_SECOND)
        ordered.sort(key=_FIRST)
    room_l1, room_l2, room_l3 = capacity
    by_mask: list[list[_Want]] = [[], [], [], [], [], [], [], []]
    order: list[int] = []
    paused: list[_Want] = []
    for k, ordered in enumerate(classes):
        waited = k == 1  # waited its turn
        for _time, _cp_id, c in ordered:
            mask, lo = c[2], c[3]
            need_lo = lo - _EPS
            if (
                (not mask & 1 or room_l1 >= need_lo)
                and (not mask & 2 or room_l2 >= need_lo)
                and (not mask & 4 or room_l3 >= need_lo)
            ):
                if mask & 1:
                    room_l1 -= lo
                if mask & 2:
                    room_l2 -= lo
                if mask & 4:
                    room_l3 -= lo
                group = by_mask[mask]
                if not group:
                    order.append(mask)
                group.append(c)
            else:
                if waited:  # keep its minimum free for it
                    if mask & 1:
                        room_l1 = max(0.0, room_l1 - lo)
                    if mask & 2:
                        room_l2 = max(0.0, room_l2 - lo)
                    if mask & 4:
                        room_l3 = max(0.0, room_l3 - lo)
                paused.append(c)
    return [(mask, by_mask[mask]) for mask in order], paused


def _fill(
    groups: list[tuple[int, list[_Want]]],
    capacity: list[float],
    capacity_reason: list[Reason],
    now: float,
    results: list[PointAllocation | None],
    remembered: dict[int, PointMemory],
) -> bool:
    """Max-min fair water-filling over the three phases (see allocate(), step 4); puts each point's
    result (by position), its grid currents (by position) and its memory (by cp_id). True when a
    phase bound a point.

    Points on the same set of phases share their fate (a full phase stops all of its points), so
    the rounds (at most three, one per phase that fills) work on those at most seven groups; each
    group's bounds are sorted once (merging sorted runs is cheap for the sort)."""
    los = {mask: sorted(map(_LO, group)) for mask, group in groups}
    his = {mask: sorted(map(_HI, group)) for mask, group in groups}
    open_groups = dict(groups)
    used = [0.0, 0.0, 0.0]  # by points already stopped
    open_phases = [0, 1, 2]
    limiting = False
    minimum_rule = Reason.MINIMUM_RULE
    zero = _ZERO
    new, point_allocation = _new, PointAllocation
    while open_groups:
        level, full = _INF, -1
        for g in open_phases:
            keys = [k for k in open_groups if k >> g & 1]
            if keys:
                if len(keys) == 1:
                    phase_los, phase_his = los[keys[0]], his[keys[0]]
                else:
                    phase_los = sorted(chain.from_iterable(los[k] for k in keys))
                    phase_his = sorted(chain.from_iterable(his[k] for k in keys))
                at = _crossing(capacity[g] - used[g], phase_los, phase_his)
                if at < level:
                    level, full = at, g
        stopped = [k for k in open_groups if full < 0 or k >> full & 1]
        floored = _floor(level)
        bound_reason = capacity_reason[full] if full >= 0 else Reason.OWN_MAX
        bound = full + 1
        for k in stopped:
            on_l1, on_l2, on_l3 = k & 1, k & 2, k & 4
            grid_of: dict[float, Phases] = {}  # one grid tuple per amount (most points share a few)
            total = 0.0
            for index, cp_id, _mask, lo, hi, hi_reason, limit, memory, unchanged_at, p in open_groups.pop(k):
                binding: int | None
                if hi <= level:
                    amps, reason, binding = hi, hi_reason, None
                elif lo >= level:
                    amps, reason, binding = lo, minimum_rule, bound
                    limiting = True
                else:
                    amps, reason, binding = (floored if floored > lo else lo), bound_reason, bound
                    limiting = True
                total += amps
                if amps > 0:
                    grid = grid_of.get(amps)
                    if grid is None:
                        grid = grid_of[amps] = (amps if on_l1 else 0.0, amps if on_l2 else 0.0, amps if on_l3 else 0.0)
                else:
                    grid, limit = zero, None
                results[index] = new(point_allocation, (cp_id, amps, reason, grid, binding))
                if amps == unchanged_at and memory is not None:
                    remembered[cp_id] = memory  # nothing changed (most points, most cycles)
                else:
                    remembered[cp_id] = _remember(memory, amps, False, limit, now, p.charging_since)
            for g in _MASK_PHASES[k]:
                used[g] += total
        if full < 0:
            break
        open_phases.remove(full)
    return limiting


def _remember(
    m: PointMemory | None, amps: float, paused: bool, limit: float | None, now: float, charging_since: float | None
) -> PointMemory:
    """The point's memory for the next cycle; ``limit``: the vehicle's reduced specification (None
    when not served)."""
    if (
        m is not None
        and amps == m.amps
        and m.vehicle_limit_a == limit
        and (m.paused_since is not None) == paused
        and (amps == 0 or m.running_since is not None)
    ):
        return m  # nothing changed
    was_running = m is not None and m.amps > 0 and m.running_since is not None
    running_since: float | None = None
    if amps > 0:
        if m is not None and was_running:
            running_since = m.running_since
        elif m is None and charging_since is not None:
            running_since = charging_since  # the agent's start: the session tells how long
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
