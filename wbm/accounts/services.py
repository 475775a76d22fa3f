"""Account writes: the one write path for passwords, languages and API accounts.

Every service validates first, then writes inside one transaction together with its audit
record, so a change is either complete and recorded or not there at all. Secrets (passwords,
their hashes, API tokens) never reach the audit trail.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from wbm.accounts.models import Profile
from wbm.audit import Actor, record_change, role_key
from wbm.roles import Role


class PasswordAccountError(Exception):
    """An API account was requested under a name that already signs in with a password."""


def account_password_change(*, user: User, new_password: str, actor: Actor) -> None:
    """Give ``user`` a new password and lift the forced first-login change.

    Raises ``ValidationError`` when the password fails the configured validators (e.g. it is a
    default password). The audit record names the account only: no password, no hash.
    """
    password_validation.validate_password(new_password, user)
    profile: Profile | None = getattr(user, "profile", None)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        before = after = None
        if profile is not None and profile.must_change_password:
            profile.must_change_password = False
            profile.save(update_fields=["must_change_password"])
            before, after = {"must_change_password": True}, {"must_change_password": False}
        record_change(actor=actor, action="password.change", obj=user, before=before, after=after)


def account_language_set(*, user: User, language: str, actor: Actor) -> None:
    """Keep ``language`` (a code from ``settings.LANGUAGES``) in the user's profile.

    Raises ``ValidationError`` for any other code, writing nothing. Setting the language the
    profile already holds writes and records nothing. The user must have a profile.
    """
    if language not in {code for code, _name in settings.LANGUAGES}:
        # the message the language form shows for the same mistake (Django translates it)
        raise ValidationError(
            forms.ChoiceField.default_error_messages["invalid_choice"],
            code="invalid_choice",
            params={"value": language},
        )
    profile = user.profile
    before = profile.language
    if before == language:
        return
    profile.language = language
    try:
        profile.full_clean()
    except ValidationError:
        profile.language = before  # the caller's instance stays as stored
        raise
    with transaction.atomic():
        profile.save(update_fields=["language"])
        record_change(
            actor=actor, action="language.change", obj=user, before={"language": before}, after={"language": language}
        )


def account_api_ensure(*, username: str, role: Role, actor: Actor) -> Token:
    """Create or update an account that signs in with an API token only, and return its token.

    A new account gets no usable password and never has to change one. Raises
    ``PasswordAccountError`` when ``username`` already signs in with a password, writing nothing.
    The token itself is not recorded.
    """
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        elif user.has_usable_password():
            raise PasswordAccountError(username)
        previous = Profile.objects.filter(user=user).values_list("role", flat=True).first()
        Profile.objects.update_or_create(user=user, defaults={"role": role, "must_change_password": False})
        token, _created = Token.objects.get_or_create(user=user)
        record_change(
            actor=actor,
            action="account.api.create" if created else "account.api.update",
            obj=user,
            before=None if previous is None else {"role": role_key(Role(previous))},
            after={"role": role_key(role)},
        )
    return token
