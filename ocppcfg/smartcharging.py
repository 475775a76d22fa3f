"""OCPP 1.6 Smart Charging (spec 3.13, 5.5, 5.7, 5.16, 7.13-7.17): pure code, no Django, no I/O.

The OCPP agent parses what SetChargingProfile brings (``parse_profile``), installs it in the charge
point's ``ProfileSet`` and each tick asks ``ProfileSet.limit()`` for the amps per phase that apply
to a connector now, and when that answer may change next. ``composite()`` answers
GetCompositeSchedule. All datetimes are timezone-aware UTC.

How a connector's limit is found (3.13.2 stacking, 3.13.3 combining):

- candidates in order of precedence: the connector's TxProfiles (only for the running transaction,
  ``transactionId`` equal or absent), then its own TxDefaultProfiles, then the TxDefaultProfiles
  of connector 0 (for every connector); within each group the higher ``stackLevel`` first;
- the first candidate whose schedule covers the instant gives the limit. A profile covers an
  instant inside validFrom..validTo (validTo excluded) and inside its schedule: from its start
  (Absolute: startSchedule; Relative: the transaction's start, no transaction = not at all;
  Recurring: the latest daily/weekly repetition of startSchedule) until ``duration`` (none: the last
  period lasts forever; Recurring: at most until the next repetition). When a higher profile ends,
  the one below applies again (OCTT TC_072_CS);
- the ChargePointMaxProfiles of connector 0 (same stacking) cap that limit; alone they give the
  park's limit (``park_limit``).

Watts become amps with ``W / (volts * phases)``: the period's numberPhases when given, else the
caller's ``phases`` (3 unless told).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, Final

CHARGE_POINT_MAX: Final = "ChargePointMaxProfile"
TX_DEFAULT: Final = "TxDefaultProfile"
TX: Final = "TxProfile"
PURPOSES: Final = (CHARGE_POINT_MAX, TX_DEFAULT, TX)

ABSOLUTE: Final = "Absolute"
RECURRING: Final = "Recurring"
RELATIVE: Final = "Relative"
KINDS: Final = (ABSOLUTE, RECURRING, RELATIVE)

RECURRENCY_S: Final[Mapping[str, int]] = {"Daily": 86_400, "Weekly": 7 * 86_400}
# chargingRateUnit on the wire -> its name in ChargingScheduleAllowedChargingRateUnit
UNIT_NAMES: Final[Mapping[str, str]] = {"A": "Current", "W": "Power"}
NO_CAP: Final = 1 << 62  # from_json: stored profiles were checked against the limits on arrival


class ProfileError(Exception):
    """A charging profile the charge point refuses (SetChargingProfile.conf: Rejected)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Period:
    """One ChargingSchedulePeriod: from ``start_s`` after the schedule's start, in its unit."""

    start_s: int
    limit: float  # in the schedule's unit: A per phase, or W in total
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """An accepted ChargingProfile and the connector it was set on (0: the whole charge point)."""

    connector_id: int
    id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: int | None
    start_schedule: datetime | None
    duration_s: int | None
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    min_charging_rate: float | None = None


