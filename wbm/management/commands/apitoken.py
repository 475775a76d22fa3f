"""Create (or update) an account for software that uses the REST API and print a new token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wbm.accounts.services import PasswordAccountError, account_api_ensure
from wbm.audit import Actor
from wbm.roles import Role

ROLES = {role.name.lower(): role for role in Role if role != Role.GUEST}


class Command(BaseCommand):
    help = (
        "Create or update an API account with a role and print a new token, shown only this once "
        "(the account has no usable password: it signs in with tokens only). Earlier tokens stay "
        "valid until they expire or are revoked (DELETE /api/v1/auth/tokens/{id}/)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), default="user")
        parser.add_argument(
            "--days", type=int, default=None, help="days the token is valid (default: WBM_TOKEN_TTL_DAYS, 90)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        days: int | None = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        try:
            token = account_api_ensure(username=username, role=ROLES[options["role"]], actor=Actor.system(), days=days)
        except PasswordAccountError:
            raise CommandError(
                f"{username} signs in with a password; choose another name for an API account."
            ) from None
        self.stdout.write(token)
