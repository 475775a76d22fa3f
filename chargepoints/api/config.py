"""/api/v1 for charge point configuration: read, create/replace, change, delete, export, import.

The same services and the same form validate as on the pages; values are those of the
configuration file's ``config`` object (see ``chargepoints.importexport``).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import importexport, services
from chargepoints.forms import CONFIG_FIELDS
from chargepoints.models import ChargePoint, ChargePointConfig
from wbm.api.fields import StrictBooleanField
from wbm.api.schema import ErrorSerializer
from wbm.audit import Actor
from wbm.roles import Perm


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return ChargePoint.objects.select_related("station", "config").get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise Http404 from None


def _invalid(errors: list[importexport.FieldError], **extra: Any) -> Response:
    by_path: dict[str, list[str]] = {}
    for e in errors:
        by_path.setdefault(e.path, []).append(e.message)
    return Response(
        {"detail": _("Some values are not valid; nothing was written."), "code": "invalid", "errors": by_path, **extra},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _not_configured() -> Response:
    return Response(
        {"detail": _("This charging point is not configured."), "code": "not_configured"},
        status=status.HTTP_404_NOT_FOUND,
    )


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _revision(chargepoint: ChargePoint) -> int:
    """The stored configuration's revision; 0 when there is none."""
    stored = ChargePointConfig.objects.filter(pk=chargepoint.pk).values_list("revision", flat=True).first()
    return stored or 0


