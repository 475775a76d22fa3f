"""A user's WBM role, language and whether a default password still has to be changed; API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wbm.roles import Role


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.PositiveSmallIntegerField(_("role"), choices=Role.choices, default=Role.USER)
    must_change_password = models.BooleanField(_("must change password"), default=True)
    language = models.CharField(_("language"), max_length=8, blank=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A token for the REST API. Only the SHA-256 of the token is stored; the token itself is shown
    once, when it is created. It ends at ``expires_at``, when revoked (by its owner, an Operator
    for a service account, a password change, or the logout for a token of the kind ``login``)."""

    class Kind(models.TextChoices):
        LOGIN = "login", "login"  # POST /api/v1/auth/token/ with user name and password
        SERVICE = "service", "service"  # manage.py apitoken, for an account without a password

    PREFIX = "wbm_"
    LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)  # sha256 hex of the token
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.name}"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)  # 32 random bytes

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"
