"""System Control services: agents and the hardware simulator."""

from __future__ import annotations

from typing import Any

from chargepoints.models import ChargePoint
from wbm.audit import Actor, record_change
from wbm.runtime import commands
from wbm.system.simulator import OPS


def simulator_apply(*, chargepoint: ChargePoint, op: str, data: dict[str, Any], actor: Actor) -> None:
    """Run a validated simulator operation (``data`` is a form's cleaned_data)."""
    commands.call(OPS[op].command, cp=chargepoint.pk, **data)
    record_change(actor=actor, action=f"simulator.{op}", obj=chargepoint, after=_jsonable(data))


def agent_restart(*, name: str, actor: Actor) -> None:
    """Restart one runtime service alone; the web keeps serving."""
    commands.call("agent.restart", name=name)
    record_change(actor=actor, action="system.service.restart", obj=None, after={"service": name})


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in data.items()}