def _if_match(request: Request, chargepoint: ChargePoint) -> int | None:
    """The revision the client read, from ``If-Match`` (the ETag of a GET; ``*``: any stored
    configuration). None without the header: no check, last write wins (older clients)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    current = _revision(chargepoint)
    if "*" in tags:
        return current if current else -1
    numbers = [int(tag) for tag in tags if tag.isdigit()]
    if current in numbers:
        return current
    return numbers[0] if numbers else -1  # matches nothing stored: refused with what changed


def _stale(conflict: services.WriteConflict) -> Response:
    """412: someone else wrote since the client read its ETag; what they changed, by label."""
    return Response(
        {
            "detail": _("Someone else changed this configuration since you read it; nothing was written."),
            "code": "precondition_failed",
            "revision": conflict.revision,
            "deleted": conflict.deleted,
            "changed": [
                {"field": name, "label": importexport.field_label(name)}
                for name in CONFIG_FIELDS
                if name in conflict.changed
            ],
            "changed_at": conflict.at.isoformat() if conflict.at else None,
            "changed_by": conflict.username,
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": _etag(conflict.revision)},
    )


def _config_payload(chargepoint: ChargePoint) -> dict[str, Any]:
    config = (
        ChargePointConfig.objects.select_related("chargepoint__station", "rfid_reader__station")
        .filter(pk=chargepoint.pk)
        .first()
    )
    return {
        "chargepoint": chargepoint.pk,
        "configured": config is not None,
        "config": importexport.config_to_dict(config) if config else None,
    }


CONFIG_SCHEMA = importexport.config_json_schema()
CONFIG_PATCH_SCHEMA = importexport.config_json_schema(partial=True)


@extend_schema_field(CONFIG_SCHEMA)
class ConfigField(serializers.JSONField):
    """A ``config`` object, documented with every field and its JSON type."""


@extend_schema_field({**CONFIG_SCHEMA, "nullable": True})
class OptionalConfigField(serializers.JSONField):
    pass


class ConfigOutputSerializer(serializers.Serializer):
    chargepoint = serializers.IntegerField()
    configured = serializers.BooleanField()
    config = OptionalConfigField(allow_null=True, help_text="every configuration field; null when not configured")


class ExportSourceSerializer(serializers.Serializer):
    station = serializers.CharField(help_text="host name of the station")
    position = serializers.IntegerField(help_text="backplane position")
    device_uid = serializers.CharField()
    device_name = serializers.CharField()


class ConfigFileSerializer(serializers.Serializer):
    """The configuration file: a versioned envelope around ``config``."""

    kind = serializers.ChoiceField(choices=[importexport.KIND])
    version = serializers.ChoiceField(choices=[importexport.VERSION])
    exported_at = serializers.CharField(help_text="UTC, ISO 8601")
    source = ExportSourceSerializer()  # type: ignore[assignment]
    config = ConfigField()


@extend_schema_field(ConfigFileSerializer)
class ConfigFileField(serializers.JSONField):
    """Any JSON value (the import checks it and names what is wrong), documented as the file."""


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    before = serializers.CharField()
    after = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="the configuration field concerned, e.g. hlc_mode")
    message = serializers.CharField()


class ImportTargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    station = serializers.CharField()
    position = serializers.IntegerField()
    name = serializers.CharField(help_text="the name it gets (with the extension when asked for)")
    configured_before = serializers.BooleanField()
    changes = ChangeSerializer(many=True)
    notes = NoteSerializer(
        many=True,
        help_text="what the import sets differently from the file on this charge point (ISO 15118 the module "
        "lacks, the next free OCPP connector ID, …), or a warning such as ISO 15118 being switched off",
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class ImportRequestSerializer(serializers.Serializer):
    document = ConfigFileField(help_text="the configuration file (an exported envelope)")
    targets = serializers.ListField(
        child=serializers.IntegerField(),
        allow_empty=False,
        help_text="charge point IDs; the order decides the name extensions",
    )
    suffix = StrictBooleanField(default=False, help_text="add “-1”, “-2”, … to the name")
    dry_run = StrictBooleanField(default=False, help_text="only validate and show the changes")


class ImportResultSerializer(serializers.Serializer):
    written = serializers.BooleanField()
    chargepoints = ImportTargetSerializer(many=True)


class ChangedFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class StaleSerializer(ErrorSerializer):
    """412: someone else wrote since the client read its ETag."""

    revision = serializers.IntegerField(help_text="the stored revision now (its ETag)")
    deleted = serializers.BooleanField(help_text="the configuration was deleted meanwhile")
    changed = ChangedFieldSerializer(many=True)
    changed_at = serializers.DateTimeField(allow_null=True)
    changed_by = serializers.CharField(allow_null=True)


class ImportRefusedSerializer(ErrorSerializer):
    """400 of an import: the error, and per charge point what failed (when the file was read)."""

    chargepoints = ImportTargetSerializer(many=True, required=False)


class ChargePointConfigApi(APIView):
    """The configuration of one charge point. GET (User and up); PUT = create or replace with
    every field, PATCH = change some fields, DELETE = factory default (Manufacturer).

    GET answers an ``ETag`` (the revision; ``"0"``: not configured). PUT/PATCH/DELETE with
    ``If-Match`` are refused with 412 and the fields someone else changed when it is stale;
    without it the last write wins."""

    required = Perm.CHARGEPOINT_CONFIG_EXPORT
    required_by_method = {
        "PUT": Perm.CHARGEPOINT_CONFIGURE,
        "PATCH": Perm.CHARGEPOINT_CONFIGURE,
        "DELETE": Perm.CHARGEPOINT_CONFIGURE,
    }
    api_error_statuses = {"PUT": (412,), "PATCH": (412,), "DELETE": (412,)}  # a stale If-Match

    @extend_schema(responses=ConfigOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        chargepoint = _chargepoint(pk)
        return Response(_config_payload(chargepoint), headers={"ETag": _etag(_revision(chargepoint))})

    @extend_schema(
        request={"application/json": CONFIG_SCHEMA},
        responses={200: ConfigOutputSerializer, 201: ConfigOutputSerializer, 412: StaleSerializer},
    )
    def put(self, request: Request, pk: int) -> Response:
        chargepoint = _chargepoint(pk)
        return self._save(request, chargepoint, request.data)

    @extend_schema(
        request={"application/json": CONFIG_PATCH_SCHEMA},
        responses={200: ConfigOutputSerializer, 412: StaleSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        chargepoint = _chargepoint(pk)
        current = _config_payload(chargepoint)["config"]
        if current is None:
            return _not_configured()
        if not isinstance(request.data, dict):
            return _invalid([importexport.FieldError("", _("Expected an object with configuration fields."))])
        unknown = [importexport.FieldError(k, _("Unknown field.")) for k in request.data if k not in current]
        if unknown:
            return _invalid(unknown)
        return self._save(request, chargepoint, {**current, **request.data})

    @extend_schema(request=None, responses={204: None, 412: StaleSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        chargepoint = _chargepoint(pk)
        try:
            services.chargepoint_config_delete(
                chargepoint=chargepoint, actor=Actor.from_request(request), revision=_if_match(request, chargepoint)
            )
        except services.NotConfigured:
            return _not_configured()
        except services.StaleRevision as exc:
            return _stale(exc.conflict)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _save(request: Request, chargepoint: ChargePoint, values: Any) -> Response:
        errors = importexport.check_config_dict(values, path="")
        if errors:
            return _invalid(errors)
        data, problems = importexport.form_data_for(values, target=chargepoint)
        created = not chargepoint.is_configured
        try:
            config = services.chargepoint_config_save(
                chargepoint=chargepoint,
                data=data,
                actor=Actor.from_request(request),
                revision=_if_match(request, chargepoint),
            )
        except services.ConfigInvalid as exc:
            return _invalid(importexport.form_errors(exc.form, problems, path=""))
        except services.StaleRevision as exc:
            return _stale(exc.conflict)
        chargepoint.refresh_from_db()
        return Response(
            _config_payload(chargepoint),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"ETag": _etag(config.revision)},
        )


class ChargePointConfigExportApi(APIView):
    """The configuration file (versioned JSON envelope) of one charge point."""

    required = Perm.CHARGEPOINT_CONFIG_EXPORT

    @extend_schema(responses=ConfigFileSerializer)
    def get(self, request: Request, pk: int) -> Response | HttpResponse:
        chargepoint = _chargepoint(pk)
        config = getattr(chargepoint, "config", None)
        if config is None:
            return _not_configured()
        response = Response(importexport.config_export(config))
        response["Content-Disposition"] = f'attachment; filename="{importexport.export_filename(config)}"'
        return response


class ChargePointConfigImportApi(APIView):
    """Import a configuration file to one or several charge points: all or none. With
    ``dry_run`` only the validation and the changes per charge point are returned."""

    required = Perm.CHARGEPOINT_CONFIGURE

    @extend_schema(
        request=ImportRequestSerializer, responses={200: ImportResultSerializer, 400: ImportRefusedSerializer}
    )
    def post(self, request: Request) -> Response:
        incoming = ImportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        args = incoming.validated_data
        raw = json.dumps(args["document"], ensure_ascii=False).encode()
        try:
            document = importexport.parse_document(raw)
        except importexport.ConfigFileInvalid as exc:
            return _invalid(
                [
                    importexport.FieldError(f"document.{e.path}" if e.path != "file" else "document", e.message)
                    for e in exc.errors
                ]
            )
        ids: list[int] = args["targets"]
        if len(set(ids)) != len(ids):
            return _invalid([importexport.FieldError("targets", _("A charging point is listed twice."))])
        by_id = ChargePoint.objects.select_related("station", "config").in_bulk(ids)
        missing = [i for i in ids if i not in by_id]
        if missing:
            return _invalid(
                [
                    importexport.FieldError("targets", _("There is no charging point %(id)s.") % {"id": i})
                    for i in missing
                ]
            )
        targets = [by_id[i] for i in ids]
        if args["dry_run"]:
            plan = importexport.import_plan(document=document, targets=targets, suffix=args["suffix"])
            if not plan.ok:
                return _invalid([], chargepoints=_targets_out(plan))
            return Response({"written": False, "chargepoints": _targets_out(plan)})
        try:
            plan = services.chargepoint_config_import(
                document=document, targets=targets, suffix=args["suffix"], actor=Actor.from_request(request)
            )
        except services.ImportRejected as exc:
            return _invalid([], chargepoints=_targets_out(exc.plan))
        return Response({"written": True, "chargepoints": _targets_out(plan)})


def _targets_out(plan: importexport.ImportPlan) -> list[dict[str, Any]]:
    out = []
    for t in plan.targets:
        errors: dict[str, list[str]] = {}
        for e in t.errors:
            errors.setdefault(f"document.{e.path}", []).append(e.message)
        out.append(
            {
                "id": t.chargepoint.pk,
                "station": t.chargepoint.station.hostname,
                "position": t.chargepoint.position,
                "name": t.name,
                "configured_before": not t.is_new,
                "changes": [
                    {"field": c.field, "label": c.label, "before": c.before, "after": c.after} for c in t.changes
                ],
                "notes": [{"field": n.field, "message": n.message} for n in t.notes],
                "errors": errors,
            }
        )
    return out
