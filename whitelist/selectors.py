from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from whitelist.models import WhitelistEntry


def entry_list() -> QuerySet[WhitelistEntry]:
    return WhitelistEntry.objects.all()


def tag_authorized(tag: str) -> bool:
    """A tag may charge when it is listed, allowed and not expired."""
    return WhitelistEntry.objects.filter(tag__iexact=tag, allow_charging=True, expires_at__gt=timezone.now()).exists()
