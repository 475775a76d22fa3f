"""The simulator's commands: what a person does at a charge point (plug in, present a card, inject a
fault, ...), handled by the controller agent, which mixes this class in.

They act on the simulated hardware only (``SimulatorControl``); a real backend refuses them
("not simulated"). Each validates its arguments, changes the hardware, and returns once the
picture that includes the change is published (``settle``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chargepoints.choices import INJECTABLE_ERROR_CODES, Iso15118Error
from chargepoints.controller.commands import (
    SimAnalog,
    SimBus,
    SimClearFault,
    SimContactor,
    SimFault,
    SimInput,
    SimIsoError,
    SimOverdraw,
    SimPlugIn,
    SimResidual,
    SimRfid,
    SimTemperature,
    SimUnplug,
    SimVehicle,
)
from wbm.runtime.backends.controller import ANALOG_INPUTS, DIGITAL_INPUTS, SimulatorControl
from wbm.runtime.backends.simulated import SimulatedBackend
from wbm.runtime.commands import Command, Rejected

if TYPE_CHECKING:
    from chargepoints.controller.rules import CpConfig
    from wbm.runtime.agent import AgentContext


@dataclass(frozen=True, slots=True, kw_only=True)
class SimLockFault(Command):
    """The socket's lock actuator stops moving (``stuck``) or works again (OCTT TC_030)."""

    name = "sim.lock_fault"
    cp: int
    stuck: bool = True


RFID_RE = re.compile(r"^[0-9A-F]{4,32}$")
EVCC_ID_RE = re.compile(r"^[0-9A-F]{12}$")
INJECTABLE = frozenset(c.value for c in INJECTABLE_ERROR_CODES)
ISO15118_ERRORS = frozenset(e.value for e in Iso15118Error)
VEHICLE_MODES = {"start": "requesting", "pause": "paused", "finish": "finished"}
CABLE_RATINGS = (13, 20, 32, 63)  # IEC 61851-1 PP resistor codes


