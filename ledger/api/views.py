"""/api/v1/sessions/: the charging sessions with the page's filters, keyset pages, one session
with its samples, the totals, the CSV export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints.models import ChargingSession
from ledger import selectors
from ledger.csvexport import HEADER
from ledger.views import csv_response
from wbm.roles import Perm

# --- input -----------------------------------------------------------------------------------


class SessionFilterQuery(serializers.Serializer):
    chargepoint = serializers.IntegerField(required=False, min_value=1, help_text="charging point id")
    tag = serializers.CharField(
        required=False,
        max_length=60,
        allow_blank=True,
        help_text="an idTag or EVCC ID (any case, ':' and '-' allowed) or part of a whitelist name",
    )
    since = serializers.DateField(required=False, help_text="first day (UTC) of the period, inclusive")
    until = serializers.DateField(required=False, help_text="last day (UTC) of the period, inclusive")
    running = serializers.BooleanField(required=False, default=False, help_text="only sessions that have not ended")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["The end of the period lies before its start."]})
        return attrs

    def session_filter(self) -> selectors.SessionFilter:
        data = self.validated_data
        return selectors.SessionFilter(
            chargepoint_id=data.get("chargepoint"),
            tag=(data.get("tag") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            running=bool(data.get("running")),
        )


class SessionListQuery(SessionFilterQuery):
    older = serializers.IntegerField(
        required=False, min_value=1, help_text="cursor: the sessions after this one (older), as `older` of a page gives"
    )
    newer = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="cursor: the sessions before this one (newer), as `newer` of a page gives",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=selectors.PAGE_SIZE_MAX, default=selectors.PAGE_SIZE
    )


def _query(serializer_class: type[SessionFilterQuery], request: Request) -> SessionFilterQuery:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query


# --- output ----------------------------------------------------------------------------------


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    chargepoint = serializers.IntegerField(help_text="charging point id")
    chargepoint_name = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="null while the session runs")
    running = serializers.BooleanField()
    duration_s = serializers.IntegerField(help_text="plug-in to unplug (to now while running)")
    meter_start_wh = serializers.IntegerField()
    meter_stop_wh = serializers.IntegerField(allow_null=True)
    energy_wh = serializers.IntegerField(allow_null=True, help_text="never negative; null while running")
    id_tag = serializers.CharField(help_text="the RFID tag that identified the vehicle's driver, '' none")
    evcc_id = serializers.CharField(help_text="the ISO 15118 vehicle's EVCC ID, '' none")
    whitelist_name = serializers.CharField(help_text="name of the tag (or EVCC ID) on the whitelist, '' none")
    released_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="claim sources that released charging: user, whitelist, ocpp, modbus, event_action",
    )
    stop_reason = serializers.CharField(help_text="OCPP 1.6 stop reason, '' while running")
    stop_reason_text = serializers.CharField(help_text="the stop reason in words (Accept-Language)")


class SampleSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    power_w = serializers.FloatField()
    energy_wh = serializers.FloatField(help_text="of the session so far")


class SessionDetailSerializer(SessionSerializer):
    samples = SampleSerializer(many=True, help_text="power over time, oldest first (at most 1440)")


class SessionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="sessions in the filtered set")
    newer = serializers.IntegerField(allow_null=True, help_text="cursor for the page before (null: first page)")
    older = serializers.IntegerField(allow_null=True, help_text="cursor for the page after (null: last page)")
    next = serializers.CharField(allow_null=True, help_text="URL of the older page")
    previous = serializers.CharField(allow_null=True, help_text="URL of the newer page")
    results = SessionSerializer(many=True)


class TotalLineSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="tag / EVCC ID ('' none) or month YYYY-MM (UTC)")
    name = serializers.CharField(help_text="whitelist name of a tag")
    count = serializers.IntegerField()
    energy_wh = serializers.IntegerField(help_text="of the sessions that ended")
    duration_s = serializers.IntegerField(help_text="of the sessions that ended")


class TotalsSerializer(serializers.Serializer):
    overall = TotalLineSerializer()
    by_tag = TotalLineSerializer(many=True, help_text=f"the {selectors.TOTALS_TAGS_MAX} tags with the most energy")
    other_tags = TotalLineSerializer(allow_null=True, help_text="the remaining tags together")
    by_month = TotalLineSerializer(many=True, help_text="newest first")


def session_document(row: selectors.SessionRow, now: datetime) -> dict[str, Any]:
    from ledger.labels import stop_reason_label

    s = row.session
    return {
        "id": s.pk,
        "chargepoint": s.chargepoint_id,
        "chargepoint_name": row.chargepoint_name,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "running": row.running,
        "duration_s": int(row.duration_s(now)),
        "meter_start_wh": s.meter_start_wh,
        "meter_stop_wh": s.meter_stop_wh,
        "energy_wh": None if s.meter_stop_wh is None else max(0, s.meter_stop_wh - s.meter_start_wh),
        "id_tag": s.id_tag,
        "evcc_id": s.evcc_id,
        "whitelist_name": row.whitelist_name,
        "released_by": selectors.released_sources(s.released_by),
        "stop_reason": s.stop_reason,
        "stop_reason_text": stop_reason_label(s.stop_reason),
    }


def _total(line: selectors.TotalLine) -> dict[str, Any]:
    return {
        "key": line.key,
        "name": line.name,
        "count": line.count,
        "energy_wh": line.energy_wh,
        "duration_s": int(line.duration_s),
    }


# --- views -----------------------------------------------------------------------------------


class SessionListApi(APIView):
    """The sessions, newest first, with the Sessions page's filters; keyset pages."""

    required = Perm.SESSIONS_VIEW

    @extend_schema(operation_id="sessions_list", parameters=[SessionListQuery], responses=SessionPageSerializer)
    def get(self, request: Request) -> Response:
        query = _query(SessionListQuery, request)
        flt = query.session_filter()
        data = query.validated_data
        page = selectors.session_page(
            flt, older_than=data.get("older"), newer_than=data.get("newer"), size=data.get("limit", selectors.PAGE_SIZE)
        )
        now = datetime.now(tz=UTC)
        base = {k: v for k, v in request.query_params.items() if k not in ("older", "newer")}

        def link(**cursor: int) -> str:
            from urllib.parse import urlencode

            return request.build_absolute_uri(reverse("api:sessions") + "?" + urlencode({**base, **cursor}))

        return Response(
            {
                "count": page.total,
                "newer": page.newer,
                "older": page.older,
                "next": link(older=page.older) if page.older else None,
                "previous": link(newer=page.newer) if page.newer else None,
                "results": [session_document(r, now) for r in page.rows],
            }
        )


