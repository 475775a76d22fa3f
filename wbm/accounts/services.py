"""Account writes: the one write path for passwords, languages, API accounts and API tokens.

Every service validates first, then writes inside one transaction together with its audit
record, so a change is either complete and recorded or not there at all. Secrets (passwords,
their hashes, API tokens) never reach the audit trail.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from wbm.accounts.models import ApiToken, Profile
from wbm.accounts.sockets import sockets_close, user_group
from wbm.audit import Actor, record_change, role_key
from wbm.roles import Perm, Role, allows


class PasswordAccountError(Exception):
    """An API account was requested under a name that already signs in with a password."""


def account_password_change(*, user: User, new_password: str, actor: Actor) -> None:
    """Give ``user`` a new password and lift the forced first-login change.

    Raises ``ValidationError`` when the password fails the configured validators (e.g. it is a
    default password). The audit record names the account only: no password, no hash. Every live
    socket of the account closes once it is written (sockets opened later get what it may see then).
    """
    password_validation.validate_password(new_password, user)
    profile: Profile | None = getattr(user, "profile", None)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        api_tokens_revoke(user=user)  # whoever knew the old password may hold a token
        before = after = None
        if profile is not None and profile.must_change_password:
            profile.must_change_password = False
            profile.save(update_fields=["must_change_password"])
            before, after = {"must_change_password": True}, {"must_change_password": False}
        record_change(actor=actor, action="password.change", obj=user, before=before, after=after)
        sockets_close(groups=[user_group(user.pk)])


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


def account_api_ensure(*, username: str, role: Role, actor: Actor, days: int | None = None) -> str:
    """Create or update an account that signs in with an API token only, and return a new token.

    A new account gets no usable password and never has to change one. Each call issues one more
    token (``days`` valid, default ``WBM_TOKEN_TTL_DAYS``); earlier ones stay until they expire or
    are revoked. Raises ``PasswordAccountError`` when ``username`` already signs in with a
    password, writing nothing. The token itself is not recorded.
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
        _token, key = api_token_create(user=user, name="apitoken", kind=ApiToken.Kind.SERVICE, days=days)
        record_change(
            actor=actor,
            action="account.api.create" if created else "account.api.update",
            obj=user,
            before=None if previous is None else {"role": role_key(Role(previous))},
            after={"role": role_key(role)},
        )
    return key


# --- API tokens ---------------------------------------------------------------------------------


def api_token_create(*, user: User, name: str, kind: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token for ``user`` and return it with its key: the only time the key is known, as
    only its SHA-256 is stored. It expires after ``days`` (default ``WBM_TOKEN_TTL_DAYS``)."""
    days = settings.WBM_TOKEN_TTL_DAYS if days is None else days
    if days < 1:
        raise ValidationError("a token must be valid for at least one day", code="invalid_days")
    key = ApiToken.new_key()
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name,
        kind=kind,
        digest=ApiToken.digest_of(key),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    return token, key


def api_tokens_revoke(*, user: User, kind: str | None = None) -> int:
    """Revoke every live token of ``user`` (of one ``kind`` only, if given): a password change
    ends all of them, a logout those that logging in through the API created. Not recorded on its
    own: the password change or logout that caused it is the event."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if kind is not None:
        tokens = tokens.filter(kind=kind)
    return tokens.update(revoked_at=timezone.now())


def api_tokens_end_with_logout(*, user: User | None, **kwargs: object) -> None:
    """``user_logged_out``: a logout ends the tokens the account got by logging in through the
    API (``POST /api/v1/auth/token/``); the tokens of ``manage.py apitoken`` stay."""
    if user is not None:
        api_tokens_revoke(user=user, kind=ApiToken.Kind.LOGIN)


def api_tokens_visible(*, user: User) -> QuerySet[ApiToken]:
    """The tokens ``user`` may list and revoke: their own, and from Operator up those of the
    service accounts (accounts without a usable password, as ``manage.py apitoken`` makes)."""
    mine = Q(user=user)
    if allows(user, Perm.API_TOKENS_MANAGE):
        service_accounts = User.objects.filter(password__startswith=UNUSABLE_PASSWORD_PREFIX).values("pk")
        mine |= Q(user__in=service_accounts)
    return ApiToken.objects.filter(mine).select_related("user")


def api_token_revoke(*, token: ApiToken, actor: Actor) -> None:
    """Revoke one token (its owner, or an Operator for a service account); recorded by name, never
    the key. Revoking a revoked token changes nothing."""
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_change(
            actor=actor,
            action="api.token.revoke",
            obj=token,
            after={"user": token.user.get_username(), "name": token.name, "kind": token.kind},
        )
