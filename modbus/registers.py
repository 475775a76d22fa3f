"""The CHARX SEC-3xxx Modbus/TCP register map, as pure code: what each register reads and what a
write means. No I/O at request time: the server agent (``modbus.agent``) calls
:meth:`RegisterView.read` on every FC03/FC04 request and :func:`decode_write` on every write; the
builders :func:`cp_register_configs` / :func:`cp_register_config` and :func:`station_info` read
the database and run in the agent's database worker at start and reload.

The map and every decision on what the sources leave open are in ``docs/modbus.md`` (it follows
the shared MODBUS.md): 0-based PDU addresses, station block 100–167, per charge point X100–X123,
X232–X299 and X300–X308 with X its start address. 32/64-bit values big-endian, most significant
word first; ASCII two characters per register, high byte first, padded with spaces.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modbus import encoding as enc
from wbm.runtime.claims import Source, Verdict
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

if TYPE_CHECKING:
    from chargepoints.models import ChargePoint, ChargePointConfig


# --- errors: each carries the Modbus exception code the server answers with --------------------


class ModbusError(Exception):
    """A request the register map refuses; ``exception_code`` is the Modbus exception code."""

    exception_code = 4


class IllegalAddress(ModbusError):
    """Exception 02: an undocumented range, a read-only register written, no such charge point."""

    exception_code = 2


class IllegalValue(ModbusError):
    """Exception 03: a value out of the register's range (all-or-nothing for FC16), or a
    register count out of 1–125."""

    exception_code = 3


class NoLiveState(ModbusError):
    """Exception 04 (server device failure): a charge point's status block was read while the
    runtime has no live state for it (no snapshot yet, or the charge point is not in it)."""

    exception_code = 4


# --- layout -----------------------------------------------------------------------------------

STEP = 1000  # one block per charge point: X000 … X999
STATION_FIRST, STATION_END = 100, 168  # 100 … 167
CONFIG_FIRST, CONFIG_END = 100, 124  # X100 … X123
STATUS_FIRST, STATUS_END = 232, 300  # X232 … X299
CONTROL_FIRST, CONTROL_END = 300, 309  # X300 … X308
MAX_READ = 125  # registers per FC03/FC04 request (Modbus application protocol)

UNKNOWN_CURRENT_MA = -1  # phase current not known: reads 0xFFFF 0xFFFF
NO_DYNAMIC_CURRENT = 65535  # 167: no dynamic cap
WATCHDOG_OFF = 65535  # X307
CONTROL_MIN_A, CONTROL_MAX_A = 6, 80  # X301 / X306 range (MODBUS.md 1.3)

# our choice values → register codes (MODBUS.md 1.3); docs/modbus.md says why for the ones
# without a code of their own
RELEASE_MODE_CODES = {
    "dashboard": 0,
    "whitelist": 1,
    "remote": 2,
    "permanent": 3,
    "ocpp": 4,
    "modbus": 5,
}
METER_TYPE_CODES = {
    "": 0,
    "eem_350": 1,
    "eem_em357": 2,
    "cg_em24": 3,
    "eem_em357_ee": 4,
    "cg_em340": 6,
    "iskra_wm3m4": 11,
    "inepro_pro380": 12,
    # no code of their own in any source: the code of their family, so clients see a meter
    "eem_dm357": 2,
    "eem_dm357_70": 2,
    "eem_em157_ee": 4,
    "eem_am157_ee": 4,
    "cg_em111": 6,
}
METER_TYPE_UNKNOWN = 65535
TEMPERATURE_MONITORING_CODES = {"": 0, "pt1000": 1, "ptc": 2}
OVERCURRENT_CODES = {"shutdown": 1, "ev_ze_ready": 2}  # 0: off (no meter: nothing to monitor)
OUTPUT_MODE_CODES = {"floating": 0, "low": 1, "high": 2, "flashing": 3, "pulsating": 4, "pulsatile": 4}
MODEM_UNKNOWN_REGISTRATION = 4
MODEM_UNKNOWN_SIGNAL = 0
DEFAULT_DESIGNATION = "CHARX SEC-3100"


# --- what the map needs that is not live -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CpRegisterConfig:
    """Everything X100–X123 reads (the configuration), plus what the control block and the
    group currents need of it. Codes are the register codes of MODBUS.md 1.3."""

    charging_case: int  # X100: 0 socket outlet (case B), 1 fixed cable / connector (case C)
    max_current_a: int  # X101; also what X301 reads before a client wrote it
    min_current_a: int  # X102
    rcm_configured: int  # X103: 0/1 (DC residual current monitoring)
    temp_lower_c: int  # X104 (signed 16 bit): derating start temperature
    temp_upper_c: int  # X105 (signed 16 bit): derating stop temperature
    derating_start_a: int  # X106
    derating_stop_a: int  # X107
    temperature_monitoring: int  # X108: 0 inactive, 1 Pt1000, 2 PTC
    accept_status_d: int  # X109: 0 blocked, 1 allowed
    proximity: int  # X110: 0 IEC 61851-1
    overcurrent_monitoring: int  # X111: 0 off, 1 120 %/10 s, 2 EV/ZE Ready
    meter_type_code: int  # X112 (0 none, 65535 unknown type)
    controller_uid: str  # X113, 6 ASCII characters
    server_uid: str  # X116, 6 ASCII characters
    bus_position: int  # X119: backplane position on its station's local bus
    release_mode_code: int  # X120: 0 Dashboard 1 whitelist 2 remote 3 permanent 4 OCPP 5 Modbus
    release_mode: str = ""  # our ReleaseMode value, for the agent's write rules
    locking_remote: bool = False  # locking mode "Remote control": X303 writes take effect
    fallback_current_a: int = 6  # what X306 reads before a client wrote it
    phase_rotation: str = ""  # "" not set, else e.g. "L2L3L1": the grid phase of L1, L2, L3

    def words(self) -> tuple[int, ...]:
        """X100–X123, 24 words."""
        return (
            enc.u16(self.charging_case),
            enc.u16(self.max_current_a),
            enc.u16(self.min_current_a),
            enc.u16(self.rcm_configured),
            enc.s16(self.temp_lower_c),
            enc.s16(self.temp_upper_c),
            enc.u16(self.derating_start_a),
            enc.u16(self.derating_stop_a),
            enc.u16(self.temperature_monitoring),
            enc.u16(self.accept_status_d),
            enc.u16(self.proximity),
            enc.u16(self.overcurrent_monitoring),
            enc.u16(self.meter_type_code),
            *enc.ascii_words(self.controller_uid, 3),
            *enc.ascii_words(self.server_uid, 3),
            enc.u16(self.bus_position),
            enc.u16(self.release_mode_code),
            0,  # X121–X123: RFID UID, a placeholder that reads 0 (MODBUS.md)
            0,
            0,
        )


def _uid6(uid: str) -> str:
    """The 6 characters of a UID the registers have room for: its last six (the device UIDs of
    a series share their leading digits)."""
    return uid[-6:].upper()


def cp_register_config(chargepoint: ChargePoint, *, server_uid: str = "") -> CpRegisterConfig:
    """The register configuration of one charge point from its model and ``config``; a charge
    point without a configuration reads the configuration's defaults (release mode Dashboard,
    no meter). ``server_uid``: the device UID of the server station's head module (see
    :func:`cp_register_configs`, which finds it)."""
    from chargepoints.models import ChargePointConfig

    config: ChargePointConfig
    try:
        config = chargepoint.config
    except ChargePointConfig.DoesNotExist:
        config = ChargePointConfig(chargepoint=chargepoint)
    has_meter = bool(config.meter_type)
    return CpRegisterConfig(
        charging_case=1 if config.connection_type == "connector" else 0,
        max_current_a=config.current_max_a,
        min_current_a=config.current_min_a,
        rcm_configured=int(config.dc_residual_monitoring),
        temp_lower_c=config.derating_start_temp_c,
        temp_upper_c=config.derating_stop_temp_c,
        derating_start_a=config.derating_start_current_a,
        derating_stop_a=config.derating_stop_current_a,
        temperature_monitoring=TEMPERATURE_MONITORING_CODES.get(config.derating_sensor, 0),
        accept_status_d=int(config.status_d_rejection == "accept"),
        proximity=0,
        overcurrent_monitoring=OVERCURRENT_CODES.get(config.overcurrent_detection, 0) if has_meter else 0,
        meter_type_code=METER_TYPE_CODES.get(config.meter_type, METER_TYPE_UNKNOWN),
        controller_uid=_uid6(config.controller_uid or chargepoint.device_uid),
        server_uid=_uid6(server_uid),
        bus_position=chargepoint.position,
        release_mode_code=RELEASE_MODE_CODES.get(config.release_mode, 0),
        release_mode=config.release_mode,
        locking_remote=config.locking_mode == "remote",
        fallback_current_a=config.fallback_current_a,
        phase_rotation=config.phase_rotation,
    )


def _server_head_uid() -> str:
    """The device UID of the server station's head module (its charge point at the lowest
    position); "" when there is no server station."""
    from chargepoints.choices import ModuleKind
    from chargepoints.models import ChargePoint

    head = (
        ChargePoint.objects.filter(station__kind=ModuleKind.SERVER)
        .order_by("station_id", "position")
        .values_list("device_uid", flat=True)
        .first()
    )
    return head or ""


def cp_register_configs(chargepoint_ids: Iterable[int] | None = None) -> dict[int, CpRegisterConfig]:
    """Charge point id → register configuration, for the given charge points (all when None),
    in two queries. Runs in the agent's database worker at start and reload."""
    from chargepoints.models import ChargePoint

    rows = ChargePoint.objects.select_related("config")
    if chargepoint_ids is not None:
        rows = rows.filter(pk__in=list(chargepoint_ids))
    server_uid = _server_head_uid()
    return {cp.pk: cp_register_config(cp, server_uid=server_uid) for cp in rows}


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
    modem_registration: int = MODEM_UNKNOWN_REGISTRATION  # 145: 4 unknown (no modem)
    modem_signal: int = MODEM_UNKNOWN_SIGNAL  # 146: 0 unknown

    def words(self) -> tuple[int, ...]:
        """100–146, 47 words (the static part of the station block)."""
        return (
            *enc.ascii_words(self.designation, 10),
            *enc.ascii_words(self.software_version, 4),
            enc.u16(self.controller_count),
            *enc.mac_words(self.mac_eth0),
            *enc.mac_words(self.mac_eth1),
            *enc.ipv4_words(self.ip_eth0),
            *enc.ipv4_words(self.ip_eth1),
            *enc.ipv4_words(self.subnet_eth0),
            *enc.ipv4_words(self.subnet_eth1),
            *(0,) * 8,  # 137–144: default gateways ETH0/ETH1, placeholders that read 0 (MODBUS.md)
            enc.u16(self.modem_registration),
            enc.u16(self.modem_signal),
        )


