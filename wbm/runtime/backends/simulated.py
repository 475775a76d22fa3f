"""A faithful simulation of the charge point hardware: vehicles, PWM, meters, I/O, faults.

The simulated hardware outlives the software, as real hardware does: plugged vehicles, faults,
inputs and the meters' energy registers are kept in a file in the state directory and are there
again when the runtime starts anew (after a restart of ``runwbm`` or ``runcontroller``, or a
``kill -9``: the file is written after every poll that changed something).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wbm.runtime.backends.controller import (
    ANALOG_INPUTS,
    DIGITAL_INPUTS,
    DIGITAL_OUTPUTS,
    BackendEvent,
    ControllerBackend,
    HardwarePoint,
    HardwareReading,
    SimulatorControl,
)
from wbm.runtime.snapshot import MeterReading, Vehicle

log = logging.getLogger(__name__)

NOMINAL_V = 230.0
NOMINAL_HZ = 50.0
AMBIENT_C = 22.0
MIN_PWM_A = 6.0  # below this a vehicle does not charge (IEC 61851-1)
VEHICLE_DRAW = 0.97  # vehicles stay a little below the offered current
RFID_BOARD_FIRMWARE = "1.2.4"  # every simulated charge point has a CHARX RFID/NFC board wired
# The energy registers are written at every poll, before the runtime publishes what the poll
# measured, so a register a page has shown is never taken back by a kill -9 (a write-ahead record
# in a small file of its own beside the state file, cheap enough for every tick; not fsynced: a
# power cut is the database's case). The whole state is written when something else changed.


@dataclass
class _Point:
    hw: HardwarePoint
    energy_wh: float
    meter_installed: bool
    vehicle: Vehicle | None = None
    vehicle_since: float | None = None
    pwm_a: float = 0.0
    available: bool = True
    locked: bool = False
    lock_stuck: bool = False  # a lock fault: the actuator no longer moves (sim.lock_fault)
    fault_code: str = "NoError"
    fault_info: str = ""
    hlc_error: str = ""
    bus_connected: bool = True
    contactor_welded: bool = False
    dc_residual_ma: float = 0.0
    aux_input: int = 0  # the digital input the contactor's auxiliary contact is wired to (0: none)
    aux_contact: str = "nc"
    temperature_override: float | None = None
    temperature_c: float = AMBIENT_C
    inputs: list[bool] = field(default_factory=lambda: [False] * DIGITAL_INPUTS)
    outputs: list[str] = field(default_factory=lambda: ["low"] * DIGITAL_OUTPUTS)
    analog_v: list[float] = field(default_factory=lambda: [0.0] * ANALOG_INPUTS)
    currents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    voltages: tuple[float, float, float] = (NOMINAL_V, NOMINAL_V, NOMINAL_V)
    pending: list[BackendEvent] = field(default_factory=list)

    @property
    def faulted(self) -> bool:
        # An EV communication error suspends charging but is not a charge point fault.
        return self.fault_code not in ("NoError", "EVCommunicationError")

    def iec_state(self) -> str:
        if not self.available or self.faulted:
            return "F"
        if self.vehicle is None:
            return "A"
        if self.drawing:
            return "D" if self.vehicle.ventilation else "C"
        return "B"

    @property
    def contactor_closed(self) -> bool:
        return self.drawing or self.contactor_welded

    def input_levels(self) -> tuple[bool, ...]:
        levels = list(self.inputs)
        if 1 <= self.aux_input <= len(levels):
            # N/C: closed contactor → auxiliary contact open → no voltage; N/O the other way round
            closed = self.contactor_closed
            levels[self.aux_input - 1] = (not closed) if self.aux_contact == "nc" else closed
        return tuple(levels)

    @property
    def drawing(self) -> bool:
        return (
            self.vehicle is not None
            and self.available
            and not self.faulted
            and self.fault_code != "EVCommunicationError"
            and self.vehicle.mode == "requesting"
            and self.pwm_a >= MIN_PWM_A
        )


_DEFAULT_FILE = object()


def _default_state_file() -> Path:
    from django.conf import settings

    return Path(settings.STATE_DIR) / "simulated-hardware.json"


class SimulatedBackend(ControllerBackend, SimulatorControl):
    """Hardware in memory. ``poll()`` advances the physics by the time since the last poll.

    ``state_file``: where the hardware keeps its state across restarts (default: the state
    directory; None: nowhere, as in unit tests)."""

    def __init__(self, seed: int | None = None, state_file: Path | str | Any | None = _DEFAULT_FILE) -> None:
        self._points: dict[int, _Point] = {}
        self._rng = random.Random(seed)
        self._last_poll: float | None = None
        self._state_file: Path | None = (
            _default_state_file() if state_file is _DEFAULT_FILE else (Path(state_file) if state_file else None)
        )
        self._saved: str = ""
        self._saved_energy: str = ""
        self._dirty = True  # something other than the energy registers changed since the last write
        self._saved_at: float | None = None
        self._stored = self._read_state()

    # --- ControllerBackend ------------------------------------------------------------------
    async def open(self, points: list[HardwarePoint]) -> None:
        for hw in points:
            existing = self._points.get(hw.id)
            if existing is None:
                point = _Point(hw=hw, energy_wh=float(hw.energy_register_wh), meter_installed=hw.meter_installed)
                stored = self._stored.pop(hw.device_uid, None)
                if stored is not None:
                    self._restore(point, stored)
                self._points[hw.id] = point
            else:
                existing.hw = hw

    async def close(self) -> None:
        self._save()
        self._last_poll = None

    # --- keeping the hardware's state -------------------------------------------------------
    @property
    def _energy_file(self) -> Path | None:
        return None if self._state_file is None else self._state_file.with_suffix(".energy.json")

    def _read_state(self) -> dict[str, dict[str, Any]]:
        if self._state_file is None:
            return {}
        stored: dict[str, dict[str, Any]] = {}
        if self._state_file.exists():
            try:
                data = json.loads(self._state_file.read_text(encoding="utf-8"))
                stored = {str(uid): dict(point) for uid, point in data["points"].items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                log.exception("simulated hardware: %s is unreadable; starting without it", self._state_file)
        energy_file = self._energy_file
        if energy_file is not None and energy_file.exists():
            try:
                registers = json.loads(energy_file.read_text(encoding="utf-8"))
                for uid, wh in registers.items():
                    point = stored.setdefault(str(uid), {})
                    point["energy_wh"] = max(float(point.get("energy_wh", 0.0)), float(wh))
            except (OSError, ValueError, TypeError, AttributeError):
                log.exception("simulated hardware: %s is unreadable; ignored", energy_file)
        return stored

    @staticmethod
    def _restore(p: _Point, stored: dict[str, Any]) -> None:
        try:
            # the register only grows: never below what the database had
            p.energy_wh = max(p.energy_wh, float(stored.get("energy_wh", 0.0)))
            vehicle = stored.get("vehicle")
            p.vehicle = Vehicle(**vehicle) if vehicle else None
            p.vehicle_since = stored.get("vehicle_since") if vehicle else None
            p.locked = bool(stored.get("locked", False))
            p.fault_code = str(stored.get("fault_code", "NoError"))
            p.fault_info = str(stored.get("fault_info", ""))
            p.hlc_error = str(stored.get("hlc_error", ""))
            p.bus_connected = bool(stored.get("bus_connected", True))
            p.contactor_welded = bool(stored.get("contactor_welded", False))
            p.dc_residual_ma = float(stored.get("dc_residual_ma", 0.0))
            p.temperature_override = stored.get("temperature_override")
            p.inputs = [bool(v) for v in stored.get("inputs", p.inputs)][:DIGITAL_INPUTS]
            p.outputs = [str(v) for v in stored.get("outputs", p.outputs)][:DIGITAL_OUTPUTS]
            p.analog_v = [float(v) for v in stored.get("analog_v", p.analog_v)][:ANALOG_INPUTS]
        except (TypeError, ValueError):
            log.exception("simulated hardware: stored state of %s is unusable; ignored", p.hw.device_uid)

    def _save(self, now: float | None = None) -> None:
        """Write the hardware's state (atomically) after a change of state (a vehicle, a fault, an
        input, ...); otherwise only the energy registers, in their own file (``_save_energy``).
        The database keeps the registers too, every ``WBM_PERSIST_EVERY_S``; on restore the
        largest of the three counts."""
        if self._state_file is None:
            return
        if not self._dirty:
            self._save_energy()
            return
        self._dirty = False
        self._saved_at = now
        points = {
            p.hw.device_uid: {
                "energy_wh": round(p.energy_wh, 3),
                "vehicle": dataclasses.asdict(p.vehicle) if p.vehicle else None,
                "vehicle_since": p.vehicle_since,
                "locked": p.locked,
                "fault_code": p.fault_code,
                "fault_info": p.fault_info,
                "hlc_error": p.hlc_error,
                "bus_connected": p.bus_connected,
                "contactor_welded": p.contactor_welded,
                "dc_residual_ma": p.dc_residual_ma,
                "temperature_override": p.temperature_override,
                "inputs": p.inputs,
                "outputs": p.outputs,
                "analog_v": p.analog_v,
            }
            for p in self._points.values()
        }
        # hardware of charge points not opened this time stays as it was
        for uid, stored in self._stored.items():
            points.setdefault(uid, stored)
        text = json.dumps({"version": 1, "points": points}, sort_keys=True)
        if text == self._saved:
            return
        tmp = self._state_file.with_suffix(".tmp")
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self._state_file)
            self._saved = text
        except OSError:
            log.exception("simulated hardware: could not write %s", self._state_file)
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _save_energy(self) -> None:
        """The energy registers alone (every poll): a few kB, no sorting, no nested values."""
        target = self._energy_file
        assert target is not None
        text = json.dumps({p.hw.device_uid: round(p.energy_wh, 3) for p in self._points.values()})
        if text == self._saved_energy:
            return
        tmp = target.with_suffix(".tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
            self._saved_energy = text
        except OSError:
            log.exception("simulated hardware: could not write %s", target)
            with contextlib.suppress(OSError):
                tmp.unlink()

    def point_ids(self) -> list[int]:
        return list(self._points)

    def _p(self, cp_id: int) -> _Point:
        try:
            return self._points[cp_id]
        except KeyError:
            raise LookupError(cp_id) from None

    def read(self, cp_id: int) -> HardwareReading:
        p = self._p(cp_id)
        meter = None
        if p.meter_installed and p.fault_code != "PowerMeterFailure":
            power = sum(u * i for u, i in zip(p.voltages, p.currents, strict=True)) * self._pf(p)
            meter = MeterReading(
                currents_a=p.currents,
                voltages_v=p.voltages,
                power_w=round(power, 1),
                energy_wh=round(p.energy_wh, 1),
                power_factor=self._pf(p),
                frequency_hz=NOMINAL_HZ,
            )
        return HardwareReading(
            iec_state=p.iec_state(),
            pwm_limit_a=p.pwm_a if p.vehicle is not None else 0.0,
            currents_a=p.currents,
            meter=meter,
            vehicle=p.vehicle,
            locked=p.locked,
            temperature_c=round(p.temperature_c, 1),
            fault_code=p.fault_code,
            fault_info=p.fault_info,
            digital_inputs=p.input_levels(),
            digital_outputs=tuple(p.outputs),
            analog_inputs_v=tuple(p.analog_v),
            bus_connected=p.bus_connected,
            hlc_error=p.hlc_error,
            rfid_board_firmware=RFID_BOARD_FIRMWARE,
            vehicle_since=p.vehicle_since if p.vehicle is not None else None,
            dc_residual_ma=p.dc_residual_ma,
        )

    @staticmethod
    def _pf(p: _Point) -> float:
        return 0.99 if p.drawing else 1.0

    async def poll(self, now: float) -> list[BackendEvent]:
        dt = 0.0 if self._last_poll is None else max(0.0, min(now - self._last_poll, 60.0))
        self._last_poll = now
        events: list[BackendEvent] = []
        for p in self._points.values():
            self._advance(p, dt)
            if p.pending:
                self._dirty = True
            events.extend(p.pending)
            p.pending.clear()
        self._save(now)
        return events

    def _advance(self, p: _Point, dt: float) -> None:
        jitter = self._rng.uniform
        p.voltages = tuple(round(NOMINAL_V + jitter(-1.5, 1.5), 1) for _ in range(3))  # type: ignore[assignment]
        if p.drawing:
            assert p.vehicle is not None
            amps = min(p.vehicle.max_current_a, p.pwm_a) * VEHICLE_DRAW * p.vehicle.overdraw
            amps = round(max(0.0, amps + jitter(-0.05, 0.05)), 2)
            p.currents = (amps, amps, amps) if p.vehicle.phases == 3 else (amps, 0.0, 0.0)
        else:
            p.currents = (0.0, 0.0, 0.0)
        power_w = sum(u * i for u, i in zip(p.voltages, p.currents, strict=True)) * self._pf(p)
        p.energy_wh += power_w * dt / 3600.0
        if p.temperature_override is not None:
            p.temperature_c = p.temperature_override
        else:  # warms a little under load, cools back to ambient
            target = AMBIENT_C + power_w / 1500.0
            p.temperature_c += (target - p.temperature_c) * min(1.0, dt / 120.0)

    async def set_pwm(self, cp_id: int, amps: float) -> None:
        self._dirty = True
        self._p(cp_id).pwm_a = float(amps)

    async def set_available(self, cp_id: int, available: bool) -> None:
        self._dirty = True
        self._p(cp_id).available = available

    async def set_locked(self, cp_id: int, locked: bool) -> None:
        point = self._p(cp_id)
        if point.lock_stuck:
            return
        self._dirty = True
        point.locked = locked

    def set_lock_fault(self, cp_id: int, stuck: bool) -> None:
        """The lock actuator stops moving (``stuck``) or works again: the simulator's lock fault."""
        self._p(cp_id).lock_stuck = stuck

    async def set_digital_output(self, cp_id: int, index: int, mode: str) -> None:
        self._dirty = True
        self._p(cp_id).outputs[index - 1] = mode

    async def set_meter_installed(self, cp_id: int, installed: bool) -> None:
        self._p(cp_id).meter_installed = installed

    def energy_registers(self) -> dict[int, float]:
        return {cp_id: p.energy_wh for cp_id, p in self._points.items()}

    # --- SimulatorControl ---------------------------------------------------------------------
    def plug_in(
        self,
        cp_id: int,
        *,
        phases: int,
        max_current_a: float,
        ventilation: bool,
        hlc: bool = False,
        evcc_id: str = "",
        cable_a: int | None = None,
    ) -> None:
        p = self._p(cp_id)
        if hlc and not evcc_id:  # the MAC address of the vehicle's communication controller
            evcc_id = "".join(f"{self._rng.randrange(256):02X}" for _ in range(6))
        p.vehicle_since = self._last_poll or time.time()
        p.vehicle = Vehicle(
            phases=phases,
            max_current_a=float(max_current_a),
            ventilation=ventilation,
            mode="requesting",
            hlc=hlc,
            evcc_id=evcc_id if hlc else "",
            cable_a=cable_a,
        )
        p.hlc_error = ""
        p.pending.append(BackendEvent(kind="plugged", cp_id=cp_id))

    def unplug(self, cp_id: int) -> None:
        p = self._p(cp_id)
        p.vehicle = None
        p.vehicle_since = None
        p.hlc_error = ""
        p.currents = (0.0, 0.0, 0.0)
        p.pending.append(BackendEvent(kind="unplugged", cp_id=cp_id))

    def vehicle_mode(self, cp_id: int, mode: str) -> None:
        self._dirty = True
        p = self._p(cp_id)
        assert p.vehicle is not None
        p.vehicle = dataclasses.replace(p.vehicle, mode=mode)

    def present_rfid(self, cp_id: int, tag: str) -> None:
        self._p(cp_id).pending.append(BackendEvent(kind="rfid", cp_id=cp_id, value=tag))

    def set_digital_input(self, cp_id: int, index: int, value: bool) -> None:
        p = self._p(cp_id)
        if p.inputs[index - 1] != value:
            p.inputs[index - 1] = value
            kind = "input_rising" if value else "input_falling"
            p.pending.append(BackendEvent(kind=kind, cp_id=cp_id, value=str(index)))

    def set_analog_input(self, cp_id: int, index: int, volts: float) -> None:
        self._dirty = True
        self._p(cp_id).analog_v[index - 1] = float(volts)

    def inject_fault(self, cp_id: int, code: str, info: str) -> None:
        p = self._p(cp_id)
        p.fault_code, p.fault_info = code, info
        p.pending.append(BackendEvent(kind="fault", cp_id=cp_id, value=code))

    def clear_fault(self, cp_id: int) -> None:
        p = self._p(cp_id)
        cleared = p.fault_code
        p.fault_code, p.fault_info = "NoError", ""
        p.pending.append(BackendEvent(kind="fault_cleared", cp_id=cp_id, value=cleared))

    def set_temperature(self, cp_id: int, celsius: float | None) -> None:
        self._dirty = True
        p = self._p(cp_id)
        p.temperature_override = celsius
        if celsius is not None:
            p.temperature_c = celsius

    def set_hlc_error(self, cp_id: int, error: str) -> None:
        self._dirty = True
        self._p(cp_id).hlc_error = error

    async def set_contactor_monitor(self, cp_id: int, index: int, aux_contact: str) -> None:
        p = self._p(cp_id)
        p.aux_input, p.aux_contact = index, aux_contact

    def set_contactor_welded(self, cp_id: int, welded: bool) -> None:
        self._dirty = True
        self._p(cp_id).contactor_welded = welded

    def set_dc_residual(self, cp_id: int, milliamps: float) -> None:
        self._dirty = True
        self._p(cp_id).dc_residual_ma = float(milliamps)

    def set_overdraw(self, cp_id: int, factor: float) -> None:
        self._dirty = True
        p = self._p(cp_id)
        if p.vehicle is not None:
            p.vehicle = dataclasses.replace(p.vehicle, overdraw=float(factor))

    def set_bus_connected(self, cp_id: int, connected: bool) -> None:
        self._dirty = True
        self._p(cp_id).bus_connected = connected
