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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

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


@dataclass(frozen=True, slots=True, kw_only=True)
class PointMemory:
    """What the allocator remembers of a point between cycles."""

    amps: float  # last allocation
    changed_at: float  # when that allocation last changed
    running_since: float | None = None  # served (amps > 0) without a break since
    paused_since: float | None = None  # paused by the minimum rule since
    vehicle_limit_a: float | None = None  # the reduced specification (threshold), None: not reduced


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocatorState:
    """Hand back to the next ``allocate()``; kept in memory by the agent (None after a start)."""

    points: Mapping[int, PointMemory] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PointAllocation:
    cp_id: int
    amps: float  # the cap to put: 0 or within min..max, per phase
    reason: Reason
    grid_a: Phases  # planned current per grid phase L1..L3 (amps on the phases it counts on)
    binding_phase: int | None = None  # 1..3 when a phase's fuse or limit bound it

    def phase_reasons(self) -> tuple[Reason, Reason, Reason]:
        """Per grid phase: the point's reason where it counts, PHASE_UNUSED elsewhere."""
        return tuple(self.reason if a > 0 or self.amps == 0 else Reason.PHASE_UNUSED for a in self.grid_a)  # type: ignore[return-value]


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


def allocate(
    circuit: CircuitInput, points: Sequence[PointInput], state: AllocatorState | None = None
) -> tuple[Allocation, AllocatorState]:
    """One cycle of equal distribution; pure (the same input gives the same output).

    ``state`` is the previous cycle's returned state (None at the agent's start).
    """
    # provisional body (interface first): nothing for anyone
    allocations = tuple(
        PointAllocation(cp_id=p.cp_id, amps=0.0, reason=Reason.NO_VEHICLE, grid_a=(0.0, 0.0, 0.0)) for p in points
    )
    zero = (0.0, 0.0, 0.0)
    fuse = (circuit.fuse_a,) * 3
    return (
        Allocation(
            points=allocations,
            planned_a=zero,
            capacity_a=fuse,  # type: ignore[arg-type]
            capacity_reason=(Reason.CIRCUIT_FUSE,) * 3,  # type: ignore[arg-type]
            other_loads_a=None,
            limiting=False,
        ),
        state or AllocatorState(),
    )


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
