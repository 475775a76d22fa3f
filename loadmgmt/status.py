"""The load management status as the page, its live socket and the API show it: the agent's
published state (``loadmgmt.agent``) put into words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from loadmgmt import allocator
from loadmgmt.agent import FALLBACK_REASON, NAME
from wbm.registry import agent_class
from wbm.runtime.snapshot import ParkSnapshot

PHASES = ("L1", "L2", "L3")


def reason_label(code: str) -> str:
    """A reason code of the agent's state in plain words."""
    if code == FALLBACK_REASON:
        return _("the fallback current: the higher-level measuring device does not answer")
    try:
        return str(allocator.reason_text(allocator.Reason(code)))
    except ValueError:
        return code


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _triple(value: object) -> list[float | None]:
    if isinstance(value, list | tuple) and len(value) == 3:
        return [_num(v) for v in value]
    return [None, None, None]


def status_context(snapshot: ParkSnapshot | None) -> dict[str, Any]:
    """What the ``status`` partial shows."""
    state = (snapshot.agent_state(NAME) if snapshot is not None else None) or {}
    agent = snapshot.agent(NAME) if snapshot is not None else None
    running = agent is not None and agent.state == "running"
    points = []
    for row in state.get("points") or []:
        if not isinstance(row, dict):
            continue
        reasons = row.get("reasons") or []
        points.append(
            {
                "id": row.get("id"),
                "name": str(row.get("name", "")),
                "amps": _num(row.get("amps")),
                "reason": reason_label(str(row.get("reason", ""))),
                "reason_code": str(row.get("reason", "")),
                "phases": [
                    {
                        "phase": PHASES[i],
                        "amps": _triple(row.get("grid_a"))[i],
                        "drawn": _triple(row.get("drawn_a"))[i],
                        "reason": reason_label(str(reasons[i])) if i < len(reasons) else "",
                        "reason_code": str(reasons[i]) if i < len(reasons) else "",
                    }
                    for i in range(3)
                ],
                "rotation": str(row.get("rotation") or ""),
                "vehicle_phases": row.get("vehicle_phases"),
            }
        )
    meter = state.get("meter") if isinstance(state.get("meter"), dict) else None
    current = _triple(state.get("current_a"))
    planned = _triple(state.get("planned_a"))
    capacity = _triple(state.get("capacity_a"))
    return {
        "runtime_up": snapshot is not None,
        "agent": agent,
        "agent_installed": agent_class(NAME) is not None,
        "lm_running": running,
        "lm": state,
        "limiting": bool(state.get("limiting")),
        "monitored": state.get("monitored", 0) if running else 0,
        "phase_rows": [
            {"phase": PHASES[i], "current": current[i], "planned": planned[i], "capacity": capacity[i]}
            for i in range(3)
        ],
        "current_total": sum(a for a in current if a is not None),
        "planned_total": sum(a for a in planned if a is not None),
        "points": points,
        "meter": meter,
        "fallback": bool(state.get("fallback")),
        "dynamic_a": _num(state.get("dynamic_a")),
        "other_loads": _triple(state.get("other_loads_a")) if state.get("other_loads_a") else None,
        "history": state.get("history") or [],
    }
