"""A cap's own fallback current: what a Modbus client's watchdog (X306/X307) falls back to."""

from __future__ import annotations

import pytest

from wbm.runtime.claims import Claim, ClaimBoard, ClaimRefused, Kind, Limits, Offer, Source, Verdict, decide

CP = 1
LIMITS = Limits(min_a=6.0, fallback_a=6.0, grant_sources=frozenset({Source.MODBUS}))
CONFIG_32 = Claim(cp_id=CP, kind=Kind.CAP, source=Source.CONFIG, key="max_current", amps=32.0)
GRANT = Claim(cp_id=CP, kind=Kind.GRANT, source=Source.MODBUS)


def watchdog(*, expires_at: float, fallback_a: float | None) -> Claim:
    return Claim(
        cp_id=CP,
        kind=Kind.CAP,
        source=Source.MODBUS,
        key="watchdog",
        amps=80.0,
        expires_at=expires_at,
        lapse_to_fallback=True,
        fallback_a=fallback_a,
    )


def run(claims: list[Claim], now: float) -> tuple[float, Verdict, Source | None, Source | None]:
    decision = decide(limits=LIMITS, claims=claims, vehicle=True, previous=Offer(), now=now)
    return decision.offered_a, decision.verdict, decision.binding, decision.lapsed


def test_a_live_watchdog_cap_does_not_bind_below_the_configuration() -> None:
    assert run([CONFIG_32, GRANT, watchdog(expires_at=100.0, fallback_a=10.0)], now=50.0) == (
        32.0,
        Verdict.OFFERED,
        Source.CONFIG,
        None,
    )


def test_a_lapsed_cap_counts_as_its_own_fallback_current() -> None:
    assert run([CONFIG_32, GRANT, watchdog(expires_at=100.0, fallback_a=10.0)], now=100.0) == (
        10.0,
        Verdict.OFFERED,
        Source.FALLBACK,
        Source.MODBUS,
    )


def test_without_its_own_fallback_the_configured_one_applies() -> None:
    assert run([CONFIG_32, GRANT, watchdog(expires_at=100.0, fallback_a=None)], now=101.0)[0] == 6.0


def test_a_fallback_of_zero_pauses() -> None:
    assert run([CONFIG_32, GRANT, watchdog(expires_at=100.0, fallback_a=0.0)], now=101.0)[:2] == (
        0.0,
        Verdict.BELOW_MINIMUM,
    )


@pytest.fixture
def board() -> tuple[ClaimBoard, list[float]]:
    now = [0.0]
    return ClaimBoard(known=lambda cp_id: cp_id == CP, clock=lambda: now[0]), now


def test_the_board_keeps_the_fallback_and_decide_uses_it_after_the_ttl(board: tuple[ClaimBoard, list[float]]) -> None:
    claims, now = board
    claim = claims.cap(CP, Source.MODBUS, 80.0, key="watchdog", ttl_s=5, lapse_to_fallback=True, fallback_a=12)
    assert claim.fallback_a == 12.0 and claim.expires_at == 5.0
    now[0] = 6.0
    claims.prune(now[0])  # a lapsed fallback cap stays until withdrawn
    assert run([CONFIG_32, GRANT, *claims.claims(CP)], now=now[0])[:3] == (12.0, Verdict.OFFERED, Source.FALLBACK)


@pytest.mark.parametrize(
    ("fallback_a", "lapse"),
    [(-1.0, True), (float("nan"), True), (float("inf"), True), (True, True), (10.0, False)],
)
def test_bad_fallbacks_are_refused(board: tuple[ClaimBoard, list[float]], fallback_a: float, lapse: bool) -> None:
    claims, _now = board
    with pytest.raises(ClaimRefused) as refused:
        claims.cap(CP, Source.MODBUS, 16.0, ttl_s=5, lapse_to_fallback=lapse, fallback_a=fallback_a)
    assert refused.value.code == "bad_fallback"