def software_version() -> str:
    """The project's version (pyproject.toml ``[project] version``), "" when unreadable."""
    import tomllib

    from django.conf import settings

    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


def _netmask_of(ip: str) -> str:
    """The netmask of this machine's interface that has ``ip``, "" when none has it."""
    import socket

    import psutil

    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and a.address == ip:
                return a.netmask or ""
    return ""


def station_info() -> StationInfo:
    """The station block from the database: ETH0 is the server station's head module (its IP
    and MAC; the netmask of this machine's interface with that IP, else zeros); ETH1 (the
    group's internal network) is not modelled and reads zeros; there is no modem (145 = 4
    unknown, 146 = 0 unknown). Runs in the agent's database worker at start and reload."""
    from chargepoints.choices import ModuleKind
    from chargepoints.models import ChargePoint, Station

    server = Station.objects.filter(kind=ModuleKind.SERVER).order_by("id").first()
    designation = DEFAULT_DESIGNATION
    ip = mac = ""
    if server is not None:
        ip, mac = server.head_ip or "", server.head_mac or ""
        head = server.chargepoints.order_by("position").values_list("device_name", flat=True).first()
        designation = head or DEFAULT_DESIGNATION
    return StationInfo(
        designation=designation,
        software_version=software_version(),
        controller_count=ChargePoint.objects.count(),
        mac_eth0=mac,
        ip_eth0=ip,
        subnet_eth0=_netmask_of(ip) if ip else "",
    )


