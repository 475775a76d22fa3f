"""The ``runtime`` object of the live-state answers: is the state they carry current?"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from wbm.runtime.bus import liveness

log = logging.getLogger(__name__)


def runtime_liveness() -> dict[str, Any]:
    """``alive``, ``last_seen`` (UTC) and ``age_s`` of the runtime's latest heartbeat, for
    ``RuntimeLivenessSerializer``. Stale state is still answered (200), flagged here. A store
    that cannot be asked right now (the snapshot was read just before) counts as not alive."""
    try:
        seen = liveness()
    except Exception as exc:  # the cache's error: Redis unreachable
        log.warning("runtime liveness unknown: the live data store cannot be reached (%r)", exc)
        return {"alive": False, "last_seen": None, "age_s": None}
    last_seen = datetime.fromtimestamp(seen.last_seen, tz=UTC) if seen.last_seen is not None else None
    return {"alive": seen.alive, "last_seen": last_seen, "age_s": seen.age_s}
