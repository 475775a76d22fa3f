from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_PASSWORDS = frozenset({"user", "operator", "manufacturer"})


class NotADefaultPasswordValidator:
    """No account may keep or return to one of the manual's well-known default passwords."""

    def validate(self, password: str, user: Any = None) -> None:
        if password.lower() in DEFAULT_PASSWORDS or (
            user is not None and password.lower() == user.get_username().lower()
        ):
            raise ValidationError(
                _("This is a default password. Choose a password of your own."), code="default_password"
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be a default password or your user name.")
