"""The load management agent: shares the load circuit among its charge points.

Each cycle (a vehicle plugged or unplugged, a configuration reload, a status change, and every
``CYCLE_S`` anyway) it builds the allocator's inputs from the snapshot (every assigned charge
point's ``decision.ceiling_a``, its configured minimum and maximum, phase rotation, the vehicle's
phases, the currents drawn) and the higher-level meter's reading, calls the allocator
(``loadmgmt.allocator``) and puts ONE expiring cap per charge point on the claim board
(``Source.LOAD_MANAGEMENT``, ``ttl_s=CAP_TTL_S``, ``lapse_to_fallback``): if the agent stops, its
caps lapse to each charge point's fallback current, so the park never runs unlimited.

The higher-level meter (TCP/IP: ``loadmgmt.meters``; RS-485: read through the simulated
hardware, see ``_rs485_reading``) is read by a task of its own, so a meter that does not answer
never delays a cycle. A reading is used for ``METER_HOLD_S``; after that, or after
``METER_FAILURES`` failed reads in a row, the meter counts as offline and every point is held at
its fallback current (within the load circuit fuse) until the meter answers again: without the
meter nobody knows what the other loads draw, so the feed-in fuse is taken as fully used by them.

The dynamic maximum current a Modbus client writes to station register 167 (published by the
Modbus agent as ``dynamic_current_a``) is a limit on the whole circuit (``CircuitInput.limit_a``);
while this agent runs a circuit, the Modbus agent leaves its own even split.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from loadmgmt import allocator as alloc
from loadmgmt.choices import MeterConnection
from loadmgmt.commands import LmReload
from loadmgmt.meters import MeterError, TcpMeter
from loadmgmt.selectors import AssignedPoint, CircuitSetup, circuit_setup
from wbm.runtime import events as ev
from wbm.runtime.agent import Agent
from wbm.runtime.claims import ClaimRefused, Kind, Source
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

log = logging.getLogger(__name__)

NAME = "loadmgmt"
CYCLE_S = 1.0  # redistribution period (the manual: "checked at regular intervals and repeated")
CAP_TTL_S = 10.0  # ten cycles: a stopped agent's caps lapse to the fallback current after this
METER_EVERY_S = 1.0  # how often the higher-level meter is read
METER_HOLD_S = 5.0  # a reading is used this long; older: the meter is offline
METER_FAILURES = 3  # failed reads in a row that make the meter offline at once
HISTORY_EVERY_S = 5.0  # one point of the chart this often
HISTORY_LEN = 120  # ten minutes of history at HISTORY_EVERY_S
NO_LIMIT = 65535  # register 167 "no dynamic limit"
FALLBACK_REASON = "meter_offline"  # a point held at its fallback current (not an allocator Reason)


def _grid_index(rotation: str, phase: int) -> int:
    """Grid phase (0..2) of the charge point's own phase ``phase`` (0..2); identity when not set."""
    if len(rotation) == 6:
        return int(rotation[2 * phase + 1]) - 1
    return phase


def grid_currents(currents: tuple[float, float, float], rotation: str) -> list[float]:
    """A charge point's currents (its own phase order) on the grid phases L1..L3."""
    grid = [0.0, 0.0, 0.0]
    for phase, amps in enumerate(currents):
        grid[_grid_index(rotation, phase)] += amps
    return grid


class MeterWatch:
    """The higher-level meter's last reading and whether it counts as online."""

    def __init__(self) -> None:
        self.currents_a: tuple[float, float, float] | None = None
        self.read_at: float | None = None  # monotonic, the runtime's clock
        self.read_at_epoch: float | None = None
        self.failures = 0
        self.error = ""

    def ok(self, currents: tuple[float, float, float], mono: float, epoch: float) -> None:
        self.currents_a, self.read_at, self.read_at_epoch = currents, mono, epoch
        self.failures, self.error = 0, ""

    def failed(self, error: str) -> None:
        self.failures += 1
        self.error = error

    def online(self, now: float) -> bool:
        if self.read_at is None or self.failures >= METER_FAILURES:
            return False
        return now - self.read_at <= METER_HOLD_S


