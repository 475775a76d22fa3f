"""Pure rules of the charge point controller: what a configuration and the hardware facts claim,
the release table, the OCPP and dashboard status, ISO 15118.

No I/O here, so every rule is unit-tested directly. The decision itself (lowest cap, grants,
blocks, rate limit) is ``wbm.runtime.claims.decide``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chargepoints.choices import (
    DashboardStatus,
    DeratingSensor,
    EnergyTransferMode,
    HlcMode,
    Iso15118Error,
    Iso15118Progress,
    LockingMode,
    OcppStatus,
    QcaLinkStatus,
    ReleaseMode,
    StatusDRejection,
    TcpStatus,
)
from chargepoints.controller.monitoring import Settings
from wbm.runtime.backends.controller import HardwareReading
from wbm.runtime.claims import Claim, Kind, Limits, Source
from wbm.runtime.snapshot import Iso15118State

PTC_TRIP_C = 80.0  # a PTC chain trips at its rated temperature


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseRule:
    """Which sources may release charging in a release mode, and whether a release outlives
    the plug-in."""

    sources: frozenset[Source]
    survives_unplug: bool


# The one table of release modes. The manual: by OCPP and via Modbus no additional release from
# the web page is possible; a permanent release cannot be withdrawn there.
RELEASE: dict[str, ReleaseRule] = {
    ReleaseMode.DASHBOARD: ReleaseRule(sources=frozenset({Source.USER}), survives_unplug=False),
    ReleaseMode.WHITELIST: ReleaseRule(sources=frozenset({Source.WHITELIST, Source.USER}), survives_unplug=False),
    ReleaseMode.REMOTE: ReleaseRule(sources=frozenset({Source.USER}), survives_unplug=True),
    ReleaseMode.PERMANENT: ReleaseRule(sources=frozenset({Source.CONFIG}), survives_unplug=True),
    ReleaseMode.OCPP: ReleaseRule(sources=frozenset({Source.OCPP}), survives_unplug=False),
    ReleaseMode.MODBUS: ReleaseRule(sources=frozenset({Source.MODBUS}), survives_unplug=True),
}
_NO_RELEASE = ReleaseRule(sources=frozenset(), survives_unplug=False)


def release_rule(release_mode: str) -> ReleaseRule:
    return RELEASE.get(release_mode, _NO_RELEASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class CpConfig:
    """What the runtime needs of a charge point's configuration."""

    name: str
    location: str
    release_mode: str
    current_min_a: int
    current_max_a: int
    fallback_current_a: int
    fallback_time_s: int
    meter_type: str
    status_d_rejection: str
    connection_type: str
    locking_mode: str
    rfid_reader_id: int | None
    rfid_timeout_s: int
    derating_sensor: str
    derating_start_temp_c: int
    derating_stop_temp_c: int
    derating_start_current_a: int
    derating_stop_current_a: int
    hlc_mode: str
    ocpp_connector_id: int
    # Monitoring (chargepoints.controller.monitoring)
    plug_rejection: str = ""  # the configuration always holds one of the manual's choices
    contactor_monitoring_input: int = 0
    aux_contact_type: str = "nc"
    dc_residual_monitoring: bool = False
    overcurrent_detection: str = ""
    out_of_balance_suppression: bool = False

    @property
    def has_meter(self) -> bool:
        return bool(self.meter_type)

    @property
    def locks_on_connect(self) -> bool:
        return self.connection_type == "socket_outlet" and self.locking_mode == LockingMode.EV_CONNECTED

    @property
    def locks_remotely(self) -> bool:
        """Locking mode "Remote control": locked and unlocked from outside (REST API, OCPP, Modbus)."""
        return self.connection_type == "socket_outlet" and self.locking_mode == LockingMode.REMOTE

    @property
    def release(self) -> ReleaseRule:
        return release_rule(self.release_mode)

    @property
    def accepts_user_release(self) -> bool:
        """Allow / Prohibit charging from the web page (and the API) applies."""
        return Source.USER in self.release.sources

    def monitoring(self) -> Settings:
        return Settings(
            socket_outlet=self.connection_type == "socket_outlet",
            plug_rejection=self.plug_rejection,
            contactor_input=self.contactor_monitoring_input,
            aux_contact=self.aux_contact_type or "nc",
            dc_residual_monitoring=self.dc_residual_monitoring,
            has_meter=self.has_meter,
            overcurrent_detection=self.overcurrent_detection,
            out_of_balance_suppression=self.out_of_balance_suppression,
            current_min_a=float(self.current_min_a),
        )

    def limits(self) -> Limits:
        return Limits(
            min_a=float(self.current_min_a),
            fallback_a=float(self.fallback_current_a),
            grant_sources=self.release.sources,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """What the controller has decided for a charge point (not hardware)."""

    enabled: bool
    release: bool
    had_release: bool  # charging was released during this plug-in
    unlock_enforced: bool
    reserved: bool


def derating_limit(cfg: CpConfig, temperature_c: float) -> float | None:
    """Current allowed by temperature derating, or None when derating does not limit."""
    if cfg.derating_sensor == DeratingSensor.PT1000:
        start, stop = cfg.derating_start_temp_c, cfg.derating_stop_temp_c
        if temperature_c <= start:
            return None
        if temperature_c >= stop:
            return 0.0
        share = (temperature_c - start) / (stop - start)
        return cfg.derating_start_current_a - share * (cfg.derating_start_current_a - cfg.derating_stop_current_a)
    if cfg.derating_sensor == DeratingSensor.PTC and temperature_c >= PTC_TRIP_C:
        return 0.0
    return None


def ventilation_rejected(cfg: CpConfig | None, hw: HardwareReading) -> bool:
    return (
        cfg is not None
        and hw.vehicle is not None
        and hw.vehicle.ventilation
        and cfg.status_d_rejection == StatusDRejection.REJECT
    )


# Claims the controller derives from the configuration and the hardware facts each tick.
CONFIG_MAX = "max_current"
DERATING = "derating"
FAULT = "fault"
VENTILATION = "ventilation_rejected"
HLC = "hlc_required"
PERMANENT = "permanent"
SAFETY_CLAIMS = (
    (Kind.CAP, Source.SAFETY, DERATING),
    (Kind.BLOCK, Source.SAFETY, FAULT),
    (Kind.BLOCK, Source.SAFETY, VENTILATION),
    (Kind.BLOCK, Source.SAFETY, HLC),
)


def standing_claims(cp_id: int, cfg: CpConfig, hw: HardwareReading) -> list[Claim]:
    """The configuration's and the hardware's own claims: the configured maximum, a permanent
    release, derating, and the safety blocks (a fault, refused ventilation, HLC required)."""
    claims = [Claim(cp_id=cp_id, kind=Kind.CAP, source=Source.CONFIG, key=CONFIG_MAX, amps=float(cfg.current_max_a))]
    if cfg.release_mode == ReleaseMode.PERMANENT:
        claims.append(Claim(cp_id=cp_id, kind=Kind.GRANT, source=Source.CONFIG, key=PERMANENT))
    derated = derating_limit(cfg, hw.temperature_c)
    if derated is not None:
        claims.append(Claim(cp_id=cp_id, kind=Kind.CAP, source=Source.SAFETY, key=DERATING, amps=round(derated, 1)))
    if hw.fault_code != "NoError":
        claims.append(Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.SAFETY, key=FAULT, reason=hw.fault_code))
    if ventilation_rejected(cfg, hw):
        claims.append(Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.SAFETY, key=VENTILATION, reason=VENTILATION))
    if hlc_refused(cfg, hw):
        claims.append(Claim(cp_id=cp_id, kind=Kind.BLOCK, source=Source.SAFETY, key=HLC, reason=HLC))
    return claims