class SessionApi(APIView):
    """One session with its power samples."""

    required = Perm.SESSIONS_VIEW
    model = ChargingSession

    @extend_schema(operation_id="sessions_retrieve", responses=SessionDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        row = selectors.session_get(pk)
        if row is None:
            raise Http404
        doc = session_document(row, datetime.now(tz=UTC))
        doc["samples"] = [
            {"at": at, "power_w": power, "energy_wh": energy} for at, power, energy in selectors.session_samples(pk)
        ]
        return Response(doc)


class SessionTotalsApi(APIView):
    """Count, energy and duration of the filtered set: overall, per tag, per month (UTC)."""

    required = Perm.SESSIONS_VIEW

    @extend_schema(operation_id="sessions_totals", parameters=[SessionFilterQuery], responses=TotalsSerializer)
    def get(self, request: Request) -> Response:
        totals = selectors.session_totals(_query(SessionFilterQuery, request).session_filter())
        return Response(
            {
                "overall": _total(totals.overall),
                "by_tag": [_total(line) for line in totals.by_tag],
                "other_tags": _total(totals.other_tags) if totals.other_tags else None,
                "by_month": [_total(line) for line in totals.by_month],
            }
        )


class _JsonForErrors(BaseContentNegotiation):
    """The export answers CSV; its errors are JSON like every other route, whatever Accept says."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class SessionExportApi(APIView):
    """The filtered set as CSV (UTF-8 with BOM; ISO 8601 times in UTC; formula cells neutralised)."""

    required = Perm.SESSIONS_VIEW
    content_negotiation_class = _JsonForErrors

    @extend_schema(
        operation_id="sessions_export",
        parameters=[SessionFilterQuery],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="header: " + ",".join(HEADER) + "; one line per session"
            )
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return csv_response(_query(SessionFilterQuery, request).session_filter())
