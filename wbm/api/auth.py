"""API tokens: ``Authorization: Bearer <token>`` (``Token <token>`` works too).

Only a token's SHA-256 is stored (``wbm.accounts.models.ApiToken``). An expired or revoked token
gets 401 saying so; an account that still has to change its password gets 403
``password_change_required`` on every route, exactly like a browser session.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from wbm.accounts.models import ApiToken


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"  # named in WWW-Authenticate of a 401
    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        # parse the header here: request.headers is cached, so rewriting META would not be seen
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(_("Invalid token header. No credentials provided."))
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header. Token string should not contain spaces."))
        try:
            key = auth[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain invalid characters.")
            ) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user", "user__profile").filter(digest=ApiToken.digest_of(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="invalid_token")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                _("This token has been revoked. Get a new one."), code="token_revoked"
            )
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired. Get a new one."), code="token_expired")
        profile: Any = getattr(token.user, "profile", None)
        if profile is not None and profile.must_change_password:
            # the gate of PasswordChangeRequiredMiddleware, which sees only the session's user
            raise exceptions.PermissionDenied(
                _("Change the default password before using the API."), code="password_change_required"
            )
        if token.last_used_at is None or now - token.last_used_at >= ApiToken.LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the schema (and Swagger UI's Authorize) names the token."""

    target_class = BearerTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /api/v1/auth/token/ or manage.py apitoken; also accepted as 'Token <token>'.",
        }
