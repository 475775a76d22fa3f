"""Agents: long-running asyncio services of the controller runtime, restartable by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from wbm.runtime.runtime import Runtime


class Agent(ABC):
    """One service. ``run()`` runs until cancelled; if it raises, the supervisor restarts it
    after a back-off. An agent keeps no state that must survive a restart except through the
    runtime (hardware state lives in the backend, configuration in the database)."""

    name: ClassVar[str]
    title: ClassVar[str]  # as shown on System Control / Status (translated there)

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @abstractmethod
    async def run(self) -> None:
        """Do the work until cancelled."""
