from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from wbm import registry
from wbm.dashboard.cards import LIVE_STATUSES
from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

LOAD_MANAGEMENT = "loadmgmt"  # the load management agent's name (loadmgmt.agent)


def lm_banner_context(snapshot: ParkSnapshot | None) -> dict[str, Any]:
    """ "Energy management offline": load management's higher-level meter does not answer, so
    the charge points of its circuit are held at their fallback currents (from its state)."""
    state = (snapshot.agent_state(LOAD_MANAGEMENT) if snapshot is not None else None) or {}
    points = [p for p in state.get("points") or [] if isinstance(p, dict)]
    fallbacks = sorted({f"{float(p.get('fallback_a') or 0):g}" for p in points}, key=float)
    return {"lm_offline": bool(state.get("fallback")), "lm_fallbacks": fallbacks}


def dashboard_context(filters: dict[str, str] | None = None) -> dict[str, Any]:
    """The page: summary and the cards grouped by station; ``filters`` (status, station, q) only
    preselect the filter form, which the page applies (live updates keep every card)."""
    snapshot = read_snapshot()
    base = {"statuses": LIVE_STATUSES, "filter": filters or {}}
    if snapshot is None:
        return {**base, "snapshot": None, "summary": None, "cps": [], "stations": [], **lm_banner_context(None)}
    cps = snapshot.configured
    return {
        **base,
        "snapshot": snapshot,
        "generated_at": snapshot.generated_at,
        "summary": snapshot.summary,
        "cps": cps,
        "stations": station_groups(cps, station_names({cp.station_id for cp in cps})),
        **lm_banner_context(snapshot),
    }


@dataclass(frozen=True)
class StationGroup:
    """The configured charge points of one station, as the dashboard groups them."""

    id: int
    name: str
    cps: list[ChargePointState]


STATION_NAMES_TTL_S = 30.0  # a renamed station shows under its new name after this long
_names: tuple[float, dict[int, str]] = (0.0, {})


def station_names(station_ids: set[int]) -> dict[int, str]:
    """Station names (database), kept a while: the dashboard asks at every page and full picture."""
    global _names
    at, names = _names
    if time.monotonic() - at > STATION_NAMES_TTL_S or not station_ids <= names.keys():
        names = registry.station_names()
        _names = (time.monotonic(), names)
    return names


def station_groups(cps: list[ChargePointState], names: dict[int, str]) -> list[StationGroup]:
    """The charge points grouped by station, stations in the order of their first charge point."""
    groups: dict[int, list[ChargePointState]] = {}
    for cp in cps:
        groups.setdefault(cp.station_id, []).append(cp)
    return [StationGroup(id=sid, name=names.get(sid) or f"#{sid}", cps=members) for sid, members in groups.items()]
