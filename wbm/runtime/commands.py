"""Commands to the runtime: typed objects, handled by the agent that owns them.

A command is a frozen dataclass with a wire ``name``. From the web side, ``call(command)`` runs
it: embedded mode hands the object to the runtime's loop in this process; scaled mode sends
``{name, args}`` over the channel layer to the runtime process, which rebuilds the object
(checking the argument types) and runs the same handler. Refusals come back as codes with
parameters and are translated at one boundary (``errors.py``); a bug inside a handler is logged
with its traceback and reported as ``internal_error``, not as a wrong value.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import math
import time
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from wbm.runtime import local
from wbm.runtime.heartbeat import liveness

log = logging.getLogger(__name__)

COMMAND_CHANNEL = "wbm-runtime"
TIMEOUT_S = 5.0

COMMAND_TYPES: dict[str, type[Command]] = {}


class RuntimeUnavailable(Exception):
    """No runtime answered: it is not running or not reachable."""


class CommandRejected(Exception):
    """The runtime refused the command; ``code`` and ``params`` say why (see errors.py)."""

    def __init__(self, code: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


class Rejected(Exception):
    """Raised by a handler to refuse a command with a code the user is told (errors.py)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, kw_only=True)  # no slots here: __init_subclass__ needs its __class__ cell
class Command:
    """Base of every command. Subclasses set ``name`` (the wire name) and their fields."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wire = cls.__dict__.get("name", "")
        if wire:
            # dataclass(slots=True) re-creates the class: the same module and name is the same command
            known = COMMAND_TYPES.get(wire)
            if known is not None and (known.__module__, known.__name__) != (cls.__module__, cls.__name__):
                raise TypeError(f"two commands are named {wire!r}: {known.__module__}.{known.__name__}")
            COMMAND_TYPES[wire] = cls

    def args(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def command_from_wire(name: str, args: Any) -> Command:
    """Rebuild a command that came over the channel layer; refuses unknown names and arguments
    of the wrong type (``Rejected``)."""
    cls = COMMAND_TYPES.get(name)
    if cls is None:
        raise Rejected("unknown_command", name=str(name)[:80])
    if not isinstance(args, dict):
        raise Rejected("bad_argument", detail="arguments must be an object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(args) - set(fields)
    if unknown:
        raise Rejected("bad_argument", detail=f"unknown argument {sorted(unknown)[0]}")
    for key, value in args.items():
        if not _fits(value, hints[key]):
            raise Rejected("bad_argument", detail=f"{key} has the wrong type")
    try:
        return cls(**args)
    except TypeError as exc:  # a required argument is missing
        raise Rejected("bad_argument", detail=str(exc)[:200]) from None


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


# --- commands the runtime itself handles ---------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Command):
    name = "ping"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRestart(Command):
    """Restart one agent alone; the web keeps serving."""

    name = "agent.restart"
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStop(Command):
    name = "agent.stop"
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStart(Command):
    name = "agent.start"
    agent: str


# --- calling the runtime from the web side --------------------------------------------------------
def call(command: Command) -> dict[str, Any]:
    """Run a command in the runtime and return its result; raises ``CommandRejected`` on a
    refusal and ``RuntimeUnavailable`` when no runtime answers in time."""
    if not isinstance(command, Command):
        raise TypeError(f"not a command: {command!r}")
    if settings.WBM_RUNTIME_TRANSPORT == "local":
        result = _call_local(command)
    else:
        result = async_to_sync(_call_channel)(command)
    if not result.get("ok"):
        raise CommandRejected(result.get("error", "failed"), result.get("params"))
    return result


@dataclass(eq=False)
class Told:
    """How telling the runtime after a commit went (``on_commit``)."""

    command: Command
    done: bool = False
    error: CommandRejected | RuntimeUnavailable | None = None

    @property
    def succeeded(self) -> bool:
        return self.done and self.error is None


def on_commit(command: Command) -> Told:
    """Tell the runtime once the current transaction commits (the write path: validate, write,
    record, then tell). Outside an outer transaction that is at the end of the caller's
    ``atomic`` block, so the caller can read the outcome right after it."""
    told = Told(command)

    def send() -> None:
        try:
            call(command)
        except (CommandRejected, RuntimeUnavailable) as exc:
            log.warning("stored, but the runtime was not told %s now: %r", command.name, exc)
            told.error = exc
        told.done = True

    transaction.on_commit(send)
    return told


def _call_local(command: Command) -> dict[str, Any]:
    runtime = local.get()
    if runtime is None or runtime.loop is None or not runtime.loop.is_running():
        raise RuntimeUnavailable
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is runtime.loop:
        raise RuntimeError("call() from the runtime's own loop; await runtime.execute() instead")
    future = asyncio.run_coroutine_threadsafe(runtime.execute(command), runtime.loop)
    try:
        return future.result(timeout=TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise RuntimeUnavailable from None


async def _call_channel(command: Command) -> dict[str, Any]:
    # no runtime with a fresh heartbeat (none holds the lease, or it died): say so at once
    # instead of after TIMEOUT_S; a Redis that cannot be reached raises its own error
    if not (await asyncio.to_thread(liveness)).alive:
        raise RuntimeUnavailable
    layer = get_channel_layer()
    # The default prefix matters: channels_redis delivers all of this process's specific channels
    # through one receive loop, which a waiting WebSocket consumer may hold; a reply channel with
    # another prefix would never be read while it does (and "!" in a prefix is invalid).
    reply_to = await layer.new_channel()
    await layer.send(
        COMMAND_CHANNEL,
        {
            "type": "runtime.command",
            "id": uuid.uuid4().hex,
            "name": command.name,
            "args": command.args(),
            "reply_to": reply_to,
            "deadline": time.time() + TIMEOUT_S,
        },
    )
    try:
        async with asyncio.timeout(TIMEOUT_S):
            message = await layer.receive(reply_to)
    except TimeoutError:
        raise RuntimeUnavailable from None
    return dict(message["result"])
