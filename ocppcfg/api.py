"""/api/v1/ocpp/…: the OCPP pages' data through the same services and roles.

- ``settings/`` GET/PATCH (Operator): the backend connection; ``authorization_key`` write-only.
- ``certificate/`` GET/POST/DELETE (Operator): the CA certificate of a wss:// backend.
- ``variables/`` GET/PATCH (Operator): every configuration key; PATCH all or nothing.
- ``status/`` GET (User): connection, registration, heartbeat, offline queue, charge points.
- ``messages/`` GET (User): the last 50 messages, newest first.
- ``restart/`` POST (Operator): restart the OCPP service alone.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ocppcfg import services, variables
from ocppcfg.certificates import describe
from ocppcfg.models import MESSAGE_LOG_KEEP, MessageLog, OcppSettings
from ocppcfg.serializers import (
    VARIABLES_PATCH_SCHEMA,
    VARIABLES_SCHEMA,
    OcppCertificateStateSerializer,
    OcppCertificateUploadSerializer,
    OcppMessageSerializer,
    OcppRestartSerializer,
    OcppSettingsSerializer,
    OcppStatusSerializer,
    OcppVariableSerializer,
)
from ocppcfg.views import ocpp_points, status_context
from wbm.api.liveness import runtime_liveness
from wbm.api.parsers import SafeJSONParser
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe as describe_error


def _invalid(errors: dict[str, list[str]]) -> Response:
    return Response(
        {"detail": _("Some values are not valid; nothing was written."), "code": "invalid", "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def certificate_document(settings: OcppSettings) -> dict[str, Any] | None:
    info = describe(settings.ca_certificate)
    return {"subject": info.subject, "expires": info.expires} if info else None


def settings_document() -> dict[str, Any]:
    settings = OcppSettings.load()
    return {
        "backend_url": settings.backend_url,
        "network_interface": settings.network_interface,
        "authorization_user": settings.authorization_user,
        "model": settings.model,
        "vendor": settings.vendor,
        "serial_number": settings.serial_number,
        "protocol": settings.protocol,
        "charge_box_id": settings.charge_box_id,
        "authorization_key_set": bool(settings.authorization_key),
        "certificate": certificate_document(settings),
    }


class OcppSettingsApi(APIView):
    """The backend connection (manual "OCPP settings"). PATCH any of the writable fields; all or
    nothing (400 with the errors per field). The OCPP service reconnects with the new settings."""

    required = Perm.OCPP_SETTINGS_EDIT

    @extend_schema(responses=OcppSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(OcppSettingsSerializer(settings_document()).data)

    @extend_schema(request=OcppSettingsSerializer, responses=OcppSettingsSerializer)
    def patch(self, request: Request) -> Response:
        incoming = OcppSettingsSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        clear = bool(data.pop("clear_authorization_key", False))
        try:
            services.ocpp_settings_update(data=data, actor=Actor.from_request(request), clear_key=clear)
        except services.SettingsInvalid as exc:
            return _invalid(exc.errors)
        return Response(OcppSettingsSerializer(settings_document()).data)


class OcppCertificateApi(APIView):
    """The CA certificate that verifies a wss:// backend: GET ``{"certificate": {subject,
    expires} | null}``, POST a PEM (JSON
    ``{"pem": "…"}`` or multipart ``file``; only with a wss:// URL), DELETE removes it."""

    required = Perm.OCPP_SETTINGS_EDIT
    parser_classes = [SafeJSONParser, MultiPartParser]

    @extend_schema(responses={200: OcppCertificateStateSerializer})
    def get(self, request: Request) -> Response:
        document = {"certificate": certificate_document(OcppSettings.load())}
        return Response(OcppCertificateStateSerializer(document).data)

    @extend_schema(request=OcppCertificateUploadSerializer, responses={201: OcppCertificateStateSerializer})
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            pem: bytes | str = upload.read(64 * 1024 + 1)
        else:
            incoming = OcppCertificateUploadSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            pem = incoming.validated_data["pem"]
        try:
            services.ocpp_settings_update(data={}, actor=Actor.from_request(request), certificate=pem)
        except services.SettingsInvalid as exc:
            return _invalid(exc.errors)
        document = {"certificate": certificate_document(OcppSettings.load())}
        return Response(OcppCertificateStateSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        services.ocpp_settings_update(data={}, actor=Actor.from_request(request), delete_certificate=True)
        return Response(status=status.HTTP_204_NO_CONTENT)


def variables_document() -> dict[str, dict[str, Any]]:
    shown = variables.visible_values()
    return {
        key: OcppVariableSerializer(
            {
                "value": shown.get(key, ""),
                "readonly": v.readonly,
                "meaning": str(v.meaning),
                "group": v.group.value,
                "unit": v.unit,
                "kind": v.kind.value,
                "minimum": v.minimum,
                "maximum": v.maximum,
            }
        ).data
        for key, v in sorted(variables.VARIABLES.items())
    }


class OcppVariablesApi(APIView):
    """Every configuration key (OCPP 1.6 and CHARX) as the backend's GetConfiguration sees it.
    PATCH ``{"HeartbeatInterval": 120, "FreeMode": true}``: all or nothing; a 400 names each
    bad key in ``errors`` (unknown, read-only or an invalid value) and changes none."""

    required = Perm.OCPP_SETTINGS_EDIT

    @extend_schema(responses={200: OpenApiResponse(response=VARIABLES_SCHEMA)})
    def get(self, request: Request) -> Response:
        return Response(variables_document())

    @extend_schema(
        request={"application/json": VARIABLES_PATCH_SCHEMA},
        responses={200: OpenApiResponse(response=VARIABLES_SCHEMA)},
    )
    def patch(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            return _invalid({"non_field_errors": [_("Send a JSON object: configuration key → value.")]})
        try:
            services.ocpp_variables_update(changes=request.data, actor=Actor.from_request(request))
        except services.VariablesInvalid as exc:
            return _invalid(exc.errors)
        return Response(variables_document())


class OcppStatusApi(APIView):
    """The connection to the backend and the charge points it controls (live)."""

    required = Perm.OCPP_VIEW

    @extend_schema(responses=OcppStatusSerializer)
    def get(self, request: Request) -> Response:
        points, missing = ocpp_points()
        snapshot = read_snapshot()
        context = status_context(snapshot, points, missing)
        document = {
            "connected": context["connected"],
            "since": context["since"],
            "url": context["url"],
            "registration": context["registration"],
            "last_heartbeat": context["last_heartbeat"],
            "last_error": context["last_error"],
            "queue": context["queue"],
            "chargepoints": context["rows"],
            "without_connector_id": missing,
            "agent": context["agent"].state if context["agent"] is not None else None,
            "runtime": runtime_liveness(),
        }
        return Response(OcppStatusSerializer(document).data)


class OcppMessagesApi(APIView):
    """The last 50 messages between controller and backend, newest first (older ones are in
    the log files)."""

    required = Perm.OCPP_VIEW

    @extend_schema(responses=OcppMessageSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = MessageLog.objects.order_by("-id")[:MESSAGE_LOG_KEEP]
        return Response(OcppMessageSerializer(rows, many=True).data)


class OcppRestartApi(APIView):
    """Restart the OCPP service alone (it connects to the backend again); 503 when the runtime
    is not running, 409 when it refuses."""

    required = Perm.OCPP_SETTINGS_EDIT

    @extend_schema(request=None, responses={202: OcppRestartSerializer})
    def post(self, request: Request) -> Response:
        try:
            services.ocpp_restart(actor=Actor.from_request(request))
        except RuntimeUnavailable as exc:
            return Response(
                {"detail": describe_error(exc), "code": "runtime_unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        except CommandRejected as exc:
            return Response({"detail": describe_error(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
        return Response({"detail": _("The OCPP service is restarting.")}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("ocpp/settings/", OcppSettingsApi.as_view(), name="ocpp-settings"),
    path("ocpp/certificate/", OcppCertificateApi.as_view(), name="ocpp-certificate"),
    path("ocpp/variables/", OcppVariablesApi.as_view(), name="ocpp-variables"),
    path("ocpp/status/", OcppStatusApi.as_view(), name="ocpp-status"),
    path("ocpp/messages/", OcppMessagesApi.as_view(), name="ocpp-messages"),
    path("ocpp/restart/", OcppRestartApi.as_view(), name="ocpp-restart"),
]
