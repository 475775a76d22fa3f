"""/api/v1/whitelist/: the same services and rules as the pages.

Entries: list (search, ordering) and create; read, replace, change and delete one (``ETag`` on
read, ``If-Match`` refused with 412 when stale). The CSV export, the import (``dry_run`` shows
what is added, changed and removed; applying with the preview's ``fingerprint`` is refused with
412 when the list changed meanwhile), the recently scanned tags, the OCPP local list (read-only).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wbm.api.fields import StrictBooleanField
from wbm.api.schema import ErrorSerializer
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from whitelist import csvio, selectors, services
from whitelist.models import NAME_MAX, EntryType, WhitelistEntry


def _entry(pk: int) -> WhitelistEntry:
    entry = WhitelistEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


def _etag(entry: WhitelistEntry) -> str:
    values = entry.as_dict()
    digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:16]
    return f'"{digest}"'


def _stale(request: Request, entry: WhitelistEntry) -> bool:
    """``If-Match`` names a version of the entry other than the stored one (``*``: any)."""
    header = request.headers.get("If-Match")
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" not in tags and _etag(entry) not in tags


def _out(entry: WhitelistEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "type": entry.type,
        "tag": entry.tag,
        "name": entry.name,
        "allow_charging": entry.allow_charging,
        "expires_at": entry.expires_at.astimezone(UTC).isoformat(),
        "expired": entry.expires_at <= timezone.now(),
    }


def _invalid(errors: dict[str, list[str]]) -> Response:
    return Response(
        {"detail": _("Some values are not valid; nothing was written."), "code": "invalid", "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _full(exc: services.WhitelistFull) -> Response:
    return Response({"detail": str(exc), "code": "whitelist_full"}, status=status.HTTP_409_CONFLICT)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    type = serializers.ChoiceField(choices=EntryType.values, help_text="rfid (RFID card) or evccid (EVCC ID)")
    tag = serializers.CharField(
        max_length=64,
        help_text="hexadecimal; case and separators (: - space) do not matter, it is stored upper case without them",
    )
    name = serializers.CharField(max_length=NAME_MAX, allow_blank=True, required=False, default="")
    allow_charging = StrictBooleanField(required=False, default=True)
    expires_at = serializers.DateTimeField(help_text="ISO 8601 with the zone; without one: UTC")
    expired = serializers.BooleanField(read_only=True)


class EntryListApi(APIView):
    """The whitelist (User and up may edit, as the manual says). POST adds one entry; the 501st
    is refused (409 ``whitelist_full``), a tag already listed with 400."""

    required = Perm.WHITELIST_VIEW
    required_by_method = {"POST": Perm.WHITELIST_EDIT}

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="part of the tag (any notation) or of the name"),
            OpenApiParameter(
                "ordering",
                str,
                enum=[*selectors.SORTS, *(f"-{k}" for k in selectors.SORTS)],
                description="sort key; “-” in front: descending",
            ),
        ],
        responses=EntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        ordering = request.query_params.get("ordering", selectors.DEFAULT_SORT)
        if ordering.removeprefix("-") not in selectors.SORTS:
            return _invalid({"ordering": [_("Unknown sort key.")]})
        entries = selectors.entry_list(search=request.query_params.get("search", ""), sort=ordering)
        return Response([_out(e) for e in entries])

    @extend_schema(request=EntrySerializer, responses={201: EntrySerializer})
    def post(self, request: Request) -> Response:
        incoming = EntrySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            entry = services.whitelist_entry_create(data=incoming.validated_data, actor=Actor.from_request(request))
        except services.EntryInvalid as exc:
            return _invalid(exc.errors)
        except services.WhitelistFull as exc:
            return _full(exc)
        return Response(_out(entry), status=status.HTTP_201_CREATED, headers={"ETag": _etag(entry)})


class EntryApi(APIView):
    """One entry. GET answers an ``ETag``; PUT/PATCH/DELETE with ``If-Match`` are refused with
    412 when someone changed the entry since; without it the last write wins."""

    required = Perm.WHITELIST_VIEW
    required_by_method = {"PUT": Perm.WHITELIST_EDIT, "PATCH": Perm.WHITELIST_EDIT, "DELETE": Perm.WHITELIST_EDIT}
    api_error_statuses = {"PUT": (412,), "PATCH": (412,), "DELETE": (412,)}
    model = WhitelistEntry

    @extend_schema(responses=EntrySerializer)
    def get(self, request: Request, pk: int) -> Response:
        entry = _entry(pk)
        return Response(_out(entry), headers={"ETag": _etag(entry)})

    @extend_schema(request=EntrySerializer, responses=EntrySerializer)
    def put(self, request: Request, pk: int) -> Response:
        return self._save(request, pk, partial=False)

    @extend_schema(request=EntrySerializer(partial=True), responses=EntrySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        return self._save(request, pk, partial=True)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        entry = _entry(pk)
        if _stale(request, entry):
            return _precondition_failed(entry)
        services.whitelist_entry_delete(entry=entry, actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _save(request: Request, pk: int, *, partial: bool) -> Response:
        entry = _entry(pk)
        incoming = EntrySerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        if _stale(request, entry):
            return _precondition_failed(entry)
        try:
            entry = services.whitelist_entry_update(
                entry=entry, data=incoming.validated_data, actor=Actor.from_request(request)
            )
        except services.EntryInvalid as exc:
            return _invalid(exc.errors)
        return Response(_out(entry), headers={"ETag": _etag(entry)})


def _precondition_failed(entry: WhitelistEntry) -> Response:
    return Response(
        {
            "detail": _("Someone else changed this entry since you read it; nothing was written."),
            "code": "precondition_failed",
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": _etag(entry)},
    )


class FirstRenderer(BaseContentNegotiation):
    """The CSV comes as it is; errors always as JSON, whatever the client accepts."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class ExportApi(APIView):
    """The whitelist as a CSV file (UTF-8, header ``type,tag,name,allow_charging,expires_at``)."""

    required = Perm.WHITELIST_VIEW
    content_negotiation_class = FirstRenderer

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(csvio.export_csv(selectors.entry_list()), content_type=csvio.CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{csvio.export_filename(timezone.now())}"'
        return response


class WhitelistImportRequestSerializer(serializers.Serializer):
    csv = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="the file's text (as the export writes it)",
    )
    mode = serializers.ChoiceField(
        choices=list(csvio.MODES), help_text="add: Add from import; replace: Replace with import"
    )
    dry_run = StrictBooleanField(default=False, help_text="only check the file and show the changes")
    fingerprint = serializers.CharField(
        required=False,
        max_length=64,
        help_text="from a dry run: the import is refused (412) when the whitelist changed since",
    )


class WhitelistRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="in the file, the header is row 1; 0: the file as a whole")
    column = serializers.CharField(help_text="the column's header name; empty: the whole row")
    message = serializers.CharField()


class WhitelistChangeSerializer(serializers.Serializer):
    type = serializers.CharField()
    tag = serializers.CharField()
    name = serializers.CharField()
    row = serializers.IntegerField(help_text="in the file (0: not in the file)")
    changed_fields = serializers.ListField(child=serializers.CharField(), help_text="the values that change")


class WhitelistImportResultSerializer(serializers.Serializer):
    written = serializers.BooleanField()
    mode = serializers.CharField()
    added = WhitelistChangeSerializer(many=True)
    changed = WhitelistChangeSerializer(many=True)
    removed = WhitelistChangeSerializer(many=True)
    unchanged = serializers.IntegerField()
    total_after = serializers.IntegerField()
    fingerprint = serializers.CharField()


class WhitelistImportRefusedSerializer(ErrorSerializer):
    rows = WhitelistRowErrorSerializer(many=True, required=False)


def _plan_out(plan: csvio.ImportPlan, *, written: bool) -> dict[str, Any]:
    def change(c: csvio.Change) -> dict[str, Any]:
        return {"type": c.type, "tag": c.tag, "name": c.name, "row": c.row, "changed_fields": list(c.fields)}

    return {
        "written": written,
        "mode": plan.mode,
        "added": [change(c) for c in plan.added],
        "changed": [change(c) for c in plan.changed],
        "removed": [change(c) for c in plan.removed],
        "unchanged": plan.unchanged,
        "total_after": plan.total_after,
        "fingerprint": plan.fingerprint,
    }


