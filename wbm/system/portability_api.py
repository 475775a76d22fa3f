"""/api/v1/system/: Import/Export, the audit trail with revisions, and the software update, with
the same services and role rules as the pages.

- GET ``system/config/sections/``: the sub-registers, whether the caller may import each;
- POST ``system/config/export/`` ``{"sections": [...], "passphrase": "..."}``: the file (zip);
- POST ``system/config/import/`` (multipart ``file``, ``passphrase``, ``sections``, ``dry_run``):
  the changes per sub-register; without ``dry_run`` the chosen ones are applied, all or nothing;
- GET ``system/audit/`` (``source``, ``user``, ``section``, ``action``, ``page``); GET
  ``system/revisions/?section=``; POST ``system/revisions/rollback/`` ``{"revision": id}``;
- GET ``system/software/``; POST ``system/software/`` (multipart ``bundle``); POST
  ``system/software/cancel/``.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wbm.access import HasPerm
from wbm.audit import Actor
from wbm.models import SectionRevision
from wbm.roles import Perm, role_of
from wbm.system import portability, revisions, update_services
from wbm.system.revisions_views import PAGE_SIZE, audit_records, record_changes, revision_changes
from wbm.system.update import BundleRefused


def _change(c: portability.Change) -> dict[str, Any]:
    return {"path": c.path, "before": c.before, "after": c.after}


class SectionsApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_IMPORT_EXPORT

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        role = role_of(request.user)
        return Response(
            {
                "format_version": portability.FORMAT_VERSION,
                "device_type": portability.device_type(),
                "sections": [
                    {"key": k, "title": str(s.title), "schema": s.schema, "may_import": portability.may_import(role, s)}
                    for k, s in portability.sections().items()
                ],
            }
        )


class ExportIn(serializers.Serializer):
    sections = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=False, max_length=40)
    passphrase = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, trim_whitespace=False
    )

    def validate_sections(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(portability.sections()))
        if unknown:
            raise serializers.ValidationError(_("Unknown sub-registers: %(keys)s") % {"keys": ", ".join(unknown)[:200]})
        return value

    def validate_passphrase(self, value: str) -> str:
        if value and len(value) < 10:
            raise serializers.ValidationError(_("Use at least 10 characters, or none."))
        return value


class ExportApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_IMPORT_EXPORT

    @extend_schema(request=ExportIn, responses={(200, "application/zip"): bytes})
    def post(self, request: Request) -> HttpResponse:
        incoming = ExportIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        raw = portability.configuration_export(
            keys=incoming.validated_data["sections"],
            passphrase=incoming.validated_data["passphrase"],
            actor=Actor.from_request(request),
        )
        response = HttpResponse(raw, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{portability.export_filename()}"'
        return response


class ImportApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_IMPORT_EXPORT
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=None, responses={200: dict, 400: dict})
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": _("Send the configuration file as 'file'."), "code": "invalid"}, status=400)
        if upload.size > portability.MAX_FILE_BYTES:
            return Response({"detail": _("The file is too large."), "code": "too_large"}, status=400)
        data: Any = request.data
        passphrase = str(data.get("passphrase", ""))[:200]
        try:
            file = portability.read_file(upload.read(), passphrase=passphrase)
        except portability.WrongPassphrase as exc:
            return Response({"detail": exc.message, "code": "wrong_passphrase"}, status=400)
        except portability.FileRefused as exc:
            return Response({"detail": exc.message, "code": "file_refused"}, status=400)
        plans = portability.import_plan(file, role=role_of(request.user))
        body: dict[str, Any] = {
            "manifest": {k: v for k, v in file.manifest.items() if k != "secrets"},
            "has_secrets": file.has_secrets,
            "secrets_unlocked": file.secrets is not None,
            "sections": [
                {
                    "key": p.key,
                    "title": p.title,
                    "may_import": p.allowed,
                    "errors": p.errors,
                    "changes": [_change(c) for c in p.changes],
                }
                for p in plans
            ],
        }
        dry_run = str(data.get("dry_run", "")).lower() in ("1", "true", "yes")
        if dry_run:
            return Response(body)
        keys = data.getlist("sections") if hasattr(data, "getlist") else []
        keys = [k for k in keys for k in str(k).split(",") if k] or [p.key for p in plans]
        try:
            revisions.baseline(keys)
            applied = portability.configuration_import(file=file, keys=keys, actor=Actor.from_request(request))
        except portability.ImportInvalid as exc:
            return Response(
                {**body, "detail": _("Nothing was imported."), "code": "invalid", "errors": exc.errors}, status=400
            )
        return Response({**body, "applied": applied})


class AuditApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_AUDIT_VIEW

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        page = Paginator(audit_records(request.query_params), PAGE_SIZE).get_page(request.query_params.get("page"))
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": [
                    {
                        "id": r.pk,
                        "at": r.at.isoformat(),
                        "user": r.username,
                        "role": r.role,
                        "source": r.source,
                        "action": r.action,
                        "section": r.section,
                        "object_type": r.object_type,
                        "object_id": r.object_id,
                        "before": r.before,
                        "after": r.after,
                        "changes": [_change(c) for c in record_changes(r)],
                    }
                    for r in page
                ],
            }
        )


class RevisionsApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_AUDIT_VIEW

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        section = request.query_params.get("section", "")
        if section not in portability.sections():
            return Response({"detail": _("Choose a sub-register (section)."), "code": "invalid"}, status=400)
        revisions.baseline([section])
        rows = SectionRevision.objects.filter(section=section).select_related("record").order_by("-pk")[:50]
        return Response(
            {
                "section": section,
                "results": [
                    {
                        "id": rev.pk,
                        "at": rev.at.isoformat(),
                        "action": rev.record.action if rev.record else "",
                        "user": rev.record.username if rev.record else "",
                        "changes": [_change(c) for c in revision_changes(rev)],
                    }
                    for rev in rows
                ],
            }
        )


class RollbackIn(serializers.Serializer):
    revision = serializers.IntegerField(min_value=1)


class RollbackApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_IMPORT_EXPORT

    @extend_schema(request=RollbackIn, responses={200: dict, 400: dict, 404: dict})
    def post(self, request: Request) -> Response:
        incoming = RollbackIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            key = revisions.revision_rollback(
                revision_id=incoming.validated_data["revision"], actor=Actor.from_request(request)
            )
        except revisions.RollbackRefused as exc:
            return Response({"detail": exc.message, "code": "not_found"}, status=404)
        except portability.ImportInvalid as exc:
            return Response({"detail": _("Nothing was changed."), "code": "invalid", "errors": exc.errors}, status=400)
        return Response({"section": key, "rolled_back_to": incoming.validated_data["revision"]})


class SoftwareApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_SOFTWARE_UPDATE
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(update_services.software_status())

    @extend_schema(request=None, responses={202: dict, 400: dict})
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("bundle")
        if upload is None:
            return Response({"detail": _("Send the software package as 'bundle'."), "code": "invalid"}, status=400)
        try:
            path_ = update_services.receive(upload.chunks())
            accepted = update_services.software_update(bundle=path_, actor=Actor.from_request(request))
        except BundleRefused as exc:
            return Response({"detail": exc.message, "code": exc.code}, status=400)
        return Response(
            {
                "version": accepted.manifest.version,
                "wait_s": accepted.wait_s,
                "status": update_services.software_status(),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class SoftwareCancelApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_SOFTWARE_UPDATE

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        return Response({"cancelled": update_services.software_cancel(actor=Actor.from_request(request))})


urlpatterns = [
    path("system/config/sections/", SectionsApi.as_view(), name="system-config-sections"),
    path("system/config/export/", ExportApi.as_view(), name="system-config-export"),
    path("system/config/import/", ImportApi.as_view(), name="system-config-import"),
    path("system/audit/", AuditApi.as_view(), name="system-audit"),
    path("system/revisions/", RevisionsApi.as_view(), name="system-revisions"),
    path("system/revisions/rollback/", RollbackApi.as_view(), name="system-revision-rollback"),
    path("system/software/", SoftwareApi.as_view(), name="system-software"),
    path("system/software/cancel/", SoftwareCancelApi.as_view(), name="system-software-cancel"),
]
