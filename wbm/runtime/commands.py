"""Talking to the runtime from the web side: ``call("sim.plug_in", cp=3, ...)``.

Embedded mode hands the command to the runtime's event loop in this process; scaled mode
sends it over the channel layer to the runtime process and waits for the reply. The runtime
handles both the same way (``Runtime.handle``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from wbm.runtime import local

COMMAND_CHANNEL = "wbm-runtime"
TIMEOUT_S = 5.0


class RuntimeUnavailable(Exception):
    """No runtime answered: it is not running or not reachable."""


class CommandRejected(Exception):
    """The runtime refused the command; ``code`` and ``params`` say why (see errors.py)."""

    def __init__(self, code: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


def call(name: str, /, **args: Any) -> dict[str, Any]:
    """Run a command in the runtime and return its result; raises on refusal.

    ``name`` is positional-only: commands take a ``name`` argument of their own (agent.restart)."""
    if settings.WBM_RUNTIME_TRANSPORT == "local":
        result = _call_local(name, args)
    else:
        result = async_to_sync(_call_channel)(name, args)
    if not result.get("ok"):
        raise CommandRejected(result.get("error", "failed"), result.get("params"))
    return result


def _call_local(name: str, args: dict[str, Any]) -> dict[str, Any]:
    runtime = local.get()
    if runtime is None or runtime.loop is None or not runtime.loop.is_running():
        raise RuntimeUnavailable
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is runtime.loop:
        raise RuntimeError("call() from the runtime's own loop; await runtime.handle() instead")
    future = asyncio.run_coroutine_threadsafe(runtime.handle(name, args), runtime.loop)
    try:
        return future.result(timeout=TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise RuntimeUnavailable from None


async def _call_channel(name: str, args: dict[str, Any]) -> dict[str, Any]:
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
            "name": name,
            "args": args,
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
