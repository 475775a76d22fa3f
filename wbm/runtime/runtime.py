"""The controller runtime: owns the hardware backend, the live state and the agents.

Everything here runs on one asyncio loop (Daphne's in embedded mode, its own process in scaled
mode). Commands from pages and the API arrive through ``handle()``; live state leaves through
``wbm.runtime.bus``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import psutil
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

from wbm.runtime import bus, states
from wbm.runtime.agent import Agent
from wbm.runtime.backends.controller import (
    ANALOG_INPUTS,
    DIGITAL_INPUTS,
    ControllerBackend,
    HardwarePoint,
    SimulatorControl,
)
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot, SystemStatus
from wbm.runtime.states import Control, CpConfig
from wbm.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

RFID_RE = re.compile(r"^[0-9A-F]{4,32}$")
INJECTABLE = {
    "ConnectorLockFailure",
    "EVCommunicationError",
    "GroundFailure",
    "HighTemperature",
    "InternalError",
    "LocalListConflict",
    "OtherError",
    "OverCurrentFailure",
    "OverVoltage",
    "PowerMeterFailure",
    "PowerSwitchFailure",
    "ReaderFailure",
    "ResetFailure",
    "UnderVoltage",
    "WeakSignal",
    "Unknown",
}
VEHICLE_MODES = {"start": "requesting", "pause": "paused", "finish": "finished"}
ISO15118_ERRORS = {
    "SLAC_FAILED",
    "PROTOCOL_HANDSHAKE_FAILED",
    "SSL_HANDSHAKE_FAILED",
    "SEQUENCE_ERROR",
    "SESSION_SETUP_TIMEOUT",
    "SEQUENCE_TIMEOUT",
    "UNKNOWN_SESSION",
    "TARIFF_SELECTION_INVALID",
    "CHARGING_PROFILE_INVALID",
}
EVCC_ID_RE = re.compile(r"^[0-9A-F]{12}$")
RFID_EVENT_S = 1.0  # "RFID accepted / not accepted" is shown for one second


class Rejected(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class _Cp:
    """The controller's own, mutable view of one charge point."""

    hw: HardwarePoint
    enabled: bool = True
    release: bool = False
    had_release: bool = False
    release_by_rfid_at: float | None = None
    unlock_enforced: bool = False
    reserved: bool = False
    external_limit_a: float | None = None
    rfid: str = ""
    plugged_since: float | None = None
    charging_s: float = 0.0
    session_start_wh: float | None = None
    session_pk: int | None = None
    hlc_session_id: str = ""  # ISO 15118 session of this plug-in
    rfid_event: str = ""  # last card read at this reader: accepted | rejected
    rfid_event_at: float | None = None

    def control(self) -> Control:
        return Control(
            enabled=self.enabled,
            release=self.release,
            had_release=self.had_release,
            unlock_enforced=self.unlock_enforced,
            reserved=self.reserved,
            external_limit_a=self.external_limit_a,
        )


# --- database access (runs in a worker thread) ---------------------------------------------------


def _db(func):  # type: ignore[no-untyped-def]
    """Runtime DB work runs in worker threads: drop connections the server has closed."""
    from functools import wraps

    from django.db import close_old_connections

    @wraps(func)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        close_old_connections()
        return func(*args, **kwargs)

    return wrapper