class SimulatorHandlers:
    """The simulator's command handlers (mixed into ``ControllerAgent``)."""

    if TYPE_CHECKING:  # provided by the controller agent
        ctx: AgentContext
        configs: dict[int, CpConfig]
        _tasks: set[asyncio.Task[Any]]

        def _point(self, cp_id: int) -> object: ...

        def _label(self, cp_id: int) -> str: ...

        async def settle(self) -> None: ...

    def simulator_handlers(self) -> dict[type[Command], Callable[[Any], Awaitable[dict[str, Any] | None]]]:
        return {
            SimPlugIn: self._cmd_plug_in,
            SimUnplug: self._cmd_unplug,
            SimVehicle: self._cmd_vehicle,
            SimRfid: self._cmd_rfid,
            SimInput: self._cmd_input,
            SimAnalog: self._cmd_analog,
            SimFault: self._cmd_fault,
            SimClearFault: self._cmd_clear_fault,
            SimTemperature: self._cmd_temperature,
            SimIsoError: self._cmd_iso_error,
            SimBus: self._cmd_bus,
            SimContactor: self._cmd_contactor,
            SimResidual: self._cmd_residual,
            SimOverdraw: self._cmd_overdraw,
            SimLockFault: self._cmd_lock_fault,
        }

    def _sim(self) -> SimulatorControl:
        hardware = self.ctx.hardware
        if not isinstance(hardware, SimulatorControl):
            raise Rejected("not_simulated")
        return hardware

    async def _cmd_plug_in(self, command: SimPlugIn) -> None:
        cp = command.cp
        self._point(cp)
        sim = self._sim()
        if command.phases not in (1, 3):
            raise Rejected("out_of_range", field="phases", min=1, max=3)
        if not 6 <= command.max_current_a <= 80:
            raise Rejected("out_of_range", field="max_current_a", min=6, max=80)
        if command.cable_a is not None and command.cable_a not in CABLE_RATINGS:
            raise Rejected("bad_choice", field="cable_a", choices=list(CABLE_RATINGS))
        evcc_id = command.evcc_id.strip().upper().replace(":", "").replace("-", "")
        if evcc_id and not EVCC_ID_RE.match(evcc_id):
            raise Rejected("bad_evcc_id", evcc_id=evcc_id[:40])
        if self.ctx.hardware.read(cp).vehicle is not None:
            raise Rejected("already_plugged", cp=self._label(cp))
        sim.plug_in(
            cp,
            phases=command.phases,
            max_current_a=float(command.max_current_a),
            ventilation=command.ventilation,
            hlc=command.hlc,
            evcc_id=evcc_id,
            cable_a=command.cable_a,
        )
        await self.settle()

    async def _cmd_unplug(self, command: SimUnplug) -> None:
        self._point(command.cp)
        sim = self._sim()
        if self.ctx.hardware.read(command.cp).vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(command.cp))
        sim.unplug(command.cp)
        await self.settle()

    async def _cmd_vehicle(self, command: SimVehicle) -> None:
        self._point(command.cp)
        sim = self._sim()
        if command.action not in VEHICLE_MODES:
            raise Rejected("bad_choice", field="action", choices=sorted(VEHICLE_MODES))
        vehicle = self.ctx.hardware.read(command.cp).vehicle
        if vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(command.cp))
        mode = VEHICLE_MODES[command.action]
        if vehicle.mode == mode:
            raise Rejected("vehicle_already", cp=self._label(command.cp), mode=mode)
        sim.vehicle_mode(command.cp, mode)
        await self.settle()

    async def _cmd_rfid(self, command: SimRfid) -> None:
        self._point(command.cp)
        sim = self._sim()
        tag = command.tag.strip().upper().replace(":", "").replace(" ", "")
        if not RFID_RE.match(tag):
            raise Rejected("bad_rfid", tag=tag[:40])
        sim.present_rfid(command.cp, tag)
        await self.settle()
        # the whitelist lookup runs beside the loop; its answer is in the next picture
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.settle()

    async def _cmd_input(self, command: SimInput) -> None:
        self._point(command.cp)
        sim = self._sim()
        if not 1 <= command.index <= DIGITAL_INPUTS:
            raise Rejected("out_of_range", field="index", min=1, max=DIGITAL_INPUTS)
        sim.set_digital_input(command.cp, command.index, command.value)
        await self.settle()

    async def _cmd_analog(self, command: SimAnalog) -> None:
        self._point(command.cp)
        sim = self._sim()
        if not 1 <= command.index <= ANALOG_INPUTS:
            raise Rejected("out_of_range", field="index", min=1, max=ANALOG_INPUTS)
        if not 0 <= command.volts <= 10:
            raise Rejected("out_of_range", field="volts", min=0, max=10)
        sim.set_analog_input(command.cp, command.index, float(command.volts))
        await self.settle()

    async def _cmd_lock_fault(self, command: SimLockFault) -> None:
        self._point(command.cp)
        hardware = self.ctx.hardware
        if not isinstance(hardware, SimulatedBackend):
            raise Rejected("not_simulated")
        hardware.set_lock_fault(command.cp, bool(command.stuck))
        await self.settle()

    async def _cmd_fault(self, command: SimFault) -> None:
        self._point(command.cp)
        sim = self._sim()
        if command.code not in INJECTABLE:
            raise Rejected("bad_choice", field="code", choices=sorted(INJECTABLE))
        sim.inject_fault(command.cp, command.code, command.info[:50])
        await self.settle()

    async def _cmd_clear_fault(self, command: SimClearFault) -> None:
        self._point(command.cp)
        sim = self._sim()
        if self.ctx.hardware.read(command.cp).fault_code == "NoError":
            raise Rejected("no_fault", cp=self._label(command.cp))
        sim.clear_fault(command.cp)
        await self.settle()

    async def _cmd_temperature(self, command: SimTemperature) -> None:
        self._point(command.cp)
        sim = self._sim()
        if command.celsius is not None and not -40 <= command.celsius <= 150:
            raise Rejected("out_of_range", field="celsius", min=-40, max=150)
        sim.set_temperature(command.cp, None if command.celsius is None else float(command.celsius))
        await self.settle()

    async def _cmd_contactor(self, command: SimContactor) -> None:
        self._point(command.cp)
        self._sim().set_contactor_welded(command.cp, command.welded)
        await self.settle()

    async def _cmd_residual(self, command: SimResidual) -> None:
        self._point(command.cp)
        if not 0 <= command.milliamps <= 300:
            raise Rejected("out_of_range", field="milliamps", min=0, max=300)
        self._sim().set_dc_residual(command.cp, command.milliamps)
        await self.settle()

    async def _cmd_overdraw(self, command: SimOverdraw) -> None:
        self._point(command.cp)
        if not 1.0 <= command.factor <= 2.0:
            raise Rejected("out_of_range", field="factor", min=1, max=2)
        if self.ctx.hardware.read(command.cp).vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(command.cp))
        self._sim().set_overdraw(command.cp, command.factor)
        await self.settle()

    async def _cmd_bus(self, command: SimBus) -> None:
        self._point(command.cp)
        self._sim().set_bus_connected(command.cp, command.connected)
        await self.settle()

    async def _cmd_iso_error(self, command: SimIsoError) -> None:
        cp = command.cp
        self._point(cp)
        sim = self._sim()
        if command.error and command.error not in ISO15118_ERRORS:
            raise Rejected("bad_choice", field="error", choices=sorted(ISO15118_ERRORS))
        cfg = self.configs.get(cp)
        if cfg is None or cfg.hlc_mode == "disabled":
            raise Rejected("hlc_disabled", cp=self._label(cp))
        vehicle = self.ctx.hardware.read(cp).vehicle
        if vehicle is None:
            raise Rejected("no_vehicle", cp=self._label(cp))
        if not vehicle.hlc:
            raise Rejected("no_hlc_vehicle", cp=self._label(cp))
        sim.set_hlc_error(cp, command.error)
        await self.settle()
