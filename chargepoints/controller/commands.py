"""Commands the charge point controller handles: operations from the pages and the API, and the
simulator's "what a person does at the charge point"."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigReload(Command):
    """Re-read topology and configuration (after a save, an import, a delete)."""

    name = "config.reload"


@dataclass(frozen=True, slots=True, kw_only=True)
class CpRelease(Command):
    """Allow or prohibit charging (the user's charging release)."""

    name = "cp.release"
    cp: int
    allow: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CpAvailability(Command):
    """Enable or disable a charge point (disabled: state F, charging aborted)."""

    name = "cp.availability"
    cp: int
    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CpUnlock(Command):
    """Enforce unlocking of the socket (charging aborted) or revert it."""

    name = "cp.unlock"
    cp: int
    enforce: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CpUnlockNow(Command):
    """Open the socket's lock once (OCPP UnlockConnector): charging stops, and the socket stays
    unlocked until the vehicle leaves. Answers ``status`` Unlocked, UnlockFailed or NotSupported."""

    name = "cp.unlock_now"
    cp: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CpLock(Command):
    """Lock or unlock the socket of a charge point in the locking mode "Remote control"."""

    name = "cp.lock"
    cp: int
    locked: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CpOutput(Command):
    """Set a digital output (1-based) controlled over the bus (the Modbus server's X302):
    floating, low, high, flashing or pulsating."""

    name = "cp.output"
    cp: int
    index: int
    mode: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CpClearRfid(Command):
    """Forget the last RFID tag read at a charge point (the Modbus server's X308)."""

    name = "cp.clear_rfid"
    cp: int


# --- the simulated hardware --------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class SimPlugIn(Command):
    name = "sim.plug_in"
    cp: int
    phases: int = 3
    max_current_a: float = 16.0
    ventilation: bool = False
    hlc: bool = False
    evcc_id: str = ""
    cable_a: int | None = None  # the cable's current rating (PP); None: a fixed cable


@dataclass(frozen=True, slots=True, kw_only=True)
class SimUnplug(Command):
    name = "sim.unplug"
    cp: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SimVehicle(Command):
    name = "sim.vehicle"
    cp: int
    action: str  # start | pause | finish


@dataclass(frozen=True, slots=True, kw_only=True)
class SimRfid(Command):
    name = "sim.rfid"
    cp: int
    tag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SimInput(Command):
    name = "sim.input"
    cp: int
    index: int
    value: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SimAnalog(Command):
    name = "sim.analog"
    cp: int
    index: int
    volts: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SimFault(Command):
    name = "sim.fault"
    cp: int
    code: str
    info: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimClearFault(Command):
    name = "sim.clear_fault"
    cp: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SimTemperature(Command):
    name = "sim.temperature"
    cp: int
    celsius: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SimIsoError(Command):
    """Make the ISO 15118 communication of the plugged vehicle fail ("" clears the error)."""

    name = "sim.iso_error"
    cp: int
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SimBus(Command):
    """Cut (False) or restore (True) the connection to the head module."""

    name = "sim.bus"
    cp: int
    connected: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SimContactor(Command):
    """A charging contactor that no longer opens (welded), or repaired."""

    name = "sim.contactor"
    cp: int
    welded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SimResidual(Command):
    """A DC residual current in the charging circuit (0 clears it)."""

    name = "sim.residual"
    cp: int
    milliamps: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SimOverdraw(Command):
    """The plugged vehicle draws ``factor`` times the offered current."""

    name = "sim.overdraw"
    cp: int
    factor: float


SIMULATOR_COMMANDS: tuple[type[Command], ...] = (
    SimBus,
    SimContactor,
    SimResidual,
    SimOverdraw,
    SimPlugIn,
    SimUnplug,
    SimVehicle,
    SimRfid,
    SimInput,
    SimAnalog,
    SimFault,
    SimClearFault,
    SimTemperature,
    SimIsoError,
)