@_db
def _load_park() -> tuple[list[HardwarePoint], dict[int, CpConfig], dict[int, bool]]:
    from chargepoints.models import ChargePoint

    points: list[HardwarePoint] = []
    configs: dict[int, CpConfig] = {}
    enabled: dict[int, bool] = {}
    for cp in ChargePoint.objects.select_related("config").order_by("station_id", "position"):
        cfg = getattr(cp, "config", None)
        points.append(
            HardwarePoint(
                id=cp.pk,
                station_id=cp.station_id,
                position=cp.position,
                device_uid=cp.device_uid,
                energy_register_wh=float(cp.energy_register_wh),
                meter_installed=bool(cfg and cfg.meter_type),
            )
        )
        enabled[cp.pk] = cp.enabled
        if cfg is not None:
            configs[cp.pk] = CpConfig(
                name=cfg.name,
                location=cfg.location,
                release_mode=cfg.release_mode,
                current_min_a=cfg.current_min_a,
                current_max_a=cfg.current_max_a,
                fallback_current_a=cfg.fallback_current_a,
                fallback_time_s=cfg.fallback_time_s,
                meter_type=cfg.meter_type,
                status_d_rejection=cfg.status_d_rejection,
                connection_type=cfg.connection_type,
                locking_mode=cfg.locking_mode,
                rfid_reader_id=cfg.rfid_reader_id,
                rfid_timeout_s=cfg.rfid_timeout_s,
                derating_sensor=cfg.derating_sensor,
                derating_start_temp_c=cfg.derating_start_temp_c,
                derating_stop_temp_c=cfg.derating_stop_temp_c,
                derating_start_current_a=cfg.derating_start_current_a,
                derating_stop_current_a=cfg.derating_stop_current_a,
                hlc_mode=cfg.hlc_mode,
                ocpp_connector_id=cfg.ocpp_connector_id,
            )
    return points, configs, enabled


@_db
def _persist_registers(registers: dict[int, float]) -> None:
    from chargepoints.models import ChargePoint

    rows = [ChargePoint(pk=pk, energy_register_wh=int(wh)) for pk, wh in registers.items()]
    ChargePoint.objects.bulk_update(rows, ["energy_register_wh"], batch_size=200)


@_db
def _session_open(cp_id: int, started: float, meter_wh: float) -> int:
    from datetime import UTC, datetime

    from chargepoints.models import ChargingSession

    return ChargingSession.objects.create(
        chargepoint_id=cp_id,
        started_at=datetime.fromtimestamp(started, tz=UTC),
        meter_start_wh=int(meter_wh),
    ).pk


@_db
def _session_close(pk: int, ended: float, meter_wh: float, id_tag: str) -> None:
    from datetime import UTC, datetime

    from chargepoints.models import ChargingSession

    ChargingSession.objects.filter(pk=pk).update(
        ended_at=datetime.fromtimestamp(ended, tz=UTC),
        meter_stop_wh=int(meter_wh),
        id_tag=id_tag,
    )


@_db
def _tag_authorized(tag: str) -> bool:
    from whitelist.selectors import tag_authorized

    return tag_authorized(tag)


# --- agents ------------------------------------------------------------------------------------


class ControllerAgent(Agent):
    """Standardises access to the charge points: polls the hardware, applies the configuration
    and release rules, persists meter totals and publishes the live state."""

    name = "controller"
    title = "Controller Agent"

    async def run(self) -> None:
        rt = self.runtime
        await rt.reload()
        last_persist = time.monotonic()
        while True:
            await rt.step()
            if time.monotonic() - last_persist >= settings.WBM_PERSIST_EVERY_S:
                await rt.persist()
                last_persist = time.monotonic()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(rt.tick_s):
                    await rt.wake.wait()
            rt.wake.clear()


class SystemMonitorAgent(Agent):
    """Provides current system data: memory, CPU, disk, uptime."""

    name = "system-monitor"
    title = "System Monitor"
    PERIOD_S = 5.0

    async def run(self) -> None:
        proc = psutil.Process(os.getpid())
        proc.cpu_percent(None)
        while True:
            mem = psutil.virtual_memory()
            disk = psutil.disk_usage(str(settings.STATE_DIR))
            self.runtime.system = SystemStatus(
                rss_bytes=proc.memory_info().rss,
                cpu_percent=proc.cpu_percent(None),
                memory_total_bytes=mem.total,
                memory_available_bytes=mem.available,
                disk_total_bytes=disk.total,
                disk_free_bytes=disk.free,
                load_1m=os.getloadavg()[0],
                boot_time=psutil.boot_time(),
                process_started_at=proc.create_time(),
            )
            self.runtime.system_dirty = True
            await asyncio.sleep(self.PERIOD_S)


