"""Create (or update) an account for software that uses the REST API and print its token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wbm.accounts.services import PasswordAccountError, account_api_ensure
from wbm.audit import Actor
from wbm.roles import Role

ROLES = {role.name.lower(): role for role in Role if role != Role.GUEST}


class Command(BaseCommand):
    help = (
        "Create or update an API account with a role and print its token "
        "(the account has no usable password: it signs in with the token only)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), default="user")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        try:
            token = account_api_ensure(username=username, role=ROLES[options["role"]], actor=Actor.system())
        except PasswordAccountError:
            raise CommandError(
                f"{username} signs in with a password; choose another name for an API account."
            ) from None
        self.stdout.write(token.key)
