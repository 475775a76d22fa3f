from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_PASSWORDS = frozenset({"user", "operator", "manufacturer"})
# A user name shorter than this is not looked for inside a password ("ab" would refuse half of
# all passwords); the default passwords are always looked for.
MIN_NAME_IN_PASSWORD = 3


class NotADefaultPasswordValidator:
    """No account may keep or return to one of the manual's well-known default passwords, nor
    dress one up: a password that contains a default password or the user's own name, whatever is
    put before or after it and in any case ("user1234", "MyOperator!"), is refused."""

    def validate(self, password: str, user: Any = None) -> None:
        folded = password.casefold()
        banned = set(DEFAULT_PASSWORDS)
        if user is not None:
            name = user.get_username().casefold()
            if len(name) >= MIN_NAME_IN_PASSWORD:
                banned.add(name)
        if folded in banned:
            raise ValidationError(
                _("This is a default password. Choose a password of your own."), code="default_password"
            )
        if any(word in folded for word in banned):
            raise ValidationError(
                _("This password contains a default password or your user name. Choose a password of your own."),
                code="default_password",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot contain a default password or your user name.")
