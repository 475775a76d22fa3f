"""Sessions recorded directly (history) for the page, the API and the export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargepoints.models import ChargePoint, ChargingSession
from ledger.models import SessionSample


def record_session(
    chargepoint: ChargePoint,
    *,
    started_at: datetime,
    minutes: float | None = 60,
    energy_wh: int = 10_000,
    meter_start_wh: int = 1_000_000,
    **fields: Any,
) -> ChargingSession:
    """A session as the controller records it (``minutes=None``: still running)."""
    values: dict[str, Any] = {
        "chargepoint": chargepoint,
        "started_at": started_at,
        "meter_start_wh": meter_start_wh,
        **fields,
    }
    if minutes is not None:
        values["ended_at"] = started_at + timedelta(minutes=minutes)
        values["meter_stop_wh"] = meter_start_wh + energy_wh
        values.setdefault("stop_reason", "EVDisconnected")
    session = ChargingSession(**values)
    session.full_clean()
    session.save()
    return session


def add_samples(session: ChargingSession, powers_w: list[float], *, every_s: int = 60) -> None:
    energy = 0.0
    rows = []
    for i, power in enumerate(powers_w):
        energy += power * every_s / 3600
        rows.append(
            SessionSample(
                session=session,
                at=session.started_at + timedelta(seconds=i * every_s),
                power_w=power,
                energy_wh=energy,
            )
        )
    SessionSample.objects.bulk_create(rows)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
