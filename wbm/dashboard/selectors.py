from __future__ import annotations

from typing import Any

from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ParkSnapshot

LOAD_MANAGEMENT = "loadmgmt"  # the load management agent's name (loadmgmt.agent)


def lm_banner_context(snapshot: ParkSnapshot | None) -> dict[str, Any]:
    """ "Energy management offline": load management's higher-level meter does not answer, so
    the charge points of its circuit are held at their fallback currents (from its state)."""
    state = (snapshot.agent_state(LOAD_MANAGEMENT) if snapshot is not None else None) or {}
    points = [p for p in state.get("points") or [] if isinstance(p, dict)]
    fallbacks = sorted({f"{float(p.get('fallback_a') or 0):g}" for p in points}, key=float)
    return {"lm_offline": bool(state.get("fallback")), "lm_fallbacks": fallbacks}


def dashboard_context() -> dict[str, Any]:
    snapshot = read_snapshot()
    if snapshot is None:
        return {"snapshot": None, "summary": None, "cps": [], **lm_banner_context(None)}
    return {
        "snapshot": snapshot,
        "summary": snapshot.summary,
        "cps": snapshot.configured,
        **lm_banner_context(snapshot),
    }
