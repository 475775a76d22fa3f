"""System Control services: the runtime's agents."""

from __future__ import annotations

from wbm.audit import Actor, record_change
from wbm.runtime import commands
from wbm.runtime.commands import AgentRestart


def agent_restart(*, name: str, actor: Actor) -> None:
    """Restart one runtime service alone; the web keeps serving. Recorded once the runtime
    restarted it (a refusal, e.g. an unknown service, raises ``CommandRejected``)."""
    commands.call(AgentRestart(agent=name))
    record_change(actor=actor, action="system.service.restart", obj=None, after={"service": name})
