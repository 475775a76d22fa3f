"""System Control reads: the status page's context (the page, the WebSocket and the API share it)."""

from __future__ import annotations

import time
from typing import Any

from wbm.registry import agent_info, system_summary
from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ParkSnapshot
from wbm.system import applications, osbackend
from wbm.system.webprocess import web_started_at


def status_context(snapshot: ParkSnapshot | None = None) -> dict[str, Any]:
    snapshot = snapshot if snapshot is not None else read_snapshot()
    monitor = snapshot.agent_state("system-monitor") if snapshot is not None else None
    modem = snapshot.agent_state("modem") if snapshot is not None else None
    return {
        "snapshot": snapshot,
        "now": time.time(),
        "agent_info": agent_info(),
        "web_started_at": web_started_at(),
        "applications": applications.application_rows(snapshot),
        "other_agents": applications.other_agents(snapshot),
        "wbm_version": applications.wbm_version(),
        "network": (monitor or {}).get("network", []),
        "modem": modem_summary(modem),
        "summary": system_summary(),
        "time_status": osbackend.time_status(),
    }


def modem_summary(state: dict[str, Any] | None) -> dict[str, str] | None:
    """The modem's registration, signal, technology and connection, from its agent's status."""
    if not state:
        return None
    status = state.get("status") or {}
    connection = state.get("connection") or {}
    return {
        "registration": str(status.get("registration", "")),
        "signal": str(status.get("signal_quality", "")),
        "technology": str(status.get("technology", "")),
        "provider": str(status.get("provider", "")),
        "sim": str(status.get("sim", "")),
        "connection": str(connection.get("status", "")),
    }
