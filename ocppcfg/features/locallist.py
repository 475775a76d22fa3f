"""Local Auth List Management (OCPP 1.6 3.5, 5.10 GetLocalListVersion, 5.15 SendLocalList).

The backend keeps a list of idTags on the charge point with their IdTagInfo. The list lives in
``LocalAuthList`` (its version) and ``LocalAuthEntry`` (one row per idTag); an update is checked
whole before anything is written and then written in one database transaction, so a refused or
failed update leaves the list as it was. The agent's authorization reads it through ``lookup``,
from a copy in memory (the agent's loop must not wait for the database).

idTags are case-insensitive (IdToken is a CiString20): they are compared in upper case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from ocppcfg.features import FeatureAgent, key_bool, key_int, parse_time, utc_now, wire_time
from ocppcfg.models import ID_TAG_MAX, AuthorizationStatus, LocalAuthEntry, LocalAuthList
from ocppcfg.variables import LOCAL_LIST_MAX, SEND_LOCAL_LIST_MAX

log = logging.getLogger("ocppcfg.features.locallist")

# SendLocalList.conf status
ACCEPTED, FAILED, NOT_SUPPORTED, VERSION_MISMATCH = "Accepted", "Failed", "NotSupported", "VersionMismatch"
FULL, DIFFERENTIAL = "Full", "Differential"
STATUSES = frozenset(AuthorizationStatus.values)


@dataclass(frozen=True, slots=True)
class Entry:
    id_tag: str
    status: str
    expiry: datetime | None
    parent_id_tag: str


class ListRefused(Exception):
    """An update that cannot be applied: nothing was written."""


class LocalList:
    """The local authorization list of the charge point."""

    def __init__(self, agent: FeatureAgent) -> None:
        self.agent = agent
        self._version = 0
        self._entries: dict[str, Entry] = {}  # by upper-case idTag

    # --- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Read the list from the database."""
        version, entries = await self.agent.ctx.db(_load)
        self._set(version, entries)

    async def stop(self) -> None:
        return None

    @property
    def enabled(self) -> bool:
        return key_bool(self.agent, "LocalAuthListEnabled", default=True)

    # --- what the backend asks --------------------------------------------------------------
    def version(self) -> int:
        """GetLocalListVersion: 0 for an empty list (none received), -1 while the list is
        switched off (LocalAuthListEnabled false: "not supported", OCTT TC_042_1)."""
        return self._version if self.enabled else -1

    async def update(self, list_version: int, update_type: str, entries: list[dict[str, Any]] | None) -> str:
        """SendLocalList: Accepted, Failed, NotSupported or VersionMismatch. ``entries`` as on the
        wire (camelCase AuthorizationData). A Full update replaces the list; a Differential one
        adds or changes the entries with idTagInfo and removes those without it."""
        if not self.enabled:
            return NOT_SUPPORTED
        if update_type not in (FULL, DIFFERENTIAL):
            return FAILED
        if update_type == DIFFERENTIAL and list_version <= self._version:
            return VERSION_MISMATCH
        try:
            changes = self._check(update_type, entries or [])
            self._check_size(update_type, changes)
            version, stored = await self.agent.ctx.db(_store, list_version, update_type, changes)
        except ListRefused as exc:
            log.info("SendLocalList v%s (%s) refused: %s", list_version, update_type, exc)
            return FAILED
        except Exception:  # a database failure: the transaction was rolled back
            log.exception("SendLocalList v%s (%s) could not be stored", list_version, update_type)
            return FAILED
        self._set(version, stored)
        return ACCEPTED

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        """The IdTagInfo (camelCase, as on the wire) of ``id_tag`` in the list; None when the list
        is off or does not hold it. An entry past its expiryDate answers Expired."""
        if not self.enabled:
            return None
        entry = self._entries.get(id_tag.strip().upper())
        if entry is None:
            return None
        status = entry.status
        if entry.expiry is not None and entry.expiry <= utc_now() and status == AuthorizationStatus.ACCEPTED:
            status = AuthorizationStatus.EXPIRED
        info: dict[str, Any] = {"status": str(status)}
        if entry.expiry is not None:
            info["expiryDate"] = wire_time(entry.expiry)
        if entry.parent_id_tag:
            info["parentIdTag"] = entry.parent_id_tag
        return info

    def __len__(self) -> int:
        return len(self._entries)

    # --- internals ------------------------------------------------------------------------
    def _set(self, version: int, entries: list[Entry]) -> None:
        self._version = version
        self._entries = {e.id_tag.upper(): e for e in entries}

    def _check(self, update_type: str, raw: list[dict[str, Any]]) -> dict[str, Entry | None]:
        """The update by upper-case idTag (None: remove), or ListRefused."""
        if len(raw) > key_int(self.agent, "SendLocalListMaxLength", SEND_LOCAL_LIST_MAX):
            raise ListRefused("more entries than SendLocalListMaxLength")
        changes: dict[str, Entry | None] = {}
        for item in raw:
            id_tag = str(item.get("idTag", "")).strip()
            if not id_tag or len(id_tag) > ID_TAG_MAX:
                raise ListRefused(f"bad idTag {id_tag[:30]!r}")
            if id_tag.upper() in changes:
                raise ListRefused(f"idTag {id_tag} twice")
            info = item.get("idTagInfo")
            if info is None:
                if update_type == FULL:  # 6.1 AuthorizationData: required in a Full update
                    raise ListRefused(f"idTag {id_tag} without idTagInfo in a Full update")
                changes[id_tag.upper()] = None
                continue
            status = info.get("status")
            parent = str(info.get("parentIdTag") or "").strip()
            expiry = parse_time(info.get("expiryDate"))
            if status not in STATUSES or len(parent) > ID_TAG_MAX:
                raise ListRefused(f"bad idTagInfo for {id_tag}")
            if info.get("expiryDate") is not None and expiry is None:
                raise ListRefused(f"bad expiryDate for {id_tag}")
            changes[id_tag.upper()] = Entry(id_tag, status, expiry, parent)
        return changes

    def _check_size(self, update_type: str, changes: dict[str, Entry | None]) -> None:
        """The list after the update must fit LocalAuthListMaxLength."""
        merged = {} if update_type == FULL else dict(self._entries)
        for key, entry in changes.items():
            if entry is None:
                merged.pop(key, None)
            else:
                merged[key] = entry
        if len(merged) > key_int(self.agent, "LocalAuthListMaxLength", LOCAL_LIST_MAX):
            raise ListRefused("the list would exceed LocalAuthListMaxLength")


# --- database work (run through ctx.db, in a worker thread) ---------------------------------------


def _entries() -> list[Entry]:
    return [
        Entry(e.id_tag, e.status, e.expiry_date, e.parent_id_tag)
        for e in LocalAuthEntry.objects.all().only("id_tag", "status", "expiry_date", "parent_id_tag")
    ]


def _load() -> tuple[int, list[Entry]]:
    return LocalAuthList.load().version, _entries()


def _store(list_version: int, update_type: str, changes: dict[str, Entry | None]) -> tuple[int, list[Entry]]:
    """Apply a checked update in one transaction; returns the list as stored."""
    with transaction.atomic():
        if update_type == FULL:
            LocalAuthEntry.objects.all().delete()
        for key, entry in changes.items():
            LocalAuthEntry.objects.filter(id_tag__iexact=key).delete()
            if entry is not None:
                LocalAuthEntry.objects.create(
                    id_tag=entry.id_tag,
                    status=entry.status,
                    expiry_date=entry.expiry,
                    parent_id_tag=entry.parent_id_tag,
                )
        LocalAuthList.objects.update_or_create(pk=1, defaults={"version": list_version, "updated_at": utc_now()})
        return list_version, _entries()
