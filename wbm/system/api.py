"""/api/v1/system/: System Control's pages as API, with the same services and role rules.

GET ``system/status/`` applications (version, state, uptime, last error) and system data;
POST ``system/services/<name>/restart/``; POST ``system/reboot/``; GET/PUT ``system/time/``
(PUT ``{"utc": "...Z"}`` or ``{"ntp": true}``); POST ``system/developer/password/`` and
``system/developer/password/reset/``; GET ``system/logs/`` and ``system/support-bundle/``
(zip downloads)."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

from django.http import FileResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wbm.access import HasPerm
from wbm.audit import Actor, record_change
from wbm.roles import Perm
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.system import applications, forms, osbackend, selectors, services
from wbm.system.views import bundle_response, runtime_error


def _refused(exc: CommandRejected | RuntimeUnavailable) -> Response:
    code = status.HTTP_503_SERVICE_UNAVAILABLE if isinstance(exc, RuntimeUnavailable) else status.HTTP_409_CONFLICT
    return Response({"detail": runtime_error(exc), "code": getattr(exc, "code", "runtime_unavailable")}, status=code)


def time_document() -> dict[str, Any]:
    state = osbackend.time_status()
    return {
        "utc": state.utc.isoformat().replace("+00:00", "Z"),
        "synchronized": state.synchronized,
        "ntp_enabled": state.ntp_enabled,
        "source": state.source,
        "offset_s": round(state.offset_s, 3),
    }


class StatusApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_VIEW

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        context = selectors.status_context()
        now = time.time()
        system = context["snapshot"].system if context["snapshot"] is not None else None
        return Response(
            {
                "version": context["wbm_version"],
                "applications": [applications.as_dict(r, now) for r in context["applications"]],
                "other_services": [
                    {
                        "name": a.name,
                        "state": a.state,
                        "started_at": a.started_at,
                        "restarts": a.restarts,
                        "last_error": a.last_error,
                    }
                    for a in context["other_agents"]
                ],
                "system": {f: getattr(system, f) for f in system.__dataclass_fields__} if system is not None else None,
                "network": context["network"],
                "modem": context["modem"],
                "time": time_document(),
            }
        )


class ServiceRestartApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_SERVICE_RESTART

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, name: str) -> Response:
        try:
            services.agent_restart(name=name, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            return _refused(exc)
        return Response({"service": name, "restarted": True})


class RebootInSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="must be true: active charging sessions end")


class RebootApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_SERVICE_RESTART

    @extend_schema(request=RebootInSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        incoming = RebootInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        if not incoming.validated_data["confirm"]:
            raise ValidationError({"confirm": [_("Confirm the reboot: active charging processes end.")]})
        try:
            services.system_reboot(actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            return _refused(exc)
        return Response({"restarting": True}, status=status.HTTP_202_ACCEPTED)


class TimeInSerializer(serializers.Serializer):
    utc = serializers.DateTimeField(required=False, help_text="the new system time; UTC (a 'Z' or +00:00 offset)")
    ntp = serializers.BooleanField(required=False, help_text="true: synchronize by NTP again")
    source = serializers.ChoiceField(choices=["manual", "browser"], default="manual")  # type: ignore[assignment]

    def validate_utc(self, value: Any) -> Any:
        when = value.astimezone(UTC)
        if not osbackend.EARLIEST <= when <= osbackend.LATEST:
            raise serializers.ValidationError(
                _("The clock can be set from %(earliest)s to %(latest)s (UTC); %(value)s is outside.")
                % {
                    "earliest": osbackend.EARLIEST.strftime("%Y-%m-%d"),
                    "latest": osbackend.LATEST.strftime("%Y-%m-%d"),
                    "value": when.strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
        return when

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("utc" in attrs) == bool(attrs.get("ntp")):
            raise serializers.ValidationError(_("Send either a time (utc) or ntp: true."))
        return attrs


class TimeApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_VIEW
    required_by_method = {"PUT": Perm.SYSTEM_TIME_EDIT}

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(time_document())

    @extend_schema(request=TimeInSerializer, responses={200: dict})
    def put(self, request: Request) -> Response:
        incoming = TimeInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, actor = incoming.validated_data, Actor.from_request(request)
        if data.get("ntp"):
            services.system_time_sync(actor=actor)
        else:
            services.system_time_set(when=data["utc"], source=data["source"], actor=actor)
        return Response(time_document())


class PasswordInSerializer(serializers.Serializer):
    current = serializers.CharField(max_length=forms.MAX_PASSWORD, trim_whitespace=False)
    new = serializers.CharField(max_length=forms.MAX_PASSWORD, trim_whitespace=False)


class UserAppPasswordApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_DEVELOPER_MODE

    @extend_schema(request=PasswordInSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        incoming = PasswordInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = forms.UserAppPasswordForm(
            data={
                "current": incoming.validated_data["current"],
                "new": incoming.validated_data["new"],
                "repeat": incoming.validated_data["new"],
            }
        )
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        try:
            services.user_app_password_change(
                current=form.cleaned_data["current"], new=form.cleaned_data["new"], actor=Actor.from_request(request)
            )
        except osbackend.WrongPassword:
            raise ValidationError({"current": [_("The current password is not correct.")]}) from None
        return Response({"user": osbackend.USER_APP, "changed": True})


class UserAppPasswordResetApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_DEVELOPER_MODE

    @extend_schema(request=RebootInSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        incoming = RebootInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        if not incoming.validated_data["confirm"]:
            raise ValidationError({"confirm": [_("Confirm the reset.")]})
        services.user_app_password_reset(actor=Actor.from_request(request))
        return Response({"user": osbackend.USER_APP, "reset": True})


class LogsApi(APIView):
    permission_classes = [HasPerm]
    required = Perm.SYSTEM_LOGS_DOWNLOAD
    kind = "logs"

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request) -> FileResponse:
        record_change(actor=Actor.from_request(request), action=f"system.{self.kind}.download")
        return bundle_response(self.kind)


class SupportBundleApi(LogsApi):
    kind = "support"


urlpatterns = [
    path("system/status/", StatusApi.as_view(), name="system-status"),
    path("system/services/<str:name>/restart/", ServiceRestartApi.as_view(), name="system-service-restart"),
    path("system/reboot/", RebootApi.as_view(), name="system-reboot"),
    path("system/time/", TimeApi.as_view(), name="system-time"),
    path("system/developer/password/", UserAppPasswordApi.as_view(), name="system-userapp-password"),
    path("system/developer/password/reset/", UserAppPasswordResetApi.as_view(), name="system-userapp-reset"),
    path("system/logs/", LogsApi.as_view(), name="system-logs"),
    path("system/support-bundle/", SupportBundleApi.as_view(), name="system-support-bundle"),
]

# Import/Export, audit trail and revisions, software update (wbm/system/portability_api.py)
from wbm.system.portability_api import urlpatterns as _portability_urlpatterns  # noqa: E402

urlpatterns += _portability_urlpatterns
