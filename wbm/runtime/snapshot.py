"""Frozen, serialisable pictures of the live state: what pages render and the WebSocket carries.

They cross loop and process boundaries (cache, channel layer), so they hold only plain values
and convert to and from dicts of JSON/msgpack-friendly types.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

from wbm.runtime.claims import NOT_CONFIGURED, Decision
from wbm.runtime.vocabulary import DashboardStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterReading:
    """What the energy measuring device reports. Currents in A, voltages in V, power in W."""

    currents_a: tuple[float, float, float]
    voltages_v: tuple[float, float, float]
    power_w: float
    energy_wh: float  # total register, only grows
    power_factor: float
    frequency_hz: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    phases: int  # 1 or 3
    max_current_a: float  # per phase
    ventilation: bool  # requests status D
    mode: str  # "requesting" | "paused" | "finished"
    hlc: bool = False  # speaks ISO 15118 (high level communication)
    evcc_id: str = ""  # ISO 15118 EVCC ID (hex), when hlc
    cable_a: int | None = None  # current rating of the charging cable (PP resistor); None: fixed cable
    overdraw: float = 1.0  # draws this many times the offered current (1.0: as it should)


@dataclass(frozen=True, slots=True, kw_only=True)
class Iso15118State:
    start_charging_utc: str
    departure_utc: str
    progress: str
    session_id: str
    evcc_id: str
    energy_transfer_mode: str
    tcp_status: str
    qca_link_status: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePointState:
    """One charge point as the runtime sees it right now."""

    id: int
    station_id: int
    position: int
    configured: bool
    name: str
    location: str
    iec_state: str  # A..F
    ocpp_status: str  # OcppStatus value
    dashboard_status: str  # DashboardStatus value
    local_bus: str  # LocalBusState value
    pwm_limit_a: float  # 0 when no vehicle or no release
    currents_a: tuple[float, float, float]  # drawn by the vehicle (what a meter would see)
    meter_configured: bool
    meter: MeterReading | None  # None: "Not available"
    session_energy_wh: float | None
    charging_s: int  # time in state C/D this plug-in
    plugin_s: int  # time since the vehicle was plugged in
    plugged_since: float | None  # epoch seconds
    enabled: bool
    release: bool
    release_mode: str
    locked: bool
    unlock_enforced: bool
    reserved: bool
    vehicle: Vehicle | None
    rfid: str
    temperature_c: float
    temperature_configured: bool
    error_code: str  # OCPP error code, "NoError" when fine
    error_info: str
    digital_inputs: tuple[bool, ...]
    digital_outputs: tuple[str, ...]
    analog_inputs_v: tuple[float, ...]
    iso15118: Iso15118State | None
    rfid_board_firmware: str = ""  # CHARX RFID/NFC board at this charge point, "" when none
    rfid_event: str = ""  # "accepted" | "rejected" for one second after a card read here
    decision: Decision = NOT_CONFIGURED  # what the PWM offers and why (claims.decide)
    accepts_user_release: bool = False  # the release mode takes Allow / Prohibit from the web page
    remote_locking: bool = False  # locking mode "Remote control": locked and unlocked from outside

    @property
    def power_w(self) -> float | None:
        return None if self.meter is None else self.meter.power_w

    @property
    def is_charging(self) -> bool:
        return self.dashboard_status == DashboardStatus.CHARGING

    def as_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives, without its deep copy of every value (they are all
        immutable): for 120 charge points a tick, asdict alone took most of the runtime's step."""
        return {name: _plain(getattr(self, name)) for name in _STATE_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargePointState:
        data = dict(data)
        if data.get("meter") is not None:
            m = data["meter"]
            data["meter"] = MeterReading(
                currents_a=tuple(m["currents_a"]),
                voltages_v=tuple(m["voltages_v"]),
                power_w=m["power_w"],
                energy_wh=m["energy_wh"],
                power_factor=m["power_factor"],
                frequency_hz=m["frequency_hz"],
            )
        if data.get("vehicle") is not None:
            data["vehicle"] = Vehicle(**data["vehicle"])
        if data.get("iso15118") is not None:
            data["iso15118"] = Iso15118State(**data["iso15118"])
        if isinstance(data.get("decision"), dict):
            data["decision"] = Decision.from_dict(data["decision"])
        for key in ("currents_a", "digital_inputs", "digital_outputs", "analog_inputs_v"):
            data[key] = tuple(data[key])
        return cls(**data)


_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(ChargePointState))


