"""The supervisor starts, stops and restarts named agents and reports how each one is doing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wbm.runtime.agent import Agent
from wbm.runtime.snapshot import AgentStatus

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
READY_TIMEOUT_S = 10.0  # how long starting an agent waits for it to say it is ready
# how long stopping an agent waits for its task to end after cancelling it: an agent whose
# library swallows the cancellation (aiomqtt did, see mqttbridge.client.raise_if_cancelled) must
# not hold up the runtime's stop, a reboot or a restart of the other agents
STOP_TIMEOUT_S = 5.0
STABLE_AFTER_S = 60.0  # an agent that ran this long before failing starts its back-off anew


@dataclass
class _Slot:
    factory: Callable[[], Agent]
    agent_cls: type[Agent]
    name: str
    title: str
    task: asyncio.Task[None] | None = None
    instance: Agent | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    state: str = "stopped"
    started_at: float | None = None
    restarts: int = 0
    last_error: str = ""
    wanted: bool = False


class Supervisor:
    """Owns one task per agent. A crashed agent is restarted with back-off; a stopped one
    stays stopped until started again."""

    def __init__(
        self,
        on_change: Callable[[], None] | None = None,
        on_exit: Callable[[Agent], None] | None = None,
    ) -> None:
        self._slots: dict[str, _Slot] = {}
        self._on_change = on_change or (lambda: None)
        self._on_exit = on_exit or (lambda agent: None)

    def register(self, agent_cls: type[Agent], factory: Callable[[], Agent]) -> None:
        if agent_cls.name in self._slots:
            raise ValueError(f"two agents are named {agent_cls.name!r}")
        self._slots[agent_cls.name] = _Slot(
            factory=factory, agent_cls=agent_cls, name=agent_cls.name, title=str(agent_cls.title)
        )

    def classes(self) -> list[type[Agent]]:
        return [slot.agent_cls for slot in self._slots.values()]

    def instance(self, name: str) -> Agent | None:
        """The running agent called ``name``, if any."""
        slot = self._slots.get(name)
        return slot.instance if slot is not None and slot.state == "running" else None

    def running(self, name: str) -> bool:
        return self.instance(name) is not None

    def coming_back(self, name: str) -> bool:
        """Is ``name`` wanted but not running now (starting, or restarting by itself after a
        failure)? Then an operation for it is worth retrying in a moment, with no one's help."""
        slot = self._slots.get(name)
        return slot is not None and slot.wanted and slot.state != "running"

    @property
    def names(self) -> list[str]:
        return list(self._slots)

    def status(self) -> tuple[AgentStatus, ...]:
        return tuple(
            AgentStatus(
                name=s.name,
                title=s.title,
                state=s.state,
                started_at=s.started_at,
                restarts=s.restarts,
                last_error=s.last_error,
            )
            for s in self._slots.values()
        )

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise LookupError(name) from None

    async def start(self, name: str) -> None:
        slot = self._slot(name)
        if slot.task is not None and not slot.task.done():
            return
        slot.wanted = True
        slot.state = "starting"
        slot.ready = asyncio.Event()
        slot.task = asyncio.get_running_loop().create_task(self._keep_running(slot), name=f"agent:{name}")
        self._on_change()
        # return once it runs and, if it says so, is ready for commands (or has failed)
        ready = asyncio.ensure_future(slot.ready.wait())
        try:
            await asyncio.wait({slot.task, ready}, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()

    async def stop(self, name: str) -> None:
        slot = self._slot(name)
        slot.wanted = False
        task = slot.task
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if done:
                with contextlib.suppress(asyncio.CancelledError):
                    task.result()
            else:
                log.error("agent %s did not end within %g s of being stopped; left behind", name, STOP_TIMEOUT_S)
        slot.task = None
        slot.state = "stopped"
        slot.started_at = None
        self._on_change()

    async def restart(self, name: str) -> None:
        slot = self._slot(name)
        await self.stop(name)
        slot.restarts += 1
        slot.state = "restarting"
        await self.start(name)

    async def start_all(self) -> None:
        for name in self._slots:
            await self.start(name)

    async def stop_all(self) -> None:
        for name in reversed(list(self._slots)):
            await self.stop(name)

    async def _keep_running(self, slot: _Slot) -> None:
        failures = 0
        while slot.wanted:
            agent: Agent | None = None
            began = time.monotonic()
            try:
                agent = slot.instance = slot.factory()
                agent._on_ready = slot.ready.set
                if not agent.announces_ready:
                    slot.ready.set()
                slot.state = "running"
                slot.started_at = time.time()
                self._on_change()
                await agent.run()
                slot.last_error = ""
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                slot.ready.set()  # whoever waits for it to start: it has failed, don't wait on
                log.exception("agent %s failed", slot.name)
                slot.last_error = f"{type(exc).__name__}: {exc}"[:500]
                failures = 1 if time.monotonic() - began >= STABLE_AFTER_S else failures + 1
            finally:
                slot.instance = None
                if agent is not None:
                    try:
                        self._on_exit(agent)
                    except Exception:
                        log.exception("agent %s: cleaning up failed", slot.name)
            if not slot.wanted:
                break
            slot.state = "failed" if slot.last_error else "restarting"
            slot.restarts += 1
            self._on_change()
            await asyncio.sleep(BACKOFF_S[min(failures, len(BACKOFF_S)) - 1] if failures else 1.0)
        slot.state = "stopped"
