"""The charge point controller: the agent that drives the hardware of the park.

Each tick it polls the hardware, turns hardware events into runtime events, derives the
configuration's and the hardware's own claims, takes the one decision per charge point
(``wbm.runtime.claims.decide``), commands the hardware where the decision changed and hands the
live state to the runtime for publishing. Commands from pages and the API change claims or the
simulated hardware and wake the loop; their reply comes once the next picture is published.

Database work (sessions, energy registers) goes through the app's services on a queue of its
own, retried until it succeeds, so a slow or failing database never stalls control and never
loses a session silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chargepoints import selectors, services
from chargepoints.choices import StopReason
from chargepoints.controller import monitoring, rules
from chargepoints.controller.commands import (
    SIMULATOR_COMMANDS,
    ConfigReload,
    CpAvailability,
    CpClearRfid,
    CpLock,
    CpOutput,
    CpRelease,
    CpUnlock,
    CpUnlockNow,
)
from chargepoints.controller.rules import CpConfig
from chargepoints.controller.simulation import SimulatorHandlers
from wbm.runtime import events as ev
from wbm.runtime.agent import Agent, DatabaseError
from wbm.runtime.backends.controller import (
    HardwarePoint,
    HardwareReading,
)
from wbm.runtime.claims import NOT_CONFIGURED, Claim, Decision, Kind, Offer, Source, decide
from wbm.runtime.commands import Command, Rejected
from wbm.runtime.snapshot import ChargePointState, RecentScan

log = logging.getLogger(__name__)

RFID_EVENT_S = 1.0  # "RFID accepted / not accepted" is shown for one second
DB_RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)
SAME_PLUG_IN_S = 5.0  # a session and a vehicle that arrived within this belong together
RECENT_SCANS = 20  # the whitelist page's "Recently scanned RFIDs/EVCC IDs"

# Claims the controller keeps from the user's operations.
DISABLED = "disabled"
UNLOCK = "unlock_enforced"
# The head module's connection renews this cap; lost for the fallback time, it lapses to the
# fallback current (the manual: "the elapsing timer is repeatedly increased to the fallback time").
HEAD_MODULE = "head_module"
# Blocks of the Modbus server the controller acts on: X304 / 164 = 0 put the charge point into
# state F (not persisted, unlike the user's Disable); X305 unlocks the socket while it stands.
MODBUS_UNAVAILABLE = ("unavailable", "group_unavailable")
MODBUS_UNLOCK = "unlock"
# Blocks of the OCPP agent the controller acts on: ChangeAvailability Inoperative (status
# Unavailable, state F) and a reservation (status Reserved while no vehicle is there).
OCPP_INOPERATIVE = "inoperative"
OCPP_RESERVED = "reserved"
OUTPUT_MODES = ("floating", "low", "high", "flashing", "pulsating")
PROTECTION_CLAIMS = (
    (Kind.CAP, Source.SAFETY, monitoring.EVZE),
    (Kind.CAP, Source.SAFETY, monitoring.UNBALANCE),
    (Kind.BLOCK, Source.SAFETY, monitoring.PLUG_REJECTED),
    (Kind.BLOCK, Source.SAFETY, monitoring.RESIDUAL),
    (Kind.BLOCK, Source.SAFETY, monitoring.CONTACTOR),
    (Kind.BLOCK, Source.SAFETY, monitoring.OVERCURRENT),
)


@dataclass
class _Session:
    """One plug-in as the controller keeps it; ``pk`` once the database has it."""

    key: str
    started_at: float
    meter_start_wh: float
    pk: int | None = None
    id_tag: str = ""
    released_by: tuple[str, ...] = ()


@dataclass
class _Point:
    """The controller's own, mutable view of one charge point."""

    hw: HardwarePoint
    enabled: bool = True
    unlock_enforced: bool = False
    remote_lock: bool | None = None  # "Remote control" locking: what was asked for last (None: nothing yet)
    reserved: bool = False
    lock_opened: bool = False  # unlocked once (OCPP UnlockConnector) until the vehicle leaves
    had_release: bool = False
    charged: bool = False  # the vehicle drew current during this plug-in
    rfid: str = ""
    plugged_since: float | None = None
    charging_s: float = 0.0
    session: _Session | None = None
    hlc_session_id: str = ""  # ISO 15118 session of this plug-in
    rfid_event: str = ""  # last card read at this reader: accepted | rejected
    rfid_event_at: float | None = None
    offer: Offer = field(default_factory=Offer)
    commanded_available: bool | None = None  # what the hardware was last told
    link_lost_at: float | None = None  # monotonic time the head module connection was lost
    standing_key: tuple[object, ...] = ()  # what the standing claims were last derived from
    monitor: monitoring.Monitor = field(default_factory=monitoring.Monitor)
    protection: monitoring.Verdict = monitoring.NONE  # what monitoring claims now
    protection_fault: tuple[str, str] | None = None  # the fault monitoring raised, for its events
    iec_state: str = ""
    ocpp_status: str = ""
    state: ChargePointState | None = None  # the last good picture
    failing: bool = False


