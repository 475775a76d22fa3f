"""Every write to the whitelist: one entry (page, API) or a whole CSV import. Each validates,
writes in one transaction under the list's lock, keeps the 500-entry limit and records who
changed what. The controller reads the list at each card and vehicle, so nothing needs telling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wbm import audit
from wbm.audit import Actor
from whitelist import csvio, tags
from whitelist.models import MAX_ENTRIES, WhitelistEntry, WhitelistRevision

EDITABLE = ("type", "tag", "name", "allow_charging", "expires_at")


class WhitelistFull(Exception):
    """The 501st entry: refused, the list stays as it was."""

    def __init__(self) -> None:
        super().__init__(
            _("The whitelist is full: it holds at most %(max)d entries. Delete one before adding another.")
            % {"max": MAX_ENTRIES}
        )


class EntryInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class ImportRejected(Exception):
    """The file has errors (each at its row and column); nothing was written."""

    def __init__(self, plan: csvio.ImportPlan) -> None:
        super().__init__([str(e) for e in plan.errors])
        self.plan = plan


class ImportOutdated(Exception):
    """The whitelist (or the file) changed since the preview; nothing was written."""

    def __init__(self, plan: csvio.ImportPlan) -> None:
        super().__init__("outdated")
        self.plan = plan


def _lock() -> int:
    """Take the list's lock (its revision row) for this transaction and count the change;
    returns the revision before it."""
    WhitelistRevision.objects.get_or_create(pk=1)
    row = WhitelistRevision.objects.select_for_update().get(pk=1)
    before = row.revision
    WhitelistRevision.objects.filter(pk=1).update(revision=F("revision") + 1)
    return before


def _validated(entry: WhitelistEntry, data: Mapping[str, Any]) -> WhitelistEntry:
    for name in EDITABLE:
        if name in data:
            setattr(entry, name, data[name])
    entry.tag = tags.normalize(entry.tag)
    try:
        entry.full_clean(exclude=["updated_at"])
    except ValidationError as exc:
        raise EntryInvalid({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from None
    return entry


@transaction.atomic
def whitelist_entry_create(*, data: Mapping[str, Any], actor: Actor) -> WhitelistEntry:
    """Add one entry; refused (``WhitelistFull``) when the list holds 500 already."""
    _lock()
    entry = _validated(WhitelistEntry(), data)
    if WhitelistEntry.objects.count() >= MAX_ENTRIES:
        raise WhitelistFull
    entry.save()
    audit.record_change(actor=actor, action="whitelist.entry.create", obj=entry, after=entry.as_dict())
    return entry


@transaction.atomic
def whitelist_entry_update(*, entry: WhitelistEntry, data: Mapping[str, Any], actor: Actor) -> WhitelistEntry:
    """Change one entry (only the fields given)."""
    _lock()
    entry = WhitelistEntry.objects.select_for_update().get(pk=entry.pk)
    before = entry.as_dict()
    entry = _validated(entry, data)
    if entry.as_dict() == before:
        return entry
    entry.save()
    audit.record_change(actor=actor, action="whitelist.entry.update", obj=entry, before=before, after=entry.as_dict())
    return entry


@transaction.atomic
def whitelist_entry_delete(*, entry: WhitelistEntry, actor: Actor) -> None:
    _lock()
    before = entry.as_dict()
    pk = entry.pk
    deleted, _counts = WhitelistEntry.objects.filter(pk=pk).delete()
    if deleted:
        audit.record_change(actor=actor, action="whitelist.entry.delete", obj=entry, before=before)


def whitelist_import(*, raw: bytes, mode: str, actor: Actor, fingerprint: str | None = None) -> csvio.ImportPlan:
    """Apply a CSV file: every row valid first, then all in one transaction or nothing.
    ``fingerprint`` (from the preview): refused with ``ImportOutdated`` when the list or the
    file changed since (the caller shows the new preview)."""
    parsed = csvio.parse_csv(raw)
    with transaction.atomic():
        revision = _lock()
        plan = csvio.import_plan(parsed=parsed, mode=mode, revision=revision)
        if not plan.ok:
            raise ImportRejected(plan)
        if fingerprint is not None and fingerprint != plan.fingerprint:
            raise ImportOutdated(plan)
        by_key = {(e.type, e.tag): e for e in WhitelistEntry.objects.select_for_update()}
        if plan.removed:
            WhitelistEntry.objects.filter(pk__in=[by_key[(c.type, c.tag)].pk for c in plan.removed]).delete()
        now = timezone.now()
        for change in plan.changed:
            entry = by_key[(change.type, change.tag)]
            for name, value in (change.after or {}).items():
                setattr(entry, name, value)
            entry.updated_at = now
        WhitelistEntry.objects.bulk_update(
            [by_key[(c.type, c.tag)] for c in plan.changed], ["name", "allow_charging", "expires_at", "updated_at"]
        )
        WhitelistEntry.objects.bulk_create([WhitelistEntry(**(c.after or {})) for c in plan.added])
        if WhitelistEntry.objects.count() > MAX_ENTRIES:  # a guard: the plan counted the same
            raise WhitelistFull
        audit.record_change(
            actor=actor,
            action=f"whitelist.import.{plan.mode}",
            obj=None,
            after={
                "added": [c.tag for c in plan.added],
                "changed": [c.tag for c in plan.changed],
                "removed": [c.tag for c in plan.removed],
            },
        )
    return plan


def whitelist_import_preview(*, raw: bytes, mode: str) -> csvio.ImportPlan:
    """What an import would do (nothing is written)."""
    return csvio.import_plan(parsed=csvio.parse_csv(raw), mode=mode, revision=WhitelistRevision.current())
