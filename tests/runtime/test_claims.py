"""Claims and the one decision: ``decide()`` as a table, and the ``ClaimBoard`` that holds the claims."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from wbm.runtime.claims import (
    Claim,
    ClaimBoard,
    ClaimRefused,
    Decision,
    Kind,
    Limits,
    Offer,
    Source,
    Verdict,
    decide,
)

NOW = 1_000_000.0
CP = 1

USER_RELEASE = frozenset({Source.USER})
OCPP_RELEASE = frozenset({Source.OCPP})
LIMITS = Limits(min_a=6.0, fallback_a=6.0, grant_sources=USER_RELEASE)


# --- claims, briefly ----------------------------------------------------------------------------
def cap(source: Source, amps: float, *, key: str = "", expires_at: float | None = None, lapse: bool = False) -> Claim:
    return Claim(
        cp_id=CP, kind=Kind.CAP, source=source, key=key, amps=amps, expires_at=expires_at, lapse_to_fallback=lapse
    )


def grant(source: Source = Source.USER, *, key: str = "", expires_at: float | None = None) -> Claim:
    return Claim(cp_id=CP, kind=Kind.GRANT, source=source, key=key, expires_at=expires_at)


def block(source: Source, *, key: str = "", reason: str = "") -> Claim:
    return Claim(cp_id=CP, kind=Kind.BLOCK, source=source, key=key, reason=reason)


CONFIG_16 = cap(Source.CONFIG, 16.0, key="max_current")


def row(
    id: str,
    claims: list[Claim],
    *,
    offered: float,
    verdict: Verdict,
    released: bool,
    binding: Source | None,
    limits: Limits = LIMITS,
    vehicle: bool = True,
    previous: Offer | None = None,
    now: float = NOW,
    **extra: Any,
) -> Any:
    """One row of the table: the inputs of ``decide()`` and the fields of the Decision it must give."""
    expected = {"offered_a": offered, "verdict": verdict, "released": released, "binding": binding, **extra}
    unknown = set(extra) - set(Decision.__dataclass_fields__)
    assert not unknown, f"row {id}: no Decision field {unknown}"
    return pytest.param(limits, claims, vehicle, previous or Offer(), now, expected, id=id)


TABLE = [
    # --- the lowest cap binds ---------------------------------------------------------------------
    row(
        "ocpp 10 + load management 12 + config 16 -> 10 A, OCPP binds",
        [CONFIG_16, cap(Source.OCPP, 10.0), cap(Source.LOAD_MANAGEMENT, 12.0), grant()],
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.OCPP,
        cap_a=10.0,
        ceiling_a=10.0,
        lapsed=None,
        pending_a=None,
    ),
    row(
        "safety derating below every cap -> SAFETY binds",
        [CONFIG_16, cap(Source.OCPP, 12.0), cap(Source.LOAD_MANAGEMENT, 10.0), cap(Source.SAFETY, 8.0), grant()],
        offered=8.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.SAFETY,
        cap_a=8.0,
        ceiling_a=8.0,
    ),
    row(
        "the offer is rounded to 0.1 A, the cap is not",
        [CONFIG_16, cap(Source.SAFETY, 7.26), grant()],
        offered=7.3,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.SAFETY,
        cap_a=7.26,
    ),
    row(
        "equal caps: config 16 + OCPP 16 -> the earlier source (CONFIG) binds",
        [cap(Source.OCPP, 16.0), CONFIG_16, grant()],
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        binding_key="max_current",
    ),
    row(
        "equal caps: load management 10 + OCPP 10 -> OCPP binds",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0), cap(Source.OCPP, 10.0), grant()],
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.OCPP,
    ),
    # --- caps that expire -------------------------------------------------------------------------
    row(
        "lapsed load management cap (lapse_to_fallback) -> fallback 6 A",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0, key="park", expires_at=NOW - 1, lapse=True), grant()],
        offered=6.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.FALLBACK,
        binding_key="park",
        lapsed=Source.LOAD_MANAGEMENT,
        cap_a=6.0,
        ceiling_a=16.0,
    ),
    row(
        "lapsed load management cap with fallback 0 A -> paused",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0, expires_at=NOW - 1, lapse=True), grant()],
        limits=Limits(min_a=6.0, fallback_a=0.0, grant_sources=USER_RELEASE),
        offered=0.0,
        verdict=Verdict.BELOW_MINIMUM,
        released=True,
        binding=Source.FALLBACK,
        lapsed=Source.LOAD_MANAGEMENT,
        cap_a=0.0,
        ceiling_a=16.0,
    ),
    row(
        "a cap expiring exactly now has lapsed",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0, expires_at=NOW, lapse=True), grant()],
        offered=6.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.FALLBACK,
        lapsed=Source.LOAD_MANAGEMENT,
    ),
    row(
        "a live cap with lapse_to_fallback counts as itself",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0, expires_at=NOW + 1, lapse=True), grant()],
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
        lapsed=None,
        ceiling_a=16.0,
    ),
    row(
        "an expired cap without lapse_to_fallback no longer counts",
        [CONFIG_16, cap(Source.OCPP, 8.0, expires_at=NOW - 1), grant()],
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        lapsed=None,
        cap_a=16.0,
    ),
    row(
        "a lapsed OCPP cap is part of the ceiling",
        [CONFIG_16, cap(Source.OCPP, 10.0, expires_at=NOW - 1, lapse=True), cap(Source.LOAD_MANAGEMENT, 12.0), grant()],
        offered=6.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.FALLBACK,
        lapsed=Source.OCPP,
        ceiling_a=6.0,
    ),
    # --- the minimum current ----------------------------------------------------------------------
    row(
        "load management 4 A below the minimum 6 A -> paused",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 4.0), grant()],
        offered=0.0,
        verdict=Verdict.BELOW_MINIMUM,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
        cap_a=4.0,
        ceiling_a=16.0,
    ),
    row(
        "a cap exactly at the minimum is offered",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 6.0), grant()],
        offered=6.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
    ),
    # --- the ceiling (what the allocator may hand out) --------------------------------------------
    row(
        "ceiling: the lowest cap except load management's",
        [CONFIG_16, cap(Source.OCPP, 13.0), cap(Source.LOAD_MANAGEMENT, 8.0), grant()],
        offered=8.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
        ceiling_a=13.0,
    ),
    row(
        "ceiling: None when only load management caps",
        [cap(Source.LOAD_MANAGEMENT, 10.0, key="a"), cap(Source.LOAD_MANAGEMENT, 12.0, key="b"), grant()],
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
        binding_key="a",
        ceiling_a=None,
    ),
    row(
        "ceiling: None when only a lapsed load management cap",
        [cap(Source.LOAD_MANAGEMENT, 10.0, expires_at=NOW - 1, lapse=True), grant()],
        offered=6.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.FALLBACK,
        lapsed=Source.LOAD_MANAGEMENT,
        ceiling_a=None,
    ),
    # --- release and blocks -----------------------------------------------------------------------
    row(
        "Event Action block + user grant -> blocked",
        [CONFIG_16, block(Source.EVENT_ACTION, key="ea-3", reason="disable"), grant()],
        offered=0.0,
        verdict=Verdict.BLOCKED,
        released=False,
        binding=Source.CONFIG,
        blocked_by=Source.EVENT_ACTION,
        block_reason="disable",
    ),
    row(
        "two blocks: the earlier source is named",
        [CONFIG_16, block(Source.USER, reason="disabled"), block(Source.SAFETY, reason="GroundFailure"), grant()],
        offered=0.0,
        verdict=Verdict.BLOCKED,
        released=False,
        binding=Source.CONFIG,
        blocked_by=Source.SAFETY,
        block_reason="GroundFailure",
    ),
    row(
        "a block also stands without a vehicle",
        [CONFIG_16, block(Source.USER, reason="disabled"), grant()],
        vehicle=False,
        offered=0.0,
        verdict=Verdict.BLOCKED,
        released=False,
        binding=Source.CONFIG,
        blocked_by=Source.USER,
    ),
    row(
        "OCPP release mode + a user grant only -> not released",
        [CONFIG_16, grant(Source.USER)],
        limits=Limits(min_a=6.0, fallback_a=6.0, grant_sources=OCPP_RELEASE),
        offered=0.0,
        verdict=Verdict.NOT_RELEASED,
        released=False,
        binding=Source.CONFIG,
        blocked_by=None,
    ),
    row(
        "OCPP release mode + an OCPP grant -> offered",
        [CONFIG_16, grant(Source.OCPP)],
        limits=Limits(min_a=6.0, fallback_a=6.0, grant_sources=OCPP_RELEASE),
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
    ),
    row(
        "no grant at all -> not released",
        [CONFIG_16],
        offered=0.0,
        verdict=Verdict.NOT_RELEASED,
        released=False,
        binding=Source.CONFIG,
    ),
    row(
        "an expired grant does not release",
        [CONFIG_16, grant(expires_at=NOW - 1)],
        offered=0.0,
        verdict=Verdict.NOT_RELEASED,
        released=False,
        binding=Source.CONFIG,
    ),
    row(
        "a grant whose ttl still runs releases",
        [CONFIG_16, grant(expires_at=NOW + 30)],
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
    ),
    # --- no vehicle -------------------------------------------------------------------------------
    row(
        "no vehicle, released -> nothing offered, but released",
        [CONFIG_16, grant()],
        vehicle=False,
        offered=0.0,
        verdict=Verdict.NO_VEHICLE,
        released=True,
        binding=Source.CONFIG,
        cap_a=16.0,
    ),
    row(
        "no vehicle, no grant -> not released",
        [CONFIG_16],
        vehicle=False,
        offered=0.0,
        verdict=Verdict.NO_VEHICLE,
        released=False,
        binding=Source.CONFIG,
    ),
    # --- the rate limit (IEC 61851-1: 5 s to follow a raise) --------------------------------------
    row(
        "raise 10 -> 16 two seconds after a change is held",
        [CONFIG_16, grant()],
        previous=Offer(amps=10.0, changed_at=NOW - 2),
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=16.0,
        cap_a=16.0,
    ),
    row(
        "raise 10 -> 16 six seconds after a change goes through",
        [CONFIG_16, grant()],
        previous=Offer(amps=10.0, changed_at=NOW - 6),
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=None,
    ),
    row(
        "raise exactly the interval after a change goes through",
        [CONFIG_16, grant()],
        previous=Offer(amps=10.0, changed_at=NOW - 5),
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=None,
    ),
    row(
        "raise with no previous change (changed_at None) is immediate",
        [CONFIG_16, grant()],
        previous=Offer(amps=0.0, changed_at=None),
        offered=16.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=None,
    ),
    row(
        "raise from 0 one second after a change is held too",
        [CONFIG_16, grant()],
        previous=Offer(amps=0.0, changed_at=NOW - 1),
        offered=0.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=16.0,
    ),
    row(
        "lowering 16 -> 10 one second after a change is immediate",
        [CONFIG_16, cap(Source.LOAD_MANAGEMENT, 10.0), grant()],
        previous=Offer(amps=16.0, changed_at=NOW - 1),
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.LOAD_MANAGEMENT,
        pending_a=None,
    ),
    row(
        "a block one second after a change pauses at once",
        [CONFIG_16, block(Source.EVENT_ACTION, reason="disable"), grant()],
        previous=Offer(amps=16.0, changed_at=NOW - 1),
        offered=0.0,
        verdict=Verdict.BLOCKED,
        released=False,
        binding=Source.CONFIG,
        pending_a=None,
    ),
    row(
        "a raise interval from the limits is honoured",
        [CONFIG_16, grant()],
        limits=Limits(min_a=6.0, fallback_a=6.0, grant_sources=USER_RELEASE, raise_interval_s=10.0),
        previous=Offer(amps=10.0, changed_at=NOW - 6),
        offered=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        binding=Source.CONFIG,
        pending_a=16.0,
    ),
]


@pytest.mark.parametrize(("limits", "claims", "vehicle", "previous", "now", "expected"), TABLE)
def test_decide(
    limits: Limits, claims: list[Claim], vehicle: bool, previous: Offer, now: float, expected: dict[str, Any]
) -> None:
    decision = decide(limits=limits, claims=claims, vehicle=vehicle, previous=previous, now=now)
    assert {name: getattr(decision, name) for name in expected} == expected


@pytest.mark.parametrize(("limits", "claims", "vehicle", "previous", "now", "expected"), TABLE)
def test_decide_does_not_depend_on_the_order_of_the_claims(
    limits: Limits, claims: list[Claim], vehicle: bool, previous: Offer, now: float, expected: dict[str, Any]
) -> None:
    forward = decide(limits=limits, claims=claims, vehicle=vehicle, previous=previous, now=now)
    backward = decide(limits=limits, claims=reversed(claims), vehicle=vehicle, previous=previous, now=now)
    assert forward == backward


@pytest.mark.parametrize(("limits", "claims", "vehicle", "previous", "now", "expected"), TABLE)
def test_a_decision_survives_its_dict(
    limits: Limits, claims: list[Claim], vehicle: bool, previous: Offer, now: float, expected: dict[str, Any]
) -> None:
    decision = decide(limits=limits, claims=claims, vehicle=vehicle, previous=previous, now=now)
    assert Decision.from_dict(decision.as_dict()) == decision


def test_a_fallback_cap_tied_with_a_lapsed_cap_does_not_crash_decide() -> None:
    claims = [cap(Source.FALLBACK, 6.0), cap(Source.OCPP, 10.0, expires_at=NOW - 1, lapse=True), grant()]
    decision = decide(limits=LIMITS, claims=claims, vehicle=True, previous=Offer(), now=NOW)
    assert decision.offered_a == 6.0
    assert decision.binding is Source.FALLBACK


# --- the board ----------------------------------------------------------------------------------
KNOWN = {1, 2}


class Board:
    """A claim board on a fake clock: ``board.now[0]`` is the time."""

    def __init__(self) -> None:
        self.now = [NOW]
        self.board = ClaimBoard(known=lambda cp_id: cp_id in KNOWN, clock=lambda: self.now[0])

    def advance(self, seconds: float) -> None:
        self.now[0] += seconds


@pytest.fixture
def fake() -> Board:
    return Board()


@pytest.fixture
def board(fake: Board) -> ClaimBoard:
    return fake.board


REFUSALS = [
    pytest.param(lambda b: b.cap(99, Source.OCPP, 10.0), "unknown_chargepoint", {"cp": 99}, id="cap at an unknown cp"),
    pytest.param(lambda b: b.grant(99, Source.USER), "unknown_chargepoint", {"cp": 99}, id="grant at an unknown cp"),
    pytest.param(
        lambda b: b.block(99, Source.USER, key="disabled"), "unknown_chargepoint", {"cp": 99}, id="block at unknown cp"
    ),
    pytest.param(lambda b: b.cap(1, Source.OCPP, -1.0), "bad_cap", {"amps": -1.0}, id="negative cap"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, math.nan), "bad_cap", None, id="NaN cap"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, math.inf), "bad_cap", {"amps": math.inf}, id="inf cap"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, -math.inf), "bad_cap", {"amps": -math.inf}, id="-inf cap"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, True), "bad_cap", {"amps": True}, id="a bool as amps"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, "10"), "bad_cap", {"amps": "10"}, id="a string as amps"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, None), "bad_cap", {"amps": None}, id="None as amps"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, 10.0, ttl_s=0), "expired_claim", {"ttl_s": 0}, id="cap ttl 0"),
    pytest.param(lambda b: b.cap(1, Source.OCPP, 10.0, ttl_s=-5), "expired_claim", {"ttl_s": -5}, id="cap ttl < 0"),
    pytest.param(lambda b: b.grant(1, Source.USER, ttl_s=0), "expired_claim", {"ttl_s": 0}, id="grant ttl 0"),
    pytest.param(lambda b: b.grant(1, Source.USER, ttl_s=-1.5), "expired_claim", {"ttl_s": -1.5}, id="grant ttl < 0"),
    pytest.param(
        lambda b: b.cap(1, Source.OCPP, 10.0, lapse_to_fallback=True),
        "bad_ttl",
        {"ttl_s": None},
        id="lapse_to_fallback without ttl",
    ),
]


@pytest.mark.parametrize(("put", "code", "params"), REFUSALS)
def test_bad_claims_are_refused_logged_and_not_stored(
    board: ClaimBoard, caplog: pytest.LogCaptureFixture, put: Any, code: str, params: dict[str, Any] | None
) -> None:
    # the same idents already stand: a refused renewal must not replace or remove them
    board.cap(1, Source.OCPP, 10.0)
    board.grant(1, Source.USER)
    before, version = board.claims(1), board.version
    with caplog.at_level(logging.WARNING, logger="wbm.runtime.claims"), pytest.raises(ClaimRefused) as refused:
        put(board)
    assert refused.value.code == code
    if params is not None:
        assert refused.value.params == params
    assert board.claims(1) == before
    assert board.claims(99) == ()
    assert board.version == version
    logged = [r for r in caplog.records if r.name == "wbm.runtime.claims" and r.levelno == logging.WARNING]
    assert len(logged) == 1
    assert "claim refused" in logged[0].getMessage()
    assert code in logged[0].getMessage()


def test_a_cap_is_stored_with_its_expiry_and_putting_it_again_replaces_it(fake: Board, board: ClaimBoard) -> None:
    first = board.cap(1, Source.LOAD_MANAGEMENT, 10, ttl_s=30, lapse_to_fallback=True)
    assert first.amps == 10.0 and isinstance(first.amps, float)
    assert first.expires_at == NOW + 30
    assert first.lapse_to_fallback
    version = board.version
    fake.advance(10)
    renewed = board.cap(1, Source.LOAD_MANAGEMENT, 12.0, ttl_s=30, lapse_to_fallback=True)
    assert board.claims(1) == (renewed,)
    assert renewed.expires_at == NOW + 40
    assert board.version > version


def test_has_follows_the_clock(fake: Board, board: ClaimBoard) -> None:
    board.grant(1, Source.WHITELIST, key="04A1B2C3", ttl_s=20)
    assert board.has(1, Kind.GRANT, Source.WHITELIST, "04A1B2C3")
    assert not board.has(1, Kind.GRANT, Source.WHITELIST)  # another key
    fake.advance(20)
    assert not board.has(1, Kind.GRANT, Source.WHITELIST, "04A1B2C3")


def test_a_block_without_a_reason_takes_its_key(board: ClaimBoard) -> None:
    assert board.block(1, Source.USER, key="disabled").reason == "disabled"
    assert board.block(1, Source.SAFETY, key="fault", reason="GroundFailure").reason == "GroundFailure"


def test_withdraw_by_source_kind_and_key(board: ClaimBoard) -> None:
    board.cap(1, Source.EVENT_ACTION, 10.0, key="ea-1")
    board.cap(1, Source.EVENT_ACTION, 8.0, key="ea-2")
    board.block(1, Source.EVENT_ACTION, key="ea-1")
    board.cap(1, Source.OCPP, 12.0)
    version = board.version

    assert board.withdraw(1, Source.EVENT_ACTION, Kind.CAP, "ea-2") == 1
    assert board.version == version + 1
    assert board.withdraw(1, Source.EVENT_ACTION, Kind.BLOCK) == 1
    assert {(c.kind, c.key) for c in board.claims(1) if c.source is Source.EVENT_ACTION} == {(Kind.CAP, "ea-1")}
    assert board.withdraw(1, Source.EVENT_ACTION) == 1
    assert [c.source for c in board.claims(1)] == [Source.OCPP]

    version = board.version
    assert board.withdraw(1, Source.EVENT_ACTION) == 0
    assert board.withdraw(2, Source.OCPP) == 0
    assert board.version == version  # nothing went: no wake-up


def test_withdraw_source_clears_a_source_everywhere(board: ClaimBoard) -> None:
    board.cap(1, Source.MODBUS, 10.0)
    board.grant(1, Source.MODBUS)
    board.cap(2, Source.MODBUS, 8.0)
    board.grant(2, Source.USER)
    assert board.withdraw_source(Source.MODBUS) == 3
    assert board.claims(1) == ()
    assert [c.source for c in board.claims(2)] == [Source.USER]
    assert board.withdraw_source(Source.MODBUS) == 0


def test_unplugged_takes_only_claims_that_end_at_unplug(board: ClaimBoard) -> None:
    board.grant(1, Source.WHITELIST, key="04A1B2C3", until_unplug=True)
    board.grant(1, Source.USER)
    board.cap(1, Source.OCPP, 10.0)
    board.grant(2, Source.WHITELIST, until_unplug=True)
    version = board.version
    board.unplugged(1)
    assert {(c.kind, c.source) for c in board.claims(1)} == {(Kind.GRANT, Source.USER), (Kind.CAP, Source.OCPP)}
    assert len(board.claims(2)) == 1  # another charge point's vehicle is still there
    assert board.version == version + 1
    board.unplugged(1)
    assert board.version == version + 1


def test_prune_keeps_lapsed_fallback_caps_and_drops_other_expired_claims(fake: Board, board: ClaimBoard) -> None:
    lapsing = board.cap(1, Source.LOAD_MANAGEMENT, 10.0, ttl_s=10, lapse_to_fallback=True)
    board.cap(1, Source.OCPP, 8.0, ttl_s=10)
    board.grant(1, Source.USER, ttl_s=10)
    board.grant(2, Source.USER, ttl_s=10)
    lasting = board.cap(1, Source.CONFIG, 16.0)
    live = board.grant(1, Source.WHITELIST, ttl_s=60)

    board.prune(fake.now[0])
    assert len(board.claims(1)) == 5  # nothing expired yet

    fake.advance(10)
    version = board.version
    board.prune(fake.now[0])
    assert set(board.claims(1)) == {lapsing, lasting, live}
    assert board.claims(2) == ()
    assert board.version > version

    # the lapsed cap counts as the fallback current until its source withdraws it
    decision = decide(
        limits=Limits(min_a=6.0, fallback_a=6.0, grant_sources=frozenset({Source.WHITELIST})),
        claims=board.claims(1),
        vehicle=True,
        previous=Offer(),
        now=fake.now[0],
    )
    assert (decision.offered_a, decision.binding, decision.lapsed) == (6.0, Source.FALLBACK, Source.LOAD_MANAGEMENT)

    version = board.version
    board.prune(fake.now[0])
    assert board.version == version  # nothing more to drop


def test_renew_changes_a_standing_claim(fake: Board, board: ClaimBoard) -> None:
    board.grant(1, Source.WHITELIST, key="04A1B2C3", ttl_s=20)
    version = board.version
    assert board.renew(1, Kind.GRANT, Source.WHITELIST, "04A1B2C3", expires_at=None, until_unplug=True)
    (claim,) = board.claims(1)
    assert claim.expires_at is None and claim.until_unplug
    assert board.version == version + 1
    fake.advance(3600)
    assert board.has(1, Kind.GRANT, Source.WHITELIST, "04A1B2C3")


def test_renew_without_a_claim_is_false(board: ClaimBoard) -> None:
    version = board.version
    assert not board.renew(1, Kind.GRANT, Source.WHITELIST, "04A1B2C3", expires_at=None)
    assert board.claims(1) == ()
    assert board.version == version


def test_sync_puts_replaces_and_withdraws_and_leaves_an_unchanged_claim_alone(board: ClaimBoard) -> None:
    claim = Claim(cp_id=1, kind=Kind.CAP, source=Source.CONFIG, key="max_current", amps=16.0)
    ident = claim.ident

    board.sync(claim, ident)
    assert board.claims(1) == (claim,)
    version = board.version

    board.sync(Claim(cp_id=1, kind=Kind.CAP, source=Source.CONFIG, key="max_current", amps=16.0), ident)
    assert board.version == version  # equal claim: no change, no wake-up

    smaller = Claim(cp_id=1, kind=Kind.CAP, source=Source.CONFIG, key="max_current", amps=10.0)
    board.sync(smaller, ident)
    assert board.claims(1) == (smaller,)
    assert board.version == version + 1

    board.sync(None, ident)
    assert board.claims(1) == ()
    assert board.version == version + 2

    board.sync(None, ident)
    assert board.version == version + 2


def test_sync_refuses_an_unknown_charge_point(board: ClaimBoard, caplog: pytest.LogCaptureFixture) -> None:
    claim = Claim(cp_id=99, kind=Kind.CAP, source=Source.CONFIG, amps=16.0)
    with caplog.at_level(logging.WARNING, logger="wbm.runtime.claims"), pytest.raises(ClaimRefused) as refused:
        board.sync(claim, claim.ident)
    assert refused.value.code == "unknown_chargepoint"
    assert board.claims(99) == ()
    assert "claim refused" in caplog.text


def test_forget_drops_a_charge_point(board: ClaimBoard) -> None:
    board.cap(1, Source.OCPP, 10.0)
    board.grant(1, Source.USER)
    board.grant(2, Source.USER)
    version = board.version
    board.forget(1)
    assert board.claims(1) == ()
    assert len(board.claims(2)) == 1
    assert board.version == version + 1
    board.forget(1)
    board.forget(99)
    assert board.version == version + 1


def test_the_fallback_source_is_the_decisions_own_and_cannot_be_claimed(caplog: pytest.LogCaptureFixture) -> None:
    board = ClaimBoard(known=lambda cp_id: cp_id == 1, clock=lambda: NOW)
    with pytest.raises(ClaimRefused) as refused:
        board.cap(1, Source.FALLBACK, 6.0)
    assert refused.value.code == "bad_source"
    assert board.claims(1) == ()
    assert "claim refused: bad_source" in caplog.text
