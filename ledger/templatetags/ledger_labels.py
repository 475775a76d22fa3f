from __future__ import annotations

from datetime import datetime

from django import template

from ledger import labels

register = template.Library()


@register.filter
def released_by(value: str) -> str:
    return ", ".join(labels.released_by_labels(value or ""))


@register.filter
def stop_reason(value: str) -> str:
    return labels.stop_reason_label(value or "")


@register.filter
def utc(value: datetime | None) -> str:
    """2026-01-31 12:00:05 (UTC, as the controller keeps time; the page says so once)."""
    return "–" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


@register.filter
def month_label(value: str) -> str:
    """'2026-01' → '01/2026'."""
    year, _, month = (value or "").partition("-")
    return f"{month}/{year}" if month else value


@register.filter
def row_duration(row: object, now: datetime) -> float:
    """Seconds from plug-in to unplug (to ``now`` while running)."""
    return float(row.duration_s(now))  # type: ignore[attr-defined]