def parse_profile(
    connector_id: int,
    cs_charging_profiles: Mapping[str, Any],
    *,
    max_stack_level: int,
    max_periods: int,
    allowed_units: tuple[str, ...] = ("Current", "Power"),
    received_at: datetime | None = None,
) -> Profile:
    """Check what the JSON schema cannot and return the profile; raise ProfileError otherwise.

    An Absolute profile without startSchedule starts at ``received_at`` (the spec leaves it open);
    without ``received_at`` it is refused. Never raises anything but ProfileError.
    """
    try:
        return _parse(connector_id, cs_charging_profiles, max_stack_level, max_periods, allowed_units, received_at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProfileError("malformed", repr(exc)) from None


def _parse(
    connector_id: int,
    data: Mapping[str, Any],
    max_stack_level: int,
    max_periods: int,
    allowed_units: tuple[str, ...],
    received_at: datetime | None,
) -> Profile:
    schedule = data["chargingSchedule"]
    purpose, kind, unit = data["chargingProfilePurpose"], data["chargingProfileKind"], schedule["chargingRateUnit"]
    recurrency = data.get("recurrencyKind")
    periods = tuple(
        Period(int(p["startPeriod"]), float(p["limit"]), _opt_int(p.get("numberPhases")))
        for p in schedule["chargingSchedulePeriod"]
    )
    start = _instant(schedule.get("startSchedule"))
    stack_level = int(data["stackLevel"])
    _require(purpose in PURPOSES and kind in KINDS, "malformed", f"{purpose}/{kind}")
    _require(0 <= stack_level <= max_stack_level, "stack_level_too_high", str(stack_level))
    _require(UNIT_NAMES.get(unit) in allowed_units, "unit_not_allowed", str(unit))
    _require(bool(periods), "no_periods")
    _require(len(periods) <= max_periods, "too_many_periods", str(len(periods)))
    _require(periods[0].start_s == 0, "first_period_not_zero")
    _require(all(a.start_s < b.start_s for a, b in pairwise(periods)), "periods_not_ascending")
    _require(all(p.limit >= 0 for p in periods), "negative_limit")
    _require(all(p.number_phases in (None, 1, 2, 3) for p in periods), "bad_number_phases")
    if kind == RECURRING:
        _require(recurrency in RECURRENCY_S, "recurring_without_recurrency")
        _require(start is not None, "recurring_without_start")
    if kind == RELATIVE:
        _require(start is None, "relative_with_start")
        # a park limit has no transaction to start from (OCPP 2.0.1 K01.FR.38 says the same)
        _require(purpose != CHARGE_POINT_MAX, "relative_charge_point_max")
    if kind == ABSOLUTE and start is None:
        _require(received_at is not None, "absolute_without_start")
        start = received_at
    valid_from, valid_to = _instant(data.get("validFrom")), _instant(data.get("validTo"))
    _require(valid_from is None or valid_to is None or valid_from < valid_to, "valid_to_before_valid_from")
    duration = _opt_int(schedule.get("duration"))
    _require(duration is None or duration >= 0, "negative_duration")
    rate = schedule.get("minChargingRate")
    return Profile(
        connector_id=connector_id,
        id=int(data["chargingProfileId"]),
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        recurrency=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=_opt_int(data.get("transactionId")),
        start_schedule=start,
        duration_s=duration,
        unit=unit,
        periods=periods,
        min_charging_rate=None if rate is None else float(rate),
    )


def profile_json(profile: Profile) -> dict[str, Any]:
    """The profile as csChargingProfiles on the wire (camelCase, absent fields left out)."""
    schedule: dict[str, Any] = {
        "duration": profile.duration_s,
        "startSchedule": _wire_time(profile.start_schedule),
        "chargingRateUnit": profile.unit,
        "chargingSchedulePeriod": [
            _without_none({"startPeriod": p.start_s, "limit": p.limit, "numberPhases": p.number_phases})
            for p in profile.periods
        ],
        "minChargingRate": profile.min_charging_rate,
    }
    return _without_none(
        {
            "chargingProfileId": profile.id,
            "transactionId": profile.transaction_id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": profile.purpose,
            "chargingProfileKind": profile.kind,
            "recurrencyKind": profile.recurrency,
            "validFrom": _wire_time(profile.valid_from),
            "validTo": _wire_time(profile.valid_to),
            "chargingSchedule": _without_none(schedule),
        }
    )


@dataclass(frozen=True, slots=True)
class _Hit:
    """What limits at one instant: amps per phase (None: nothing), the phases it was given for, the
    next instant the answer may change (None: never)."""

    amps: float | None
    number_phases: int | None
    next_change: datetime | None


@dataclass
class ProfileSet:
    """The charging profiles installed on one charge point (connector 0 = the whole park)."""

    profiles: list[Profile] = field(default_factory=list)

    def install(
        self, profile: Profile, *, active_transactions: Mapping[int, int], max_installed: int | None = None
    ) -> None:
        """Install ``profile`` (SetChargingProfile, 5.16) or raise ProfileError and change nothing.

        ``active_transactions``: connector -> transactionId of the running transactions. A profile
        with the same id, or the same stackLevel and purpose on the same connector, is replaced.
        """
        if profile.purpose == CHARGE_POINT_MAX and profile.connector_id != 0:
            raise ProfileError("wrong_connector", "ChargePointMaxProfile only on connector 0")
        if profile.purpose == TX:
            if profile.connector_id == 0:
                raise ProfileError("wrong_connector", "TxProfile only on a connector > 0")
            running = active_transactions.get(profile.connector_id)
            if running is None:
                raise ProfileError("tx_profile_without_transaction")  # OCTT TC_058_1_CS
            if profile.transaction_id not in (None, running):
                raise ProfileError("transaction_id_mismatch", f"running: {running}")  # OCTT TC_058_2_CS
        kept = [p for p in self.profiles if not _replaced_by(p, profile)]
        if max_installed is not None and len(kept) >= max_installed:
            raise ProfileError("too_many_profiles", str(max_installed))
        self.profiles = [*kept, profile]

    def clear(
        self,
        *,
        id: int | None = None,  # the field's name in ClearChargingProfile.req
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """ClearChargingProfile (5.5): by id (the other criteria are then ignored), or every profile
        matching all given criteria (none given: all). Returns how many went (0: status Unknown)."""

        def matches(p: Profile) -> bool:
            if id is not None:
                return p.id == id
            return (
                connector_id in (None, p.connector_id)
                and purpose in (None, p.purpose)
                and stack_level in (None, p.stack_level)
            )

        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not matches(p)]
        return before - len(self.profiles)

    def transaction_ended(self, connector_id: int) -> None:
        """The connector's TxProfiles end with its transaction (3.13.1)."""
        self.profiles = [p for p in self.profiles if not (p.purpose == TX and p.connector_id == connector_id)]

    def limit(
        self,
        connector_id: int,
        at: datetime,
        *,
        transaction_start: datetime | None,
        transaction_id: int | None,
        phases: int = 3,
        volts: float = 230.0,
    ) -> tuple[float | None, datetime | None]:
        """Amps per phase that apply to the connector at ``at`` (None: nothing limits) and the next
        instant the answer may change (None: not before something is installed or cleared).
        Connector 0 answers ``park_limit``."""
        hit = self._connector_hit(connector_id, at, transaction_start, transaction_id, phases, volts)
        return hit.amps, hit.next_change

    def park_limit(
        self, at: datetime, *, phases: int = 3, volts: float = 230.0
    ) -> tuple[float | None, datetime | None]:
        """The ChargePointMaxProfile at ``at``: total amps per phase for the whole park, and when
        that may change next."""
        hit = self._park_hit(at, phases, volts)
        return hit.amps, hit.next_change

    def composite(
        self,
        connector_id: int,
        start: datetime,
        duration_s: int,
        unit: str | None,
        *,
        transaction_start: datetime | None,
        transaction_id: int | None,
        phases: int = 3,
        volts: float = 230.0,
        max_current_a: float | None = None,
    ) -> dict[str, Any]:
        """The chargingSchedule of GetCompositeSchedule.conf (5.7) from ``start`` for ``duration_s``.

        ``unit`` None reports in A. ``max_current_a`` is the charge point's own limit (a local
        limit the spec counts in); it caps the profiles and fills the time no profile limits.
        Without it such time cannot be told on the wire: the schedule then starts at the first
        limited instant and ends (``duration`` shortened) where nothing limits any more.
        """
        unit = unit or "A"
        start = start.replace(microsecond=0)  # startPeriod counts whole seconds from here
        end = start + timedelta(seconds=duration_s)
        periods: list[dict[str, Any]] = []
        at: datetime | None = start
        while at is not None and at < end:
            hit = self._connector_hit(connector_id, at, transaction_start, transaction_id, phases, volts)
            amps = _min_known(hit.amps, max_current_a)
            offset_s = int((at - start).total_seconds())
            if amps is None:
                if periods:
                    duration_s = offset_s
                    break
            else:
                used = hit.number_phases or phases
                value = round(amps if unit == "A" else amps * volts * used, 1)
                _append_merged(
                    periods, _without_none({"startPeriod": offset_s, "limit": value, "numberPhases": hit.number_phases})
                )
            at = hit.next_change if hit.next_change is not None and hit.next_change > at else None
        return {
            "duration": duration_s,
            "startSchedule": _wire_time(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }

    def to_json(self) -> list[dict[str, Any]]:
        """Every profile with its connector, for persistence (``from_json`` reads it back)."""
        return [{"connectorId": p.connector_id, "csChargingProfiles": profile_json(p)} for p in self.profiles]

    @classmethod
    def from_json(cls, data: Iterable[Mapping[str, Any]]) -> ProfileSet:
        """The set ``to_json`` wrote (raises ProfileError for anything else)."""
        return cls(
            [
                parse_profile(
                    int(item["connectorId"]), item["csChargingProfiles"], max_stack_level=NO_CAP, max_periods=NO_CAP
                )
                for item in data
            ]
        )

    # --- evaluation ---------------------------------------------------------------------------

    def _connector_hit(
        self, connector_id: int, at: datetime, tx_start: datetime | None, tx_id: int | None, phases: int, volts: float
    ) -> _Hit:
        park = self._park_hit(at, phases, volts)
        if connector_id == 0:
            return park
        in_transaction = tx_start is not None or tx_id is not None

        def group(purpose: str, connector: int) -> list[Profile]:
            found = [p for p in self.profiles if p.purpose == purpose and p.connector_id == connector]
            if purpose == TX:
                found = [p for p in found if in_transaction and p.transaction_id in (None, tx_id)]
            return sorted(found, key=lambda p: -p.stack_level)

        ordered = group(TX, connector_id) + group(TX_DEFAULT, connector_id) + group(TX_DEFAULT, 0)
        own = _first_covering(ordered, at, tx_start, phases, volts)
        nxt = _earliest(own.next_change, park.next_change)
        if park.amps is not None and (own.amps is None or park.amps < own.amps):
            return _Hit(park.amps, park.number_phases, nxt)
        return _Hit(own.amps, own.number_phases, nxt)

    def _park_hit(self, at: datetime, phases: int, volts: float) -> _Hit:
        ordered = sorted((p for p in self.profiles if p.purpose == CHARGE_POINT_MAX), key=lambda p: -p.stack_level)
        return _first_covering(ordered, at, None, phases, volts)


def _first_covering(ordered: list[Profile], at: datetime, tx_start: datetime | None, phases: int, volts: float) -> _Hit:
    """The first profile (in order of precedence) whose schedule covers ``at``. Its answer may
    change when it moves to another period or ends, or when one above it starts covering."""
    nxt: datetime | None = None
    for profile in ordered:
        period, change = _period_at(profile, at, tx_start)
        nxt = _earliest(nxt, change)
        if period is not None:
            used = period.number_phases or phases
            amps = period.limit if profile.unit == "A" else period.limit / (volts * used)
            return _Hit(amps, period.number_phases, nxt)
    return _Hit(None, None, nxt)


def _period_at(profile: Profile, at: datetime, tx_start: datetime | None) -> tuple[Period | None, datetime | None]:
    """The profile's period at ``at`` (None: it does not cover ``at``) and its next change."""
    if profile.valid_to is not None and at >= profile.valid_to:
        return None, None
    if profile.valid_from is not None and at < profile.valid_from:
        return None, profile.valid_from
    anchor = _schedule_start(profile, at, tx_start)
    if anchor is None:
        return None, None  # Relative without a transaction
    if at < anchor:
        return None, _earliest(anchor, profile.valid_to)
    end_s: float | None = profile.duration_s
    restart: datetime | None = None
    if cycle_s := _cycle_s(profile):
        end_s = cycle_s if end_s is None else min(end_s, cycle_s)  # a longer schedule is cut
        restart = anchor + timedelta(seconds=cycle_s)
    offset_s = (at - anchor).total_seconds()
    if end_s is not None and offset_s >= end_s:
        return None, _earliest(restart, profile.valid_to)
    index = bisect_right([p.start_s for p in profile.periods], offset_s) - 1
    following = profile.periods[index + 1].start_s if index + 1 < len(profile.periods) else None
    boundary_s = _min_known(following, end_s)
    change = None if boundary_s is None else anchor + timedelta(seconds=boundary_s)
    return profile.periods[index], _earliest(change, profile.valid_to)


def _schedule_start(profile: Profile, at: datetime, tx_start: datetime | None) -> datetime | None:
    """When the schedule that matters at ``at`` started (or starts, if later)."""
    if profile.kind == RELATIVE:
        return tx_start
    start, cycle_s = profile.start_schedule, _cycle_s(profile)
    if start is None or cycle_s is None or at < start:
        return start
    return start + timedelta(seconds=cycle_s * math.floor((at - start).total_seconds() / cycle_s))


def _cycle_s(profile: Profile) -> int | None:
    """Seconds between the repetitions of a Recurring profile (None: it does not repeat)."""
    return RECURRENCY_S.get(profile.recurrency or "") if profile.kind == RECURRING else None


def _replaced_by(old: Profile, new: Profile) -> bool:
    same_slot = (old.connector_id, old.stack_level, old.purpose) == (new.connector_id, new.stack_level, new.purpose)
    return old.id == new.id or same_slot


def _append_merged(periods: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """Append a composite period; equal consecutive limits merge. Two changes within one second
    (a transaction started at a fraction of a second) leave the later one for that second."""
    if periods and periods[-1]["startPeriod"] == entry["startPeriod"]:
        periods.pop()
    if periods and {k: v for k, v in periods[-1].items() if k != "startPeriod"} == {
        k: v for k, v in entry.items() if k != "startPeriod"
    }:
        return
    periods.append(entry)


def _earliest(*instants: datetime | None) -> datetime | None:
    known = [t for t in instants if t is not None]
    return min(known) if known else None


def _min_known(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _require(condition: bool, code: str, detail: str = "") -> None:
    if not condition:
        raise ProfileError(code, detail)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _instant(value: Any) -> datetime | None:
    """An OCPP dateTime as aware UTC (one without offset counts as UTC, as the spec wants UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ProfileError("bad_datetime", str(value)) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _wire_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