# --- what clients wrote: owned and updated by the agent -----------------------------------


@dataclass(slots=True, kw_only=True)
class ControlState:
    """X300–X308 of one charge point as they read back. ``None`` in a field means "not written
    since the server started": the register then reads the live or configured value (see
    docs/modbus.md). The agent updates these on writes it accepted, and keeps the objects
    across reloads (the view keeps its "last seen" memory in them too)."""

    release: int | None = None  # X300; None reads the live release (1/0)
    current_limit_a: int | None = None  # X301 as last written; None reads the configured maximum
    outputs: int | None = None  # X302 word as last written; None reads the live output modes
    locked: int | None = None  # X303; None reads the live lock state
    available: int | None = None  # X304; None reads the live availability (enabled)
    force_unlock: int = 0  # X305: 1 while a forced unlock is in progress (the agent clears it)
    watchdog_fallback_a: int | None = None  # X306; None reads the configured fallback current
    watchdog_timer_s: int = WATCHDOG_OFF  # X307; 65535 = off
    # the view's memory of "last" values (X265, X275) and of the meter (X250 during a meter fault)
    last_evcc_id: str = ""
    last_rfid: str = ""
    rfid_cleared: str = ""  # the tag X308 cleared: not shown again until another one comes
    last_energy_wh: int = 0

    def clear_rfid(self) -> None:
        """X308: forget the last RFID tag (X275 reads spaces until another tag is presented)."""
        if self.last_rfid:
            self.rfid_cleared = self.last_rfid
        self.last_rfid = ""

    def observe(self, cp: ChargePointState) -> None:
        """Remember the "last" values of a live state."""
        evcc_id = (cp.iso15118.evcc_id if cp.iso15118 else "") or (cp.vehicle.evcc_id if cp.vehicle else "")
        if evcc_id:
            self.last_evcc_id = evcc_id
        tag = cp.rfid
        if not tag:
            self.rfid_cleared = ""  # the cleared tag left: when it comes again, it shows
        elif tag != self.rfid_cleared:
            self.last_rfid = tag
        if cp.meter is not None:
            self.last_energy_wh = int(cp.meter.energy_wh)