class LoadManagementAgent(Agent):
    """Equal distribution of the load circuit; see the module docstring."""

    name = NAME
    title = _("Load Management")
    description = _(
        "Shares the load circuit fuse among the charging points assigned to it, with the higher-level "
        "measuring device and fuse when one is configured."
    )
    order = 60
    commands = (LmReload,)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.setup: CircuitSetup | None = None
        self.state: alloc.AllocatorState | None = None
        self.meter = MeterWatch()
        self.tcp: TcpMeter | None = None
        self.history: deque[list[float | None]] = deque(maxlen=HISTORY_LEN)
        self._last_sample: float | None = None
        self._claimed: set[int] = set()
        self._wake = asyncio.Event()
        self._status: dict[str, Any] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        ctx = self.ctx
        await self.reload()
        ctx.handle(LmReload, self._cmd_reload)
        events = ctx.subscribe(
            ev.Plugged, ev.Unplugged, ev.ConfigReloaded, ev.VehicleStateChanged, ev.StatusChanged, ev.SessionStarted
        )
        reader = asyncio.ensure_future(self._read_meter_forever())
        try:
            while True:
                try:
                    self.cycle()
                except Exception:  # one bad cycle must not stop the caps' renewal for good
                    log.exception("loadmgmt: a cycle failed")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CYCLE_S):
                        waiter = asyncio.ensure_future(self._wake.wait())
                        getter = asyncio.ensure_future(events.get())
                        try:
                            await asyncio.wait({waiter, getter}, return_when=asyncio.FIRST_COMPLETED)
                        finally:
                            waiter.cancel()
                            getter.cancel()
                self._wake.clear()
                events.pending()
                await asyncio.sleep(0)  # let the controller publish what the event changed
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if self.tcp is not None:
                await self.tcp.close()
            # the caps stay: nobody renews them now, so they lapse to the fallback current

    async def reload(self) -> None:
        setup = await self.ctx.db(circuit_setup)
        old = self.setup
        self.setup = setup
        assigned = {p.id for p in setup.points}
        snapshot = self.ctx.snapshot()
        if old is None and snapshot is not None:
            # a restart: caps an earlier run left at points taken out of the circuit meanwhile
            self._claimed |= {cp.id for cp in snapshot.chargepoints}
        for cp in self._claimed - assigned:  # no longer in the circuit: free of load management
            self.ctx.claims.withdraw(cp, Source.LOAD_MANAGEMENT, Kind.CAP)
        self._claimed &= assigned
        meter_changed = old is None or (old.meter_connection, old.meter_ip, old.meter_type, old.rs485_chargepoint) != (
            setup.meter_connection,
            setup.meter_ip,
            setup.meter_type,
            setup.rs485_chargepoint,
        )
        if meter_changed:
            if self.tcp is not None:
                await self.tcp.close()
            self.tcp = None
            if setup.meter_connection == MeterConnection.TCP and setup.meter_ip and setup.meter_type:
                port = int(getattr(settings, "WBM_LOADMGMT_METER_PORT", 502))
                self.tcp = TcpMeter(setup.meter_ip, port, setup.meter_type)
            self.meter = MeterWatch()

    async def _cmd_reload(self, command: LmReload) -> None:
        await self.reload()
        self.cycle()

    # --- the higher-level meter ---------------------------------------------------------------
    async def _read_meter_forever(self) -> None:
        while True:
            await self.read_meter()
            await asyncio.sleep(METER_EVERY_S)

    async def read_meter(self) -> None:
        setup = self.setup
        if setup is None or not setup.has_meter:
            return
        clock = self.ctx.clock
        before = self.meter.online(clock.monotonic())
        try:
            if setup.meter_connection == MeterConnection.TCP:
                if self.tcp is None:
                    raise MeterError("no address or device type")
                currents = await self.tcp.read()
            else:
                currents = self._rs485_reading(setup)
        except MeterError as exc:
            if self.meter.failures == 0:
                log.warning("loadmgmt: the higher-level meter does not answer: %s", exc)
            self.meter.failed(str(exc))
        else:
            if self.meter.failures:
                log.info("loadmgmt: the higher-level meter answers again")
            self.meter.ok(currents, clock.monotonic(), clock.time())
        if self.meter.online(clock.monotonic()) != before:
            self._wake.set()  # online/offline changes the allocation now

    def _rs485_reading(self, setup: CircuitSetup) -> tuple[float, float, float]:
        """RS-485: the meter sits on a charge point's meter interface. The simulation has no
        RS-485 bus: the device answers while that charge point's own meter does (a simulated
        ``PowerMeterFailure`` there silences it too) and sees the assigned charge points' draw on
        the grid phases; the simulated park has no other loads."""
        snapshot = self.ctx.snapshot()
        cp = snapshot.chargepoint(setup.rs485_chargepoint) if snapshot and setup.rs485_chargepoint else None
        if cp is None or cp.meter is None:
            raise MeterError("no answer on the RS-485 interface")
        total = [0.0, 0.0, 0.0]
        for point in setup.points:
            state = snapshot.chargepoint(point.id) if snapshot else None
            if state is not None:
                for i, amps in enumerate(grid_currents(state.currents_a, point.phase_rotation)):
                    total[i] += amps
        return (round(total[0], 3), round(total[1], 3), round(total[2], 3))

    # --- one cycle ------------------------------------------------------------------------------
    def cycle(self) -> None:
        """Allocate and put the caps; publish the state for the page."""
        setup, snapshot = self.setup, self.ctx.snapshot()
        if setup is None or snapshot is None:
            return
        now = self.ctx.clock.monotonic()
        online = self.meter.online(now) if setup.has_meter else None
        fallback = setup.has_meter and not online
        points = []
        states: dict[int, ChargePointState] = {}
        for point in setup.points:
            state = snapshot.chargepoint(point.id)
            if state is None or not state.configured:
                continue
            states[point.id] = state
            points.append(self._point_input(point, state, now, fallback))
        upstream = None
        if setup.has_meter and online and setup.higher_fuse_a is not None and self.meter.currents_a is not None:
            upstream = alloc.Upstream(higher_fuse_a=setup.higher_fuse_a, measured_a=self.meter.currents_a)
        dynamic = self._dynamic_current(snapshot)
        circuit = alloc.CircuitInput(
            fuse_a=setup.fuse_a, threshold_a=setup.threshold_a, now=now, upstream=upstream, limit_a=dynamic
        )
        allocation, self.state = alloc.allocate(circuit, points, self.state)
        claims = self.ctx.claims
        for pa in allocation.points:
            try:
                claims.cap(pa.cp_id, Source.LOAD_MANAGEMENT, pa.amps, ttl_s=CAP_TTL_S, lapse_to_fallback=True)
                self._claimed.add(pa.cp_id)
            except ClaimRefused:  # a charge point the controller does not know (yet)
                continue
        self._publish(setup, snapshot, states, allocation, fallback=fallback, online=online, dynamic=dynamic)

    def _point_input(
        self, point: AssignedPoint, state: ChargePointState, now: float, fallback: bool
    ) -> alloc.PointInput:
        decision = state.decision
        ceiling = decision.ceiling_a
        if fallback:  # the meter is offline: at most the fallback current
            ceiling = point.fallback_a if ceiling is None else min(ceiling, point.fallback_a)
        vehicle = state.vehicle
        return alloc.PointInput(
            cp_id=point.id,
            min_a=point.min_a,
            max_a=point.max_a,
            ceiling_a=ceiling,
            phase_rotation=point.phase_rotation,
            vehicle_phases=vehicle.phases if vehicle is not None else 0,
            drawn_a=state.currents_a,
            wants_current=vehicle is not None and decision.released,
            offered_a=decision.offered_a,
            charging_since=now - state.charging_s if state.charging_s > 0 else None,
        )

    @staticmethod
    def _dynamic_current(snapshot: ParkSnapshot) -> float | None:
        """Register 167 as the Modbus agent publishes it: a limit on the whole circuit."""
        modbus = snapshot.agent_state("modbus") or {}
        value = modbus.get("dynamic_current_a")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < NO_LIMIT:
            return float(value)
        return None

    # --- what the page shows ----------------------------------------------------------------
    def _publish(
        self,
        setup: CircuitSetup,
        snapshot: ParkSnapshot,
        states: dict[int, ChargePointState],
        allocation: alloc.Allocation,
        *,
        fallback: bool,
        online: bool | None,
        dynamic: float | None,
    ) -> None:
        by_cp = allocation.by_cp()
        current = [0.0, 0.0, 0.0]
        rows = []
        for point in setup.points:
            state = states.get(point.id)
            pa = by_cp.get(point.id)
            if state is None or pa is None:
                continue
            drawn = grid_currents(state.currents_a, point.phase_rotation)
            for i in range(3):
                current[i] += drawn[i]
            reasons = [str(r) for r in pa.phase_reasons()]
            if fallback and pa.amps > 0 and pa.reason == alloc.Reason.CEILING and pa.amps >= point.fallback_a - 0.05:
                reasons = [FALLBACK_REASON if r == alloc.Reason.CEILING else r for r in reasons]
            rows.append(
                {
                    "id": point.id,
                    "name": point.name,
                    "amps": pa.amps,
                    "reason": FALLBACK_REASON if FALLBACK_REASON in reasons else str(pa.reason),
                    "grid_a": [round(a, 1) for a in pa.grid_a],
                    "reasons": reasons,
                    "drawn_a": [round(a, 2) for a in drawn],
                    "rotation": point.phase_rotation,
                    "vehicle_phases": state.vehicle.phases if state.vehicle is not None else None,
                    "fallback_a": point.fallback_a,
                }
            )
        epoch = self.ctx.clock.time()
        limit = min(allocation.capacity_a)
        if self._last_sample is None or epoch - self._last_sample >= HISTORY_EVERY_S:
            self._last_sample = epoch
            self.history.append([round(epoch, 1), *(round(a, 2) for a in current), round(limit, 1)])
        meter = None
        if setup.has_meter:
            meter = {
                "connection": setup.meter_connection,
                "type": setup.meter_type,
                "address": setup.meter_ip or "",
                "rs485_chargepoint": setup.rs485_chargepoint,
                "online": bool(online),
                "currents_a": list(self.meter.currents_a) if self.meter.currents_a is not None else None,
                "read_at": self.meter.read_at_epoch,
                "error": self.meter.error,
            }
        status = {
            "running": True,
            "circuit": bool(setup.points),
            "park_name": setup.park_name,
            "fuse_a": setup.fuse_a,
            "higher_fuse_a": setup.higher_fuse_a,
            "dynamic_a": dynamic,
            "limiting": allocation.limiting,
            "monitored": len(rows),
            "current_a": [round(a, 1) for a in current],
            "planned_a": [round(a, 1) for a in allocation.planned_a],
            "capacity_a": [round(a, 1) for a in allocation.capacity_a],
            "capacity_reasons": [str(r) for r in allocation.capacity_reason],
            "other_loads_a": None
            if allocation.other_loads_a is None
            else [round(a, 1) for a in allocation.other_loads_a],
            "fallback": fallback,
            "meter": meter,
            "points": rows,
            "history": list(self.history),
        }
        if status != self._status:
            self._status = status
            self.ctx.set_status(status)
            self.ctx.publish()
