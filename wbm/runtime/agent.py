"""Agents: long-running asyncio services of the runtime, registered by the app that owns them.

An app lists its agents in its ``AppConfig.wbm_agents`` (dotted paths of ``Agent`` subclasses);
the runtime collects them (``wbm.registry``). An agent sees the runtime only through its
``AgentContext``: the snapshot, the event stream, the claim board, the clock, a way to run
database work, the hardware, and a place to register the commands it handles.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils.functional import Promise

from wbm.runtime.claims import ClaimBoard
from wbm.runtime.clock import Clock
from wbm.runtime.commands import Command
from wbm.runtime.events import Event, EventBus, Subscription

if TYPE_CHECKING:
    from wbm.runtime.backends.controller import ControllerBackend
    from wbm.runtime.core import Runtime
    from wbm.runtime.snapshot import ParkSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C", bound=Command)
Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]


class DatabaseError(Exception):
    """Database work of an agent failed; the cause is logged with its traceback."""


class AgentContext:
    """What an agent may use of the runtime. One per agent run; closed when the agent stops
    (its subscriptions end and its command handlers are unregistered)."""

    def __init__(self, runtime: Runtime, agent_name: str) -> None:
        self._runtime = runtime
        self.agent_name = agent_name
        self._subscriptions: list[Subscription] = []
        self._handlers: list[type[Command]] = []

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    @property
    def tick_s(self) -> float:
        """The period of control loops (seconds)."""
        return self._runtime.tick_s

    @property
    def claims(self) -> ClaimBoard:
        return self._runtime.claims

    @property
    def hardware(self) -> ControllerBackend:
        """The hardware backend; only the controller drives it, others read the snapshot."""
        return self._runtime.backend

    @property
    def events(self) -> EventBus:
        return self._runtime.events

    @property
    def previous_run_clean(self) -> bool:
        """False when the last run of the runtime ended without a clean stop (a kill, a power loss)."""
        return self._runtime.previous_run_clean

    @property
    def previous_run_reboot(self) -> str:
        """Why the last run ended with REBOOT SYSTEM ('' when it did not): open charging sessions
        and transactions end with the reason Reboot, also where the vehicle stayed plugged."""
        return self._runtime.previous_run_reboot

    def snapshot(self) -> ParkSnapshot | None:
        return self._runtime.snapshot

    def subscribe(self, *types: type[Event], maxsize: int = 1000) -> Subscription:
        """A bounded subscription to runtime events of ``types`` (all when none)."""
        subscription = self._runtime.events.subscribe(*types, name=self.agent_name, maxsize=maxsize)
        self._subscriptions.append(subscription)
        return subscription

    def emit(self, event: Event) -> None:
        self._runtime.events.emit(event)

    def handle(self, command: type[C], handler: Callable[[C], Awaitable[dict[str, Any] | None]]) -> None:
        """Handle ``command`` while this agent runs (refused as "agent stopped" otherwise)."""
        self._runtime.set_handler(command, handler, owner=self.agent_name)
        self._handlers.append(command)

    async def db(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``func`` (an app's service or selector) in a worker thread with a healthy database
        connection. A failure is logged with its traceback and raised as ``DatabaseError``."""

        def work() -> T:
            close_old_connections()
            try:
                return func(*args, **kwargs)
            finally:
                close_old_connections()

        try:
            return await sync_to_async(work, thread_sensitive=False)()
        except Exception as exc:
            log.exception("%s: database work %s failed", self.agent_name, getattr(func, "__name__", func))
            raise DatabaseError(f"{getattr(func, '__name__', func)}: {exc}") from exc

    async def execute(self, command: Command) -> dict[str, Any]:
        """Run a command of another agent (or of the runtime) on this loop, as the web side's
        ``commands.call`` would: ``{"ok": True, ...}`` or ``{"ok": False, "error", "params"}``."""
        return await self._runtime.execute(command)

    def publish(self) -> asyncio.Future[None]:
        """Ask for the live state to be published; resolved once it is."""
        return self._runtime.publish_soon()

    def set_part(self, name: str, value: Any) -> None:
        """Put one part of the snapshot (``chargepoints``, ``system``, ``recent_rfids``...)."""
        self._runtime.set_part(name, value)

    def set_status(self, status: dict[str, Any] | None) -> None:
        """This agent's own live state for pages and the API (plain data: it crosses Redis),
        e.g. a server's clients and request rate; ``snapshot.agent_state(name)`` reads it.
        Published with the next snapshot; call ``publish()`` for at once. None removes it."""
        self._runtime.set_agent_state(self.agent_name, status)

    def set_known_chargepoints(self, cp_ids: set[int] | frozenset[int]) -> None:
        """The charge points of the park (the controller, after reading the configuration):
        claims for others are refused, claims of charge points that are gone are dropped."""
        runtime = self._runtime
        for gone in runtime.known_chargepoints - set(cp_ids):
            runtime.claims.forget(gone)
        runtime.known_chargepoints = frozenset(cp_ids)

    def close(self) -> None:
        self._runtime.set_agent_state(self.agent_name, None)
        for subscription in self._subscriptions:
            self._runtime.events.unsubscribe(subscription)
        self._subscriptions.clear()
        for command in self._handlers:
            self._runtime.drop_handler(command, owner=self.agent_name)
        self._handlers.clear()


class Agent(ABC):
    """One service. ``run()`` runs until cancelled; if it raises, the supervisor restarts it
    after a back-off. Hardware state lives in the backend and configuration in the database, so
    an agent keeps nothing that must survive its own restart."""

    name: ClassVar[str]
    title: ClassVar[str | Promise]  # System Control / Status, translated
    description: ClassVar[str | Promise] = ""
    order: ClassVar[int] = 100  # start order: lower first
    provides_chargepoints: ClassVar[bool] = False  # the runtime's start waits for its first picture
    commands: ClassVar[tuple[type[Command], ...]] = ()  # handled while it runs ("agent stopped" otherwise)

    announces_ready: ClassVar[bool] = False  # True: the agent calls mark_ready() once it can take commands

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self._on_ready: Callable[[], None] = lambda: None

    def mark_ready(self) -> None:
        """The agent is set up (its commands are handled): starting it is complete."""
        self._on_ready()

    @abstractmethod
    async def run(self) -> None:
        """Do the work until cancelled."""
