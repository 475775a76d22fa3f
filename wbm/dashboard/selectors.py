from __future__ import annotations

from typing import Any

from wbm.runtime.bus import read_snapshot


def dashboard_context() -> dict[str, Any]:
    snapshot = read_snapshot()
    if snapshot is None:
        return {"snapshot": None, "summary": None, "cps": []}
    return {"snapshot": snapshot, "summary": snapshot.summary, "cps": snapshot.configured}
