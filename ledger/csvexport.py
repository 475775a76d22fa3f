"""The CSV export of sessions (reimbursement, accounting).

UTF-8 with a byte order mark (spreadsheets then read umlauts right), comma-separated, one header
line, one line per session, newest first. Columns (stable keys, whatever the page's language):

``session_id, chargepoint_id, chargepoint, started_at, ended_at, duration_s, meter_start_wh,
meter_stop_wh, energy_wh, energy_kwh, id_tag, evcc_id, whitelist_name, released_by, stop_reason``

Times are ISO 8601 with their zone (UTC, ``2026-01-31T12:00:00+00:00``); ``ended_at``,
``meter_stop_wh``, ``energy_wh``, ``energy_kwh`` are empty while a session runs, ``duration_s``
counts to the moment of the export; ``energy_kwh`` has a decimal point and three decimals;
``released_by`` lists the sources that released charging (``user``, ``whitelist``, ``ocpp``,
``modbus``, ``event_action``; ``;``-separated), ``stop_reason`` the OCPP 1.6 reason
(``EVDisconnected``, ``PowerLoss``, ...). A text cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading
``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ledger import selectors

HEADER = (
    "session_id",
    "chargepoint_id",
    "chargepoint",
    "started_at",
    "ended_at",
    "duration_s",
    "meter_start_wh",
    "meter_stop_wh",
    "energy_wh",
    "energy_kwh",
    "id_tag",
    "evcc_id",
    "whitelist_name",
    "released_by",
    "stop_reason",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """A text cell a spreadsheet shows as text (never runs as a formula)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def csv_lines(flt: selectors.SessionFilter, *, now: datetime | None = None) -> Iterator[str]:
    """The export of the filtered set, line by line (the first line starts with the BOM)."""
    now = now or datetime.now(tz=UTC)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: Iterable[Any]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(HEADER)
    names = selectors.all_whitelist_names()
    for row in selectors.export_rows(flt):
        started, ended = row["started_at"], row["ended_at"]
        stop = row["meter_stop_wh"]
        energy = None if stop is None else max(0, stop - row["meter_start_wh"])
        ident = row["id_tag"] or row["evcc_id"]
        cp_name = (
            row["chargepoint__config__name"]
            or f"{row['chargepoint__station__hostname']} #{row['chargepoint__position']}"
        )
        yield line(
            (
                row["pk"],
                row["chargepoint_id"],
                neutralised(cp_name),
                _iso(started),
                _iso(ended),
                int(((ended or now) - started).total_seconds()),
                row["meter_start_wh"],
                "" if stop is None else stop,
                "" if energy is None else energy,
                "" if energy is None else f"{energy / 1000:.3f}",
                neutralised(row["id_tag"]),
                neutralised(row["evcc_id"]),
                neutralised(names.get(ident.upper(), "") if ident else ""),
                ";".join(selectors.released_sources(row["released_by"])),
                row["stop_reason"],
            )
        )


def csv_filename(now: datetime | None = None) -> str:
    return f"sessions-{(now or datetime.now(tz=UTC)):%Y%m%d-%H%M%S}.csv"
