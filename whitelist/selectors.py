"""Reads of the whitelist: the list (searched, sorted), the controller's lookups, the OCPP list."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from ocppcfg.models import LocalAuthEntry, LocalAuthList
from whitelist import tags
from whitelist.models import EntryType, WhitelistEntry

# sort keys of the page and the API ("-" in front: descending) → model fields
SORTS: dict[str, tuple[str, ...]] = {
    "tag": ("tag", "type"),
    "type": ("type", "tag"),
    "name": ("name", "tag"),
    "allow_charging": ("allow_charging", "tag"),
    "expires_at": ("expires_at", "tag"),
}
DEFAULT_SORT = "tag"


def sort_fields(sort: str) -> tuple[str, ...]:
    """The ordering for a sort key (unknown keys: by tag)."""
    descending = sort.startswith("-")
    fields = SORTS.get(sort.removeprefix("-"), SORTS[DEFAULT_SORT])
    return tuple(f"-{f}" for f in fields) if descending else fields


def entry_list(*, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet[WhitelistEntry]:
    """The entries matching ``search`` (tag in any notation, or part of the name), sorted."""
    entries = WhitelistEntry.objects.all()
    search = search.strip()[:100]
    if search:
        condition = Q(name__icontains=search)
        tag = tags.normalize(search)
        if tag:
            condition |= Q(tag__contains=tag)
        entries = entries.filter(condition)
    return entries.order_by(*sort_fields(sort))


def entry_count() -> int:
    return WhitelistEntry.objects.count()


def tag_authorized(tag: str, kind: str = EntryType.RFID, *, at: datetime | None = None) -> bool:
    """A tag may charge when it is listed (compared in the stored form: case and separators do
    not matter), allowed and not expired at ``at`` (now)."""
    normalised = tags.normalize(tag)
    if not normalised:
        return False
    return WhitelistEntry.objects.filter(
        type=kind, tag=normalised, allow_charging=True, expires_at__gt=at or timezone.now()
    ).exists()


def evcc_id_authorized(evcc_id: str) -> bool:
    """An ISO 15118 vehicle's EVCC ID may charge (listed, allowed, not expired)."""
    return tag_authorized(evcc_id, EntryType.EVCC_ID)


def ocpp_local_list() -> tuple[int, list[LocalAuthEntry]]:
    """The OCPP local authorization list as the backend sent it: (version, entries); version 0
    when none was received."""
    return LocalAuthList.load().version, list(LocalAuthEntry.objects.all())