@dataclass(slots=True, kw_only=True)
class StationControl:
    """The station's writable registers as they read back (the agent updates them)."""

    group_available: int = 1  # 164
    dynamic_current_a: int = NO_DYNAMIC_CURRENT  # 167; 65535 = no dynamic cap


# --- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetRelease:
    """X300 (and FC05 on X300): 1 allow, 0 withdraw. Takes effect in release mode Modbus only."""

    cp: int  # charge point id
    on: bool


@dataclass(frozen=True, slots=True)
class SetCurrentLimit:
    """X301. ``amps`` 6–80 sets the limit; any other written value withdraws the release in
    every mode: ``amps`` is then 0 and X301 reads 0 (``written`` is the raw value, for the
    record)."""

    cp: int
    amps: int
    written: int


@dataclass(frozen=True, slots=True)
class SetOutputs:
    """X302: four bits per output (output 1 = bits 3–0), each 0–4."""

    cp: int
    word: int


@dataclass(frozen=True, slots=True)
class SetLock:
    """X303 (and FC05 on X303): takes effect in locking mode "Remote control" only."""

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
    """X306: 6–80 A, or 0 (the release is withdrawn when the watchdog runs out)."""

    cp: int
    amps: int


@dataclass(frozen=True, slots=True)
class SetWatchdogTimer:
    """X307: ``seconds`` 1–65534; None = off (65535 written, or 0)."""

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
    """167: ``amps`` 0–65534; None = 65535 = no dynamic cap."""

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


def _bit(address: int, value: int) -> bool:
    if value not in (0, 1):
        raise IllegalValue(f"register {address}: {value} is not 0 or 1")
    return value == 1


def _trigger(address: int, value: int) -> bool:
    """A write-1 register: 1 triggers, 0 does nothing (so a block write may include it)."""
    return _bit(address, value)


def _station_write(address: int, value: int) -> WriteIntent | None:
    if address == 164:
        return SetGroupAvailability(_bit(address, value))
    if address == 165:
        return RestartServer() if _trigger(address, value) else None
    if address == 166:
        return RestartGroup() if _trigger(address, value) else None
    if address == 167:
        return SetDynamicCurrent(None if value == NO_DYNAMIC_CURRENT else value)
    if STATION_FIRST <= address < STATION_END:
        raise IllegalAddress(f"register {address} is read-only")
    raise IllegalAddress(f"register {address} is not in the map")


def _cp_write(cp: int, offset: int, address: int, value: int) -> WriteIntent | None:
    if offset == 300:
        return SetRelease(cp, _bit(address, value))
    if offset == 301:
        in_range = CONTROL_MIN_A <= value <= CONTROL_MAX_A
        return SetCurrentLimit(cp, value if in_range else 0, value)
    if offset == 302:
        if any((value >> shift) & 0xF > 4 for shift in (0, 4, 8, 12)):
            raise IllegalValue(f"register {address}: {value:#06x} has an output mode above 4")
        return SetOutputs(cp, value)
    if offset == 303:
        return SetLock(cp, _bit(address, value))
    if offset == 304:
        return SetAvailability(cp, _bit(address, value))
    if offset == 305:
        return ForceUnlock(cp) if _trigger(address, value) else None
    if offset == 306:
        if value != 0 and not CONTROL_MIN_A <= value <= CONTROL_MAX_A:
            raise IllegalValue(f"register {address}: {value} A is not 0 or 6–80")
        return SetWatchdogFallback(cp, value)
    if offset == 307:
        return SetWatchdogTimer(cp, None if value in (0, WATCHDOG_OFF) else value)
    if offset == 308:
        return ClearRfid(cp) if value > 0 else None
    if CONFIG_FIRST <= offset < CONFIG_END or STATUS_FIRST <= offset < STATUS_END:
        raise IllegalAddress(f"register {address} is read-only")
    raise IllegalAddress(f"register {address} is not in the map")


