"""The Sessions page's long tables (its rows, the totals per tag and per month) built in Python.

The template engine took ~35 ms for the 50 rows of a page and the ~90 lines of the totals (some
20 variable look-ups, filters and localisations per row, each value through the lazy-aware
``conditional_escape``); ``format_html`` per row still took ~10 ms. Here a row is one f-string in
which every value that is not a constant of this module goes through ``_e`` (``html.escape``,
what Django's ``escape`` does), the labels are translated once per page and the release /
stop-reason labels once per distinct value. The markup is the one ``ledger/list.html`` had in
its loops (tests/ledger/test_pages.py checks it, escaping included).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext

from ledger import labels
from ledger.selectors import SessionRow, TotalLine
from ledger.templatetags.ledger_labels import month_label
from wbm.templatetags.wbm import duration, kwh

_DASH = "–"
_PK = 2_147_483_647  # stands for the session id in the detail link, reversed once per page


def _e(value: object) -> str:
    """What ``{{ value }}`` and ``format_html`` output for a string: ``django.utils.html.escape``
    without its lazy-argument wrapper (which cost more than the escaping itself here)."""
    return html.escape(str(value))


def _day_and_time(value: datetime) -> tuple[str, str]:
    """``|date:"Y-m-d"`` and ``|date:"H:i:s"`` (in the active time zone, as the template did)."""
    local = localtime(value) if settings.USE_TZ and is_aware(value) else value  # template_localtime
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d}", f"{local:%H:%M:%S}"


def session_rows(rows: Sequence[SessionRow], now: datetime) -> SafeString:
    """The ``<tbody>`` rows of the sessions table."""
    if not rows:
        return mark_safe("")
    pk_text = str(_PK)
    href_head, _, href_tail = reverse("ledger:detail", args=[_PK]).rpartition(pk_text)
    href_head, href_tail = _e(href_head), _e(href_tail)
    # each label a literal of its own: makemessages finds them
    heads = (
        gettext("Start"),
        gettext("End"),
        gettext("Duration"),
        gettext("Energy"),
        gettext("Identification"),
        gettext("Released by"),
        gettext("Stop reason"),
    )
    l_start, l_end, l_duration, l_energy, l_ident, l_released, l_stop = (_e(text) for text in heads)
    running = _e(gettext("running"))
    evcc = _e(gettext("EVCC ID"))
    running_badge = f'<span class="badge st-charging">{running}</span>'
    evcc_note = f' <span class="muted small">({evcc})</span>'
    released: dict[str, str] = {}  # escaped labels by stored value
    stopped: dict[str, str] = {}
    out = []
    for row in rows:
        s = row.session
        pk = int(s.pk)
        start_day, start_time = _day_and_time(s.started_at)
        if s.ended_at is None:
            running, end, energy = ' class="running"', running_badge, _DASH
        else:
            end_day, end_time = _day_and_time(s.ended_at)
            running, end, energy = "", f'{end_day}<br><span class="small">{end_time}</span>', _e(kwh(s.energy_wh))
        ident = s.id_tag or s.evcc_id
        if ident:
            ident_html = f'<span class="mono small">{_e(ident)}</span>'
            if not s.id_tag:
                ident_html += evcc_note
            if row.whitelist_name:
                ident_html += f'<br><span class="small">{_e(row.whitelist_name)}</span>'
        else:
            ident_html = _DASH
        released_key = s.released_by or ""
        if released_key not in released:
            released[released_key] = _e(", ".join(labels.released_by_labels(released_key)) or _DASH)
        stop_key = s.stop_reason or ""
        if stop_key not in stopped:
            stopped[stop_key] = _e(labels.stop_reason_label(stop_key) or _DASH)
        out.append(
            f'<tr id="session-{pk}"{running}>\n'
            f'        <td class="s-cp"><a href="{href_head}{pk}{href_tail}" class="s-link">'
            f'<strong>{_e(row.chargepoint_name)}</strong></a><br><span class="muted small">#{pk}</span></td>\n'
            f'        <td data-label="{l_start}" class="nowrap">{start_day}<br><span class="small">{start_time}</span></td>\n'
            f'        <td data-label="{l_end}" class="nowrap">{end}</td>\n'
            f'        <td class="num" data-label="{l_duration}">{_e(duration(row.duration_s(now)))}</td>\n'
            f'        <td class="num" data-label="{l_energy}">{energy}</td>\n'
            f'        <td data-label="{l_ident}" class="s-ident">{ident_html}</td>\n'
            f'        <td data-label="{l_released}" class="small">{released[released_key]}</td>\n'
            f'        <td data-label="{l_stop}" class="small">{stopped[stop_key]}</td>\n'
            "      </tr>"
        )
    return mark_safe("\n      ".join(out))


def _figures(line: TotalLine) -> str:
    return (
        f'<td class="num">{_e(localize(line.count))}</td><td class="num">{_e(kwh(line.energy_wh))}</td>'
        f'<td class="num">{_e(duration(line.duration_s))}</td>'
    )


def tag_total_rows(lines: Iterable[TotalLine]) -> SafeString:
    """The rows of the totals per tag (without the line of the remaining tags)."""
    without = _e(gettext("Without identification"))
    unidentified = f'<span class="muted">{without}</span>'
    out = []
    for line in lines:
        if line.key:
            key = f'<span class="mono small">{_e(line.key)}</span>'
            if line.name:
                key += f'<br><span class="small">{_e(line.name)}</span>'
        else:
            key = unidentified
        out.append(f"<tr><td>{key}</td>\n          {_figures(line)}</tr>")
    return mark_safe("\n        ".join(out))


def month_total_rows(lines: Iterable[TotalLine]) -> SafeString:
    """The rows of the totals per month."""
    out = [f'<tr><td class="nowrap">{_e(month_label(line.key))}</td>{_figures(line)}</tr>' for line in lines]
    return mark_safe("\n        ".join(out))