def _refused(plan: csvio.ImportPlan) -> Response:
    return Response(
        {
            "detail": _("The file cannot be imported; nothing was written."),
            "code": "invalid",
            "errors": {"csv": [str(e) for e in plan.errors]},
            "rows": [{"row": e.row, "column": e.column, "message": e.message} for e in plan.errors],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class ImportApi(APIView):
    """Import a CSV file: every row checked first, then all of it in one transaction or nothing."""

    required = Perm.WHITELIST_EDIT
    api_error_statuses = {"POST": (412,)}

    @extend_schema(
        request=WhitelistImportRequestSerializer,
        responses={200: WhitelistImportResultSerializer, 400: WhitelistImportRefusedSerializer},
    )
    def post(self, request: Request) -> Response:
        incoming = WhitelistImportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        args = incoming.validated_data
        raw = args["csv"].encode("utf-8", "surrogatepass")
        if args["dry_run"]:
            plan = services.whitelist_import_preview(raw=raw, mode=args["mode"])
            if not plan.ok:
                return _refused(plan)
            return Response(_plan_out(plan, written=False))
        try:
            plan = services.whitelist_import(
                raw=raw, mode=args["mode"], actor=Actor.from_request(request), fingerprint=args.get("fingerprint")
            )
        except services.ImportRejected as exc:
            return _refused(exc.plan)
        except services.ImportOutdated:
            return Response(
                {
                    "detail": _("The whitelist changed since the dry run; nothing was written. Run it again."),
                    "code": "precondition_failed",
                },
                status=status.HTTP_412_PRECONDITION_FAILED,
            )
        return Response(_plan_out(plan, written=True))


class RecentScanSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["rfid", "evccid"])
    tag = serializers.CharField()
    at = serializers.DateTimeField()
    chargepoint = serializers.IntegerField(help_text="where the card was read or the vehicle plugged in")
    chargepoint_name = serializers.CharField()
    accepted = serializers.BooleanField(
        allow_null=True, help_text="released by the local whitelist; null: the charge point does not release by it"
    )
    entry = serializers.IntegerField(allow_null=True, help_text="the whitelist entry with this tag, if any")


class RecentScansApi(APIView):
    """The recently scanned RFID tags and EVCC IDs, newest first (empty when the runtime is not running)."""

    required = Perm.WHITELIST_VIEW

    @extend_schema(responses=RecentScanSerializer(many=True))
    def get(self, request: Request) -> Response:
        snapshot = read_snapshot()
        scans = snapshot.recent_scans if snapshot is not None else ()
        listed = {(e.type, e.tag): e.pk for e in WhitelistEntry.objects.filter(tag__in=[s.tag for s in scans])}
        return Response(
            [
                {
                    "kind": s.kind,
                    "tag": s.tag,
                    "at": datetime.fromtimestamp(s.at, tz=UTC).isoformat(),
                    "chargepoint": s.cp_id,
                    "chargepoint_name": s.cp_name,
                    "accepted": s.accepted,
                    "entry": listed.get((s.kind, s.tag)),
                }
                for s in scans
            ]
        )


class LocalAuthEntrySerializer(serializers.Serializer):
    id_tag = serializers.CharField()
    status = serializers.CharField()
    expiry_date = serializers.DateTimeField(allow_null=True)
    parent_id_tag = serializers.CharField()


class LocalAuthListSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="0: no list received from the OCPP backend")
    entries = LocalAuthEntrySerializer(many=True)


class OcppLocalListApi(APIView):
    """The OCPP local authorization list as the backend sent it (read-only; used by release
    mode “By OCPP”, never mixed with the local whitelist)."""

    required = Perm.WHITELIST_VIEW

    @extend_schema(responses=LocalAuthListSerializer)
    def get(self, request: Request) -> Response:
        version, entries = selectors.ocpp_local_list()
        return Response(
            {
                "version": version,
                "entries": [
                    {
                        "id_tag": e.id_tag,
                        "status": e.status,
                        "expiry_date": e.expiry_date.isoformat() if e.expiry_date else None,
                        "parent_id_tag": e.parent_id_tag,
                    }
                    for e in entries
                ],
            }
        )
