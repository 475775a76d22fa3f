"""The CHARX RFID/NFC board: its LED profiles, which profile applies to which connection type
(the manual's table in "Charging Stations / CHARX RFID/NFC Board"), factory LED settings and
which profile the board shows for the live state of its charge point(s). Pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chargepoints.choices import BoardConnectionType, LedColor, LedMode, OcppStatus, ReleaseMode
from chargepoints.choices import RfidBoardProfile as Profile
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

P = Profile
SA, ONE, MANY = BoardConnectionType.STANDALONE, BoardConnectionType.ONE_TO_ONE, BoardConnectionType.ONE_TO_N

# The manual's table: profile -> connection types it is used with ("x" marks).
# "Charging point offline" carries a single mark in the manual; we put it at 1:n: it is an OCPP-only
# profile (a stand-alone CHARX SEC-1000 has no backend), and 1:1 already has its own pair of backend
# profiles ("Backend online/offline … charging point available"), while 1:n's "Backend online"
# needs its counterpart.
MATRIX: dict[Profile, frozenset[str]] = {
    P.READY: frozenset({SA, ONE}),
    P.BACKEND_ONLINE: frozenset({MANY}),
    P.BACKEND_ONLINE_AVAILABLE: frozenset({ONE}),
    P.BACKEND_OFFLINE_AVAILABLE: frozenset({ONE}),
    P.CHARGING: frozenset({SA, ONE}),
    P.WAITING_AUTHORIZATION: frozenset({SA, ONE, MANY}),
    P.AUTHORIZATION_ONGOING: frozenset({ONE}),
    P.COMPLETED: frozenset({ONE}),
    P.RESERVED: frozenset({SA, ONE}),
    P.SUSPENDED_EV: frozenset({SA, ONE}),
    P.SUSPENDED_EVSE: frozenset({SA, ONE}),
    P.OFFLINE: frozenset({MANY}),
    P.NOT_READY: frozenset({SA, ONE, MANY}),
    P.WAITING_CARD: frozenset({SA, ONE, MANY}),
    P.RFID_ACCEPTED: frozenset({SA, ONE, MANY}),
    P.RFID_REJECTED: frozenset({SA, ONE, MANY}),
}
OCPP_ONLY = frozenset({P.BACKEND_ONLINE, P.BACKEND_ONLINE_AVAILABLE, P.BACKEND_OFFLINE_AVAILABLE, P.OFFLINE})
EVENTS = frozenset({P.RFID_ACCEPTED, P.RFID_REJECTED})  # shown for one second after a card read

RFIDBOARD_GROUP = "rfidboard"  # channel group of open board pages: settings saved
BRIGHTNESS_RANGE = (0, 100)  # percent
PERIOD_MS_RANGE = (100, 10_000)  # flashing and fade period
BUZZER_RANGE = (0, 100)  # percent


def profiles_for(connection_type: str) -> list[Profile]:
    """The profiles a board of this connection type uses, in the manual's order."""
    return [p for p in Profile if connection_type in MATRIX[p]]


@dataclass(frozen=True, slots=True, kw_only=True)
class LedSetting:
    mode: str
    color: str
    brightness_pct: int = 100
    period_ms: int = 1000
    min_brightness_pct: int = 0
    max_brightness_pct: int = 100

    @property
    def mode_label(self) -> str:
        return str(LedMode(self.mode).label)

    @property
    def color_label(self) -> str:
        return str(LedColor(self.color).label)

    @property
    def opacity_max(self) -> float:
        """Brightest opacity of the LED picture: the fade maximum, else the brightness."""
        return (self.max_brightness_pct if self.mode == LedMode.FADE else self.brightness_pct) / 100

    @property
    def opacity_min(self) -> float:
        return self.min_brightness_pct / 100 if self.mode == LedMode.FADE else 0.0


def _led(mode: LedMode, color: LedColor, period_ms: int = 1000, min_pct: int = 0) -> LedSetting:
    return LedSetting(mode=mode.value, color=color.value, period_ms=period_ms, min_brightness_pct=min_pct)


M, C = LedMode, LedColor
DEFAULT_LEDS: dict[Profile, LedSetting] = {
    P.READY: _led(M.ON, C.GREEN),
    P.BACKEND_ONLINE: _led(M.ON, C.GREEN),
    P.BACKEND_ONLINE_AVAILABLE: _led(M.ON, C.GREEN),
    P.BACKEND_OFFLINE_AVAILABLE: _led(M.FADE, C.GREEN, 3000, 20),
    P.CHARGING: _led(M.FADE, C.BLUE, 2000, 10),
    P.WAITING_AUTHORIZATION: _led(M.FLASHING, C.WHITE, 1000),
    P.AUTHORIZATION_ONGOING: _led(M.FLASHING, C.WHITE, 300),
    P.COMPLETED: _led(M.ON, C.BLUE),
    P.RESERVED: _led(M.ON, C.WHITE),
    P.SUSPENDED_EV: _led(M.ON, C.BLUE),
    P.SUSPENDED_EVSE: _led(M.FLASHING, C.BLUE, 2000),
    P.OFFLINE: _led(M.FLASHING, C.RED, 2000),
    P.NOT_READY: _led(M.ON, C.RED),
    P.WAITING_CARD: _led(M.FLASHING, C.GREEN, 500),
    P.RFID_ACCEPTED: _led(M.ON, C.GREEN),
    P.RFID_REJECTED: _led(M.ON, C.RED),
}
DEFAULT_CONNECTION_TYPE = BoardConnectionType.ONE_TO_ONE
DEFAULT_BUZZER_PCT = 50


