"""The CHARX SEC-3xxx Modbus/TCP register map, as pure code: what each register reads and what a
write means. No I/O, no database access at request time: the server agent (``modbus.agent``)
calls :class:`RegisterView` on every request and :func:`decode_write` on every write; the two
builders :func:`cp_register_config` and :func:`station_info` read the database and run in the
agent's database worker at start and reload.

The map follows ``docs/modbus.md`` (which follows the shared MODBUS.md): 0-based PDU addresses,
station block 100–167, per charge point X100–X123, X232–X299, X300–X308 with X = its start
address. 32/64-bit values big-endian, most-significant word first; ASCII two characters per
register, high byte first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

if TYPE_CHECKING:
    from chargepoints.models import ChargePoint


# --- errors: each carries the Modbus exception code the server answers with --------------------


class ModbusError(Exception):
    """A request the register map refuses; ``exception_code`` is the Modbus exception code."""

    exception_code = 4


class IllegalAddress(ModbusError):
    """Exception 02: an undocumented range, a read-only register written, no such charge point."""

    exception_code = 2


class IllegalValue(ModbusError):
    """Exception 03: a value out of the register's range (all-or-nothing for FC16)."""

    exception_code = 3


class NoLiveState(ModbusError):
    """Exception 04 (server device failure): a charge point's live block was read while the
    runtime has no live state for it (no snapshot yet, or the charge point is not in it)."""

    exception_code = 4


# --- what the map needs that is not live -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CpRegisterConfig:
    """Everything X100–X123 reads (the configuration) plus the configured values X301/X306 read
    before a client wrote them. Codes are the register codes of MODBUS.md 1.3."""

    charging_case: int  # X100: 0 socket outlet (case B), 1 fixed cable / connector (case C)
    max_current_a: int  # X101
    min_current_a: int  # X102
    rcm_configured: int  # X103: 0/1
    temp_lower_c: int  # X104 (signed 16 bit)
    temp_upper_c: int  # X105 (signed 16 bit)
    derating_start_a: int  # X106
    derating_stop_a: int  # X107
    temperature_monitoring: int  # X108: 0 inactive, 1 Pt1000, 2 PTC
    accept_status_d: int  # X109: 0 blocked, 1 allowed
    proximity: int  # X110: 0 IEC 61851-1
    overcurrent_monitoring: int  # X111: 0 off, 1 120 %/10 s, 2 EV/ZE Ready
    meter_type_code: int  # X112 (0 none, 65535 unknown type)
    controller_uid: str  # X113, 6 ASCII characters
    server_uid: str  # X116, 6 ASCII characters
    bus_position: int  # X119
    release_mode_code: int  # X120: 0 Dashboard 1 whitelist 2 remote 3 permanent 4 OCPP 5 Modbus
    release_mode: str = ""  # our ReleaseMode value, for the agent's write rules
    locking_remote: bool = False  # locking mode "Remote control": X303 writes take effect
    fallback_current_a: int = 6  # what X306 reads before a client wrote it


def cp_register_config(chargepoint: ChargePoint) -> CpRegisterConfig:
    """The register configuration of one charge point from its model and ``config`` (one query
    if ``config`` and ``station`` are selected with it). Runs in the agent's database worker."""
    raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class StationInfo:
    """The station block's values that are not live: read at start and on reload."""

    designation: str  # 100, 20 ASCII characters
    software_version: str  # 110, 8 ASCII characters
    controller_count: int  # 114: charge points in the group (the park)
    mac_eth0: str = ""  # "aa:bb:cc:dd:ee:ff"; "" reads zeros
    mac_eth1: str = ""
    ip_eth0: str = ""  # dotted quad; "" reads zeros
    ip_eth1: str = ""
    subnet_eth0: str = ""
    subnet_eth1: str = ""
    modem_registration: int = 4  # 145: 4 unknown (no modem)
    modem_signal: int = 0  # 146: 0 unknown


def station_info() -> StationInfo:
    """The station block from the database (server station, network interfaces, modem, the
    project's version). Runs in the agent's database worker at start and reload."""
    raise NotImplementedError


# --- what clients wrote: owned and updated by the agent -----------------------------------


@dataclass(slots=True, kw_only=True)
class ControlState:
    """X300–X308 of one charge point as they read back. ``None`` in a field means "not written
    since the server started": the register then reads the live or configured value (see
    :meth:`RegisterView.read`). The agent updates these on writes it accepted."""

    release: int | None = None  # X300; None reads the live release (1/0)
    current_limit_a: int | None = None  # X301 as last written; None reads the configured maximum
    outputs: int = 0  # X302 word as last written
    locked: int | None = None  # X303; None reads the live lock state
    available: int | None = None  # X304; None reads the live availability (enabled, not F)
    force_unlock: int = 0  # X305: 1 while a forced unlock is in progress
    watchdog_fallback_a: int | None = None  # X306; None reads the configured fallback current
    watchdog_timer_s: int = 65535  # X307; 65535 = off