def decode_write(address: int, values: list[int], *, addresses: Mapping[int, int]) -> list[WriteIntent]:
    """What a write of ``values`` (16-bit words) from ``address`` on means, one intent per
    register in address order (a trigger register written 0 gives none). All or nothing:
    raises :class:`IllegalAddress` if any register is read-only, undocumented or of no charge
    point, :class:`IllegalValue` if any value is out of range. The release-mode rules are the
    agent's. FC05 (coil) writes on X300/X303 come here as 0/1. ``addresses``: charge point id →
    start address X."""
    if not values:
        raise IllegalValue("nothing to write")
    by_base = {start: cp for cp, start in addresses.items()}
    intents: list[WriteIntent] = []
    for i, value in enumerate(values):
        if not 0 <= value <= enc.U16_MAX:
            raise IllegalValue(f"register {address + i}: {value} is not a 16-bit value")
        a = address + i
        if a < STEP:
            intent = _station_write(a, value)
        else:
            base = a - a % STEP
            cp = by_base.get(base)
            if cp is None:
                raise IllegalAddress(f"register {a}: no charge point starts at {base}")
            intent = _cp_write(cp, a - base, a, value)
        if intent is not None:
            intents.append(intent)
    return intents


# --- reads ----------------------------------------------------------------------------------


def _status_code(text: str) -> int:
    return (ord(text[0]) << 8) | ord(text[1])


_IEC_WORDS = {(letter, pwm): _status_code(letter + ("2" if pwm else "1")) for letter in "ABCD" for pwm in (False, True)}
E0, F0, IN = _status_code("E0"), _status_code("F0"), _status_code("IN")
C2_WORDS = frozenset({_IEC_WORDS[("C", True)], _IEC_WORDS[("D", True)]})


def iec_status_word(cp: ChargePointState) -> int:
    """X299: the two-letter IEC 61851-1 status, high byte first; never 0x0000. A–D with digit 2
    while the PWM offers current, 1 when it does not; E0, F0; "IN" (initialising) for a state
    the hardware has not reported yet."""
    letter = cp.iec_state[:1]
    if letter in ("A", "B", "C", "D"):
        return _IEC_WORDS[(letter, cp.pwm_limit_a > 0)]
    if letter == "E":
        return E0
    if letter == "F":
        return F0
    return IN


# X293–X294 bits (MODBUS.md 1.4, 0-based)
BIT_TEMPERATURE_HIGH = 1 << 0
BIT_DERATING = 1 << 1
BIT_CONFIGURATION = 1 << 3
BIT_LOAD_MANAGEMENT_PAUSED = 1 << 4
BIT_RFID_READER = 1 << 6
BIT_REJECTED_20A_13A = 1 << 16
BIT_REJECTED_13A = 1 << 17
BIT_PP = 1 << 18
BIT_CP = 1 << 19
BIT_VEHICLE = 1 << 20
BIT_LOCKING = 1 << 21
BIT_LOCK_RELEASE = 1 << 22
BIT_OVERCURRENT = 1 << 24
BIT_METER = 1 << 25
BIT_STATUS_D = 1 << 26
BIT_CONTACTOR = 1 << 27
BIT_POWER_SUPPLY = 1 << 29
BIT_RESIDUAL_CURRENT = 1 << 30

# OCPP error codes with a bit of their own; any other fault reads BIT_VEHICLE ("status F")
_ERROR_CODE_BITS = {
    "HighTemperature": BIT_TEMPERATURE_HIGH,
    "ReaderFailure": BIT_RFID_READER,
    "EVCommunicationError": BIT_VEHICLE,
    "ConnectorLockFailure": BIT_LOCKING,
    "OverCurrentFailure": BIT_OVERCURRENT,
    "PowerMeterFailure": BIT_METER,
    "PowerSwitchFailure": BIT_CONTACTOR,
    "OverVoltage": BIT_POWER_SUPPLY,
    "UnderVoltage": BIT_POWER_SUPPLY,
    "GroundFailure": BIT_RESIDUAL_CURRENT,
}
# fault infos and block reasons (chargepoints.controller.monitoring, wbm.runtime.reasons)
_INFO_BITS = {
    "ventilation_rejected": BIT_STATUS_D,
    "hlc_required": BIT_VEHICLE,
    "contactor_welded": BIT_CONTACTOR,
    "dc_residual_current": BIT_RESIDUAL_CURRENT,
    "overcurrent": BIT_OVERCURRENT,
    "ev_ze_ready": BIT_OVERCURRENT,
    "derating": BIT_DERATING,
}
_NO_FAULT = ("NoError", "WeakSignal", "LocalListConflict")  # not a charge point error


