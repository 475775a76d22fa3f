"""The runtime's heartbeat, as web processes read it: is a runtime alive, and since when not?

The runtime writes ``HEARTBEAT_KEY`` (its wall time) with every publish, at least once a tick
(``bus.publish``). Kept apart from ``bus`` so that ``commands`` can ask before it sends."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from wbm.runtime import local

HEARTBEAT_KEY = "wbm:heartbeat"


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
