"""The runtime: hosts the agents that the apps register, and what they share.

It owns the hardware backend, the clock, the claim board, the event stream, the command
handlers, the supervisor and the published snapshot. It knows nothing of charge point rules:
those live in the agents (the charge point controller is ``chargepoints.controller``).
Everything here runs on one asyncio loop (Daphne's in embedded mode, its own process in scaled
mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from wbm import redis_errors
from wbm.runtime import bus, local
from wbm.runtime.agent import Agent, AgentContext
from wbm.runtime.backends.controller import ControllerBackend
from wbm.runtime.claims import ClaimBoard, ClaimRefused
from wbm.runtime.clock import Clock, SystemClock
from wbm.runtime.commands import (
    COMMAND_CHANNEL,
    AgentRestart,
    AgentStart,
    AgentStop,
    Command,
    Ping,
    Rejected,
    command_from_wire,
)
from wbm.runtime.events import EventBus
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot
from wbm.runtime.supervisor import Supervisor
from wbm.system import reboot

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]
START_TIMEOUT_S = 15.0
RECONNECT_S = 0.5  # how often the command server tries Redis again while it is gone


class CommandServerAgent(Agent):
    """Scaled mode: serves commands that web processes send over the channel layer."""

    name = "commands"
    title = _("Command Server")
    description = _("Receives operations from the web servers (scaled mode).")
    order = 0

    def __init__(self, ctx: AgentContext, runtime: Runtime) -> None:
        super().__init__(ctx)
        self.runtime = runtime

    async def run(self) -> None:
        from channels.layers import get_channel_layer
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout

        layer = get_channel_layer()
        unreachable_since: float | None = None
        while True:
            try:
                message = await layer.receive(COMMAND_CHANNEL)
            except (TimeoutError, RedisTimeout):
                continue  # a read timeout while nobody sends: keep listening
            except (RedisConnectionError, OSError) as exc:
                # Redis is gone for a while: no crash (the supervisor's back-off would keep us
                # away for up to 30 s after it is back); try again often, say so once
                if unreachable_since is None:
                    unreachable_since = time.monotonic()
                    log.warning("command server: Redis cannot be reached (%s); retrying", exc)
                await asyncio.sleep(RECONNECT_S)
                continue
            if unreachable_since is not None:
                log.warning("command server: Redis is back after %.1f s", time.monotonic() - unreachable_since)
                unreachable_since = None
            if time.time() > float(message.get("deadline") or "inf"):
                # the caller has given up and told its user the runtime was not reachable:
                # doing it now would surprise them (e.g. a command queued while we were down)
                log.warning("dropped expired command %s", message.get("name"))
                continue
            try:
                command = command_from_wire(str(message.get("name", "")), message.get("args") or {})
            except Rejected as exc:
                result: dict[str, Any] = {"ok": False, "error": exc.code, "params": exc.params}
            else:
                result = await self.runtime.execute(command)
            try:
                await layer.send(message["reply_to"], {"type": "runtime.reply", "result": result})
            except (RedisConnectionError, RedisTimeout, OSError):
                log.warning("command server: could not answer %s (Redis unreachable)", message.get("name"))


class Runtime:
    """Hosts the agents and what they share; see the module docstring."""

    def __init__(
        self,
        backend: ControllerBackend | None = None,
        *,
        clock: Clock | None = None,
        tick_s: float | None = None,
        serve_commands: bool | None = None,
        agents: Sequence[type[Agent]] | None = None,
    ) -> None:
        self.backend: ControllerBackend = backend or import_string(settings.WBM_CONTROLLER_BACKEND)()
        self.clock: Clock = clock or SystemClock()
        self.tick_s = tick_s if tick_s is not None else settings.WBM_TICK_S
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started_at = self.clock.time()
        self.events = EventBus()
        self.known_chargepoints: frozenset[int] = frozenset()
        # claims expire on the monotonic clock: a wall-clock step (NTP, a time set by hand) moves no limit
        self.claims = ClaimBoard(known=lambda cp_id: cp_id in self.known_chargepoints, clock=self.clock.monotonic)
        self.snapshot: ParkSnapshot | None = None
        self.previous_run_clean = True
        self.previous_run_reboot = ""  # why the last run ended with REBOOT SYSTEM ('' when not)
        self._parts: dict[str, Any] = {"chargepoints": (), "system": None, "recent_rfids": (), "recent_scans": ()}
        self._agent_states: dict[str, dict[str, Any]] = {}
        self._handlers: dict[type[Command], tuple[str, Handler]] = {}
        self._published: ParkSnapshot | None = None
        self._publish_wanted = asyncio.Event()
        self._publish_waiters: list[asyncio.Future[None]] = []
        self._publisher: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.supervisor = Supervisor(on_change=self._agents_changed, on_exit=self._agent_exited)
        if agents is None:
            from wbm.registry import agent_classes

            agents = agent_classes()
        self._provides_chargepoints = any(a.provides_chargepoints for a in agents)
        self._started = False
        serve = serve_commands if serve_commands is not None else settings.WBM_RUNTIME_TRANSPORT == "channels"
        if serve:
            self.supervisor.register(CommandServerAgent, lambda: CommandServerAgent(self._context("commands"), self))
        for agent_cls in sorted(agents, key=lambda a: a.order):
            self.supervisor.register(agent_cls, self._factory(agent_cls))

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the agents; returns once the first snapshot is there (or after a timeout)."""
        self.loop = asyncio.get_running_loop()
        self._publish_wanted = asyncio.Event()
        self._ready = asyncio.Event()
        self.previous_run_clean = self._mark_running()
        # read (and removed) here, once per start: every agent sees the same answer, whichever
        # starts first and however often one of them is restarted
        self.previous_run_reboot = reboot.last_start_was_reboot(consume=True)
        self._publisher = self.loop.create_task(self._publish_loop(), name="runtime:publish")
        await self.supervisor.start_all()
        if any(a.provides_chargepoints for a in self.supervisor.classes()):
            try:
                async with asyncio.timeout(START_TIMEOUT_S):
                    await self._ready.wait()
            except TimeoutError:
                log.error("runtime: no live state %.0f s after start (see the agents' errors)", START_TIMEOUT_S)
        self._started = True  # publish from now on, charge points or not (the agents' errors show)
        self.publish_soon()
        if settings.WBM_RUNTIME_TRANSPORT == "local":
            local.set_current(self)

    async def stop(self, *, fenced: bool = False) -> None:
        """Stop the agents and the publisher. ``fenced``: this runtime lost its lease (scaled
        mode), so another may drive the park already: the hardware is left as it is (no last
        save of its state) and the state directory's running mark is the new holder's."""
        if local.get() is self:
            local.set_current(None)
        await self.supervisor.stop_all()
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        if fenced:
            return
        await self.backend.close()
        self._marker().unlink(missing_ok=True)

    @staticmethod
    def _marker() -> Path:
        return Path(settings.STATE_DIR) / "runtime.running"

    def _mark_running(self) -> bool:
        """Leave a mark while running; returns whether the previous run removed its own."""
        marker = self._marker()
        clean = not marker.exists()
        if not clean:
            log.warning("runtime: the previous run did not stop cleanly (killed or power lost)")
        with contextlib.suppress(OSError):
            marker.write_text(str(time.time()))
        return clean

    # --- agents ------------------------------------------------------------------------------
    def _context(self, name: str) -> AgentContext:
        return AgentContext(self, name)

    def _factory(self, agent_cls: type[Agent]) -> Callable[[], Agent]:
        return lambda: agent_cls(self._context(agent_cls.name))

    def _agent_exited(self, agent: Agent) -> None:
        agent.ctx.close()

    def agent(self, name: str) -> Agent | None:
        """The running agent called ``name`` (tests and tools)."""
        return self.supervisor.instance(name)

    def _agents_changed(self) -> None:
        if self.loop is not None:
            self.publish_soon()

    # --- commands ----------------------------------------------------------------------------
    def set_handler(self, command: type[Command], handler: Handler, *, owner: str) -> None:
        current = self._handlers.get(command)
        if current is not None and current[0] != owner:
            raise ValueError(f"{command.name} is already handled by {current[0]}")
        self._handlers[command] = (owner, handler)

    def drop_handler(self, command: type[Command], *, owner: str) -> None:
        if self._handlers.get(command, ("",))[0] == owner:
            del self._handlers[command]

    async def execute(self, command: Command) -> dict[str, Any]:
        """Run one command; returns {"ok": True, ...} or {"ok": False, "error": code, "params"}."""
        try:
            result = await self._dispatch(command)
        except Rejected as exc:
            return {"ok": False, "error": exc.code, "params": exc.params}
        except ClaimRefused as exc:
            return {"ok": False, "error": exc.code, "params": exc.params}
        except Exception:
            log.exception("runtime: the handler of %r failed (a bug)", command)
            return {"ok": False, "error": "internal_error", "params": {"name": command.name}}
        return {"ok": True, **(result or {})}

    async def _dispatch(self, command: Command) -> dict[str, Any] | None:
        if isinstance(command, Ping):
            return {"started_at": self.started_at}
        if isinstance(command, AgentRestart | AgentStop | AgentStart):
            await self._agent_op(command)
            return None
        entry = self._handlers.get(type(command))
        if entry is None:
            owner = self._owner_of(type(command))
            if owner and self.supervisor.coming_back(owner):
                raise Rejected("agent_restarting", name=owner)
            if owner:
                raise Rejected("agent_stopped", name=owner)
            raise Rejected("unknown_command", name=command.name)
        return await entry[1](command)

    def _owner_of(self, command: type[Command]) -> str:
        """The agent that handles ``command`` when it runs (from the agent's ``commands``)."""
        for agent_cls in self.supervisor.classes():
            if command in getattr(agent_cls, "commands", ()):
                return agent_cls.name
        return ""

    async def _agent_op(self, command: AgentRestart | AgentStop | AgentStart) -> None:
        name = command.agent
        if name not in self.supervisor.names:
            raise Rejected("unknown_agent", name=name)
        if name == CommandServerAgent.name and not isinstance(command, AgentStart):
            # stopping the command server from a command would cut off its own reply
            raise Rejected("agent_protected", name=name)
        if isinstance(command, AgentRestart):
            await self.supervisor.restart(name)  # answered once it runs again
        elif isinstance(command, AgentStop):
            await self.supervisor.stop(name)
        else:
            await self.supervisor.start(name)

    # --- the snapshot ------------------------------------------------------------------------
    def set_part(self, name: str, value: Any) -> None:
        if name not in self._parts:
            raise KeyError(f"no snapshot part {name!r}")
        self._parts[name] = value
        if name == "chargepoints":
            self._ready.set()

    def set_agent_state(self, name: str, status: dict[str, Any] | None) -> None:
        states = dict(self._agent_states)
        if status is None:
            states.pop(name, None)
        else:
            states[name] = status
        self._agent_states = states

    def publish_soon(self) -> asyncio.Future[None]:
        """Compose the snapshot now (pages in this process read it at once) and publish it
        soon: several requests while a publish is under way become one."""
        self.snapshot = ParkSnapshot(
            generated_at=self.clock.time(),
            runtime_started_at=self.started_at,
            chargepoints=self._parts["chargepoints"],
            agents=self.supervisor.status(),
            system=self._parts["system"],
            recent_rfids=self._parts["recent_rfids"],
            recent_scans=self._parts["recent_scans"],
            agent_states=tuple(sorted(self._agent_states.items())),
        )
        loop = self.loop or asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if self._publisher is None or self._publisher.done():
            waiter.set_result(None)  # not started (or stopping): nobody to publish to
            return waiter
        self._publish_waiters.append(waiter)
        self._publish_wanted.set()
        return waiter

    async def _publish_loop(self) -> None:
        failing = False
        while True:
            try:
                async with asyncio.timeout(self.tick_s):
                    await self._publish_wanted.wait()
            except TimeoutError:
                # the heartbeat: at least one publish a tick, whatever the agents do, so web
                # processes can tell a live runtime from a dead one (bus.liveness)
                self.publish_soon()
            self._publish_wanted.clear()
            snapshot, waiters = self.snapshot, self._publish_waiters
            self._publish_waiters = []
            # nothing goes out before the charge points are there: a runtime that is still
            # starting (a standby taking over) must not show pages an empty park that looks live
            if snapshot is not None and (self._ready.is_set() or self._started or not self._provides_chargepoints):
                try:
                    changed, system_changed = self._changes(snapshot)
                    await bus.publish(snapshot, changed, system_changed=system_changed)
                except redis_errors.store_errors() as exc:
                    if not failing:  # once per outage, not once a tick
                        log.warning("runtime: publishing the live state failed (%s); retrying every tick", exc)
                    failing = True
                except Exception:
                    if not failing:
                        log.exception("runtime: publishing the live state failed; retrying every tick")
                    failing = True
                else:
                    if failing:
                        log.warning("runtime: publishing the live state works again")
                    failing = False
                    self._published = snapshot
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _changes(self, snapshot: ParkSnapshot) -> tuple[list[ChargePointState], bool]:
        previous = self._published
        if previous is None:
            return list(snapshot.chargepoints), True
        # a state that did not change is the same (frozen) object: no field-wise comparison
        changed = [
            cp for cp in snapshot.chargepoints if (before := previous.chargepoint(cp.id)) is not cp and before != cp
        ]
        system_changed = (
            snapshot.agents != previous.agents
            or snapshot.system is not previous.system
            or snapshot.agent_states != previous.agent_states
        )
        return changed, system_changed