def ocpp_status(cfg: CpConfig | None, ctl: Control, hw: HardwareReading) -> str:
    if cfg is None or not ctl.enabled:
        return OcppStatus.UNAVAILABLE
    if hw.fault_code not in ("NoError", "EVCommunicationError"):
        return OcppStatus.FAULTED
    if hw.vehicle is None:
        return OcppStatus.RESERVED if ctl.reserved else OcppStatus.AVAILABLE
    if hw.iec_state in ("C", "D"):
        return OcppStatus.CHARGING
    if hw.fault_code == "EVCommunicationError":
        return OcppStatus.SUSPENDED_EVSE
    if not ctl.release:
        return OcppStatus.FINISHING if ctl.had_release else OcppStatus.PREPARING
    if hw.vehicle.mode == "finished":
        return OcppStatus.FINISHING
    if hw.vehicle.mode == "paused":
        return OcppStatus.SUSPENDED_EV
    return OcppStatus.SUSPENDED_EVSE  # the vehicle wants current the EVSE does not offer


_DASHBOARD = {
    OcppStatus.AVAILABLE: DashboardStatus.AVAILABLE,
    OcppStatus.RESERVED: DashboardStatus.RESERVED,
    OcppStatus.CHARGING: DashboardStatus.CHARGING,
    OcppStatus.UNAVAILABLE: DashboardStatus.ERROR,
    OcppStatus.FAULTED: DashboardStatus.ERROR,
}


