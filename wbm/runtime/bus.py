"""Publishing live state: the snapshot goes to the cache (pages render from it) and the
changes go to channel-layer groups (open pages follow them over their WebSocket)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache

from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

SNAPSHOT_KEY = "wbm:snapshot"
PARK_GROUP = "park"
SYSTEM_GROUP = "system"


def read_snapshot() -> ParkSnapshot | None:
    """The latest snapshot, or None when no runtime has published one."""
    return cache.get(SNAPSHOT_KEY)


async def publish(snapshot: ParkSnapshot, changed: list[ChargePointState], *, system_changed: bool) -> None:
    await asyncio.to_thread(cache.set, SNAPSHOT_KEY, snapshot, None)
    layer = get_channel_layer()
    if layer is None:
        return
    message: dict[str, Any] = {
        "type": "park.update",
        "generated_at": snapshot.generated_at,
        "summary": snapshot.summary.as_dict(),
        "changed": [cp.as_dict() for cp in changed],
    }
    await layer.group_send(PARK_GROUP, message)
    if system_changed:
        await layer.group_send(SYSTEM_GROUP, {"type": "system.update", "generated_at": snapshot.generated_at})
