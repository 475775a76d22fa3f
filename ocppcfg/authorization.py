"""Authorization of idTags for release mode "By OCPP": the UID as the backend sees it, the
authorization cache, and the offline rules of OCPP 1.6 (LocalAuthorizeOffline, LocalPreAuthorize,
AllowOfflineTxForUnknownId) with the local authorization list.

The pure parts (``transform_uid``, ``usable``, ``decide_local``) take no database; the cache
services below them run in the agent's database worker (``ctx.db``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACCEPTED = "Accepted"
INVALID = "Invalid"

IdTagInfo = dict[str, Any]  # {"status", "expiryDate"?, "parentIdTag"?} as on the wire


# --- the UID sent to the backend (CHARX RFIDByteOrder / RFIDCharacterOrder) ---------------------
def _is_hex(uid: str) -> bool:
    return bool(uid) and len(uid) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in uid)


def transform_uid(uid: str, byte_order: str = "BigEndian", character_order: str = "Normal") -> str:
    """The UID as read (BigEndian/Normal). LittleEndian reverses the byte pairs of the hex UID;
    Swapped swaps the two bytes of each 16-bit word (an odd last byte stays). A UID that is not
    an even-length hex string is sent as read. At most 20 characters (CiString20)."""
    text = uid.strip()
    if not _is_hex(text):
        return text[:20]
    pairs = [text[i : i + 2] for i in range(0, len(text), 2)]
    if byte_order == "LittleEndian":
        pairs.reverse()
    if character_order == "Swapped":
        swapped: list[str] = []
        for i in range(0, len(pairs) - 1, 2):
            swapped += [pairs[i + 1], pairs[i]]
        if len(pairs) % 2:
            swapped.append(pairs[-1])
        pairs = swapped
    return "".join(pairs)[:20]


# --- offline rules ------------------------------------------------------------------------------
def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def usable(info: IdTagInfo | None, now: datetime) -> bool:
    """An IdTagInfo that lets charging start: Accepted and not expired."""
    if not info or info.get("status") != ACCEPTED:
        return False
    expiry = info.get("expiryDate")
    when = expiry if isinstance(expiry, datetime) else parse_time(expiry)
    return when is None or when > now


@dataclass(frozen=True, slots=True)
class LocalDecision:
    """What the charge point decides without the backend: ``info`` (None: ask the backend or
    refuse) and where it came from ("local_list", "cache", "unknown_allowed", "")."""

    info: IdTagInfo | None
    source: str = ""


def decide_local(
    *,
    online: bool,
    values: dict[str, str],
    local_entry: IdTagInfo | None,
    cache_entry: IdTagInfo | None,
    now: datetime,
) -> LocalDecision:
    """Online: with LocalPreAuthorize an idTag valid in the local list or cache starts at once,
    anything else asks the backend (info None). Offline: with LocalAuthorizeOffline the local
    list, then the cache; an idTag known in neither starts only with AllowOfflineTxForUnknownId.
    The local list wins over the cache (a listed idTag that is not valid is refused offline)."""
    use_list = values.get("LocalAuthListEnabled", "true") == "true"
    use_cache = values.get("AuthorizationCacheEnabled", "true") == "true"
    listed = local_entry if use_list else None
    cached = cache_entry if use_cache else None
    if online:
        if values.get("LocalPreAuthorize", "false") == "true":
            if usable(listed, now):
                return LocalDecision(listed, "local_list")
            if listed is None and usable(cached, now):
                return LocalDecision(cached, "cache")
        return LocalDecision(None)
    if values.get("LocalAuthorizeOffline", "true") == "true":
        if listed is not None:
            return LocalDecision(
                listed if usable(listed, now) else {**listed, "status": _refused(listed)}, "local_list"
            )
        if cached is not None:
            return LocalDecision(cached if usable(cached, now) else {**cached, "status": _refused(cached)}, "cache")
    elif listed is not None or cached is not None:
        return LocalDecision({"status": INVALID}, "")
    if values.get("AllowOfflineTxForUnknownId", "false") == "true":
        return LocalDecision({"status": ACCEPTED}, "unknown_allowed")
    return LocalDecision({"status": INVALID}, "")


def _refused(info: IdTagInfo) -> str:
    status = str(info.get("status") or INVALID)
    return "Expired" if status == ACCEPTED else status


# --- the authorization cache (database; run through ctx.db) ------------------------------------
def cache_get(id_tag: str) -> IdTagInfo | None:
    from ocppcfg.models import AuthCacheEntry

    entry = AuthCacheEntry.objects.filter(id_tag=id_tag).first()
    if entry is None:
        return None
    info: IdTagInfo = {"status": entry.status}
    if entry.expiry_date:
        info["expiryDate"] = entry.expiry_date
    if entry.parent_id_tag:
        info["parentIdTag"] = entry.parent_id_tag
    return info


def cache_put(id_tag: str, info: IdTagInfo) -> None:
    """Keep the backend's answer for ``id_tag`` (every IdTagInfo received updates it)."""
    from ocppcfg.models import AuthCacheEntry, AuthorizationStatus

    status = str(info.get("status") or "")
    if status not in AuthorizationStatus.values or not id_tag:
        return
    AuthCacheEntry.objects.update_or_create(
        id_tag=id_tag[:20],
        defaults={
            "status": status,
            "expiry_date": parse_time(info.get("expiryDate")),
            "parent_id_tag": str(info.get("parentIdTag") or "")[:20],
        },
    )


def cache_clear() -> int:
    from ocppcfg.models import AuthCacheEntry

    return AuthCacheEntry.objects.all().delete()[0]