def _single(cp: ChargePointState, *, backend_online: bool | None) -> Profile:
    """What one charge point's state means for the board (before the connection type narrows it)."""
    if not cp.configured or not cp.enabled or cp.local_bus != "connected" or cp.dashboard_status == "error":
        return P.NOT_READY
    if cp.vehicle is None:
        if cp.reserved:
            return P.RESERVED
        if cp.release_mode == ReleaseMode.OCPP and backend_online is not None:
            return P.BACKEND_ONLINE_AVAILABLE if backend_online else P.BACKEND_OFFLINE_AVAILABLE
        return P.READY
    status = cp.ocpp_status
    if status == OcppStatus.CHARGING:
        return P.CHARGING
    if status == OcppStatus.SUSPENDED_EV:
        return P.SUSPENDED_EV
    if status == OcppStatus.SUSPENDED_EVSE:
        return P.SUSPENDED_EVSE
    if status == OcppStatus.FINISHING:
        return P.COMPLETED
    return P.WAITING_AUTHORIZATION  # Preparing: plugged in, no release yet


# A profile the connection type does not use falls back to the nearest one it does.
_FALLBACK: dict[Profile, Profile] = {
    P.COMPLETED: P.SUSPENDED_EV,
    P.AUTHORIZATION_ONGOING: P.WAITING_AUTHORIZATION,
    P.BACKEND_ONLINE_AVAILABLE: P.READY,
    P.BACKEND_OFFLINE_AVAILABLE: P.READY,
}


def active_profile(
    connection_type: str,
    chargepoints: Sequence[ChargePointState],
    *,
    rfid_event: str = "",
    backend_online: bool | None = None,
    waiting_card: bool = False,
) -> Profile | None:
    """The profile the board shows now; None when no profile of its connection type applies
    (the LED is off). ``chargepoints``: the charge point(s) the board serves (1:n: the group);
    ``rfid_event``: "accepted" / "rejected" during the second after a card was read at the board;
    ``backend_online``: the OCPP backend connection, None when unknown or OCPP is not used;
    ``waiting_card``: the whitelist waits for a card to add or delete."""
    allowed = set(profiles_for(connection_type))
    if rfid_event:
        return P.RFID_ACCEPTED if rfid_event == "accepted" else P.RFID_REJECTED
    if waiting_card:
        return P.WAITING_CARD
    if not chargepoints:
        return P.NOT_READY
    if connection_type == BoardConnectionType.ONE_TO_N:
        singles = [_single(cp, backend_online=backend_online) for cp in chargepoints]
        if all(s == P.NOT_READY for s in singles):
            return P.NOT_READY
        if any(s == P.WAITING_AUTHORIZATION for s in singles):
            return P.WAITING_AUTHORIZATION
        uses_ocpp = any(cp.release_mode == ReleaseMode.OCPP for cp in chargepoints)
        if uses_ocpp and backend_online is not None:
            return P.BACKEND_ONLINE if backend_online else P.OFFLINE
        return None
    profile = _single(chargepoints[0], backend_online=backend_online)
    while profile not in allowed and profile in _FALLBACK:
        profile = _FALLBACK[profile]
    return profile if profile in allowed else None


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardInfo:
    """One CHARX RFID/NFC board as the page shows it: where it is wired, whom it serves, its
    settings (factory settings until saved). Plain data for pages, API and the live consumer."""

    pk: int  # the charge point the board is wired at
    title: str
    served: tuple[int, ...]  # charge points that use this board as their reader
    served_names: tuple[str, ...]
    connection_type: str
    buzzer_volume_pct: int
    leds: dict[str, LedSetting]  # every profile, by profile value
    saved: bool

    @property
    def profiles(self) -> list[Profile]:
        return profiles_for(self.connection_type)

    def led(self, profile: str) -> LedSetting:
        return self.leds.get(profile) or DEFAULT_LEDS[Profile(profile)]


def default_leds() -> dict[str, LedSetting]:
    return {p.value: s for p, s in DEFAULT_LEDS.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardLive:
    """What the (simulated) board does right now."""

    firmware: str  # as the board reports it, "" when it does not answer
    active: Profile | None  # None: no profile applies, LED off
    led: LedSetting | None


def board_live(board: BoardInfo, snapshot: ParkSnapshot | None) -> BoardLive | None:
    """The board's live state from the runtime's snapshot; None without a runtime."""
    if snapshot is None:
        return None
    reader = snapshot.chargepoint(board.pk)
    served = [s for s in (snapshot.chargepoint(pk) for pk in board.served) if s is not None]
    active = active_profile(board.connection_type, served, rfid_event=reader.rfid_event if reader else "")
    return BoardLive(
        firmware=reader.rfid_board_firmware if reader else "", active=active, led=board.led(active) if active else None
    )
