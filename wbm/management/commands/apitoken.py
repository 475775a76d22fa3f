"""Create (or update) an account for software that uses the REST API and print its token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from wbm.accounts.models import Profile
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

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        elif user.has_usable_password():
            raise CommandError(f"{username} signs in with a password; choose another name for an API account.")
        Profile.objects.update_or_create(
            user=user, defaults={"role": ROLES[options["role"]], "must_change_password": False}
        )
        token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
