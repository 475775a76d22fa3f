"""The Sessions page, a session's detail with its chart, the CSV export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from chargepoints.models import ChargingSession
from ledger import csvexport, rendering, selectors
from ledger.forms import SessionFilterForm
from wbm.access import RoleRequiredMixin
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot

LIVE_EVERY_S = 5  # the running session's values on its detail page


def _cursor(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _filter_query(form: SessionFilterForm) -> str:
    """The filter's part of the query string (for the pager and the export links)."""
    query = QueryDict(mutable=True)
    if form.is_bound:
        for name in ("chargepoint", "tag", "since", "until", "running"):
            value = form.data.get(name)
            if value:
                query[name] = value
    return query.urlencode()


class SessionListView(RoleRequiredMixin, View):
    """Every session, newest first, filtered; totals per tag and per month of the filtered set."""

    required = Perm.SESSIONS_VIEW
    template_name = "ledger/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SessionFilterForm(request.GET or None)
        flt = form.session_filter()
        if flt.running and flt.chargepoint_id:  # the dashboard card's link: its running session
            pk = selectors.running_session_id(flt.chargepoint_id)
            if pk is not None:
                return HttpResponseRedirect(reverse("ledger:detail", args=[pk]))
        totals = selectors.session_totals(flt)
        page = selectors.session_page(
            flt,
            older_than=_cursor(request.GET.get("older")),
            newer_than=_cursor(request.GET.get("newer")),
            total=totals.overall.count,
        )
        now = datetime.now(tz=UTC)
        context: dict[str, Any] = {
            "form": form,
            "filtered": flt.active,
            "page": page,
            "totals": totals,
            # the long tables are built in Python (ledger.rendering: the template engine took ~35 ms)
            "rows_html": rendering.session_rows(page.rows, now),
            "tag_rows_html": rendering.tag_total_rows(totals.by_tag),
            "month_rows_html": rendering.month_total_rows(totals.by_month),
            "now": now,
            "query": _filter_query(form),
            "invalid": form.is_bound and not form.is_valid(),
        }
        return render(request, self.template_name, context)


def _live(session: ChargingSession) -> dict[str, Any] | None:
    """What the runtime shows now of a running session (None: ended, or no runtime)."""
    if session.ended_at is not None:
        return None
    snapshot = read_snapshot()
    cp = snapshot.chargepoint(session.chargepoint_id) if snapshot is not None else None
    if cp is None or cp.plugged_since is None:
        return None
    return {
        "at": snapshot.generated_at if snapshot else 0.0,
        "power_w": cp.power_w,
        "energy_wh": cp.session_energy_wh,
        "meter": cp.meter_configured,
        "status": cp.dashboard_status,
        "plugin_s": cp.plugin_s,
        "charging_s": cp.charging_s,
    }


class SessionDetailView(RoleRequiredMixin, View):
    """One session: its record, its power over time (chart) and, while it runs, live values."""

    required = Perm.SESSIONS_VIEW
    model = ChargingSession
    template_name = "ledger/detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = selectors.session_get(pk)
        if row is None:
            raise Http404
        live = _live(row.session)
        context: dict[str, Any] = {
            "row": row,
            "live": live,
            "live_every_s": LIVE_EVERY_S,
            "now": datetime.now(tz=UTC),
        }
        if getattr(request, "htmx", False):
            return render(request, f"{self.template_name}#live", context)
        samples = selectors.session_samples(pk)
        context["chart"] = json.dumps(
            {
                "t": [round(at.timestamp(), 1) for at, _p, _e in samples],
                "p": [round(p / 1000, 3) for _at, p, _e in samples],
                "e": [round(e / 1000, 3) for _at, _p, e in samples],
            },
            separators=(",", ":"),
        )
        context["samples"] = len(samples)
        return render(request, self.template_name, context)


class SessionExportView(RoleRequiredMixin, View):
    """The filtered set as CSV (``ledger.csvexport`` documents the columns)."""

    required = Perm.SESSIONS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SessionFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
        return csv_response(form.session_filter())


def csv_response(flt: selectors.SessionFilter) -> HttpResponse:
    now = datetime.now(tz=UTC)
    response = HttpResponse("".join(csvexport.csv_lines(flt, now=now)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csvexport.csv_filename(now)}"'
    return response