class CommandServerAgent(Agent):
    """Scaled mode: serves commands that web processes send over the channel layer."""

    name = "commands"
    title = "Command Server"

    async def run(self) -> None:
        from channels.layers import get_channel_layer

        from wbm.runtime.commands import COMMAND_CHANNEL

        layer = get_channel_layer()
        while True:
            message = await layer.receive(COMMAND_CHANNEL)
            if time.time() > float(message.get("deadline") or "inf"):
                # the caller has given up and told its user the runtime was not reachable:
                # doing it now would surprise them (e.g. a command queued while we were down)
                log.warning("dropped expired command %s", message.get("name"))
                continue
            result = await self.runtime.handle(message.get("name", ""), message.get("args") or {})
            await layer.send(message["reply_to"], {"type": "runtime.reply", "result": result})


# --- the runtime -------------------------------------------------------------------------------


class Runtime:
    """Owns the backend, the controller state, the supervisor and the published snapshot."""

    def __init__(
        self,
        backend: ControllerBackend | None = None,
        *,
        tick_s: float | None = None,
        serve_commands: bool | None = None,
    ) -> None:
        self.backend = backend or import_string(settings.WBM_CONTROLLER_BACKEND)()
        self.tick_s = tick_s if tick_s is not None else settings.WBM_TICK_S
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started_at = time.time()
        self.supervisor = Supervisor(on_change=self._agents_changed)
        self.supervisor.register(ControllerAgent, lambda: ControllerAgent(self))
        self.supervisor.register(SystemMonitorAgent, lambda: SystemMonitorAgent(self))
        if serve_commands if serve_commands is not None else settings.WBM_RUNTIME_TRANSPORT == "channels":
            self.supervisor.register(CommandServerAgent, lambda: CommandServerAgent(self))
        self.wake = asyncio.Event()
        self.system: SystemStatus | None = None
        self.system_dirty = True
        self.configs: dict[int, CpConfig] = {}
        self.cps: dict[int, _Cp] = {}
        self.recent_rfids: deque[tuple[str, float]] = deque(maxlen=10)
        self.snapshot: ParkSnapshot | None = None
        self._step_lock = asyncio.Lock()
        self._last_step: float | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        from wbm.runtime import local

        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        self._step_lock = asyncio.Lock()
        await self.reload()
        await self.step()
        await self.supervisor.start_all()
        if settings.WBM_RUNTIME_TRANSPORT == "local":
            local.set_current(self)

    async def stop(self) -> None:
        from wbm.runtime import local

        if local.get() is self:
            local.set_current(None)
        await self.supervisor.stop_all()
        with contextlib.suppress(Exception):
            await self.persist()
        await self.backend.close()

    async def reload(self) -> None:
        """Re-read topology and configuration from the database and apply them."""
        points, configs, enabled = await sync_to_async(_load_park, thread_sensitive=False)()
        await self.backend.open(points)
        self.configs = configs
        known = {p.id for p in points}
        for p in points:
            cp = self.cps.get(p.id)
            if cp is None:
                self.cps[p.id] = _Cp(hw=p, enabled=enabled[p.id])
            else:
                cp.hw = p
                cp.enabled = enabled[p.id]
            await self.backend.set_meter_installed(p.id, p.meter_installed)
        for gone in set(self.cps) - known:
            del self.cps[gone]
        self.wake.set()

    async def persist(self) -> None:
        registers = self.backend.energy_registers()
        await sync_to_async(_persist_registers, thread_sensitive=False)(registers)

    def _agents_changed(self) -> None:
        self.system_dirty = True
        self.wake.set()

    # --- the control loop --------------------------------------------------------------------
    async def step(self) -> ParkSnapshot:
        """Poll the hardware, apply the rules, publish. Called every tick and after commands."""
        async with self._step_lock:
            now = time.time()
            dt = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
            self._last_step = now
            for event in await self.backend.poll(now):
                await self._on_event(event.kind, event.cp_id, event.value, now)
            states_: list[ChargePointState] = []
            for cp_id, cp in self.cps.items():
                states_.append(await self._apply(cp_id, cp, now, dt))
            previous = self.snapshot
            snapshot = ParkSnapshot(
                generated_at=now,
                runtime_started_at=self.started_at,
                chargepoints=tuple(states_),
                agents=self.supervisor.status(),
                system=self.system,
                recent_rfids=tuple(self.recent_rfids),
            )
            self.snapshot = snapshot
            changed = states_ if previous is None else [s for s in states_ if previous.chargepoint(s.id) != s]
            system_changed, self.system_dirty = self.system_dirty, False
            await bus.publish(snapshot, changed, system_changed=system_changed)
            return snapshot

    async def _apply(self, cp_id: int, cp: _Cp, now: float, dt: float) -> ChargePointState:
        cfg = self.configs.get(cp_id)
        backend = self.backend
        hw = backend.read(cp_id)
        # RFID release is discarded when no vehicle arrives in time.
        if (
            cfg is not None
            and cp.release_by_rfid_at is not None
            and hw.vehicle is None
            and now - cp.release_by_rfid_at > cfg.rfid_timeout_s
        ):
            cp.release, cp.release_by_rfid_at = False, None
        if cfg is not None and cfg.release_mode == "permanent":
            cp.release = True
        if cfg is None:
            cp.release = False
        if hw.vehicle is not None and hw.iec_state in ("C", "D"):
            cp.charging_s += dt
        ctl = cp.control()
        pwm = states.pwm_setpoint(cfg, ctl, hw)
        if pwm != hw.pwm_limit_a or (hw.vehicle is None and pwm == 0):
            await backend.set_pwm(cp_id, pwm)
        await backend.set_available(cp_id, cp.enabled)
        if cp.unlock_enforced:
            locked = False
        elif cfg is not None and cfg.locks_on_connect:
            locked = hw.vehicle is not None
        else:
            locked = hw.locked  # remote locking mode, or a fixed connector: leave as is
        if locked != hw.locked:
            await backend.set_locked(cp_id, locked)
        hw = backend.read(cp_id)
        ocpp = states.ocpp_status(cfg, ctl, hw)
        error_code, error_info = hw.fault_code, hw.fault_info
        if error_code == "NoError" and states.ventilation_rejected(cfg, hw):
            error_info = "ventilation_rejected"
        if error_code == "NoError" and not error_info and states.hlc_refused(cfg, hw):
            error_info = "hlc_required"
        rfid_event = cp.rfid_event if cp.rfid_event_at is not None and now - cp.rfid_event_at <= RFID_EVENT_S else ""
        session_wh = None
        if hw.meter is not None and cp.session_start_wh is not None:
            session_wh = round(hw.meter.energy_wh - cp.session_start_wh, 1)
        return ChargePointState(
            id=cp_id,
            station_id=cp.hw.station_id,
            position=cp.hw.position,
            configured=cfg is not None,
            name=cfg.name if cfg else "",
            location=cfg.location if cfg else "",
            iec_state=hw.iec_state,
            ocpp_status=str(ocpp),
            dashboard_status=str(states.dashboard_status(ocpp)),
            local_bus="connected" if hw.bus_connected else "disconnected",
            pwm_limit_a=hw.pwm_limit_a,
            currents_a=hw.currents_a,
            meter_configured=bool(cfg and cfg.has_meter),
            meter=hw.meter if cfg and cfg.has_meter else None,
            session_energy_wh=session_wh if cfg and cfg.has_meter else None,
            charging_s=int(cp.charging_s),
            plugin_s=int(now - cp.plugged_since) if cp.plugged_since else 0,
            plugged_since=cp.plugged_since,
            enabled=cp.enabled,
            release=cp.release,
            release_mode=cfg.release_mode if cfg else "",
            locked=hw.locked,
            unlock_enforced=cp.unlock_enforced,
            reserved=cp.reserved,
            vehicle=hw.vehicle,
            rfid=cp.rfid,
            temperature_c=hw.temperature_c,
            temperature_configured=bool(cfg and cfg.derating_sensor),
            error_code=error_code,
            error_info=error_info,
            digital_inputs=hw.digital_inputs,
            digital_outputs=hw.digital_outputs,
            analog_inputs_v=hw.analog_inputs_v,
            iso15118=states.iso15118_state(
                cfg, hw, session_id=cp.hlc_session_id, plugged_since=cp.plugged_since, charged=cp.charging_s > 0
            ),
            rfid_board_firmware=hw.rfid_board_firmware,
            rfid_event=rfid_event,
        )

    async def _on_event(self, kind: str, cp_id: int, value: str, now: float) -> None:
        cp = self.cps.get(cp_id)
        if cp is None:
            return
        cfg = self.configs.get(cp_id)
        if kind == "plugged":
            cp.plugged_since, cp.charging_s, cp.had_release = now, 0.0, False
            vehicle = self.backend.read(cp_id).vehicle
            cp.hlc_session_id = secrets.token_hex(8).upper() if vehicle is not None and vehicle.hlc else ""
            meter = self.backend.read(cp_id).meter
            cp.session_start_wh = meter.energy_wh if meter else None
            registers = self.backend.energy_registers()
            with contextlib.suppress(Exception):
                cp.session_pk = await sync_to_async(_session_open, thread_sensitive=False)(
                    cp_id, now, registers.get(cp_id, 0.0)
                )
        elif kind == "unplugged":
            if cp.session_pk is not None:
                registers = self.backend.energy_registers()
                with contextlib.suppress(Exception):
                    await sync_to_async(_session_close, thread_sensitive=False)(
                        cp.session_pk, now, registers.get(cp_id, 0.0), cp.rfid
                    )
            cp.plugged_since, cp.charging_s, cp.session_start_wh, cp.session_pk = None, 0.0, None, None
            cp.rfid, cp.had_release, cp.release_by_rfid_at = "", False, None
            cp.hlc_session_id = ""
            if cfg is None or not states.release_survives_unplug(cfg):
                cp.release = False
        elif kind == "rfid":
            self.recent_rfids.appendleft((value, now))
            for target_id, target_cfg in self.configs.items():
                if target_cfg.rfid_reader_id != cp_id:
                    continue
                target = self.cps[target_id]
                target.rfid = value
                if target_cfg.release_mode == "whitelist":
                    authorized = await sync_to_async(_tag_authorized, thread_sensitive=False)(value)
                    if authorized and target.enabled:
                        target.release, target.had_release = True, True
                        target.release_by_rfid_at = now
                    cp.rfid_event = "accepted" if authorized and target.enabled else "rejected"
                    cp.rfid_event_at = now

    # --- commands ----------------------------------------------------------------------------
    async def handle(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one command; returns {"ok": True, ...} or {"ok": False, "error": code, "params"}."""
        handler = _COMMANDS.get(name)
        if handler is None:
            return {"ok": False, "error": "unknown_command", "params": {"name": name}}
        try:
            result = await handler(self, **args)
        except Rejected as exc:
            return {"ok": False, "error": exc.code, "params": exc.params}
        except TypeError as exc:
            return {"ok": False, "error": "bad_argument", "params": {"detail": str(exc)}}
        await self.step()
        return {"ok": True, **(result or {})}

    def _cp(self, cp_id: Any) -> _Cp:
        if not isinstance(cp_id, int) or cp_id not in self.cps:
            raise Rejected("unknown_chargepoint", cp=cp_id)
        agent = self.supervisor.status()
        controller = next(a for a in agent if a.name == ControllerAgent.name)
        if controller.state != "running":
            raise Rejected("controller_stopped")
        return self.cps[cp_id]

    def _configured(self, cp_id: int) -> CpConfig:
        cfg = self.configs.get(cp_id)
        if cfg is None:
            raise Rejected("not_configured", cp=cp_id)
        return cfg

    def _sim(self) -> SimulatorControl:
        if not isinstance(self.backend, SimulatorControl):
            raise Rejected("not_simulated")
        return self.backend

    def _label(self, cp_id: int) -> str:
        cfg = self.configs.get(cp_id)
        cp = self.cps[cp_id]
        return cfg.name if cfg else f"#{cp.hw.position}"

    async def cmd_ping(self) -> dict[str, Any]:
        return {"started_at": self.started_at}

    async def cmd_reload(self) -> None:
        await self.reload()

    async def cmd_release(self, *, cp: int, allow: bool) -> None:
        state = self._cp(cp)
        cfg = self._configured(cp)
        if not states.release_allowed_from_web(cfg):
            raise Rejected("release_mode_forbids", cp=self._label(cp), mode=cfg.release_mode)
        if allow:
            if not state.enabled:
                raise Rejected("disabled", cp=self._label(cp))
            if self.backend.read(cp).vehicle is None:
                raise Rejected("no_vehicle", cp=self._label(cp))
            state.release, state.had_release = True, True
        else:
            state.release, state.release_by_rfid_at = False, None

    async def cmd_availability(self, *, cp: int, enabled: bool) -> None:
        state = self._cp(cp)
        state.enabled = bool(enabled)
        if not enabled:
            state.release = False  # an active charging process is aborted

    async def cmd_unlock(self, *, cp: int, enforce: bool) -> None:
        state = self._cp(cp)
        self._configured(cp)
        state.unlock_enforced = bool(enforce)
        if enforce:
            state.release = False  # an active charging process is aborted
            await self.backend.set_locked(cp, False)

    async def cmd_limit(self, *, cp: int, amps: float | None) -> None:
        state = self._cp(cp)
        if amps is not None and not (0 <= float(amps) <= 80):
            raise Rejected("out_of_range", field="amps", min=0, max=80)
        state.external_limit_a = None if amps is None else float(amps)

    async def cmd_plug_in(
        self,
        *,
        cp: int,
        phases: int = 3,
        max_current_a: float = 16,
        ventilation: bool = False,
        hlc: bool = False,
        evcc_id: str = "",
    ) -> None:
        self._cp(cp)
        sim = self._sim()
        if phases not in (1, 3):
            raise Rejected("out_of_range", field="phases", min=1, max=3)
        if not 6 <= float(max_current_a) <= 80:
            raise Rejected("out_of_range", field="max_current_a", min=6, max=80)
        evcc_id = str(evcc_id or "").strip().upper().replace(":", "").replace("-", "")
        if evcc_id and not EVCC_ID_RE.match(evcc_id):
            raise Rejected("bad_evcc_id", evcc_id=evcc_id[:40])
        if self.backend.read(cp).vehicle is not None:
            raise Rejected("already_plugged", cp=self._label(cp))
        sim.plug_in(
            cp,
            phases=phases,
            max_current_a=float(max_current_a),
            ventilation=bool(ventilation),
            hlc=bool(hlc),
            evcc_id=evcc_id,
        )

    async def cmd_unplug(self, *, cp: int) -> None:
        self._cp(cp)
        sim = self._sim()
        if self.backend.read(cp).vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(cp))
        sim.unplug(cp)

    async def cmd_vehicle(self, *, cp: int, action: str) -> None:
        self._cp(cp)
        sim = self._sim()
        if action not in VEHICLE_MODES:
            raise Rejected("bad_choice", field="action", choices=sorted(VEHICLE_MODES))
        vehicle = self.backend.read(cp).vehicle
        if vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(cp))
        mode = VEHICLE_MODES[action]
        if vehicle.mode == mode:
            raise Rejected("vehicle_already", cp=self._label(cp), mode=mode)
        sim.vehicle_mode(cp, mode)

    async def cmd_rfid(self, *, cp: int, tag: str) -> None:
        self._cp(cp)
        sim = self._sim()
        tag = str(tag).strip().upper().replace(":", "").replace(" ", "")
        if not RFID_RE.match(tag):
            raise Rejected("bad_rfid", tag=tag[:40])
        sim.present_rfid(cp, tag)

    async def cmd_input(self, *, cp: int, index: int, value: bool) -> None:
        self._cp(cp)
        sim = self._sim()
        if not isinstance(index, int) or not 1 <= index <= DIGITAL_INPUTS:
            raise Rejected("out_of_range", field="index", min=1, max=DIGITAL_INPUTS)
        sim.set_digital_input(cp, index, bool(value))

    async def cmd_analog(self, *, cp: int, index: int, volts: float) -> None:
        self._cp(cp)
        sim = self._sim()
        if not isinstance(index, int) or not 1 <= index <= ANALOG_INPUTS:
            raise Rejected("out_of_range", field="index", min=1, max=ANALOG_INPUTS)
        if not 0 <= float(volts) <= 10:
            raise Rejected("out_of_range", field="volts", min=0, max=10)
        sim.set_analog_input(cp, index, float(volts))

    async def cmd_fault(self, *, cp: int, code: str, info: str = "") -> None:
        self._cp(cp)
        sim = self._sim()
        if code not in INJECTABLE:
            raise Rejected("bad_choice", field="code", choices=sorted(INJECTABLE))
        sim.inject_fault(cp, code, str(info)[:50])

    async def cmd_clear_fault(self, *, cp: int) -> None:
        self._cp(cp)
        sim = self._sim()
        if self.backend.read(cp).fault_code == "NoError":
            raise Rejected("no_fault", cp=self._label(cp))
        sim.clear_fault(cp)

    async def cmd_temperature(self, *, cp: int, celsius: float | None) -> None:
        self._cp(cp)
        sim = self._sim()
        if celsius is not None and not -40 <= float(celsius) <= 150:
            raise Rejected("out_of_range", field="celsius", min=-40, max=150)
        sim.set_temperature(cp, None if celsius is None else float(celsius))

    async def cmd_iso_error(self, *, cp: int, error: str) -> None:
        """Make the ISO 15118 communication of the plugged vehicle fail ("" clears the error)."""
        self._cp(cp)
        sim = self._sim()
        if error and error not in ISO15118_ERRORS:
            raise Rejected("bad_choice", field="error", choices=sorted(ISO15118_ERRORS))
        cfg = self.configs.get(cp)
        if cfg is None or cfg.hlc_mode == "disabled":
            raise Rejected("hlc_disabled", cp=self._label(cp))
        vehicle = self.backend.read(cp).vehicle
        if vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(cp))
        if not vehicle.hlc:
            raise Rejected("no_hlc_vehicle", cp=self._label(cp))
        sim.set_hlc_error(cp, error)

    async def _agent_op(self, name: str, op: str) -> None:
        if name not in self.supervisor.names:
            raise Rejected("unknown_agent", name=name)
        if name == CommandServerAgent.name and op != "start":
            # stopping the command server from a command would cut off its own reply
            raise Rejected("agent_protected", name=name)
        if op == "restart":
            # restart in the background: a command may come through the agent being restarted
            asyncio.get_running_loop().create_task(self.supervisor.restart(name))
            await asyncio.sleep(0)
        elif op == "stop":
            await self.supervisor.stop(name)
        else:
            await self.supervisor.start(name)

    async def cmd_agent_restart(self, *, name: str) -> None:
        await self._agent_op(name, "restart")

    async def cmd_agent_stop(self, *, name: str) -> None:
        await self._agent_op(name, "stop")

    async def cmd_agent_start(self, *, name: str) -> None:
        await self._agent_op(name, "start")


_COMMANDS = {
    "ping": Runtime.cmd_ping,
    "config.reload": Runtime.cmd_reload,
    "cp.release": Runtime.cmd_release,
    "cp.availability": Runtime.cmd_availability,
    "cp.unlock": Runtime.cmd_unlock,
    "cp.limit": Runtime.cmd_limit,
    "sim.plug_in": Runtime.cmd_plug_in,
    "sim.unplug": Runtime.cmd_unplug,
    "sim.vehicle": Runtime.cmd_vehicle,
    "sim.rfid": Runtime.cmd_rfid,
    "sim.input": Runtime.cmd_input,
    "sim.analog": Runtime.cmd_analog,
    "sim.fault": Runtime.cmd_fault,
    "sim.clear_fault": Runtime.cmd_clear_fault,
    "sim.temperature": Runtime.cmd_temperature,
    "sim.iso_error": Runtime.cmd_iso_error,
    "agent.restart": Runtime.cmd_agent_restart,
    "agent.stop": Runtime.cmd_agent_stop,
    "agent.start": Runtime.cmd_agent_start,
}
