"""Publishing live state: the snapshot goes to the cache (pages render from it) and the
changes go to channel-layer groups (open pages follow them over their WebSocket)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from wbm.runtime import local
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

SNAPSHOT_KEY = "wbm:snapshot"
# the runtime's heartbeat: the wall time of its latest publish (at least one every tick)
HEARTBEAT_KEY = "wbm:heartbeat"
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


@dataclass(frozen=True)
class Liveness:
    """Whether a runtime is alive, as this process can tell.

    ``last_seen``: the wall time of the runtime's latest heartbeat (None: never seen);
    ``age_s``: how long ago that was. Scaled mode: alive while the heartbeat in Redis is at most
    ``WBM_STALE_AFTER_S`` old. Embedded mode: alive while this process hosts a running runtime."""

    alive: bool
    last_seen: float | None
    age_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"alive": self.alive, "last_seen": self.last_seen, "age_s": self.age_s}


def liveness() -> Liveness:
    """Is a runtime alive? Raises the cache's error when Redis cannot be reached (scaled mode)."""
    if settings.WBM_RUNTIME_TRANSPORT == "local":
        runtime = local.get()
        running = runtime is not None and runtime.loop is not None and runtime.loop.is_running()
        seen = runtime.snapshot.generated_at if runtime is not None and runtime.snapshot is not None else None
        return Liveness(alive=running, last_seen=seen, age_s=0.0 if running else None)
    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        return Liveness(alive=False, last_seen=None, age_s=None)
    age = max(0.0, time.time() - float(beat))
    return Liveness(alive=age <= settings.WBM_STALE_AFTER_S, last_seen=float(beat), age_s=round(age, 1))


def require_snapshot() -> ParkSnapshot:
    """The latest snapshot; raises ``RuntimeUnavailable`` when no runtime has published one."""
    from wbm.runtime.commands import RuntimeUnavailable

    snapshot = read_snapshot()
    if snapshot is None:
        raise RuntimeUnavailable
    return snapshot


async def publish(snapshot: ParkSnapshot, changed: list[ChargePointState], *, system_changed: bool) -> None:
    # Scaled mode: other processes render from the cache, so it holds this snapshot before they
    # hear of it. Embedded mode: this process reads the runtime's own snapshot (read_snapshot),
    # so the live update goes out first and the cache, a fallback there, is written after.
    embedded = local.get() is not None
    if not embedded:
        # one round trip: the snapshot and the heartbeat that says how fresh it is
        await asyncio.to_thread(cache.set_many, {SNAPSHOT_KEY: snapshot, HEARTBEAT_KEY: snapshot.generated_at}, None)
    layer = get_channel_layer()
    if layer is not None:
        message: dict[str, Any] = {
            "type": "park.update",
            "generated_at": snapshot.generated_at,
            "summary": snapshot.summary.as_dict(),
            "changed": [cp.as_dict() for cp in changed],
        }
        await layer.group_send(PARK_GROUP, message)
        if system_changed:
            await layer.group_send(SYSTEM_GROUP, {"type": "system.update", "generated_at": snapshot.generated_at})
    if embedded:
        await asyncio.to_thread(cache.set, SNAPSHOT_KEY, snapshot, None)
