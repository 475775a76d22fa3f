"""Revisions of the Import/Export sub-registers, and rolling one back.

Every audit record (``wbm.audit.record_change``) whose action belongs to a sub-register (the
section's ``audit_prefixes``) asks for a revision: once the transaction commits, the section's
export (never a secret) is stored as a ``SectionRevision`` when it differs from the last one.
A transaction that changes a sub-register many times (an import of 500 whitelist entries) makes
one revision. Rolling back applies an earlier revision through the section's ``apply`` (the
app's services, the one write path), audited as ``system.revision.rollback``."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from wbm.audit import Actor

log = logging.getLogger(__name__)


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    from wbm.system.portability import sections

    pairs = [(prefix, key) for key, s in sections().items() for prefix in s.audit_prefixes]
    return tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True))


def section_of(action: str) -> str:
    """The sub-register an audit action changes ("" when none)."""
    return next((key for prefix, key in _prefixes() if action.startswith(prefix)), "")


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def snapshot(key: str, *, record_id: int | None = None) -> Any:
    """Store the section's current state as a revision unless it equals the last one."""
    from wbm.models import ChangeRecord, SectionRevision
    from wbm.system.portability import sections

    section = sections().get(key)
    if section is None:
        return None
    data = json.loads(json.dumps(section.export(), default=str))
    digest = _digest(data)
    last = SectionRevision.objects.filter(section=key).order_by("-pk").first()
    if last is not None and last.digest == digest:
        return last
    if record_id is None:
        record_id = ChangeRecord.objects.filter(section=key).order_by("-pk").values_list("pk", flat=True).first()
    return SectionRevision.objects.create(section=key, record_id=record_id, data=data, digest=digest)


class _Snapshot:
    """An on-commit callback that makes one revision of a section, found again by its key."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        try:
            snapshot(self.key)
        except Exception:  # a revision is history: never fail the change that was committed
            log.exception("could not store a revision of %s", self.key)


def note_change(section: str) -> None:
    """Ask for a revision of ``section`` after the current transaction (once per transaction)."""
    if not section:
        return
    if connection.in_atomic_block:
        for entry in connection.run_on_commit:
            if isinstance(entry[1], _Snapshot) and entry[1].key == section and not entry[1].ran:
                return
    transaction.on_commit(_Snapshot(section))


def baseline(keys: list[str] | None = None) -> None:
    """A first revision of every section that has none (what was there before any change)."""
    from wbm.models import SectionRevision
    from wbm.system.portability import sections

    have = set(SectionRevision.objects.values_list("section", flat=True).distinct())
    for key in keys or list(sections()):
        if key not in have:
            snapshot(key)


class RollbackRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def revision_rollback(*, revision_id: int, actor: Actor) -> str:
    """Make a sub-register what it was at ``revision_id``, through its section's services, in
    one transaction; refused when the actor's role may not edit it. Returns the section key."""
    from wbm.models import SectionRevision
    from wbm.system.portability import ConfigFile, configuration_import, sections

    revision = SectionRevision.objects.filter(pk=revision_id).first()
    if revision is None or revision.section not in sections():
        raise RollbackRefused(_("There is no such revision."))
    file = ConfigFile(
        manifest={"created_at": revision.at.isoformat(), "revision": revision.pk},
        data={revision.section: revision.data},
    )
    configuration_import(file=file, keys=[revision.section], actor=actor, action="system.revision.rollback")
    return revision.section
