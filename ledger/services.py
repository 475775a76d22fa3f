"""Writes of the ledger: the power samples of running sessions (the sessions themselves are
written by the controller through ``chargepoints.services``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count

from chargepoints.models import ChargingSession
from ledger.models import MAX_SAMPLES_PER_SESSION, SessionSample


@transaction.atomic
def session_samples_record(
    *, at: float, readings: Mapping[int, tuple[float, float]], counts: Mapping[int, int]
) -> dict[int, int]:
    """Write one sample (power W, session energy Wh) per charge point of ``readings`` that has an
    open session, in one insert. ``counts`` are the sample counts of sessions the caller already
    knows; the answer gives them for every session sampled now (the caller keeps them for the
    next call, so the table is counted only for sessions it has not seen). A session that
    reaches ``MAX_SAMPLES_PER_SESSION`` is thinned (``session_samples_thin``)."""
    if not readings:
        return {}
    open_by_cp: dict[int, int] = {}
    # oldest first, so a charge point with two open sessions (should not happen) samples the newest
    for cp_id, pk in (
        ChargingSession.objects.filter(ended_at__isnull=True, chargepoint_id__in=list(readings))
        .order_by("started_at", "pk")
        .values_list("chargepoint_id", "pk")
    ):
        open_by_cp[cp_id] = pk
    if not open_by_cp:
        return {}
    when = datetime.fromtimestamp(at, tz=UTC)
    SessionSample.objects.bulk_create(
        [
            SessionSample(
                session_id=pk, at=when, power_w=max(0.0, readings[cp][0]), energy_wh=max(0.0, readings[cp][1])
            )
            for cp, pk in open_by_cp.items()
        ]
    )
    unknown = [pk for pk in open_by_cp.values() if pk not in counts]
    known = {pk: counts[pk] + 1 for pk in open_by_cp.values() if pk in counts}
    if unknown:
        known.update(
            SessionSample.objects.filter(session_id__in=unknown)
            .values("session_id")
            .annotate(n=Count("pk"))
            .values_list("session_id", "n")
        )
    for pk, n in list(known.items()):
        if n >= MAX_SAMPLES_PER_SESSION:
            known[pk] = session_samples_thin(session_id=pk)
    return known


def session_samples_thin(*, session_id: int) -> int:
    """Drop every second sample of a session, keeping its first and its last (the chart keeps
    the whole plug-in at half the resolution). Returns how many remain."""
    ids = list(SessionSample.objects.filter(session_id=session_id).order_by("at", "pk").values_list("pk", flat=True))
    drop = ids[1:-1:2]
    for start in range(0, len(drop), 500):  # bounded parameter lists (SQLite)
        SessionSample.objects.filter(pk__in=drop[start : start + 500]).delete()
    return len(ids) - len(drop)
