"""OCPP 1.6 Smart Charging (ocppcfg.smartcharging): refusals, stacking, kinds, units, composite.

Times are offsets in seconds from T0 unless a test needs a calendar date; the OCTT case id is in
the name where the scenario follows one (OCPP 1.6 Compliancy Testing Tool, charge point side).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocppcfg.smartcharging import Profile, ProfileError, ProfileSet, parse_profile, profile_json

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def parse(connector: int, data: dict[str, Any], **kw: Any) -> Profile:
    """parse_profile with this charge point's limits (ChargeProfileMaxStackLevel 8, 24 periods)."""
    return parse_profile(connector, data, max_stack_level=8, max_periods=24, **kw)


def wire(
    periods: list[tuple[int, float]] | list[dict[str, Any]] | None = None,
    *,
    id: int = 1,
    stack: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    unit: str = "A",
    start: datetime | None = T0,
    duration: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A csChargingProfiles payload as on the wire; ``extra`` adds top-level fields."""
    rows = periods if periods is not None else [(0, 16.0)]
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [r if isinstance(r, dict) else {"startPeriod": r[0], "limit": r[1]} for r in rows],
    }
    if start is not None:
        schedule["startSchedule"] = start.isoformat().replace("+00:00", "Z")
    if duration is not None:
        schedule["duration"] = duration
    return {
        "chargingProfileId": id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }


def installed(*entries: tuple[int, dict[str, Any]], transactions: dict[int, int] | None = None) -> ProfileSet:
    profiles = ProfileSet()
    for connector, data in entries:
        profiles.install(parse(connector, data), active_transactions=transactions or {})
    return profiles


def limit_at(profiles: ProfileSet, seconds: float, connector: int = 1, **kw: Any) -> tuple[float | None, float | None]:
    """limit() with both instants as offsets from T0 (None stays None)."""
    kw.setdefault("transaction_start", None)
    kw.setdefault("transaction_id", None)
    amps, nxt = profiles.limit(connector, at(seconds), **kw)
    return amps, None if nxt is None else (nxt - T0).total_seconds()


# --- parse_profile: refusals ------------------------------------------------------------------


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = wire([(0, 6.0), (100, 8.0)])
    target = data
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    if value is None:
        del target[leaf]
    else:
        target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("data", "kwargs", "code"),
    [
        (wire([(0, 6.0), (200, 8.0), (100, 10.0)]), {}, "periods_not_ascending"),
        (wire([(0, 6.0), (100, 8.0), (100, 10.0)]), {}, "periods_not_ascending"),
        (wire([(10, 6.0)]), {}, "first_period_not_zero"),
        (wire([]), {}, "no_periods"),
        (wire(stack=9), {}, "stack_level_too_high"),
        (wire(stack=-1), {}, "stack_level_too_high"),
        (wire([(i * 10, 6.0) for i in range(25)]), {}, "too_many_periods"),
        (wire(kind="Recurring"), {}, "recurring_without_recurrency"),
        (wire(kind="Recurring", start=None, recurrencyKind="Daily"), {}, "recurring_without_start"),
        (wire(kind="Relative"), {}, "relative_with_start"),
        (wire(kind="Relative", start=None, purpose="ChargePointMaxProfile"), {}, "relative_charge_point_max"),
        (wire(start=None), {}, "absolute_without_start"),
        (wire(unit="W"), {"allowed_units": ("Current",)}, "unit_not_allowed"),
        (wire(unit="A"), {"allowed_units": ("Power",)}, "unit_not_allowed"),
        (wire([(0, -1.0)]), {}, "negative_limit"),
        (wire([{"startPeriod": 0, "limit": 6.0, "numberPhases": 4}]), {}, "bad_number_phases"),
        (wire(duration=-5), {}, "negative_duration"),
        (wire(validFrom="2026-11-28T12:00:00Z", validTo="2026-11-28T11:00:00Z"), {}, "valid_to_before_valid_from"),
        (wire(validFrom="yesterday"), {}, "bad_datetime"),
        (_mutate("chargingSchedule", None), {}, "malformed"),
        (_mutate("chargingSchedule.chargingSchedulePeriod", [{"limit": 6.0}]), {}, "malformed"),
        (_mutate("chargingProfilePurpose", "Whatever"), {}, "malformed"),
    ],
)
def test_parse_refuses_a_profile_with_a_code(data: dict[str, Any], kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ProfileError) as refused:
        parse(1, data, **kwargs)
    assert refused.value.code == code


def test_parse_accepts_the_most_periods_and_the_highest_stack_level() -> None:
    profile = parse(1, wire([(i * 10, 6.0) for i in range(24)], stack=8))
    assert (len(profile.periods), profile.stack_level) == (24, 8)


def test_absolute_profile_without_start_schedule_starts_when_received() -> None:
    profile = parse(1, wire(start=None), received_at=at(42))
    assert profile.start_schedule == at(42)


def test_datetimes_become_aware_utc() -> None:
    profile = parse(1, wire(start=None, validFrom="2026-11-28T11:00:00+01:00"), received_at=T0)
    assert profile.valid_from == T0
    assert profile.valid_from.tzinfo is not None


def test_profile_json_gives_back_the_wire_form() -> None:
    data = wire(
        [{"startPeriod": 0, "limit": 6.0, "numberPhases": 1}, {"startPeriod": 60, "limit": 11.5}],
        id=7,
        stack=2,
        purpose="TxProfile",
        kind="Recurring",
        duration=3600,
        recurrencyKind="Daily",
        transactionId=5,
        validFrom="2026-11-28T09:00:00Z",
        validTo="2026-12-28T09:00:00Z",
    )
    data["chargingSchedule"]["minChargingRate"] = 6.0
    assert profile_json(parse(1, copy.deepcopy(data))) == data


# --- install: refusals and replacement (5.16) -------------------------------------------------


@pytest.mark.parametrize(
    ("connector", "data", "transactions", "code"),
    [
        (1, wire(purpose="TxProfile", transactionId=5), {}, "tx_profile_without_transaction"),  # TC_058_1_CS
        (1, wire(purpose="TxProfile"), {2: 5}, "tx_profile_without_transaction"),
        (1, wire(purpose="TxProfile", transactionId=99), {1: 5}, "transaction_id_mismatch"),  # TC_058_2_CS
        (0, wire(purpose="TxProfile"), {0: 5}, "wrong_connector"),
        (1, wire(purpose="ChargePointMaxProfile"), {}, "wrong_connector"),
    ],
    ids=[
        "tc_058_1_no_transaction",
        "transaction_on_other_connector",
        "tc_058_2_wrong_transaction_id",
        "tx_profile_on_connector_0",
        "charge_point_max_on_connector_1",
    ],
)
def test_install_refuses(connector: int, data: dict[str, Any], transactions: dict[int, int], code: str) -> None:
    profiles = ProfileSet()
    with pytest.raises(ProfileError) as refused:
        profiles.install(parse(connector, data), active_transactions=transactions)
    assert refused.value.code == code
    assert profiles.profiles == []


def test_tc_057_tx_profile_for_the_running_transaction_is_accepted_with_or_without_its_id() -> None:
    profiles = installed(
        (1, wire(id=1, purpose="TxProfile", transactionId=5)),
        (2, wire(id=2, purpose="TxProfile")),
        transactions={1: 5, 2: 6},
    )
    assert [p.id for p in profiles.profiles] == [1, 2]


def test_install_refuses_more_than_the_most_installed_profiles_but_replacing_still_works() -> None:
    profiles = installed((1, wire(id=1, stack=0)), (1, wire(id=2, stack=1)))
    with pytest.raises(ProfileError) as refused:
        profiles.install(parse(1, wire(id=3, stack=2)), active_transactions={}, max_installed=2)
    assert refused.value.code == "too_many_profiles"
    profiles.install(parse(1, wire(id=2, stack=1)), active_transactions={}, max_installed=2)
    assert [p.id for p in profiles.profiles] == [1, 2]


@pytest.mark.parametrize(
    ("second", "kept_ids"),
    [
        ((2, wire(id=1, stack=3, periods=[(0, 9.0)])), [1]),  # same id, other connector and level: replaced
        ((1, wire(id=2, stack=0, periods=[(0, 9.0)])), [2]),  # same level and purpose, same connector
        ((2, wire(id=2, stack=0, periods=[(0, 9.0)])), [1, 2]),  # same level and purpose, other connector
        ((1, wire(id=2, stack=1, periods=[(0, 9.0)])), [1, 2]),  # other level
    ],
    ids=["same_id", "same_slot", "same_slot_other_connector", "other_level"],
)
def test_install_replaces_the_same_id_or_the_same_level_and_purpose_on_the_connector(
    second: tuple[int, dict[str, Any]], kept_ids: list[int]
) -> None:
    profiles = installed((1, wire(id=1, stack=0)), second)
    assert sorted(p.id for p in profiles.profiles) == kept_ids
    assert profiles.profiles[-1].periods[0].limit == 9.0


# --- stacking within a purpose (3.13.2) -------------------------------------------------------

TC_072 = installed(
    (1, wire([(0, 6.0), (100, 8.0), (200, 10.0)], id=1, stack=0, duration=400)),
    (1, wire([(0, 10.0), (100, 6.0)], id=2, stack=1, duration=150)),
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-1, (None, 0)),  # before both start
        (0, (10.0, 100)),  # stack level 1
        (99.5, (10.0, 100)),
        (100, (6.0, 150)),
        (149, (6.0, 150)),
        (150, (8.0, 200)),  # stack level 1 ended: level 0 applies again
        (200, (10.0, 400)),
        (399, (10.0, 400)),
        (400, (None, None)),  # both durations over
    ],
)
def test_tc_072_stacking_higher_level_until_its_duration_ends_then_the_lower_again(
    seconds: float, expected: tuple[float | None, float | None]
) -> None:
    assert limit_at(TC_072, seconds) == expected


def test_tc_072_composite_schedule_of_stacked_profiles() -> None:
    schedule = TC_072.composite(1, T0, 400, "A", transaction_start=None, transaction_id=None)
    assert schedule == {
        "duration": 400,
        "startSchedule": "2026-11-28T10:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 10.0},
            {"startPeriod": 100, "limit": 6.0},
            {"startPeriod": 150, "limit": 8.0},
            {"startPeriod": 200, "limit": 10.0},
        ],
    }


def test_a_higher_level_starting_later_is_the_next_change_of_the_lower_one() -> None:
    profiles = installed(
        (1, wire([(0, 16.0)], id=1, stack=0)),
        (1, wire([(0, 8.0)], id=2, stack=1, start=at(300), duration=60)),
    )
    assert [limit_at(profiles, s) for s in (0, 300, 360)] == [(16.0, 300), (8.0, 360), (16.0, None)]


# --- purposes and connectors (3.13.1, 3.13.3) --------------------------------------------------


def test_tc_056_tx_default_on_connector_0_applies_to_every_connector() -> None:
    profiles = installed((0, wire([(0, 13.0)])))
    assert [limit_at(profiles, 10, connector=c)[0] for c in (1, 2)] == [13.0, 13.0]


@pytest.mark.parametrize(
    ("connector", "seconds", "expected"),
    [
        (1, 0, (7.0, 100)),  # the connector's own TxDefault
        (1, 100, (13.0, None)),  # its own ended: connector 0's again
        (2, 0, (13.0, None)),  # other connectors keep connector 0's
    ],
)
def test_connector_tx_default_overrides_the_one_of_connector_0(
    connector: int, seconds: float, expected: tuple[float | None, float | None]
) -> None:
    profiles = installed((0, wire([(0, 13.0)], id=1, stack=5)), (1, wire([(0, 7.0)], id=2, stack=0, duration=100)))
    assert limit_at(profiles, seconds, connector=connector) == expected


TX_AND_DEFAULT = installed(
    (1, wire([(0, 16.0)], id=1)),
    (1, wire([(0, 6.0)], id=2, purpose="TxProfile", transactionId=5, duration=120)),
    transactions={1: 5},
)


@pytest.mark.parametrize(
    ("seconds", "transaction", "expected"),
    [
        (0, 5, (6.0, 120)),  # TC_057: the TxProfile rules its transaction
        (120, 5, (16.0, None)),  # its duration over: the TxDefault again
        (0, None, (16.0, None)),  # no transaction: no TxProfile
        (0, 6, (16.0, None)),  # another transaction: not this TxProfile
    ],
)
def test_tc_057_tx_profile_overrides_tx_default_for_its_transaction(
    seconds: float, transaction: int | None, expected: tuple[float | None, float | None]
) -> None:
    assert (
        limit_at(TX_AND_DEFAULT, seconds, transaction_id=transaction, transaction_start=T0 if transaction else None)
        == expected
    )


def test_transaction_end_removes_only_that_connectors_tx_profiles() -> None:
    profiles = installed(
        (1, wire(id=1)),
        (1, wire(id=2, purpose="TxProfile", transactionId=5)),
        (2, wire(id=3, purpose="TxProfile", transactionId=6)),
        transactions={1: 5, 2: 6},
    )
    profiles.transaction_ended(1)
    assert sorted(p.id for p in profiles.profiles) == [1, 3]


def test_tc_082_tx_default_set_during_a_transaction_applies_to_it() -> None:
    profiles = installed((1, wire([(0, 16.0)], id=1)), transactions={1: 5})
    assert limit_at(profiles, 30, transaction_id=5, transaction_start=at(-600)) == (16.0, None)
    profiles.install(parse(1, wire([(0, 10.0)], id=2, stack=1)), active_transactions={1: 5})
    assert limit_at(profiles, 30, transaction_id=5, transaction_start=at(-600)) == (10.0, None)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, (10.0, 3600)),  # the connector's own limit is higher than the park's
        (3600, (16.0, None)),  # the park limit is gone
    ],
)
def test_tc_066_charge_point_max_caps_the_connector(seconds: float, expected: tuple[float, float | None]) -> None:
    profiles = installed(
        (0, wire([(0, 10.0)], id=1, purpose="ChargePointMaxProfile", duration=3600)),
        (1, wire([(0, 16.0)], id=2)),
    )
    assert limit_at(profiles, seconds) == expected


def test_tc_066_composite_combines_the_three_purposes() -> None:
    profiles = installed(
        (0, wire([(0, 10.0)], id=1, purpose="ChargePointMaxProfile", duration=86_400)),
        (1, wire([(0, 6.0), (100, 8.0), (200, 12.0)], id=2)),
        (1, wire([(0, 8.0), (100, 16.0), (200, 6.0)], id=3, purpose="TxProfile", transactionId=5, duration=260)),
        transactions={1: 5},
    )
    schedule = profiles.composite(1, T0, 400, "A", transaction_start=T0, transaction_id=5)
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 8.0},  # TxProfile
        {"startPeriod": 100, "limit": 10.0},  # TxProfile 16 A capped by the park
        {"startPeriod": 200, "limit": 6.0},
        {"startPeriod": 260, "limit": 10.0},  # TxProfile over: TxDefault 12 A, capped
    ]
    assert profiles.park_limit(at(100)) == (10.0, at(86_400))


def test_park_limit_is_none_without_a_charge_point_max_profile() -> None:
    assert installed((1, wire())).park_limit(T0) == (None, None)


def test_connector_0_composite_is_the_charge_point_max_schedule() -> None:
    profiles = installed(
        (0, wire([(0, 32.0), (600, 20.0)], id=1, purpose="ChargePointMaxProfile")),
        (0, wire([(0, 6.0)], id=2)),
    )
    schedule = profiles.composite(0, T0, 900, None, transaction_start=None, transaction_id=None)
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 32.0},
        {"startPeriod": 600, "limit": 20.0},
    ]
    assert profiles.limit(0, at(10), transaction_start=None, transaction_id=None) == (32.0, at(600))


# --- kinds, validity, duration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("transaction_start", "seconds", "expected"),
    [
        (None, 100, (None, None)),  # no transaction: a Relative profile does not apply
        (30, 30, (6.0, 90)),  # starts with the transaction
        (30, 89, (6.0, 90)),
        (30, 90, (10.0, 330)),
        (30, 330, (None, None)),  # duration over
    ],
)
def test_tc_059_relative_profile_starts_with_the_transaction(
    transaction_start: float | None, seconds: float, expected: tuple[float | None, float | None]
) -> None:
    profiles = installed(
        (1, wire([(0, 6.0), (60, 10.0)], kind="Relative", start=None, purpose="TxProfile", duration=300)),
        transactions={1: 5},
    )
    started = None if transaction_start is None else at(transaction_start)
    assert limit_at(profiles, seconds, transaction_start=started, transaction_id=5 if started else None) == expected


DAILY_START = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 11, 27, 21, 0, tzinfo=UTC), (None, datetime(2026, 11, 27, 22, 0, tzinfo=UTC))),
        (datetime(2026, 11, 27, 22, 0, tzinfo=UTC), (6.0, datetime(2026, 11, 28, 6, 0, tzinfo=UTC))),
        (datetime(2026, 11, 28, 5, 59, tzinfo=UTC), (6.0, datetime(2026, 11, 28, 6, 0, tzinfo=UTC))),
        (datetime(2026, 11, 28, 6, 0, tzinfo=UTC), (None, datetime(2026, 11, 28, 22, 0, tzinfo=UTC))),
        (datetime(2026, 11, 28, 23, 0, tzinfo=UTC), (6.0, datetime(2026, 11, 29, 6, 0, tzinfo=UTC))),
        (datetime(2027, 3, 28, 2, 30, tzinfo=UTC), (6.0, datetime(2027, 3, 28, 6, 0, tzinfo=UTC))),  # months on
    ],
)
def test_recurring_daily_repeats_the_start_schedules_time_of_day(
    when: datetime, expected: tuple[float | None, datetime | None]
) -> None:
    profiles = installed(
        (0, wire([(0, 6.0)], kind="Recurring", recurrencyKind="Daily", start=DAILY_START, duration=8 * 3600))
    )
    assert profiles.limit(1, when, transaction_start=None, transaction_id=None) == expected


@pytest.mark.parametrize(
    ("offset_s", "expected_limit", "expected_next_s"),
    [
        (3_599, 6.0, 3_600),
        (7_200, 10.0, 86_400),  # without duration the last period lasts until the next repetition
        (86_400 + 10, 6.0, 86_400 + 3_600),  # the schedule restarts at its first period
    ],
)
def test_recurring_without_duration_runs_until_the_next_repetition(
    offset_s: int, expected_limit: float, expected_next_s: int
) -> None:
    profiles = installed((1, wire([(0, 6.0), (3_600, 10.0)], kind="Recurring", recurrencyKind="Daily")))
    assert limit_at(profiles, offset_s) == (expected_limit, expected_next_s)


def test_recurring_schedule_longer_than_its_recurrence_is_cut() -> None:
    profiles = installed(
        (1, wire([(0, 6.0), (90_000, 16.0)], kind="Recurring", recurrencyKind="Daily", duration=100_000))
    )
    assert limit_at(profiles, 86_399) == (6.0, 86_400)
    assert limit_at(profiles, 86_400 + 3_600) == (6.0, 2 * 86_400)  # 90 000 s is never reached


def test_recurring_weekly_repeats_on_the_same_weekday() -> None:
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    profiles = installed((1, wire([(0, 11.0)], kind="Recurring", recurrencyKind="Weekly", start=monday, duration=3600)))
    limit = lambda when: profiles.limit(1, when, transaction_start=None, transaction_id=None)  # noqa: E731
    assert limit(monday + timedelta(days=7, minutes=30)) == (11.0, monday + timedelta(days=7, hours=1))
    assert limit(monday + timedelta(days=8, minutes=30)) == (None, monday + timedelta(days=14))


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, (16.0, 600)),  # the validity of the level-1 profile starts at 600
        (600, (8.0, 1200)),  # level 1 valid: until validTo
        (1200, (16.0, None)),  # validTo is excluded: level 0 again
    ],
)
def test_valid_from_and_valid_to_bound_a_profile(seconds: float, expected: tuple[float | None, float | None]) -> None:
    profiles = installed(
        (1, wire([(0, 16.0)], id=1)),
        (1, wire([(0, 8.0)], id=2, stack=1, validFrom="2026-11-28T10:10:00Z", validTo="2026-11-28T10:20:00Z")),
    )
    assert limit_at(profiles, seconds) == expected


def test_without_duration_the_last_period_lasts_forever() -> None:
    profiles = installed((1, wire([(0, 6.0), (60, 12.0)])))
    assert limit_at(profiles, 10 * 365 * 86_400) == (12.0, None)


# --- units (W <-> A) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "phases", "amps"),
    [
        ({"startPeriod": 0, "limit": 11_040.0}, 3, 16.0),  # W / (230 V * 3)
        ({"startPeriod": 0, "limit": 11_040.0}, 1, 48.0),  # the caller's phases when the period has none
        ({"startPeriod": 0, "limit": 3_680.0, "numberPhases": 1}, 3, 16.0),  # the period's numberPhases
    ],
)
def test_watts_become_amps_per_phase(period: dict[str, Any], phases: int, amps: float) -> None:
    profiles = installed((1, wire([period], unit="W")))
    assert profiles.limit(1, T0, transaction_start=None, transaction_id=None, phases=phases)[0] == pytest.approx(amps)


def test_composite_in_watts_converts_amps_and_keeps_number_phases() -> None:
    profiles = installed(
        (1, wire([{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 60, "limit": 16.0, "numberPhases": 1}]))
    )
    schedule = profiles.composite(1, T0, 120, "W", transaction_start=None, transaction_id=None)
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11_040.0},
        {"startPeriod": 60, "limit": 3_680.0, "numberPhases": 1},
    ]


def test_watt_park_limit_caps_an_amp_connector_limit() -> None:
    profiles = installed(
        (0, wire([(0, 6_900.0)], id=1, purpose="ChargePointMaxProfile", unit="W")),  # 10 A at 3 x 230 V
        (1, wire([(0, 16.0)], id=2)),
    )
    assert limit_at(profiles, 0)[0] == pytest.approx(10.0)


# --- composite details ------------------------------------------------------------------------


def test_composite_merges_consecutive_equal_limits() -> None:
    profiles = installed((1, wire([(0, 6.0), (100, 6.0), (200, 8.0), (300, 8.0)])))
    schedule = profiles.composite(1, at(50), 400, "A", transaction_start=None, transaction_id=None)
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 150, "limit": 8.0}]
    assert schedule["startSchedule"] == "2026-11-28T10:00:50Z"


@pytest.mark.parametrize(
    ("max_current_a", "duration", "periods"),
    [
        (None, 100, [{"startPeriod": 0, "limit": 6.0}]),  # ends where nothing limits any more
        (32.0, 300, [{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 100, "limit": 32.0}]),
    ],
)
def test_composite_time_without_a_profile(
    max_current_a: float | None, duration: int, periods: list[dict[str, Any]]
) -> None:
    profiles = installed((1, wire([(0, 6.0)], duration=100)))
    schedule = profiles.composite(
        1, T0, 300, "A", transaction_start=None, transaction_id=None, max_current_a=max_current_a
    )
    assert (schedule["duration"], schedule["chargingSchedulePeriod"]) == (duration, periods)


def test_composite_starts_on_a_whole_second_and_keeps_the_later_of_two_changes_in_one_second() -> None:
    profiles = installed(
        (1, wire([(0, 16.0)], id=1)),
        (1, wire([(0, 6.0), (1, 8.0)], id=2, purpose="TxProfile", kind="Relative", start=None)),
        transactions={1: 5},
    )
    schedule = profiles.composite(1, at(0.7), 10, "A", transaction_start=at(0.9), transaction_id=5)
    assert schedule["startSchedule"] == "2026-11-28T10:00:00Z"
    # 16 A until 0.9 s, 6 A until 1.9 s, then 8 A: second 0 reports 6 A, second 1 on 8 A
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 1, "limit": 8.0}]


def test_composite_without_profiles_is_empty() -> None:
    schedule = ProfileSet().composite(1, T0, 300, "A", transaction_start=None, transaction_id=None)
    assert (schedule["duration"], schedule["chargingSchedulePeriod"]) == (300, [])


# --- clear (5.5), persistence -----------------------------------------------------------------


def _three() -> ProfileSet:
    return installed(
        (0, wire(id=1, purpose="ChargePointMaxProfile", stack=1)),
        (1, wire(id=2, stack=1)),
        (1, wire(id=3, stack=2)),
    )


@pytest.mark.parametrize(
    ("criteria", "removed", "left"),
    [
        ({"id": 2, "connector_id": 0}, 1, [1, 3]),  # by id: the other criteria do not matter
        ({"id": 9}, 0, [1, 2, 3]),  # unknown: status Unknown
        ({"connector_id": 1}, 2, [1]),
        ({"purpose": "TxDefaultProfile", "stack_level": 1}, 1, [1, 3]),
        ({"stack_level": 1}, 2, [3]),
        ({}, 3, []),  # no criteria: all
    ],
)
def test_tc_067_clear_by_id_or_by_criteria(criteria: dict[str, Any], removed: int, left: list[int]) -> None:
    profiles = _three()
    assert profiles.clear(**criteria) == removed
    assert sorted(p.id for p in profiles.profiles) == left


def test_tc_067_cleared_profile_no_longer_limits() -> None:
    profiles = installed((1, wire([(0, 6.0), (60, 8.0), (200, 10.0)], stack=1, duration=400)))
    profiles.clear(id=1)
    assert limit_at(profiles, 0) == (None, None)


def test_json_round_trip_keeps_every_profile_and_its_answers() -> None:
    profiles = installed(
        (0, wire([(0, 32.0)], id=1, purpose="ChargePointMaxProfile", validTo="2026-12-01T00:00:00Z")),
        (1, wire([(0, 6.0), (60, 10.0)], id=2, kind="Recurring", recurrencyKind="Weekly", duration=7200)),
        (1, wire([(0, 8.0)], id=3, purpose="TxProfile", kind="Relative", start=None, transactionId=5)),
        transactions={1: 5},
    )
    again = ProfileSet.from_json(profiles.to_json())
    assert again.to_json() == profiles.to_json()
    assert again.profiles == profiles.profiles
    assert limit_at(again, 70, transaction_start=T0, transaction_id=5) == (8.0, 223_200)  # the park validTo