@dataclass(slots=True, kw_only=True)
class StationControl:
    """The station's writable registers as they read back."""

    group_available: int = 1  # 164
    dynamic_current_a: int = 65535  # 167; 65535 = no dynamic cap


# --- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetRelease:
    cp: int  # charge point id
    on: bool


@dataclass(frozen=True, slots=True)
class SetCurrentLimit:
    """X301. ``amps`` 6–80 sets the limit; ``amps`` 0 (a written value outside 6–80) withdraws
    the release in every mode and reads back as 0 (``written`` is the raw value)."""

    cp: int
    amps: int
    written: int


@dataclass(frozen=True, slots=True)
class SetOutputs:
    cp: int
    word: int


@dataclass(frozen=True, slots=True)
class SetLock:
    cp: int
    locked: bool


@dataclass(frozen=True, slots=True)
class SetAvailability:
    cp: int
    available: bool


@dataclass(frozen=True, slots=True)
class ForceUnlock:
    cp: int


@dataclass(frozen=True, slots=True)
class SetWatchdogFallback:
    cp: int
    amps: int


@dataclass(frozen=True, slots=True)
class SetWatchdogTimer:
    """X307: ``seconds`` None = 65535 = off."""

    cp: int
    seconds: int | None


@dataclass(frozen=True, slots=True)
class ClearRfid:
    cp: int


@dataclass(frozen=True, slots=True)
class SetGroupAvailability:
    on: bool


@dataclass(frozen=True, slots=True)
class RestartServer:
    pass


@dataclass(frozen=True, slots=True)
class RestartGroup:
    pass


@dataclass(frozen=True, slots=True)
class SetDynamicCurrent:
    """167: ``amps`` None = 65535 = no dynamic cap."""

    amps: int | None


WriteIntent = (
    SetRelease
    | SetCurrentLimit
    | SetOutputs
    | SetLock
    | SetAvailability
    | ForceUnlock
    | SetWatchdogFallback
    | SetWatchdogTimer
    | ClearRfid
    | SetGroupAvailability
    | RestartServer
    | RestartGroup
    | SetDynamicCurrent
)


def decode_write(address: int, values: list[int], *, addresses: Mapping[int, int]) -> list[WriteIntent]:
    """What a write of ``values`` (16-bit words) from ``address`` on means, one intent per
    register, in address order. All or nothing: raises :class:`IllegalAddress` if any register
    is read-only or undocumented, :class:`IllegalValue` if any value is out of range. Does not
    apply the release-mode rules (the agent does). ``addresses``: charge point id → start X."""
    raise NotImplementedError


# --- reads ----------------------------------------------------------------------------------


def iec_status_word(cp: ChargePointState) -> int:
    """X299: the two-letter IEC 61851-1 status (A1…F0), high byte first; never 0x0000."""
    raise NotImplementedError


def error_bitmask(cp: ChargePointState) -> int:
    """X293–X294: the 32-bit error bitmask of MODBUS.md 1.4 from the live state."""
    raise NotImplementedError


class RegisterView:
    """The whole register map over one set of configuration, read against the snapshot of the
    moment. Build one at start and on reload; call :meth:`read` on every FC03/FC04 request.

    The control objects are the agent's: it mutates them on writes, the view reads them live.
    The status block of each charge point is encoded once per live state object and cached.
    """

    def __init__(
        self,
        *,
        station: StationInfo,
        configs: Mapping[int, CpRegisterConfig],
        controls: Mapping[int, ControlState],
        station_control: StationControl,
        addresses: Mapping[int, int],
    ) -> None:
        self.station = station
        self.configs = configs
        self.controls = controls
        self.station_control = station_control
        self.addresses = addresses

    def read(self, address: int, count: int, snapshot: ParkSnapshot | None) -> list[int]:
        """``count`` registers from ``address`` as 16-bit unsigned ints. Raises
        :class:`IllegalAddress` for a read touching an undocumented range or an address of no
        charge point, :class:`NoLiveState` for a live block without live state."""
        raise NotImplementedError


def read_registers(
    address: int,
    count: int,
    *,
    snapshot: ParkSnapshot | None,
    station: StationInfo,
    configs: Mapping[int, CpRegisterConfig],
    controls: Mapping[int, ControlState],
    station_control: StationControl,
    addresses: Mapping[int, int],
) -> list[int]:
    """One-off :meth:`RegisterView.read` without the cache (tests, tools)."""
    view = RegisterView(
        station=station, configs=configs, controls=controls, station_control=station_control, addresses=addresses
    )
    return view.read(address, count, snapshot)