def dashboard_status(ocpp: str) -> str:
    """Preparing, SuspendedEV/EVSE and Finishing are all "Occupied" on the dashboard."""
    return _DASHBOARD.get(OcppStatus(ocpp), DashboardStatus.OCCUPIED)


# --- ISO 15118 -----------------------------------------------------------------------------------

DEPARTURE_AFTER_S = 8 * 3600  # what a simulated vehicle announces as its departure
# Errors before a session exists (SLAC, handshakes, setup) leave no session ID behind.
_NO_SESSION_ERRORS = {
    Iso15118Error.SLAC_FAILED,
    Iso15118Error.PROTOCOL_HANDSHAKE_FAILED,
    Iso15118Error.SSL_HANDSHAKE_FAILED,
    Iso15118Error.SESSION_SETUP_TIMEOUT,
    Iso15118Error.UNKNOWN_SESSION,
}


def hlc_refused(cfg: CpConfig | None, hw: HardwareReading) -> bool:
    """HLC "Required": only vehicles that complete ISO 15118 communication may charge."""
    return (
        cfg is not None
        and cfg.hlc_mode == HlcMode.REQUIRED
        and hw.vehicle is not None
        and (not hw.vehicle.hlc or bool(hw.hlc_error))
    )


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso15118_state(
    cfg: CpConfig | None, hw: HardwareReading, *, session_id: str, plugged_since: float | None, charged: bool
) -> Iso15118State | None:
    """The ISO 15118 section of the status page; None when HLC is not configured.

    ``charged``: the vehicle drew current earlier in this plug-in (progress "Stop" after it)."""
    if cfg is None or cfg.hlc_mode == HlcMode.DISABLED:
        return None
    vehicle = hw.vehicle
    if vehicle is None or not vehicle.hlc:
        # nothing on the powerline: no SLAC, no TCP
        return Iso15118State(
            start_charging_utc="",
            departure_utc="",
            progress="",
            session_id="",
            evcc_id="",
            energy_transfer_mode="",
            tcp_status=TcpStatus.DISCONNECTED.value,
            qca_link_status=QcaLinkStatus.DOWN.value,
            error="",
        )
    error = hw.hlc_error
    mode = (EnergyTransferMode.AC_THREE if vehicle.phases == 3 else EnergyTransferMode.AC_SINGLE).value
    if error:
        has_session = error not in _NO_SESSION_ERRORS
        return Iso15118State(
            start_charging_utc="",
            departure_utc="",
            progress=Iso15118Progress.STOP.value if has_session else "",
            session_id=session_id if has_session else "",
            evcc_id=vehicle.evcc_id if has_session else "",
            energy_transfer_mode=mode if has_session else "",
            tcp_status=TcpStatus.DISCONNECTED.value,  # high-level communication aborted by the EVSE
            qca_link_status=QcaLinkStatus.DOWN.value if error == Iso15118Error.SLAC_FAILED else QcaLinkStatus.UP.value,
            error=str(error),
        )
    start = plugged_since or 0.0
    if hw.iec_state in ("C", "D"):
        progress = Iso15118Progress.START.value
    elif charged:
        progress = Iso15118Progress.STOP.value
    else:
        progress = ""
    return Iso15118State(
        start_charging_utc=_utc(start) if plugged_since else "",
        departure_utc=_utc(start + DEPARTURE_AFTER_S) if plugged_since else "",
        progress=progress,
        session_id=session_id,
        evcc_id=vehicle.evcc_id,
        energy_transfer_mode=mode,
        tcp_status=TcpStatus.CONNECTED.value,
        qca_link_status=QcaLinkStatus.UP.value,
        error="",
    )
