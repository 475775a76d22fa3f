"""Who changed what: every service records its changes with an explicit actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from wbm.roles import Role, role_of


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    source: str  # web | api | import | ocpp | modbus | runtime | system

    @classmethod
    def from_request(cls, request: HttpRequest | Any) -> Actor:
        user = getattr(request, "user", None)
        path = getattr(request, "path", "") or ""
        source = "api" if path.startswith("/api/") else "web"
        username = user.get_username() if user is not None and user.is_authenticated else ""
        return cls(username=username, role=role_of(user), source=source)

    @classmethod
    def system(cls) -> Actor:
        return cls(username="", role=Role.MANUFACTURER, source="system")


def role_key(role: Role) -> str:
    """The stable key of a role ("guest", "user", "operator", "manufacturer"), as the API names it.

    Never the label: that is translated, so a German session would record "Betreiber".
    """
    return role.name.lower()


def record_change(*, actor: Actor, action: str, obj: Any = None, before: Any = None, after: Any = None) -> None:
    """Store one audit record; the role as its stable key, whatever language is active."""
    from wbm.models import ChangeRecord
    from wbm.system.revisions import note_change, section_of

    section = section_of(action)
    ChangeRecord.objects.create(
        section=section,
        username=actor.username,
        role=role_key(actor.role),
        source=actor.source,
        action=action,
        # __class__, not type(): request.user is a SimpleLazyObject that proxies __class__ only
        object_type=obj.__class__.__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", obj) or "") if obj is not None else "",
        before=before,
        after=after,
    )
    note_change(section)  # a revision of the sub-register once committed (System Control)
