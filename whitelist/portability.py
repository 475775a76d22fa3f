"""The whitelist as a section of System Control / Import/Export: the whitelist's own CSV
(``csvio``), validated and applied by the whitelist's import service (replace mode)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Change, Section
from whitelist import csvio, services
from whitelist.models import WhitelistEntry, WhitelistRevision


def export() -> dict[str, Any]:
    return {"csv": csvio.export_csv(WhitelistEntry.objects.order_by("type", "tag"))}


def _raw(data: dict[str, Any]) -> bytes:
    text = data.get("csv")
    if not isinstance(text, str):
        raise ValueError("csv must be text")
    return text.encode()


def _rows(data: dict[str, Any]) -> csvio.ParsedCsv:
    return csvio.parse_csv(_raw(data))


def validate(data: dict[str, Any], secrets: dict[str, Any] | None) -> list[str]:
    parsed = _rows(data)
    if not parsed.rows and not parsed.errors:
        return []  # an empty list: every entry is removed
    plan = csvio.import_plan(parsed=parsed, mode=csvio.REPLACE, revision=WhitelistRevision.current())
    return [f"{e.row}: {e.message}" if e.row else str(e.message) for e in plan.errors]


def diff(data: dict[str, Any]) -> list[Change]:
    parsed = _rows(data)
    if not parsed.rows:
        return [Change(f"{e.type}:{e.tag}", e.as_dict(), None) for e in WhitelistEntry.objects.all()]
    plan = csvio.import_plan(parsed=parsed, mode=csvio.REPLACE, revision=WhitelistRevision.current())
    return [
        *(Change(f"{c.type}:{c.tag}", None, _plain(c.after)) for c in plan.added),
        *(Change(f"{c.type}:{c.tag}", _plain(c.before), _plain(c.after)) for c in plan.changed),
        *(Change(f"{c.type}:{c.tag}", _plain(c.before), None) for c in plan.removed),
    ]


def _plain(values: dict[str, object] | None) -> dict[str, object] | None:
    return None if values is None else {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def apply(data: dict[str, Any], secrets: dict[str, Any] | None, actor: Actor) -> None:
    parsed = _rows(data)
    if parsed.rows:
        services.whitelist_import(raw=_raw(data), mode=csvio.REPLACE, actor=actor)
        return
    for entry in WhitelistEntry.objects.all():  # the file's list is empty: so is the whitelist
        services.whitelist_entry_delete(entry=entry, actor=actor)


SECTIONS = [
    Section(
        key="whitelist",
        title=_("Whitelist"),
        schema=1,
        edit_perm=Perm.WHITELIST_EDIT,
        export=export,
        validate=validate,
        diff=diff,
        apply=apply,
        audit_prefixes=("whitelist.",),
        order=30,
    )
]
