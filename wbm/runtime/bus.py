"""Publishing live state: the snapshot goes to the cache (pages render from it) and the
changes go to channel-layer groups (open pages follow them over their WebSocket)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache

from wbm.runtime import local
from wbm.runtime.heartbeat import HEARTBEAT_KEY, Liveness, liveness

__all__ = [
    "HEARTBEAT_KEY",
    "PARK_GROUP",
    "SNAPSHOT_KEY",
    "SYSTEM_GROUP",
    "Liveness",
    "changed_states",
    "liveness",
    "publish",
    "read_snapshot",
]
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

SNAPSHOT_KEY = "wbm:snapshot"
PARK_GROUP = "park"
SYSTEM_GROUP = "system"


def read_snapshot() -> ParkSnapshot | None:
    """The latest snapshot, or None when no runtime has published one."""
    runtime = local.get()
    if runtime is not None and runtime.snapshot is not None:
        # embedded mode: the runtime lives in this process and its snapshot is frozen, so it is
        # shared as it is instead of unpickling a copy from the cache on every request
        return runtime.snapshot
    snapshot: ParkSnapshot | None = cache.get(SNAPSHOT_KEY)
    return snapshot


def require_snapshot() -> ParkSnapshot:
    """The latest snapshot; raises ``RuntimeUnavailable`` when no runtime has published one."""
    from wbm.runtime.commands import RuntimeUnavailable

    snapshot = read_snapshot()
    if snapshot is None:
        raise RuntimeUnavailable
    return snapshot


def changed_states(event: dict[str, Any]) -> list[ChargePointState]:
    """The charge points a park update carries, as states (``publish``)."""
    return [cp if isinstance(cp, ChargePointState) else ChargePointState.from_dict(cp) for cp in event["changed"]]


async def publish(snapshot: ParkSnapshot, changed: list[ChargePointState], *, system_changed: bool) -> None:
    # Scaled mode: other processes render from the cache, so it holds this snapshot before they
    # hear of it. Embedded mode: this process reads the runtime's own snapshot (read_snapshot),
    # and the cache is the process's own memory: nothing is written there. (It was, after the
    # live update: pickling 120 charge points in a thread held the GIL for ~5 ms, and the
    # dashboard's frame waited for it.)
    if local.get() is None:
        # one round trip: the snapshot and the heartbeat that says how fresh it is
        await asyncio.to_thread(cache.set_many, {SNAPSHOT_KEY: snapshot, HEARTBEAT_KEY: snapshot.generated_at}, None)
    layer = get_channel_layer()
    if layer is not None:
        message: dict[str, Any] = {
            "type": "park.update",
            "generated_at": snapshot.generated_at,
            "summary": snapshot.summary.as_dict(),
            # in one process the (frozen) states themselves; through Redis their plain data
            "changed": list(changed) if getattr(layer, "local", False) else [cp.as_dict() for cp in changed],
        }
        await layer.group_send(PARK_GROUP, message)
        if system_changed:
            await layer.group_send(SYSTEM_GROUP, {"type": "system.update", "generated_at": snapshot.generated_at})