_ATOMIC = frozenset({int, float, str, bool, type(None)})
_ENUM = ("enum",)  # marks an enum type in _FIELDS_OF: its plain value is ``.value``
_LEAF = ("leaf",)  # marks any other type: kept as it is
_FIELDS_OF: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """A value as ``dataclasses.asdict`` converts it, sharing what is immutable; enums become
    their plain values (what crosses the channel layer is plain data)."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is tuple:
        return value if all(type(v) in _ATOMIC for v in value) else tuple(_plain(v) for v in value)
    names = _FIELDS_OF.get(kind)
    if names is None:
        if isinstance(value, enum.Enum):
            names = _FIELDS_OF[kind] = _ENUM
        elif not dataclasses.is_dataclass(value) or isinstance(value, type):
            names = _FIELDS_OF[kind] = _LEAF
        else:
            names = _FIELDS_OF[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is _ENUM:
        return value.value
    if names is _LEAF:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStatus:
    name: str
    title: str
    state: str  # starting | running | stopped | failed | restarting
    started_at: float | None
    restarts: int
    last_error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatus:
    rss_bytes: int
    cpu_percent: float
    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int
    disk_free_bytes: int
    load_1m: float
    boot_time: float
    process_started_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkSummary:
    available: int
    occupied: int
    charging: int
    error: int  # faulted, disabled or otherwise unavailable
    total_power_w: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def summarize(chargepoints: tuple[ChargePointState, ...] | list[ChargePointState]) -> ParkSummary:
    """The dashboard's park summary over configured charge points."""
    available = occupied = charging = error = 0
    power = 0.0
    for cp in chargepoints:
        if not cp.configured:
            continue
        if cp.dashboard_status == DashboardStatus.AVAILABLE:
            available += 1
        elif cp.dashboard_status == DashboardStatus.OCCUPIED:
            occupied += 1
        elif cp.dashboard_status == DashboardStatus.CHARGING:
            charging += 1
        elif cp.dashboard_status == DashboardStatus.ERROR:
            error += 1
        power += cp.power_w or 0.0
    return ParkSummary(available=available, occupied=occupied, charging=charging, error=error, total_power_w=power)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentScan:
    """An RFID tag read at a reader or the EVCC ID of an ISO 15118 vehicle that plugged in."""

    kind: str  # "rfid" | "evccid"
    tag: str  # as the controller compares it: upper-case hexadecimal
    at: float  # epoch seconds
    cp_id: int  # the charge point whose reader read it / where the vehicle plugged in
    cp_name: str
    accepted: bool | None  # released by the local whitelist; None: no charge point there releases by it


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkSnapshot:
    """Everything live, at one instant. ``chargepoints`` is ordered by station and position."""

    generated_at: float
    runtime_started_at: float
    chargepoints: tuple[ChargePointState, ...]
    agents: tuple[AgentStatus, ...] = ()
    system: SystemStatus | None = None
    recent_rfids: tuple[tuple[str, float], ...] = ()  # (tag, epoch seconds), newest first
    recent_scans: tuple[RecentScan, ...] = ()  # RFID tags and EVCC IDs, newest first
    # agents' own live state (AgentContext.set_status), by agent name
    agent_states: tuple[tuple[str, dict[str, Any]], ...] = ()
    _by_id: dict[int, ChargePointState] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({cp.id: cp for cp in self.chargepoints})

    def chargepoint(self, cp_id: int) -> ChargePointState | None:
        return self._by_id.get(cp_id)

    @property
    def configured(self) -> list[ChargePointState]:
        return [cp for cp in self.chargepoints if cp.configured]

    @property
    def summary(self) -> ParkSummary:
        return summarize(self.chargepoints)

    def agent_state(self, name: str) -> dict[str, Any] | None:
        """What agent ``name`` published of its own state (None: nothing, or not running)."""
        return next((state for agent, state in self.agent_states if agent == name), None)

    def agent(self, name: str) -> AgentStatus | None:
        return next((a for a in self.agents if a.name == name), None)
