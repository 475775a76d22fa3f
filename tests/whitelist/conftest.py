from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wbm.audit import Actor
from wbm.roles import Role
from whitelist import services
from whitelist.models import WhitelistEntry

FAR = datetime(2040, 1, 1, tzinfo=UTC)
ACTOR = Actor(username="user-t", role=Role.USER, source="web")


def add(
    tag: str, *, type: str = "rfid", name: str = "", allow: bool = True, expires_at: datetime = FAR
) -> WhitelistEntry:
    return services.whitelist_entry_create(
        data={"type": type, "tag": tag, "name": name, "allow_charging": allow, "expires_at": expires_at},
        actor=ACTOR,
    )


def fill(n: int, *, start: int = 0) -> None:
    """``n`` entries straight into the table (test setup, not the write path under test)."""
    WhitelistEntry.objects.bulk_create(
        WhitelistEntry(tag=f"{i:08X}", name=f"Card {i}", expires_at=FAR) for i in range(start, start + n)
    )


def past() -> datetime:
    return datetime.now(tz=UTC) - timedelta(minutes=1)


@pytest.fixture
def actor() -> Actor:
    return ACTOR
