"""The OCPP 1.6J agent: one persistent WebSocket to the backend (CSMS), as a charge point whose
connectors are the charge points released "By OCPP" (connector 0: the park).

The agent's parts: the WebSocket and its log (``link``), the connection, boot and heartbeat
(``session``), the incoming CALLs (``station``, ``core_handlers`` and the feature profiles), who
may start a transaction (``identification``, with ``authorization``), transactions
(``transactions``), the backend's other operations (``operations``), the outbox and its delivery
(``outbox``, ``delivery``), meter values (``metering``). Everything it does to the park goes through
claims (Source.OCPP) and controller commands. See docs and the contract for its surface.

Timing: OCPP's intervals run on the real clock (the backend expects real seconds); the runtime's
clock is used for nothing here. Timestamps and expiry checks use the system clock
(``wbm.runtime.clock.system_time``: the host's, or the time set on System Control → Time). The
system clock is never set from the backend's time: the offset is recorded (``time_offset_s``;
held back while a transaction runs unless AllowTimeSyncDuringSession) and, with
AvailabilityOnlyWhenTimeSynchronized, the connectors stay blocked (BLOCK key ``inoperative_time``)
until a BootNotification or Heartbeat answer brought the time or the system clock is
synchronized (NTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call_result
from ocpp.v16.enums import ChargePointErrorCode
from websockets.asyncio.client import ClientConnection

from ocppcfg import link, outbox, selectors, services, variables
from ocppcfg.commands import OcppReload
from ocppcfg.delivery import Delivery
from ocppcfg.link import FrameLog, describe_failure, setting
from ocppcfg.metering import ocpp_time, system_now
from ocppcfg.selectors import Setup
from ocppcfg.session import Connection, safe_url
from ocppcfg.station import Station
from ocppcfg.transactions import ActiveTx, TransactionFlow
from wbm.audit import Actor
from wbm.roles import Role
from wbm.runtime import events as ev
from wbm.runtime.agent import Agent, DatabaseError
from wbm.runtime.claims import Claim, ClaimRefused, Kind, Source
from wbm.runtime.clock import system_time
from wbm.system import osbackend

log = logging.getLogger(__name__)

# ChangeConfiguration of the backend, as the audit trail records it
BACKEND_ACTOR = Actor(username="backend", role=Role.OPERATOR, source="ocpp")

ERROR_CODES = frozenset(code.value for code in ChargePointErrorCode)
INOPERATIVE = "inoperative"
INOPERATIVE_TIME = "inoperative_time"
_RUNS: weakref.WeakSet[Any] = weakref.WeakSet()  # claim boards (runtimes) this agent already ran in

__all__ = ["ActiveTx", "OcppAgent"]


class _NullFeature:
    """Stands in for a feature module that is not there: admits everything, knows nothing."""

    def __init__(self, agent: Any = None) -> None:
        self.agent = agent

    def admits(self, connector_id: int, id_tag: str, parent_id_tag: str = "") -> tuple[bool, int | None]:
        return True, None

    def lookup(self, id_tag: str) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _feature(agent: OcppAgent, module: str, name: str) -> Any:
    try:
        cls = getattr(importlib.import_module(f"ocppcfg.features.{module}"), name)
    except (ImportError, AttributeError):
        return _NullFeature(agent)
    return cls(agent)


class OcppAgent(Connection, TransactionFlow, Delivery, Agent):
    name = "ocpp"
    title = _("OCPP Client")
    description = _("Connects the charge points released by OCPP to the backend (OCPP 1.6J).")
    order = 60
    commands = (OcppReload,)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.setup: Setup | None = None
        self.values: dict[str, str] = {}
        self.connectors: dict[int, int] = {}
        self.connected = False
        self.accepted = False
        self.registration: str | None = None
        self.since: float | None = None
        self.last_heartbeat: float | None = None
        self.last_error = ""
        self.url_in_use = ""
        self.trial_url: str | None = None
        self.heartbeat_s = 300.0
        self.time_synced = False
        self.time_offset_s = 0.0  # the backend's clock minus the system clock (seconds)
        self.time_deferred_offset_s: float | None = None  # received during a session, not applied yet
        self.station: Station | None = None
        self.ws: ClientConnection | None = None
        self.frames = FrameLog()
        self.log_seq = 0
        self.timeline_seq = 0
        self.values_seq = 0
        self.queue_summary: dict[str, Any] = {"count": 0, "oldest": None, "items": []}
        self.inoperative_rows: dict[int, bool] = {}
        self.reservations: Any = _NullFeature(self)
        self.local_list: Any = _NullFeature(self)
        self.smart: Any = _NullFeature(self)
        self.firmware: Any = _NullFeature(self)
        self._reconnect = asyncio.Event()
        self._reconnect_reason = ""
        self._status_wake = asyncio.Event()
        self._sent_status: dict[int, tuple[str, str, str, str]] = {}
        self._seen_status: dict[int, tuple[tuple[str, str, str, str], float]] = {}
        self._tick_callbacks: list[Callable[[datetime], Awaitable[None] | None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_call = 0.0
        self._next_aligned: float | None = None
        self._init_transactions()
        self.on_transaction_end(self.time_transaction_ended)

    # --- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        ctx = self.ctx
        await self._load()
        self.log_seq, self.timeline_seq = await ctx.db(selectors.newest_log_ids)
        fresh = ctx.claims not in _RUNS
        _RUNS.add(ctx.claims)
        await self.recover(fresh=fresh)
        self.reservations = _feature(self, "reservations", "Reservations")
        self.local_list = _feature(self, "locallist", "LocalList")
        self.smart = _feature(self, "smart", "SmartCharging")
        self.firmware = _feature(self, "firmware", "Firmware")
        for feature in (self.reservations, self.local_list, self.smart, self.firmware):
            try:
                await feature.start()
            except Exception:
                log.exception("ocpp: a feature failed to start: %s", type(feature).__name__)
        ctx.handle(OcppReload, self._cmd_reload)
        events = ctx.subscribe(ev.Plugged, ev.Unplugged, ev.RfidRead, ev.StatusChanged, ev.ConfigReloaded)
        if fresh:
            self.spawn(self.service_restart())
        loops = [
            self._link_loop(),
            self.delivery_loop(),
            self._tick_loop(),
            self._status_loop(),
            self._event_loop(events),
            link.log_writer(self.frames, ctx.db, self._written),
        ]
        workers = [asyncio.create_task(coro, name=f"ocpp:{i}") for i, coro in enumerate(loops)]
        self.publish()
        try:
            await asyncio.gather(*workers)
        finally:
            for task in [*workers, *self._tasks]:
                task.cancel()
            for feature in (self.reservations, self.local_list, self.smart, self.firmware):
                with contextlib.suppress(Exception):
                    await feature.stop()
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(1001, "service stopped"), 2)
            for cp_id in self.connectors.values():  # the caps and the time block go with us
                for key in ("max_current", "global_max"):
                    self.ctx.claims.withdraw(cp_id, Source.OCPP, Kind.CAP, key)
                self.ctx.claims.withdraw(cp_id, Source.OCPP, Kind.BLOCK, INOPERATIVE_TIME)

    async def _load(self) -> None:
        setup = await self.ctx.db(selectors.load_setup)
        self.setup = setup
        self.values = setup.values
        self.connectors = {c: info.cp_id for c, info in setup.connectors.items()}
        self.inoperative_rows = dict(setup.inoperative)
        self.heartbeat_s = float(self.values.get("HeartbeatInterval") or 300) if not self.accepted else self.heartbeat_s
        link.messages_log.setLevel(logging.DEBUG if self.values.get("LogLevel") == "DEBUG" else logging.INFO)
        self.apply_availability()

    async def _cmd_reload(self, command: OcppReload) -> None:
        before = self.setup.link_key if self.setup else None
        await self._load()
        self.values_seq += 1
        assert self.setup is not None
        if before != self.setup.link_key:
            if before is None or before[0] != self.setup.url:
                self.accepted = False
            self.reconnect("settings changed")
        self._status_wake.set()
        self.publish()

    def spawn(self, coro: Coroutine[Any, Any, Any], delay: float = 0.0) -> asyncio.Task[Any]:
        """Run ``coro`` beside the loops (after ``delay`` s); failures are logged."""

        async def guarded() -> None:
            if delay:
                await asyncio.sleep(delay)
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ocpp: a background job failed")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def spawn_later(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """After the answer to the CALL being handled has gone out."""
        return self.spawn(coro, delay=0.05)

    # --- the surface for features ------------------------------------------------------------
    def state_of(self, connector_id: int) -> Any:
        cp_id = self.connectors.get(connector_id)
        snapshot = self.ctx.snapshot()
        return snapshot.chargepoint(cp_id) if snapshot is not None and cp_id is not None else None

    def active_transactions(self) -> dict[int, ActiveTx]:
        return dict(self.active)

    def on_tick(self, callback: Callable[[datetime], Awaitable[None] | None]) -> None:
        self._tick_callbacks.append(callback)

    async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None:
        """One CALL now (an ``ocpp.v16.call`` object, or ``(action, camelCase dict)``): its result
        (a ``call_result`` object, or a dict), None when offline, refused or unanswered."""
        action, body, as_object = _wire(payload)
        station = self.station
        if station is None or not self.connected or (not self.accepted and action != "BootNotification"):
            return None
        try:
            result = await station.call_raw(action, body, timeout=timeout or self.call_timeout)
        except Exception as exc:
            log.warning("ocpp: %s failed: %s", action, describe_failure(exc) if isinstance(exc, OSError) else exc)
            return None
        finally:
            self._last_call = time.monotonic()
        if as_object:
            return getattr(call_result, action)(**camel_to_snake_case(result))
        return result

    async def enqueue(self, payload: Any, *, transaction_local_id: int | None = None) -> None:
        action, body, _ = _wire(payload)
        await self.ctx.db(outbox.enqueue, action, body, transaction_local_id)
        self.wake_outbox()

    @property
    def charge_box_id(self) -> str:
        """The charge box ID in use: the last path segment of the backend URL."""
        url = self.url_in_use or (self.setup.url if self.setup else "")
        return url.rstrip("/").rsplit("/", 1)[-1] if url else ""

    @property
    def call_timeout(self) -> float:
        return setting("WBM_OCPP_CALL_TIMEOUT_S", 30.0)

    # --- statuses ----------------------------------------------------------------------------
    def inoperative(self, connector_id: int) -> bool:
        """Inoperative now (a scheduled change waits for the transaction)."""
        rows = self.inoperative_rows
        return (rows.get(connector_id) is False) or (connector_id != 0 and rows.get(0) is False)

    def current_status(self, connector_id: int) -> tuple[str, str, str, str]:
        """(status, errorCode, info, vendorErrorCode) as StatusNotification sends them."""
        if connector_id == 0:
            return ("Unavailable" if self.inoperative(0) else "Available", "NoError", "", "")
        state = self.state_of(connector_id)
        if state is None:
            return ("Unavailable", "NoError", "", "")
        code, vendor = state.error_code or "NoError", ""
        if code not in ERROR_CODES:
            code, vendor = "OtherError", code[:255]
        return (state.ocpp_status, code, (state.error_info or "")[:50], vendor)

    async def status_notification(self, connector_id: int, force: bool = True) -> None:
        current = self.current_status(connector_id)
        if not force and self._sent_status.get(connector_id) == current:
            return
        status, code, info, vendor = current
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "errorCode": code,
            "status": status,
            "timestamp": ocpp_time(system_time()),
        }
        if info:
            payload["info"] = info
        if vendor:
            payload["vendorErrorCode"] = vendor
        if await self.send(("StatusNotification", payload)) is not None:
            self._sent_status[connector_id] = current

    async def _status_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(setting("WBM_OCPP_TICK_S", 0.5)):
                    await self._status_wake.wait()
            self._status_wake.clear()
            if not (self.connected and self.accepted):
                continue
            minimum = float(self.values.get("MinimumStatusDuration") or 0)
            now = time.monotonic()
            for connector_id in (0, *sorted(self.connectors)):
                current = self.current_status(connector_id)
                seen = self._seen_status.get(connector_id)
                if seen is None or seen[0] != current:
                    seen = self._seen_status[connector_id] = (current, now)
                sent = self._sent_status.get(connector_id)
                if sent == current or (sent is not None and now - seen[1] < minimum):
                    continue
                await self.status_notification(connector_id)

    # --- claims ------------------------------------------------------------------------------
    def _sync(self, cp_id: int, kind: Kind, key: str, amps: float | None, on: bool) -> None:
        ident = (cp_id, kind, Source.OCPP, key)
        claim = Claim(cp_id=cp_id, kind=kind, source=Source.OCPP, key=key, amps=amps, reason=key) if on else None
        with contextlib.suppress(ClaimRefused):
            self.ctx.claims.sync(claim, ident)

    def apply_availability(self) -> None:
        """The persisted Inoperative blocks, and the time block: with
        AvailabilityOnlyWhenTimeSynchronized the connectors wait for a synchronized time, the
        backend's (BootNotification, Heartbeat) or the system's (NTP on System Control → Time)."""
        unsynced = (
            self.values.get("AvailabilityOnlyWhenTimeSynchronized") == "true"
            and not self.time_synced
            and not osbackend.time_synchronized()  # a file read, only while the key is on and no backend time came
        )
        for connector_id, cp_id in self.connectors.items():
            self._sync(cp_id, Kind.BLOCK, INOPERATIVE, None, self.inoperative(connector_id))
            self._sync(cp_id, Kind.BLOCK, INOPERATIVE_TIME, None, unsynced)

    def _apply_caps(self) -> None:
        max_a = int(self.values.get("MaxCurrent") or 0)
        global_a = int(self.values.get("GlobalMaxCurrent") or 0)
        with_vehicle = [cp for cp in self.connectors.values() if self.vehicle_at(cp)]
        for cp_id in self.connectors.values():
            self._sync(cp_id, Kind.CAP, "max_current", float(max_a), max_a > 0)
            share = global_a / max(1, len(with_vehicle))
            self._sync(cp_id, Kind.CAP, "global_max", round(share, 1), global_a > 0 and cp_id in with_vehicle)

    def vehicle_at(self, cp_id: int) -> bool:
        with contextlib.suppress(Exception):
            return self.ctx.hardware.read(cp_id).vehicle is not None
        return False

    # --- the tick ----------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(setting("WBM_OCPP_TICK_S", 0.5))
            try:
                self.apply_availability()
                self._apply_caps()
                await self.tick_transactions()
                self._status_wake.set()
                now = system_now().astimezone()
                for callback in list(self._tick_callbacks):
                    result = callback(now)
                    if asyncio.iscoroutine(result):
                        await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ocpp: the tick failed")
            self.publish()

    async def _event_loop(self, events: Any) -> None:
        async for event in events:
            try:
                if isinstance(event, ev.RfidRead):
                    self.spawn(self.on_rfid(event.cp_id, event.tag))
                elif isinstance(event, ev.Plugged):
                    self.spawn(self.on_plugged(event.cp_id))
                elif isinstance(event, ev.Unplugged):
                    self.spawn(self.on_unplugged(event.cp_id))
                elif isinstance(event, ev.ConfigReloaded):
                    await self._load()
                self._status_wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ocpp: handling %s failed", type(event).__name__)

    # --- configuration from the backend ------------------------------------------------------
    async def change_configuration(self, key: str, value: str) -> str:
        try:
            variables.validate({key: value}, origin="backend")
        except variables.VariableError as exc:
            return "NotSupported" if exc.code == "unknown" else "Rejected"
        try:
            await self.ctx.db(
                services.ocpp_variables_update, changes={key: value}, actor=BACKEND_ACTOR, origin="backend"
            )
        except DatabaseError:
            return "Rejected"
        before = self.setup
        await self._load()
        self.values_seq += 1
        if key in ("AuthorizationKey", "AuthorizationUser") and before and self.setup:
            self.spawn_later(self._credentials_changed())
        elif key == "NewBackendURL" and value.strip():
            self.spawn_later(self.try_backend_url(value.strip()))
        elif key == "HeartbeatInterval":
            self.heartbeat_s = float(value)
        elif key in ("WebSocketPingInterval", "WebSocketPingTimeout") and self.ws is not None:
            seconds = float(value) or None
            if key == "WebSocketPingTimeout":
                self.ws.ping_timeout = seconds
            elif seconds is not None and self.ws.ping_interval is not None:
                self.ws.ping_interval = seconds
        self.publish()
        return "Accepted"

    async def _credentials_changed(self) -> None:
        self.reconnect("credentials changed")  # TC_073: the next connection uses the new password

    # --- the status for pages ----------------------------------------------------------------
    def _written(self, log_seq: int, timeline_seq: int) -> None:
        self.log_seq = log_seq or self.log_seq
        self.timeline_seq = timeline_seq or self.timeline_seq
        self.publish()

    def publish(self) -> None:
        connectors = []
        for connector_id, cp_id in sorted(self.connectors.items()):
            ocpp_status, code, _info, _vendor = self.current_status(connector_id)
            tx = self.active.get(connector_id)
            connectors.append(
                {
                    "connector_id": connector_id,
                    "cp_id": cp_id,
                    "status": ocpp_status,
                    "error_code": code,
                    "transaction_id": tx.transaction_id if tx else None,
                    "id_tag": tx.id_tag if tx else "",
                }
            )
        status = {
            "connected": self.connected,
            "since": self.since,
            "url": safe_url(self.url_in_use or (self.setup.url if self.setup else "")),
            "registration": self.registration,
            "last_heartbeat": self.last_heartbeat,
            "last_error": self.last_error,
            "queue": self.queue_summary,
            "connectors": connectors,
            "log_seq": self.log_seq,
            "timeline_seq": self.timeline_seq,
            "values_seq": self.values_seq,
            "firmware": {"status": "Idle", "at": None},
            "diagnostics": {"status": "Idle", "at": None},
            "reservations": [],
            "composite": {},
        }
        with contextlib.suppress(Exception):
            firmware = getattr(self.firmware, "status", None)
            if callable(firmware):
                status.update(firmware())
        with contextlib.suppress(Exception):
            reservations = getattr(self.reservations, "status", None)
            if callable(reservations):
                status["reservations"] = reservations()
        with contextlib.suppress(Exception):
            composite = getattr(self.smart, "status", None)
            if callable(composite):
                status["composite"] = composite()
        self.ctx.set_status(status)
        self.ctx.publish()


def _wire(payload: Any) -> tuple[str, dict[str, Any], bool]:
    """(action, camelCase payload, given as an object) of a CALL."""
    if isinstance(payload, tuple):
        return str(payload[0]), dict(payload[1]), False
    body = snake_to_camel_case(remove_nones(serialize_as_dict(payload)))
    return type(payload).__name__, body, True
