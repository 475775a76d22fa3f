"""A user's WBM role, language and whether a default password still has to be changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wbm.roles import Role


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.PositiveSmallIntegerField(_("role"), choices=Role.choices, default=Role.USER)
    must_change_password = models.BooleanField(_("must change password"), default=True)
    language = models.CharField(_("language"), max_length=8, blank=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"
