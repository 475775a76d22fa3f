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


def record_change(*, actor: Actor, action: str, obj: Any = None, before: Any = None, after: Any = None) -> None:
    from wbm.models import ChangeRecord

    ChangeRecord.objects.create(
        username=actor.username,
        role=actor.role.label if actor.role is not None else "",
        source=actor.source,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", obj) or "") if obj is not None else "",
        before=before,
        after=after,
    )