def _rejection_bit(cp: ChargePointState) -> int:
    cable = cp.vehicle.cable_a if cp.vehicle is not None else None
    if cable is None:
        return BIT_PP  # a rejection without a cable rating: the PP reading is the problem
    return BIT_REJECTED_13A if cable <= 13 else BIT_REJECTED_20A_13A


def error_bitmask(cp: ChargePointState) -> int:
    """X293–X294: the 32-bit error bitmask of MODBUS.md 1.4 from the live state: the OCPP error
    code, the fault info, and what the decision says (derating, load management pausing, a
    monitoring block). docs/modbus.md has the table."""
    bits = 0
    code = cp.error_code
    if code not in _NO_FAULT:
        bits |= _ERROR_CODE_BITS.get(code, 0)
    for key in (cp.error_info, cp.decision.block_reason, cp.decision.binding_key):
        if key == "plug_rejected":
            bits |= _rejection_bit(cp)
        else:
            bits |= _INFO_BITS.get(key, 0)
    if code not in _NO_FAULT and not bits:
        bits = BIT_VEHICLE  # a fault with no bit of its own: "vehicle error / status F"
    decision = cp.decision
    if decision.binding == Source.SAFETY and decision.binding_key == "derating" and decision.cap_a == 0:
        bits |= BIT_TEMPERATURE_HIGH  # derated to nothing: the stop temperature is reached
    if decision.verdict == Verdict.BELOW_MINIMUM and (
        decision.binding == Source.LOAD_MANAGEMENT
        or (decision.binding == Source.FALLBACK and decision.lapsed == Source.LOAD_MANAGEMENT)
    ):
        bits |= BIT_LOAD_MANAGEMENT_PAUSED
    if cp.iec_state == "E":
        bits |= BIT_CP
    if cp.unlock_enforced and code == "ConnectorLockFailure":
        bits = (bits & ~BIT_LOCKING) | BIT_LOCK_RELEASE
    return bits


def pwm_duty_percent(amps: float) -> int:
    """X296: the IEC 61851-1 duty cycle that signals ``amps`` (6–51 A: A / 0.6; 51–80 A:
    A / 2.5 + 64)."""
    if amps <= 51:
        return round(amps / 0.6)
    return min(round(amps / 2.5 + 64), 97)


def _duty(cp: ChargePointState) -> int:
    """X296: the duty cycle of the offered current; 100 (constant level, no PWM) when nothing
    is offered, 0 in E and F (the pilot is held at -12 V)."""
    if cp.iec_state in ("E", "F"):
        return 0
    if cp.pwm_limit_a <= 0:
        return 100
    return pwm_duty_percent(cp.pwm_limit_a)


def _outputs_word(modes: tuple[str, ...]) -> int:
    word = 0
    for i, mode in enumerate(modes[:4]):
        word |= OUTPUT_MODE_CODES.get(mode, 0) << (4 * i)
    return word


def _inputs_word(levels: tuple[bool, ...]) -> int:
    word = 0
    for i, level in enumerate(levels[:16]):
        if level:
            word |= 1 << i
    return word


def _mwatt(value: float) -> int:
    return round(value * 1000)


