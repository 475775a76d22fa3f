"""Claims on current and release, and the one decision taken from them.

Many sources want to say what a charge point may draw and whether it may charge. None of them
writes the PWM or the release; each puts claims on the ``ClaimBoard``:

- a **cap**: at most N A per phase (0 = pause), optionally expiring; a cap whose source must
  renew it (``lapse_to_fallback``) counts as the configured fallback current once it lapses;
- a **grant**: a charging release, optionally expiring, optionally ending at unplug;
- a **block**: a veto (disabled, unlock enforced, a fault, an Event Action "disable").

``decide()`` is a pure function (no Django, no I/O): per charge point and tick it turns the live
claims into one ``Decision`` that names the binding source. See docs/architecture.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

log = logging.getLogger(__name__)

RAISE_INTERVAL_S = 5.0  # IEC 61851-1: a vehicle has 5 s to follow a new PWM duty cycle


class Source(StrEnum):
    """Who claims. The order is the order of precedence when two claims are equal."""

    CONFIG = "config"  # the charge point's configuration (maximum current, permanent release)
    SAFETY = "safety"  # faults, derating, refused ventilation / ISO 15118, the head module's link
    USER = "user"  # the web page / API: release, disable, enforced unlock
    WHITELIST = "whitelist"  # an RFID card or EVCC ID on the local whitelist
    OCPP = "ocpp"  # the backend: remote start/stop, availability, smart charging
    MODBUS = "modbus"  # a Modbus client
    EVENT_ACTION = "event_action"  # an Event Action of the charge point
    LOAD_MANAGEMENT = "load_management"  # the allocator of the park
    FALLBACK = "fallback"  # a cap that lapsed: its source stopped renewing it


_ORDER = {source: index for index, source in enumerate(Source)}


class Kind(StrEnum):
    CAP = "cap"
    GRANT = "grant"
    BLOCK = "block"


class Verdict(StrEnum):
    """What the decision means for the vehicle."""

    OFFERED = "offered"  # the PWM offers current
    NO_VEHICLE = "no_vehicle"
    NOT_RELEASED = "not_released"  # no live grant from a source the release mode accepts
    BLOCKED = "blocked"
    BELOW_MINIMUM = "below_minimum"  # the binding cap is below the configured minimum current
    NOT_CONFIGURED = "not_configured"


class ClaimRefused(Exception):
    """A claim that cannot be put (unknown charge point, negative or expired cap, ...)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    cp_id: int
    kind: Kind
    source: Source
    key: str = ""  # one source may hold several claims of a kind (e.g. per Event Action)
    amps: float | None = None  # caps only, per phase
    expires_at: float | None = None  # the runtime's monotonic seconds; None: until withdrawn
    lapse_to_fallback: bool = False  # caps: when expired, count as the fallback current
    fallback_a: float | None = None  # caps: what the lapsed cap counts as (None: the configured fallback)
    until_unplug: bool = False  # withdrawn when the vehicle is unplugged
    reason: str = ""  # blocks: a code the page translates (disabled, unlock_enforced, a fault code)

    @property
    def ident(self) -> tuple[int, Kind, Source, str]:
        return (self.cp_id, self.kind, self.source, self.key)

    def live(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What the decision needs of a charge point's configuration."""

    min_a: float  # below this the PWM is off (IEC 61851-1 allows 6 A at least)
    fallback_a: float  # what a lapsed cap counts as (0 allowed)
    grant_sources: frozenset[Source]  # sources whose grant releases charging (the release mode)
    raise_interval_s: float = RAISE_INTERVAL_S


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """What the PWM offered before this decision, and since when."""

    amps: float = 0.0
    changed_at: float | None = None  # monotonic seconds, as ``now`` of decide()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One charge point, one tick: what the vehicle is offered and why."""

    offered_a: float  # the PWM setpoint, 0 = off
    verdict: Verdict
    released: bool
    cap_a: float | None  # the lowest live cap, None when nothing caps
    binding: Source | None  # whose cap is the lowest
    binding_key: str = ""
    lapsed: Source | None = None  # when binding is FALLBACK: the source that stopped renewing
    blocked_by: Source | None = None
    block_reason: str = ""
    ceiling_a: float | None = None  # lowest cap except load management's: what the allocator may hand out
    pending_a: float | None = None  # a raise held back by the rate limit

    def as_dict(self) -> dict[str, object]:
        return {
            "offered_a": self.offered_a,
            "verdict": self.verdict.value,
            "released": self.released,
            "cap_a": self.cap_a,
            "binding": self.binding.value if self.binding else None,
            "binding_key": self.binding_key,
            "lapsed": self.lapsed.value if self.lapsed else None,
            "blocked_by": self.blocked_by.value if self.blocked_by else None,
            "block_reason": self.block_reason,
            "ceiling_a": self.ceiling_a,
            "pending_a": self.pending_a,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Decision:
        def source(value: object) -> Source | None:
            return Source(str(value)) if value else None

        return cls(
            offered_a=float(data["offered_a"]),  # type: ignore[arg-type]
            verdict=Verdict(str(data["verdict"])),
            released=bool(data["released"]),
            cap_a=None if data["cap_a"] is None else float(data["cap_a"]),  # type: ignore[arg-type]
            binding=source(data["binding"]),
            binding_key=str(data.get("binding_key") or ""),
            lapsed=source(data.get("lapsed")),
            blocked_by=source(data.get("blocked_by")),
            block_reason=str(data.get("block_reason") or ""),
            ceiling_a=None if data.get("ceiling_a") is None else float(data["ceiling_a"]),  # type: ignore[arg-type]
            pending_a=None if data.get("pending_a") is None else float(data["pending_a"]),  # type: ignore[arg-type]
        )


NOT_CONFIGURED = Decision(offered_a=0.0, verdict=Verdict.NOT_CONFIGURED, released=False, cap_a=None, binding=None)


def decide(*, limits: Limits, claims: Iterable[Claim], vehicle: bool, previous: Offer, now: float) -> Decision:
    """The one decision for one charge point.

    - the lowest live cap wins; a lapsed cap that had to be renewed counts as the fallback current;
    - below the minimum current the PWM is off;
    - released = a live grant from a source in ``limits.grant_sources`` and no live block;
    - raising the offer waits ``raise_interval_s`` after the last change; lowering is immediate.
    """
    caps: list[tuple[float, int, Source, str, Source | None]] = []  # amps, order, source, key, lapsed
    block: Claim | None = None
    granted = False
    for claim in claims:
        alive = claim.live(now)
        if claim.kind is Kind.CAP:
            assert claim.amps is not None
            if alive:
                caps.append((claim.amps, _ORDER[claim.source], claim.source, claim.key, None))
            elif claim.lapse_to_fallback:
                fallback = limits.fallback_a if claim.fallback_a is None else claim.fallback_a
                caps.append((fallback, _ORDER[Source.FALLBACK], Source.FALLBACK, claim.key, claim.source))
        elif not alive:
            continue
        elif claim.kind is Kind.BLOCK:
            if block is None or _ORDER[claim.source] < _ORDER[block.source]:
                block = claim
        elif claim.source in limits.grant_sources:
            granted = True
    cap_a: float | None = None
    binding: Source | None = None
    binding_key = ""
    lapsed: Source | None = None
    ceiling_a: float | None = None
    if caps:
        cap_a, _order, binding, binding_key, lapsed = min(caps, key=lambda c: (c[0], c[1]))
        others = [c[0] for c in caps if Source.LOAD_MANAGEMENT not in (c[2], c[4])]
        ceiling_a = min(others) if others else None
    released = granted and block is None
    if block is not None:
        verdict = Verdict.BLOCKED
    elif not vehicle:
        verdict = Verdict.NO_VEHICLE
    elif not released:
        verdict = Verdict.NOT_RELEASED
    elif cap_a is not None and cap_a < limits.min_a:
        verdict = Verdict.BELOW_MINIMUM
    elif cap_a is None:
        verdict = Verdict.BELOW_MINIMUM  # nothing caps: no current without a limit (the configuration is one)
    else:
        verdict = Verdict.OFFERED
    target = 0.0
    if verdict is Verdict.OFFERED and cap_a is not None:
        target = round(cap_a, 1)
    offered, pending = target, None
    if (
        target > previous.amps
        and previous.changed_at is not None
        and now - previous.changed_at < limits.raise_interval_s
    ):
        offered, pending = previous.amps, target
    return Decision(
        offered_a=offered,
        verdict=verdict,
        released=released,
        cap_a=cap_a,
        binding=binding,
        binding_key=binding_key,
        lapsed=lapsed,
        blocked_by=block.source if block else None,
        block_reason=block.reason if block else "",
        ceiling_a=ceiling_a,
        pending_a=pending,
    )


def _amps_ok(amps: object) -> bool:
    return isinstance(amps, int | float) and not isinstance(amps, bool) and math.isfinite(amps) and amps >= 0


class ClaimBoard:
    """Where sources put their claims; owned by the runtime, read by the controller each tick.

    Every method runs on the runtime's event loop. A claim is keyed by (charge point, kind,
    source, key): putting it again replaces it (a renewal)."""

    def __init__(self, *, known: Callable[[int], bool], clock: Callable[[], float]) -> None:
        self._known = known
        self._now = clock
        self._claims: dict[int, dict[tuple[int, Kind, Source, str], Claim]] = {}
        self.version = 0  # grows with every change
        self._versions: dict[int, int] = {}

    # --- putting claims -------------------------------------------------------------------
    def cap(
        self,
        cp_id: int,
        source: Source,
        amps: float,
        *,
        key: str = "",
        ttl_s: float | None = None,
        lapse_to_fallback: bool = False,
        fallback_a: float | None = None,
    ) -> Claim:
        """At most ``amps`` per phase (0 pauses). With ``lapse_to_fallback`` the source must
        renew the cap within ``ttl_s`` or the fallback current applies: ``fallback_a`` when
        given (a Modbus client's watchdog current), else the charge point's configured one."""
        if not _amps_ok(amps):
            raise self._refuse("bad_cap", cp_id, source, amps=amps)
        if lapse_to_fallback and ttl_s is None:
            raise self._refuse("bad_ttl", cp_id, source, ttl_s=ttl_s)
        if fallback_a is not None and (not lapse_to_fallback or not _amps_ok(fallback_a)):
            raise self._refuse("bad_fallback", cp_id, source, fallback_a=fallback_a)
        return self._put(
            Claim(
                cp_id=cp_id,
                kind=Kind.CAP,
                source=source,
                key=key,
                amps=float(amps),
                expires_at=self._expiry(cp_id, source, ttl_s),
                lapse_to_fallback=lapse_to_fallback,
                fallback_a=None if fallback_a is None else float(fallback_a),
            )
        )

    def grant(
        self, cp_id: int, source: Source, *, key: str = "", ttl_s: float | None = None, until_unplug: bool = False
    ) -> Claim:
        """A charging release, for ``ttl_s`` (None: until withdrawn) and/or until unplug."""
        return self._put(
            Claim(
                cp_id=cp_id,
                kind=Kind.GRANT,
                source=source,
                key=key,
                expires_at=self._expiry(cp_id, source, ttl_s),
                until_unplug=until_unplug,
            )
        )

    def block(self, cp_id: int, source: Source, *, key: str = "", reason: str = "") -> Claim:
        """A veto: no charging while it stands."""
        return self._put(Claim(cp_id=cp_id, kind=Kind.BLOCK, source=source, key=key, reason=reason or key))

    def sync(self, claim: Claim | None, ident: tuple[int, Kind, Source, str]) -> None:
        """Put ``claim`` or, when None, withdraw the claim ``ident`` (for claims derived each tick)."""
        if claim is None:
            self._withdraw_ident(ident)
        else:
            current = self._claims.get(claim.cp_id, {}).get(claim.ident)
            if current != claim:
                self._put(claim)

    # --- withdrawing ----------------------------------------------------------------------
    def withdraw(self, cp_id: int, source: Source, kind: Kind | None = None, key: str | None = None) -> int:
        """Withdraw the matching claims of ``source`` at ``cp_id``; returns how many."""
        claims = self._claims.get(cp_id, {})
        gone = [
            ident
            for ident, c in claims.items()
            if c.source is source and (kind is None or c.kind is kind) and (key is None or c.key == key)
        ]
        for ident in gone:
            del claims[ident]
        if gone:
            self._bump(cp_id)
        return len(gone)

    def withdraw_source(self, source: Source) -> int:
        """Everything ``source`` claims anywhere (its agent stopped)."""
        return sum(self.withdraw(cp_id, source) for cp_id in list(self._claims))

    def unplugged(self, cp_id: int) -> None:
        """The vehicle left: claims that end at unplug go."""
        claims = self._claims.get(cp_id, {})
        gone = [ident for ident, c in claims.items() if c.until_unplug]
        for ident in gone:
            del claims[ident]
        if gone:
            self._bump(cp_id)

    def forget(self, cp_id: int) -> None:
        """The charge point is gone from the park."""
        if self._claims.pop(cp_id, None):
            self._bump(cp_id)

    def prune(self, now: float) -> None:
        """Drop expired claims, except lapsed caps, which count as the fallback until withdrawn."""
        for cp_id, claims in self._claims.items():
            gone = [i for i, c in claims.items() if not c.live(now) and not c.lapse_to_fallback]
            for ident in gone:
                del claims[ident]
            if gone:
                self._bump(cp_id)

    # --- reading --------------------------------------------------------------------------
    def claims(self, cp_id: int) -> tuple[Claim, ...]:
        return tuple(self._claims.get(cp_id, {}).values())

    def has(self, cp_id: int, kind: Kind, source: Source, key: str = "") -> bool:
        claim = self._claims.get(cp_id, {}).get((cp_id, kind, source, key))
        return claim is not None and claim.live(self._now())

    def renew(
        self,
        cp_id: int,
        kind: Kind,
        source: Source,
        key: str = "",
        *,
        expires_at: float | None = None,
        until_unplug: bool | None = None,
    ) -> bool:
        """Change how long a standing claim lasts (e.g. an RFID grant that no longer expires once a
        vehicle is there); False when there is none."""
        claims = self._claims.get(cp_id, {})
        ident = (cp_id, kind, source, key)
        if ident not in claims:
            return False
        claim = replace(claims[ident], expires_at=expires_at)
        if until_unplug is not None:
            claim = replace(claim, until_unplug=until_unplug)
        claims[ident] = claim
        self._bump(cp_id)
        return True

    # --- internals ------------------------------------------------------------------------
    def _expiry(self, cp_id: int, source: Source, ttl_s: float | None) -> float | None:
        if ttl_s is None:
            return None
        if not isinstance(ttl_s, int | float) or isinstance(ttl_s, bool) or math.isnan(ttl_s) or math.isinf(ttl_s):
            raise self._refuse("bad_ttl", cp_id, source, ttl_s=ttl_s)
        if ttl_s <= 0:
            raise self._refuse("expired_claim", cp_id, source, ttl_s=ttl_s)
        return self._now() + float(ttl_s)

    def _put(self, claim: Claim) -> Claim:
        if not isinstance(claim.cp_id, int) or isinstance(claim.cp_id, bool) or not self._known(claim.cp_id):
            raise self._refuse("unknown_chargepoint", claim.cp_id, claim.source, cp=claim.cp_id)
        if claim.source is Source.FALLBACK:  # the decision's own: what a lapsed cap counts as
            raise self._refuse("bad_source", claim.cp_id, claim.source, claimed_by=str(claim.source))
        self._claims.setdefault(claim.cp_id, {})[claim.ident] = claim
        self._bump(claim.cp_id)
        return claim

    def _withdraw_ident(self, ident: tuple[int, Kind, Source, str]) -> None:
        claims = self._claims.get(ident[0])
        if claims is not None and claims.pop(ident, None) is not None:
            self._bump(ident[0])

    def _bump(self, cp_id: int) -> None:
        self.version += 1
        self._versions[cp_id] = self._versions.get(cp_id, 0) + 1

    def cp_version(self, cp_id: int) -> int:
        """Grows with every change of the claims at ``cp_id``."""
        return self._versions.get(cp_id, 0)

    @staticmethod
    def _refuse(code: str, cp_id: object, source: Source, **params: object) -> ClaimRefused:
        log.warning("claim refused: %s from %s at charge point %r %s", code, source, cp_id, params)
        return ClaimRefused(code, **params)
