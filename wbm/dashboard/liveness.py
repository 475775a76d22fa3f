"""Is the live state on a page current? What this web process can tell of the runtime.

``current_view()`` answers for one page render (the context processor); ``LivenessWatch`` is one
asyncio task per web process that checks every ``WATCH_INTERVAL_S`` while any live page is open
and tells each of them when the runtime dies or comes back, although nothing arrives then: a dead
runtime publishes nothing, so only this process can notice it. It also re-joins every local
socket's channel-layer groups every ``REJOIN_S`` (a group forgets a member after the layer's
``group_expiry``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.utils import timezone

from wbm.runtime import bus

if TYPE_CHECKING:
    from wbm.dashboard.consumers import LiveConsumer

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 0.25  # worst case: WBM_STALE_AFTER_S + this after the last heartbeat
REJOIN_S = 20.0
# a check that takes longer than this counts as "the live data store cannot be reached"
CHECK_TIMEOUT_S = 2.0

State = Literal["alive", "down", "unreachable"]


@dataclass(frozen=True)
class RuntimeView:
    """``alive``; ``down``: the runtime is not running, ``since`` its last heartbeat (None: never
    seen); ``unreachable``: the live data store (Redis) cannot be reached, ``since`` when this
    process first failed to reach it."""

    state: State
    since: float | None = None

    @property
    def alive(self) -> bool:
        return self.state == "alive"

    @property
    def since_ms(self) -> int | None:
        """For live.js, which formats it in the browser's time zone."""
        return None if self.since is None else int(self.since * 1000)

    @property
    def since_hhmmss(self) -> str:
        """The server's rendering (TIME_ZONE), shown until live.js takes over (or without it)."""
        if self.since is None:
            return "--:--:--"
        return timezone.localtime(datetime.fromtimestamp(self.since, tz=UTC)).strftime("%H:%M:%S")


ALIVE = RuntimeView("alive")
_unreachable_since: float | None = None  # this process's first failed check of the current outage


def scaled() -> bool:
    """The runtime lives in another process: pages cannot take its liveness for granted."""
    return bool(settings.WBM_RUNTIME_TRANSPORT != "local")


def current_view() -> RuntimeView:
    """The runtime as this process sees it now (sync: reads the cache)."""
    global _unreachable_since
    try:
        seen = bus.liveness()
    except Exception as exc:  # the store's error (redis ConnectionError, TimeoutError, ...)
        if _unreachable_since is None:
            _unreachable_since = time.time()
            log.warning("live data store unreachable: %s", exc)
        return RuntimeView("unreachable", _unreachable_since)
    if _unreachable_since is not None:
        log.warning("live data store reachable again")
        _unreachable_since = None
    return ALIVE if seen.alive else RuntimeView("down", seen.last_seen)


def unreachable_view() -> RuntimeView:
    """The live data store has just failed this process (a channel layer call raised)."""
    global _unreachable_since
    if _unreachable_since is None:
        _unreachable_since = time.time()
    return RuntimeView("unreachable", _unreachable_since)


class LivenessWatch:
    """One per event loop (= per web process under Daphne): started by the first live socket,
    ends when the last one has gone."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.consumers: weakref.WeakSet[LiveConsumer] = weakref.WeakSet()
        self.view: RuntimeView | None = None
        self.task: asyncio.Task[None] | None = None
        self._pending: asyncio.Future[RuntimeView] | None = None
        self._rejoined_at = time.monotonic()

    def add(self, consumer: LiveConsumer) -> None:
        self.consumers.add(consumer)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run(), name="wbm-liveness-watch")

    def discard(self, consumer: LiveConsumer) -> None:
        self.consumers.discard(consumer)

    async def check(self) -> RuntimeView:
        """``current_view()`` in a thread; a store that does not answer in time is unreachable.
        At most one check is outstanding: a hanging one is awaited again, not repeated."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(asyncio.to_thread(current_view))
        try:
            view = await asyncio.wait_for(asyncio.shield(self._pending), CHECK_TIMEOUT_S)
        except TimeoutError:
            global _unreachable_since
            if _unreachable_since is None:
                _unreachable_since = time.time() - CHECK_TIMEOUT_S
                log.warning("live data store does not answer within %s s", CHECK_TIMEOUT_S)
            view = RuntimeView("unreachable", _unreachable_since)
        self.view = view
        return view

    async def _run(self) -> None:
        try:
            while self.consumers:
                view = await self.check()
                for consumer in list(self.consumers):
                    if consumer.shown_view != view:
                        await self._tell(consumer, view)
                if time.monotonic() - self._rejoined_at >= REJOIN_S:
                    self._rejoined_at = time.monotonic()
                    for consumer in list(self.consumers):
                        await consumer.rejoin_groups()
                await asyncio.sleep(WATCH_INTERVAL_S)
        except asyncio.CancelledError:
            raise
        except Exception:  # never leave the pages without a watch silently
            log.exception("the liveness watch failed")
            raise

    async def _tell(self, consumer: LiveConsumer, view: RuntimeView) -> None:
        try:
            await consumer.runtime_changed(view)
        except Exception:  # one socket's trouble (closed meanwhile, ...) is not the others'
            log.debug("could not tell a live socket that the runtime is %s", view.state, exc_info=True)


_watch: LivenessWatch | None = None


def watch() -> LivenessWatch:
    """This process's watch (a new one for a new event loop, as in tests)."""
    global _watch
    loop = asyncio.get_running_loop()
    if _watch is None or _watch.loop is not loop:
        _watch = LivenessWatch(loop)
    return _watch