def status_words(cp: ChargePointState, config: CpRegisterConfig, control: ControlState) -> list[int]:
    """X232–X299, 68 words, of one live state (``control`` holds the "last" memory)."""
    meter = cp.meter
    words: list[int] = []
    add = words.extend
    if meter is not None:
        volts, amps = meter.voltages_v, meter.currents_a
        add(enc.u32(_mwatt(volts[0])) + enc.u32(_mwatt(volts[1])) + enc.u32(_mwatt(volts[2])))
        add(enc.s32(_mwatt(amps[0])) + enc.s32(_mwatt(amps[1])) + enc.s32(_mwatt(amps[2])))
        apparent = sum(u * i for u, i in zip(volts, amps, strict=True))
        active = max(meter.power_w, 0.0)
        reactive = math.sqrt(max(apparent * apparent - active * active, 0.0))
        add(enc.u32(_mwatt(active)) + enc.s32(_mwatt(reactive)) + enc.u32(_mwatt(max(apparent, active))))
        energy = int(meter.energy_wh)
    else:  # no meter, or it does not answer: currents unknown, nothing measured
        add((0,) * 6)
        add(enc.s32(UNKNOWN_CURRENT_MA) * 3)
        add((0,) * 6)
        energy = control.last_energy_wh if cp.meter_configured else 0
    add(enc.u64(energy))
    add((0,) * 8)  # X254 reactive energy, X258 apparent energy: not measured
    add((0,) * 3)  # X262 SOC kWh, X264 SOC %: placeholders (MODBUS.md)
    add(enc.ascii_words(control.last_evcc_id, 10))
    add(enc.ascii_words(control.last_rfid, 10))
    add(enc.u32(cp.plugin_s if cp.vehicle is not None else 0))
    add(enc.u32(cp.charging_s if cp.vehicle is not None else 0))
    add(enc.u64(int(cp.session_energy_wh or 0)))
    add(enc.u32(error_bitmask(cp)))
    cable = 0
    if cp.vehicle is not None:
        cable = cp.vehicle.cable_a if cp.vehicle.cable_a is not None else config.max_current_a
    add(
        (
            _inputs_word(cp.digital_inputs),
            _duty(cp),
            enc.u16(round(cp.pwm_limit_a)),
            enc.u16(cable),
            iec_status_word(cp),
        )
    )
    return words


def control_words(cp: ChargePointState | None, config: CpRegisterConfig, control: ControlState) -> list[int]:
    """X300–X308, 9 words: what was written, else the live or configured value."""
    release = control.release if control.release is not None else int(cp.release) if cp else 0
    outputs = control.outputs if control.outputs is not None else _outputs_word(cp.digital_outputs) if cp else 0
    locked = control.locked if control.locked is not None else int(cp.locked) if cp else 0
    available = control.available if control.available is not None else int(cp.enabled) if cp else 1
    limit = control.current_limit_a if control.current_limit_a is not None else config.max_current_a
    fallback = control.watchdog_fallback_a if control.watchdog_fallback_a is not None else config.fallback_current_a
    return [
        enc.u16(release),
        enc.u16(limit),
        enc.u16(outputs),
        enc.u16(locked),
        enc.u16(available),
        enc.u16(control.force_unlock),
        enc.u16(fallback),
        enc.u16(control.watchdog_timer_s),
        0,  # X308: a trigger, reads 0
    ]


_ROTATIONS = {
    rotation: tuple(int(rotation[i + 1]) - 1 for i in range(0, 6, 2))
    for rotation in ("L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3")
}


def group_words(chargepoints: Iterable[ChargePointState], configs: Mapping[int, CpRegisterConfig]) -> tuple[int, ...]:
    """147–163, 17 words: counts, powers and grid-phase currents over the group's live states.
    The grid currents are known when at least one charge point is metered and every metered one
    has its phase rotation set; otherwise all three read -1."""
    non_critical = ef = a = bcd = charging = 0
    active = reactive = apparent = 0.0
    grid = [0.0, 0.0, 0.0]
    rotation_known = True
    metered = 0
    for cp in chargepoints:
        word = iec_status_word(cp)
        letter = word >> 8
        if letter in (0x45, 0x46):  # E, F
            ef += 1
        elif letter == 0x41:  # A
            a += 1
        elif letter in (0x42, 0x43, 0x44):  # B, C, D
            bcd += 1
            if word in C2_WORDS:
                charging += 1
        if letter not in (0x45, 0x46) and error_bitmask(cp):
            non_critical += 1
        meter = cp.meter
        if meter is None:
            continue
        metered += 1
        s = sum(u * i for u, i in zip(meter.voltages_v, meter.currents_a, strict=True))
        p = max(meter.power_w, 0.0)
        active += p
        apparent += max(s, p)
        reactive += math.sqrt(max(s * s - p * p, 0.0))
        config = configs.get(cp.id)
        order = _ROTATIONS.get(config.phase_rotation if config else "")
        if order is None:
            rotation_known = False
            continue
        for phase, amps in zip(order, meter.currents_a, strict=True):
            grid[phase] += amps
    currents = (
        tuple(w for amps in grid for w in enc.s32(_mwatt(amps)))
        if rotation_known and metered
        else enc.s32(UNKNOWN_CURRENT_MA) * 3
    )
    return (
        enc.u16(non_critical),
        enc.u16(ef),
        enc.u16(a),
        enc.u16(bcd),
        enc.u16(charging),
        *enc.u32(_mwatt(active)),
        *enc.s32(_mwatt(reactive)),
        *enc.u32(_mwatt(apparent)),
        *currents,
    )


