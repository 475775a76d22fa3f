"""/api/v1: the same services and the same permission map as the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wbm.accounts.models import ApiToken
from wbm.accounts.services import api_token_create, api_token_revoke, api_tokens_visible
from wbm.api import serializers as s
from wbm.api.liveness import runtime_liveness
from wbm.audit import Actor
from wbm.roles import Perm, allowed_perms, role_of
from wbm.runtime.bus import require_snapshot
from wbm.runtime.reasons import decision_text
from wbm.system import services as system_services

_snapshot = require_snapshot


def _account(request: Request) -> User:
    """The caller of an endpoint that requires at least the User role (never anonymous)."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("an account endpoint was reached without a logged-in user")
    return user


class TokenApi(APIView):
    """Exchange user name and password for a new API token (failed attempts count for lockout).

    The token is in the answer only; it expires after ``WBM_TOKEN_TTL_DAYS`` and ends with a
    password change or the account's logout."""

    required = Perm.DASHBOARD_VIEW
    authentication_classes: list[Any] = []
    api_error_statuses = {"POST": (429,)}  # the login is locked out after repeated failures

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer})
    def post(self, request: Request) -> Response:
        incoming = s.TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=incoming.validated_data["username"], password=incoming.validated_data["password"]
        )
        if user is None:
            return Response(
                {"detail": _("Wrong user name or password."), "code": "invalid_credentials"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        if user.profile.must_change_password:
            return Response(
                {"detail": _("Change the default password before using the API."), "code": "password_change_required"},
                status=status.HTTP_403_FORBIDDEN,
            )
        token, key = api_token_create(user=user, name="login", kind=ApiToken.Kind.LOGIN)
        return Response(
            {"token": key, "id": token.pk, "expires_at": token.expires_at, "role": role_of(user).name.lower()}
        )


class TokenListApi(APIView):
    """One's own API tokens (from Operator up also those of the service accounts), without secrets."""

    required = Perm.API_TOKENS_OWN

    @extend_schema(responses=s.ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.ApiTokenSerializer(api_tokens_visible(user=_account(request)), many=True).data)


class TokenRevokeApi(APIView):
    """Revoke a token: one's own, or from Operator up one of a service account (else 404)."""

    required = Perm.API_TOKENS_OWN

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(api_tokens_visible(user=_account(request)), pk=pk)
        api_token_revoke(token=token, actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """Who is calling, with which role and permissions."""

    required = Perm.DASHBOARD_VIEW

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            {
                "username": user.get_username() if user.is_authenticated else "",
                "role": role_of(user).name.lower(),  # a stable key, not the translated label
                "permissions": sorted(allowed_perms(user)),
            }
        )


class DashboardApi(APIView):
    """What the dashboard shows: summary and configured charge points (Guest may read), and
    whether the runtime that published them is running (`runtime.alive`)."""

    required = Perm.DASHBOARD_VIEW

    @extend_schema(responses=s.DashboardSerializer)
    def get(self, request: Request) -> Response:
        snapshot = _snapshot()
        return Response(
            s.DashboardSerializer(
                {
                    "generated_at": snapshot.generated_at,
                    "runtime": runtime_liveness(),
                    "summary": snapshot.summary,
                    "chargepoints": [
                        {
                            "id": cp.id,
                            "name": cp.name,
                            "location": cp.location,
                            "status": cp.dashboard_status,
                            "power_w": cp.power_w,
                            "session_energy_wh": cp.session_energy_wh,
                            "charging_s": cp.charging_s,
                            "plugin_s": cp.plugin_s,
                            "limit_text": decision_text(cp.decision),  # the card's tooltip
                        }
                        for cp in snapshot.configured
                    ],
                }
            ).data
        )


class AgentListApi(APIView):
    """The runtime's services and their state."""

    required = Perm.SYSTEM_VIEW

    @extend_schema(responses=s.AgentSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.AgentSerializer(_snapshot().agents, many=True).data)


class AgentRestartApi(APIView):
    required = Perm.SYSTEM_SERVICE_RESTART

    @extend_schema(request=None, responses=s.OkSerializer)
    def post(self, request: Request, name: str) -> Response:
        system_services.agent_restart(name=name, actor=Actor.from_request(request))
        return Response({"ok": True})