class ControllerAgent(SimulatorHandlers, Agent):
    """Standardises access to the charge points: polls the hardware, applies the configuration
    and the claims, persists sessions and meter totals and provides the live state."""

    name = "controller"
    title = _("Controller Agent")
    description = _(
        "Standardizes the interface to the charging controllers on the backplane bus and to the "
        "clients connected via Ethernet."
    )
    order = 10
    provides_chargepoints = True
    announces_ready = True
    commands = (
        ConfigReload,
        CpRelease,
        CpAvailability,
        CpUnlock,
        CpUnlockNow,
        CpLock,
        CpOutput,
        CpClearRfid,
        *SIMULATOR_COMMANDS,
    )

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.configs: dict[int, CpConfig] = {}
        self.points: dict[int, _Point] = {}
        self.recent_rfids: deque[tuple[str, float]] = deque(maxlen=10)
        self.recent_scans: deque[RecentScan] = deque(maxlen=RECENT_SCANS)  # cards and EVCC IDs, newest first
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._waiters: list[asyncio.Future[None]] = []
        self._last_step: float | None = None
        self._db_jobs: asyncio.Queue[tuple[str, Callable[[], Awaitable[None]]]] = asyncio.Queue()
        self._db_current: tuple[str, Callable[[], Awaitable[None]]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # whitelist lookups of cards just read
        self._background: set[asyncio.Task[Any]] = set()
        self._persisting = False

    # --- the loop ----------------------------------------------------------------------------
    async def run(self) -> None:
        ctx = self.ctx
        handlers: dict[type[Command], Callable[[Any], Awaitable[dict[str, Any] | None]]] = {
            ConfigReload: self._cmd_reload,
            CpRelease: self._cmd_release,
            CpAvailability: self._cmd_availability,
            CpUnlock: self._cmd_unlock,
            CpUnlockNow: self._cmd_unlock_now,
            CpLock: self._cmd_lock,
            CpOutput: self._cmd_output,
            CpClearRfid: self._cmd_clear_rfid,
            **self.simulator_handlers(),
        }
        await self.reload()
        await self._recover_sessions()
        worker = asyncio.create_task(self._db_worker(), name="controller:db")
        for command, handler in handlers.items():
            ctx.handle(command, handler)
        self.mark_ready()
        last_persist = ctx.clock.monotonic()
        try:
            while True:
                await self.step()
                if ctx.clock.monotonic() - last_persist >= settings.WBM_PERSIST_EVERY_S and not self._persisting:
                    last_persist = ctx.clock.monotonic()
                    # database work never holds up the loop
                    self._spawn(self._persist_beside(), into=self._background)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ctx.tick_s):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            for task in [*self._tasks, *self._background]:
                task.cancel()
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await self._flush_db()
            await self.persist()
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def settle(self) -> None:
        """Wake the loop and return once the picture that includes what happened is published."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        await waiter

    async def step(self) -> None:
        """Poll the hardware, decide, command it, provide the live state (published outside the
        lock, coalesced with other publishes)."""
        waiters, self._waiters = self._waiters, []
        async with self._lock:
            now = self.ctx.clock.time()
            dt = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
            self._last_step = now
            for event in await self.ctx.hardware.poll(now):
                try:
                    self._on_hardware_event(event.kind, event.cp_id, event.value, now)
                except Exception:
                    log.exception("controller: handling %s at charge point %s failed", event.kind, event.cp_id)
            mono = self.ctx.clock.monotonic()  # claims and the PWM rate limit: no wall-clock steps
            self.ctx.claims.prune(mono)
            states: list[ChargePointState] = []
            for cp_id, point in self.points.items():
                state = await self._apply_isolated(cp_id, point, now, mono, dt)
                if state is not None:
                    states.append(state)
            self.ctx.set_part("chargepoints", tuple(states))
            self.ctx.set_part("recent_rfids", tuple(self.recent_rfids))
            self.ctx.set_part("recent_scans", tuple(self.recent_scans))
        published = self.ctx.publish()
        published.add_done_callback(lambda _f: _resolve(waiters))

    async def _apply_isolated(
        self, cp_id: int, point: _Point, now: float, mono: float, dt: float
    ) -> ChargePointState | None:
        """One charge point; a failure there is logged and leaves the others running."""
        try:
            state = await self._apply(cp_id, point, now, mono, dt)
        except Exception:
            if not point.failing:
                log.exception("controller: charge point %s failed; the others keep running", cp_id)
            point.failing = True
            return point.state
        if point.failing:
            log.info("controller: charge point %s works again", cp_id)
            point.failing = False
        point.state = state
        return state

    # --- configuration -----------------------------------------------------------------------
    async def reload(self) -> None:
        """Re-read topology and configuration from the database and apply them."""
        layout = await self.ctx.db(selectors.park_layout)
        hardware = self.ctx.hardware
        await hardware.open(list(layout.points))
        self.configs = layout.configs
        known = {p.id for p in layout.points}
        for hw in layout.points:
            point = self.points.get(hw.id)
            if point is None:
                self.points[hw.id] = _Point(hw=hw, enabled=layout.enabled[hw.id])
            else:
                point.hw = hw
                point.enabled = layout.enabled[hw.id]
            await hardware.set_meter_installed(hw.id, hw.meter_installed)
            cfg = layout.configs.get(hw.id)
            await hardware.set_contactor_monitor(
                hw.id, cfg.contactor_monitoring_input if cfg else 0, cfg.aux_contact_type if cfg else "nc"
            )
        for gone in set(self.points) - known:
            del self.points[gone]
        self.ctx.set_known_chargepoints(known)
        self.ctx.emit(ev.ConfigReloaded(at=self.ctx.clock.time(), cp_ids=tuple(self.points)))
        self._wake.set()

    async def _persist_beside(self) -> None:
        self._persisting = True
        try:
            await self.persist()
        finally:
            self._persisting = False

    async def persist(self) -> None:
        """Save the energy registers and take up availability changes made while a command
        could not reach us (the database is the record of "disabled")."""
        try:
            await self.ctx.db(services.energy_registers_save, registers=self.ctx.hardware.energy_registers())
            enabled = await self.ctx.db(selectors.chargepoint_enabled_map)
        except DatabaseError:
            return  # logged; tried again at the next interval
        for cp_id, flag in enabled.items():
            point = self.points.get(cp_id)
            if point is not None and point.enabled != flag:
                log.info("controller: charge point %s %s as stored", cp_id, "enabled" if flag else "disabled")
                point.enabled = flag
                self._wake.set()

    # --- one charge point, one tick --------------------------------------------------------------
    def _standing(self, cp_id: int, point: _Point, cfg: CpConfig, hw: HardwareReading, mono: float) -> None:
        """Put the claims that follow from the configuration, the hardware and the user's
        persisted operations; withdraw those that no longer hold."""
        board = self.ctx.claims
        if hw.bus_connected:
            point.link_lost_at = None
        elif point.link_lost_at is None:
            point.link_lost_at = mono
        # the same inputs as last tick give the same claims: most ticks end here (120 charge points)
        key = (
            cfg,
            point.enabled,
            point.unlock_enforced,
            point.link_lost_at,
            hw.fault_code,
            hw.temperature_c if cfg.derating_sensor else None,
            hw.vehicle,
            hw.hlc_error,
            point.protection,
            board.cp_version(cp_id) if point.standing_key else -1,
        )
        if key == point.standing_key:
            return
        wanted = {c.ident: c for c in rules.standing_claims(cp_id, cfg, hw)}
        for cap_key, amps in point.protection.caps:
            cap = Claim(cp_id=cp_id, kind=Kind.CAP, source=Source.SAFETY, key=cap_key, amps=amps)
            wanted[cap.ident] = cap
        for block_key in point.protection.blocks:
            block = Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.SAFETY, key=block_key, reason=block_key)
            wanted[block.ident] = block
        link = Claim(
            cp_id=cp_id,
            kind=Kind.CAP,
            source=Source.SAFETY,
            key=HEAD_MODULE,
            amps=float(cfg.current_max_a),
            expires_at=None if point.link_lost_at is None else point.link_lost_at + cfg.fallback_time_s,
            lapse_to_fallback=True,
        )
        wanted[link.ident] = link
        if not point.enabled:
            claim = Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.USER, key=DISABLED, reason=DISABLED)
            wanted[claim.ident] = claim
        if point.unlock_enforced:
            claim = Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.USER, key=UNLOCK, reason=UNLOCK)
            wanted[claim.ident] = claim
        for kind, source, key_ in (
            (Kind.CAP, Source.CONFIG, rules.CONFIG_MAX),
            (Kind.GRANT, Source.CONFIG, rules.PERMANENT),
            *rules.SAFETY_CLAIMS,
            (Kind.BLOCK, Source.USER, DISABLED),
            (Kind.BLOCK, Source.USER, UNLOCK),
            (Kind.CAP, Source.SAFETY, HEAD_MODULE),
            *PROTECTION_CLAIMS,
        ):
            ident = (cp_id, kind, source, key_)
            board.sync(wanted.get(ident), ident)
        point.standing_key = (*key[:-1], board.cp_version(cp_id))

    async def _apply(self, cp_id: int, point: _Point, now: float, mono: float, dt: float) -> ChargePointState:
        cfg = self.configs.get(cp_id)
        hardware = self.ctx.hardware
        hw = hardware.read(cp_id)
        if hw.vehicle is not None and hw.iec_state in ("C", "D"):
            point.charging_s += dt
            point.charged = True
        decision: Decision = NOT_CONFIGURED
        if cfg is not None:
            point.protection = point.monitor.step(cfg.monitoring(), hw, set_a=point.offer.amps, now=mono)
            self._protection_events(cp_id, point, now)
            self._standing(cp_id, point, cfg, hw, mono)
            decision = decide(
                limits=cfg.limits(),
                claims=self.ctx.claims.claims(cp_id),
                vehicle=hw.vehicle is not None,
                previous=point.offer,
                now=mono,
            )
        pwm = decision.offered_a
        if pwm != point.offer.amps:
            point.offer = Offer(amps=pwm, changed_at=mono)
        commanded = False
        if pwm != hw.pwm_limit_a:
            await hardware.set_pwm(cp_id, pwm)
            commanded = True
        board = self.ctx.claims
        available = (
            point.enabled
            and not any(board.has(cp_id, Kind.BLOCK, Source.MODBUS, k) for k in MODBUS_UNAVAILABLE)
            and not board.has(cp_id, Kind.BLOCK, Source.OCPP, OCPP_INOPERATIVE)
        )
        if point.commanded_available != available:
            await hardware.set_available(cp_id, available)
            point.commanded_available = available
            commanded = True
        if point.unlock_enforced or point.lock_opened or board.has(cp_id, Kind.BLOCK, Source.MODBUS, MODBUS_UNLOCK):
            locked = False
        elif cfg is not None and cfg.locks_on_connect:
            locked = hw.vehicle is not None
        elif cfg is not None and cfg.locks_remotely and point.remote_lock is not None:
            locked = point.remote_lock
        else:
            locked = hw.locked  # remote locking mode, or a fixed connector: leave as is
        if locked != hw.locked:
            await hardware.set_locked(cp_id, locked)
            commanded = True
        if commanded:
            hw = hardware.read(cp_id)
        if decision.released and hw.vehicle is not None:
            if not point.had_release:
                self._record_release(cp_id, point)
            point.had_release = True
        control = rules.Control(
            enabled=available,
            release=decision.released,
            had_release=point.had_release,
            unlock_enforced=point.unlock_enforced,
            reserved=point.reserved or board.has(cp_id, Kind.BLOCK, Source.OCPP, OCPP_RESERVED),
        )
        fault = point.protection.fault
        if hw.fault_code == "NoError" and fault is not None:  # what monitoring found counts as a fault
            hw = dataclasses.replace(hw, fault_code=fault[0], fault_info=fault[1])
        ocpp = str(rules.ocpp_status(cfg, control, hw))
        if point.iec_state and point.iec_state != hw.iec_state:
            self.ctx.emit(ev.VehicleStateChanged(at=now, cp_id=cp_id, before=point.iec_state, after=hw.iec_state))
        if point.ocpp_status and point.ocpp_status != ocpp:
            self.ctx.emit(
                ev.StatusChanged(at=now, cp_id=cp_id, before=point.ocpp_status, after=ocpp, error_code=hw.fault_code)
            )
        point.iec_state, point.ocpp_status = hw.iec_state, ocpp
        error_code, error_info = hw.fault_code, hw.fault_info
        if error_code == "NoError" and rules.ventilation_rejected(cfg, hw):
            error_info = "ventilation_rejected"
        if error_code == "NoError" and not error_info and rules.hlc_refused(cfg, hw):
            error_info = "hlc_required"
        shown = point.rfid_event_at is not None and now - point.rfid_event_at <= RFID_EVENT_S
        session_wh = None
        if hw.meter is not None and point.session is not None:
            session_wh = round(hw.meter.energy_wh - point.session.meter_start_wh, 1)
        has_meter = bool(cfg and cfg.has_meter)
        return ChargePointState(
            id=cp_id,
            station_id=point.hw.station_id,
            position=point.hw.position,
            configured=cfg is not None,
            name=cfg.name if cfg else "",
            location=cfg.location if cfg else "",
            iec_state=hw.iec_state,
            ocpp_status=ocpp,
            dashboard_status=str(rules.dashboard_status(ocpp)),
            local_bus="connected" if hw.bus_connected else "disconnected",
            pwm_limit_a=hw.pwm_limit_a,
            currents_a=hw.currents_a,
            meter_configured=has_meter,
            meter=hw.meter if has_meter else None,
            session_energy_wh=session_wh if has_meter else None,
            charging_s=int(point.charging_s),
            plugin_s=int(now - point.plugged_since) if point.plugged_since else 0,
            plugged_since=point.plugged_since,
            enabled=point.enabled,
            release=decision.released,
            release_mode=cfg.release_mode if cfg else "",
            locked=hw.locked,
            unlock_enforced=point.unlock_enforced,
            reserved=point.reserved,
            vehicle=hw.vehicle,
            rfid=point.rfid,
            temperature_c=hw.temperature_c,
            temperature_configured=bool(cfg and cfg.derating_sensor),
            error_code=error_code,
            error_info=error_info,
            digital_inputs=hw.digital_inputs,
            digital_outputs=hw.digital_outputs,
            analog_inputs_v=hw.analog_inputs_v,
            iso15118=rules.iso15118_state(
                cfg,
                hw,
                session_id=point.hlc_session_id,
                plugged_since=point.plugged_since,
                charged=point.charged,
            ),
            rfid_board_firmware=hw.rfid_board_firmware,
            rfid_event=point.rfid_event if shown else "",
            decision=decision,
            accepts_user_release=bool(cfg and cfg.accepts_user_release),
            remote_locking=bool(cfg and cfg.locks_remotely),
        )

    # --- hardware events ---------------------------------------------------------------------
    def _on_hardware_event(self, kind: str, cp_id: int, value: str, now: float) -> None:
        point = self.points.get(cp_id)
        if point is None:
            return
        emit = self.ctx.emit
        if kind == "plugged":
            self._plugged(cp_id, point, now)
        elif kind == "unplugged":
            self._unplugged(cp_id, point, now, StopReason.EV_DISCONNECTED)
        elif kind == "rfid":
            self.recent_rfids.appendleft((value, now))
            emit(ev.RfidRead(at=now, cp_id=cp_id, tag=value))
            self._spawn(self._authorize(cp_id, value, now))
        elif kind in ("input_rising", "input_falling"):
            emit(ev.InputChanged(at=now, cp_id=cp_id, index=int(value), level=kind == "input_rising"))
        elif kind == "fault":
            emit(ev.FaultRaised(at=now, cp_id=cp_id, code=value, info=self.ctx.hardware.read(cp_id).fault_info))
        elif kind == "fault_cleared":
            emit(ev.FaultCleared(at=now, cp_id=cp_id, code=value))
        else:
            log.warning("controller: unknown hardware event %r at charge point %s", kind, cp_id)

    def _protection_events(self, cp_id: int, point: _Point, now: float) -> None:
        """What monitoring did, as runtime events: a fault raised or cleared, a protection acting."""
        fault = point.protection.fault
        if fault != point.protection_fault:
            if point.protection_fault is not None:
                self.ctx.emit(ev.FaultCleared(at=now, cp_id=cp_id, code=point.protection_fault[0]))
            if fault is not None:
                self.ctx.emit(ev.FaultRaised(at=now, cp_id=cp_id, code=fault[0], info=fault[1]))
            point.protection_fault = fault
        for what in point.monitor.history:
            self.ctx.emit(ev.ProtectionTripped(at=now, cp_id=cp_id, what=what))

    def _plugged(self, cp_id: int, point: _Point, now: float) -> None:
        hw = self.ctx.hardware.read(cp_id)
        point.plugged_since = hw.vehicle_since or now
        point.charging_s, point.had_release, point.charged = 0.0, False, False
        point.offer = Offer()  # a new vehicle: nothing for it to follow yet, no rate limit
        vehicle = hw.vehicle
        point.hlc_session_id = secrets.token_hex(8).upper() if vehicle is not None and vehicle.hlc else ""
        # a card read before the vehicle came: the release now lasts until unplug
        self.ctx.claims.renew(cp_id, Kind.GRANT, Source.WHITELIST, expires_at=None, until_unplug=True)
        self.ctx.emit(ev.Plugged(at=now, cp_id=cp_id))
        if vehicle is not None and vehicle.hlc and vehicle.evcc_id:
            self._spawn(self._authorize_evcc(cp_id, vehicle.evcc_id, point.plugged_since, now))
        self._open_session(cp_id, point, now)

    def _unplugged(self, cp_id: int, point: _Point, now: float, reason: str) -> None:
        self._close_session(cp_id, point, now, reason)
        point.monitor.unplugged()
        cfg = self.configs.get(cp_id)
        self.ctx.claims.unplugged(cp_id)
        if cfg is None or not cfg.release.survives_unplug:
            self.ctx.claims.withdraw(cp_id, Source.USER, Kind.GRANT)
        point.plugged_since, point.charging_s, point.charged = None, 0.0, False
        point.rfid, point.had_release, point.hlc_session_id = "", False, ""
        point.lock_opened = False
        self.ctx.emit(ev.Unplugged(at=now, cp_id=cp_id))

    def _record_release(self, cp_id: int, point: _Point) -> None:
        """Charging was released for this plug-in: the session keeps who released it, so a
        runtime that resumes it (a restart, a standby taking over) releases it again."""
        session = point.session
        sources = sorted(
            {
                c.source.value
                for c in self.ctx.claims.claims(cp_id)
                if c.kind is Kind.GRANT and c.source is not Source.CONFIG
            }
        )
        if session is None or not sources or sources == list(session.released_by):
            return
        session.released_by = tuple(sources)

        async def write() -> None:
            assert session.pk is not None  # the queue wrote the opening first
            await self.ctx.db(services.charging_session_released, session_id=session.pk, sources=sources)

        self._queue_db(f"record the release at charge point {cp_id}", write)

    def _register(self, cp_id: int) -> float:
        return self.ctx.hardware.energy_registers().get(cp_id, 0.0)

    def _open_session(self, cp_id: int, point: _Point, now: float, *, started_at: float | None = None) -> None:
        """``started_at``: when the session starts, if not at the plug-in (after a reboot ended the
        vehicle's previous session)."""
        session = _Session(
            key=uuid.uuid4().hex, started_at=started_at or point.plugged_since or now, meter_start_wh=0.0
        )
        hw = self.ctx.hardware.read(cp_id)
        meter = hw.meter
        session.meter_start_wh = meter.energy_wh if meter is not None else self._register(cp_id)
        # the EVCC ID as the ISO 15118 section reports it (only where high-level communication is on)
        iso = rules.iso15118_state(
            self.configs.get(cp_id),
            hw,
            session_id=point.hlc_session_id,
            plugged_since=point.plugged_since,
            charged=False,
        )
        evcc_id = iso.evcc_id if iso is not None else ""
        point.session = session
        self.ctx.emit(
            ev.SessionStarted(at=now, cp_id=cp_id, session_id=session.key, meter_start_wh=session.meter_start_wh)
        )

        async def write() -> None:
            session.pk = await self.ctx.db(
                services.charging_session_open,
                chargepoint_id=cp_id,
                started_at=session.started_at,
                meter_start_wh=session.meter_start_wh,
                evcc_id=evcc_id,
            )

        self._queue_db(f"open the session at charge point {cp_id}", write)

    def _close_session(self, cp_id: int, point: _Point, now: float, reason: str) -> None:
        session = point.session
        if session is None:
            return
        point.session = None
        meter_stop = self._register(cp_id)
        id_tag = point.rfid or session.id_tag
        self.ctx.emit(
            ev.SessionEnded(
                at=now, cp_id=cp_id, session_id=session.key, meter_stop_wh=meter_stop, reason=reason, id_tag=id_tag
            )
        )

        async def write() -> None:
            assert session.pk is not None  # the queue wrote the opening first
            await self.ctx.db(
                services.charging_session_close,
                session_id=session.pk,
                ended_at=now,
                meter_stop_wh=meter_stop,
                id_tag=id_tag,
                reason=reason,
            )

        self._queue_db(f"close the session at charge point {cp_id}", write)

    async def _recover_sessions(self) -> None:
        """After a restart: a session whose vehicle is still there is resumed; one whose vehicle
        left while we were not running is closed (PowerLoss after a kill, Reboot after a clean
        stop); a vehicle without a session gets a new one. After REBOOT SYSTEM no session is
        resumed: each open one ends with Reboot (the operator restarted the charging station, as
        a backend's Reset does), and a vehicle still plugged gets a new session."""
        now = self.ctx.clock.time()
        try:
            open_sessions = await self.ctx.db(selectors.open_session_list)
        except DatabaseError:
            open_sessions = []
        rebooted = bool(self.ctx.previous_run_reboot)
        reason = StopReason.REBOOT if rebooted or self.ctx.previous_run_clean else StopReason.POWER_LOSS
        ended_plugged: set[int] = set()
        for stored in open_sessions:
            point = self.points.get(stored.chargepoint_id)
            hw = self.ctx.hardware.read(stored.chargepoint_id) if point is not None else None
            same = (
                not rebooted
                and hw is not None
                and hw.vehicle is not None
                and (hw.vehicle_since is None or hw.vehicle_since <= stored.started_at + SAME_PLUG_IN_S)
            )
            session = _Session(
                key=uuid.uuid4().hex,
                started_at=stored.started_at,
                meter_start_wh=float(stored.meter_start_wh),
                pk=stored.pk,
                id_tag=stored.id_tag,
            )
            if same and point is not None and point.session is None:
                point.session = session
                point.plugged_since = stored.started_at
                point.rfid = stored.id_tag
                session.released_by = stored.released_by
                cfg = self.configs.get(stored.chargepoint_id)
                for value in stored.released_by:
                    source = Source(value)
                    if cfg is not None and source in cfg.release.sources:
                        self.ctx.claims.grant(stored.chargepoint_id, source, until_unplug=True)
                log.info("controller: resumed session %s at charge point %s", stored.pk, stored.chargepoint_id)
                continue
            log.info("controller: closing session %s left open (%s)", stored.pk, reason)
            if rebooted and hw is not None and hw.vehicle is not None:
                ended_plugged.add(stored.chargepoint_id)  # its next session starts now, not at plug-in
            stop = self._register(stored.chargepoint_id) if point is not None else float(stored.meter_start_wh)

            async def close(pk: int = stored.pk, stop_wh: float = stop) -> None:
                await self.ctx.db(
                    services.charging_session_close,
                    session_id=pk,
                    ended_at=now,
                    meter_stop_wh=stop_wh,
                    id_tag="",
                    reason=reason,
                )

            self._queue_db(f"close session {stored.pk} left open", close)
        for cp_id, point in self.points.items():
            hw = self.ctx.hardware.read(cp_id)
            if hw.vehicle is not None and point.session is None:
                point.plugged_since = hw.vehicle_since or now
                self._open_session(cp_id, point, now, started_at=now if cp_id in ended_plugged else None)

    # --- database queue ----------------------------------------------------------------------
    def _queue_db(self, what: str, job: Callable[[], Awaitable[None]]) -> None:
        self._db_jobs.put_nowait((what, job))

    async def _db_worker(self) -> None:
        while True:
            what, job = self._db_current = await self._db_jobs.get()
            failures = 0
            while True:
                try:
                    await job()
                    self._db_current = None
                    self._db_jobs.task_done()
                    break
                except DatabaseError:
                    failures += 1
                    delay = DB_RETRY_S[min(failures, len(DB_RETRY_S)) - 1]
                    log.warning("controller: could not %s; trying again in %.0f s", what, delay)
                    await asyncio.sleep(delay)

    async def db_idle(self) -> None:
        """Return once every queued database write is done (tests, tools)."""
        await self._db_jobs.join()

    async def _flush_db(self) -> None:
        """On stop: one more try for what is queued (each failure is logged)."""
        pending = [self._db_current] if self._db_current is not None else []
        while not self._db_jobs.empty():
            pending.append(self._db_jobs.get_nowait())
        self._db_current = None
        for what, job in pending:
            try:
                await job()
            except Exception:
                log.error("controller: stopped before it could %s", what)

    def _spawn(self, coro: Awaitable[None], into: set[asyncio.Task[Any]] | None = None) -> None:
        tasks = self._tasks if into is None else into
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _authorize(self, reader_id: int, tag: str, at: float) -> None:
        """A card at a reader: every charge point reading there takes the tag; those released
        by the local whitelist get a grant when the tag is on it."""
        from whitelist.selectors import tag_authorized

        targets = [(cp_id, cfg) for cp_id, cfg in self.configs.items() if cfg.rfid_reader_id == reader_id]
        authorized: bool | None = None
        accepted_any: bool | None = None
        for cp_id, cfg in targets:
            point = self.points[cp_id]
            point.rfid = tag
            if Source.WHITELIST not in cfg.release.sources:
                continue
            if authorized is None:
                try:
                    authorized = bool(await self.ctx.db(tag_authorized, tag))
                except DatabaseError:
                    authorized = False
            accepted = authorized and point.enabled
            accepted_any = bool(accepted_any) or accepted
            if accepted:
                plugged = self.ctx.hardware.read(cp_id).vehicle is not None
                self.ctx.claims.grant(
                    cp_id, Source.WHITELIST, ttl_s=None if plugged else float(cfg.rfid_timeout_s), until_unplug=True
                )
            reader = self.points.get(reader_id)
            if reader is not None:
                reader.rfid_event = "accepted" if accepted else "rejected"
                reader.rfid_event_at = self.ctx.clock.time()
        self._scanned("rfid", tag, at, reader_id, accepted_any)
        self._wake.set()

    async def _authorize_evcc(self, cp_id: int, evcc_id: str, plugged_since: float | None, at: float) -> None:
        """An ISO 15118 vehicle plugged in: at a charge point released by the local whitelist,
        its EVCC ID on the list (allowed, not expired) releases charging until it is unplugged."""
        from whitelist.selectors import evcc_id_authorized

        cfg = self.configs.get(cp_id)
        point = self.points.get(cp_id)
        accepted: bool | None = None
        if cfg is not None and point is not None and Source.WHITELIST in cfg.release.sources:
            try:
                authorized = bool(await self.ctx.db(evcc_id_authorized, evcc_id))
            except DatabaseError:
                authorized = False
            accepted = authorized and point.enabled
            # the same plug-in still: a vehicle that left meanwhile takes no release with it
            if accepted and point.plugged_since == plugged_since and self.ctx.hardware.read(cp_id).vehicle is not None:
                self.ctx.claims.grant(cp_id, Source.WHITELIST, until_unplug=True)
        self._scanned("evccid", evcc_id, at, cp_id, accepted)
        self._wake.set()

    def _scanned(self, kind: str, tag: str, at: float, cp_id: int, accepted: bool | None) -> None:
        """Remember a read tag or EVCC ID for the whitelist page (published with the next picture)."""
        from whitelist.tags import normalize

        name = self._label(cp_id) if cp_id in self.points else f"#{cp_id}"
        self.recent_scans.appendleft(
            RecentScan(kind=kind, tag=normalize(tag), at=at, cp_id=cp_id, cp_name=name, accepted=accepted)
        )

    # --- commands ------------------------------------------------------------------------------
    def _point(self, cp_id: int) -> _Point:
        point = self.points.get(cp_id)
        if point is None:
            raise Rejected("unknown_chargepoint", cp=cp_id)
        return point

    def _config(self, cp_id: int) -> CpConfig:
        cfg = self.configs.get(cp_id)
        if cfg is None:
            raise Rejected("not_configured", cp=cp_id)
        return cfg

    def _label(self, cp_id: int) -> str:
        cfg = self.configs.get(cp_id)
        return cfg.name if cfg else f"#{self.points[cp_id].hw.position}"

    async def _cmd_reload(self, command: ConfigReload) -> None:
        await self.reload()
        await self.settle()

    async def _cmd_release(self, command: CpRelease) -> None:
        point = self._point(command.cp)
        cfg = self._config(command.cp)
        if not cfg.accepts_user_release:
            raise Rejected("release_mode_forbids", cp=self._label(command.cp), mode=cfg.release_mode)
        if command.allow:
            if not point.enabled:
                raise Rejected("disabled", cp=self._label(command.cp))
            if self.ctx.hardware.read(command.cp).vehicle is None:
                raise Rejected("no_vehicle", cp=self._label(command.cp))
            self.ctx.claims.grant(command.cp, Source.USER, until_unplug=not cfg.release.survives_unplug)
        else:
            self.ctx.claims.withdraw(command.cp, Source.USER, Kind.GRANT)
            self.ctx.claims.withdraw(command.cp, Source.WHITELIST, Kind.GRANT)
        await self.settle()

    async def _cmd_availability(self, command: CpAvailability) -> None:
        point = self._point(command.cp)
        point.enabled = bool(command.enabled)
        if not command.enabled:  # an active charging process is aborted: its releases end
            self.ctx.claims.withdraw(command.cp, Source.USER, Kind.GRANT)
            self.ctx.claims.withdraw(command.cp, Source.WHITELIST, Kind.GRANT)
        await self.settle()

    async def _cmd_unlock(self, command: CpUnlock) -> None:
        point = self._point(command.cp)
        self._config(command.cp)
        point.unlock_enforced = bool(command.enforce)
        if command.enforce:  # an active charging process is aborted
            self.ctx.claims.withdraw(command.cp, Source.USER, Kind.GRANT)
            self.ctx.claims.withdraw(command.cp, Source.WHITELIST, Kind.GRANT)
            await self.ctx.hardware.set_locked(command.cp, False)
        await self.settle()

    async def _cmd_unlock_now(self, command: CpUnlockNow) -> dict[str, object]:
        """Open the lock once (OCPP UnlockConnector): charging stops (the releases end) and the
        socket stays unlocked until the vehicle leaves. A fixed cable has no lock to open."""
        self._point(command.cp)
        cfg = self._config(command.cp)
        if cfg.connection_type != "socket_outlet":
            return {"status": "NotSupported"}
        point = self.points[command.cp]
        for source in (Source.USER, Source.WHITELIST, Source.OCPP):
            self.ctx.claims.withdraw(command.cp, source, Kind.GRANT)
        point.lock_opened = self.ctx.hardware.read(command.cp).vehicle is not None
        await self.ctx.hardware.set_locked(command.cp, False)
        await self.settle()
        unlocked = not self.ctx.hardware.read(command.cp).locked
        return {"status": "Unlocked" if unlocked else "UnlockFailed"}

    async def _cmd_lock(self, command: CpLock) -> None:
        point = self._point(command.cp)
        cfg = self._config(command.cp)
        if not cfg.locks_remotely:
            raise Rejected("locking_not_remote", cp=self._label(command.cp))
        if point.unlock_enforced and command.locked:
            raise Rejected("unlock_enforced", cp=self._label(command.cp))
        point.remote_lock = bool(command.locked)
        await self.settle()

    async def _cmd_output(self, command: CpOutput) -> None:
        self._point(command.cp)
        if not 1 <= command.index <= len(self.ctx.hardware.read(command.cp).digital_outputs):
            raise Rejected("bad_argument", detail=f"no digital output {command.index}")
        if command.mode not in OUTPUT_MODES:
            raise Rejected("bad_argument", detail=f"unknown output mode {command.mode[:20]}")
        await self.ctx.hardware.set_digital_output(command.cp, command.index, command.mode)
        await self.settle()

    async def _cmd_clear_rfid(self, command: CpClearRfid) -> None:
        self._point(command.cp).rfid = ""
        await self.settle()


def _resolve(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