class RegisterView:
    """The whole register map over one set of configuration, read against the snapshot of the
    moment. Build one at start and on reload; call :meth:`read` on every FC03/FC04 request.

    The control objects are the agent's: it mutates them on writes, the view reads them at
    every request. The status block of each charge point is encoded once per live state object
    (a frozen dataclass: same object, same words) and cached; the group part of the station
    block once per snapshot.
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
        self._by_base = {start: cp for cp, start in addresses.items() if cp in configs}
        self._station_words = station.words()
        self._config_words = {cp: configs[cp].words() for cp in self._by_base.values()}
        self._status: dict[int, tuple[ChargePointState, str, list[int]]] = {}
        self._group: tuple[ParkSnapshot | None, tuple[int, ...]] | None = None
        self._observed: ParkSnapshot | None = None

    def control(self, cp_id: int) -> ControlState:
        control = self.controls.get(cp_id)
        return control if control is not None else ControlState()

    def observe(self, snapshot: ParkSnapshot | None) -> None:
        """Let the controls remember the "last" values of a new snapshot (EVCC ID, RFID tag,
        meter reading). :meth:`read` does it on the first read of each snapshot; the agent may
        call it on every snapshot so that a tag shown between two reads is not missed."""
        if snapshot is None or snapshot is self._observed:
            return
        self._observed = snapshot
        for cp_id in self._by_base.values():
            cp = snapshot.chargepoint(cp_id)
            control = self.controls.get(cp_id)
            if cp is not None and control is not None:
                control.observe(cp)

    def read(self, address: int, count: int, snapshot: ParkSnapshot | None) -> list[int]:
        """``count`` registers from ``address`` as 16-bit unsigned ints. Raises
        :class:`IllegalValue` for a count outside 1–125, :class:`IllegalAddress` for a read
        touching an undocumented range or an address of no charge point, :class:`NoLiveState`
        for a charge point's status registers without its live state."""
        if not 1 <= count <= MAX_READ:
            raise IllegalValue(f"cannot read {count} registers")
        end = address + count
        if address < STEP:
            if address >= STATION_FIRST and end <= STATION_END:
                return self._read_station(address, end, snapshot)
            raise IllegalAddress(f"registers {address}–{end - 1} are not in the map")
        base = address - address % STEP
        cp_id = self._by_base.get(base)
        if cp_id is None:
            raise IllegalAddress(f"no charge point starts at {base}")
        first, last = address - base, end - base
        if first >= CONFIG_FIRST and last <= CONFIG_END:
            return list(self._config_words[cp_id][first - CONFIG_FIRST : last - CONFIG_FIRST])
        if first >= STATUS_FIRST and last <= CONTROL_END:
            self.observe(snapshot)
            cp = snapshot.chargepoint(cp_id) if snapshot is not None else None
            control = self.control(cp_id)
            config = self.configs[cp_id]
            words: list[int] = []
            if first < STATUS_END:
                if cp is None:
                    raise NoLiveState(f"no live state of charge point {cp_id}")
                words = self._status_words(cp_id, cp, config, control)[first - STATUS_FIRST : last - STATUS_FIRST]
            if last > CONTROL_FIRST:
                control_part = control_words(cp, config, control)
                words.extend(control_part[max(first, CONTROL_FIRST) - CONTROL_FIRST : last - CONTROL_FIRST])
            return words
        raise IllegalAddress(f"registers {address}–{end - 1} are not in the map")

    def _status_words(
        self, cp_id: int, cp: ChargePointState, config: CpRegisterConfig, control: ControlState
    ) -> list[int]:
        cached = self._status.get(cp_id)
        memory = control.last_rfid
        if cached is not None and cached[0] is cp and cached[1] == memory:
            return cached[2]
        words = status_words(cp, config, control)
        self._status[cp_id] = (cp, memory, words)
        return words

    def _read_station(self, address: int, end: int, snapshot: ParkSnapshot | None) -> list[int]:
        words = list(self._station_words)
        if end > 147:
            words.extend(self._group_words(snapshot))
            sc = self.station_control
            words.extend((enc.u16(sc.group_available), 0, 0, enc.u16(sc.dynamic_current_a)))
        return words[address - STATION_FIRST : end - STATION_FIRST]

    def _group_words(self, snapshot: ParkSnapshot | None) -> tuple[int, ...]:
        if self._group is not None and self._group[0] is snapshot:
            return self._group[1]
        states: list[ChargePointState] = []
        if snapshot is not None:
            for cp_id in self._by_base.values():
                cp = snapshot.chargepoint(cp_id)
                if cp is not None:
                    states.append(cp)
        words = group_words(states, self.configs)
        self._group = (snapshot, words)
        return words


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
