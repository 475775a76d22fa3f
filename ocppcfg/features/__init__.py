"""The OCPP 1.6 feature profiles beyond Core: Local Auth List Management (``locallist``),
Reservation (``reservations``), Smart Charging (``smart``) and Firmware Management
(``firmware`` with ``transfer``); the backend's CALLs for them are answered by
``handlers.FeatureHandlers``, a mixin of the agent's ``Station``.

Each feature object is made by the OCPP agent with the agent itself (``__init__(agent)``), is
started (``start()``: load from the database, re-put claims, register on the tick) and stopped
with it. What a feature uses of the agent is ``FeatureAgent`` below: the part of the agent's
surface that the contract (``/work/ocpp_contract.md``) promises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.conf import settings

from ocppcfg.metering import system_now

if TYPE_CHECKING:
    from wbm.runtime.agent import AgentContext
    from wbm.runtime.snapshot import ChargePointState

log = logging.getLogger("ocppcfg.features")

T = TypeVar("T")


class ActiveTxLike(Protocol):
    """What a feature reads of a running transaction (the agent's ``ActiveTx``)."""

    @property
    def local_id(self) -> int: ...
    @property
    def transaction_id(self) -> int | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def id_tag(self) -> str: ...


class FeatureAgent(Protocol):
    """The OCPP agent as the feature objects and handlers see it."""

    ctx: AgentContext
    values: dict[str, str]
    connectors: dict[int, int]
    connected: bool
    accepted: bool

    def state_of(self, connector_id: int) -> ChargePointState | None: ...
    def active_transactions(self) -> dict[int, Any]: ...
    async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None: ...
    async def enqueue(self, payload: Any, *, transaction_local_id: int | None = None) -> None: ...
    def on_transaction_end(self, callback: Callable[[int, Any], None]) -> None: ...
    def on_tick(self, callback: Callable[[datetime], Awaitable[None] | None]) -> None: ...


def setting(name: str, default: T) -> T:
    """A Django setting of the OCPP features (``WBM_OCPP_*``), ``default`` when not set."""
    return getattr(settings, name, default)


def key_bool(agent: FeatureAgent, key: str, default: bool = False) -> bool:
    """A boolean configuration key as the agent holds it now."""
    raw = agent.values.get(key)
    return default if raw is None else raw.strip().lower() == "true"


def key_int(agent: FeatureAgent, key: str, default: int) -> int:
    """An integer configuration key as the agent holds it now (``default`` when unreadable)."""
    try:
        return int(agent.values.get(key, ""))
    except ValueError:
        return default


def utc_now() -> datetime:
    """Now on the system clock (System Control → Time): reservation, profile and list expiry."""
    return system_now()


def wire_time(value: datetime) -> str:
    """An OCPP dateTime (UTC, "Z")."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: object) -> datetime | None:
    """An OCPP dateTime as an aware UTC datetime (None when absent or unreadable; one without an
    offset counts as UTC, as the specification wants UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def publish(agent: object) -> None:
    """Ask the agent to publish its status now (its ``publish()``), when it has one."""
    publish_status = getattr(agent, "publish", None)
    if callable(publish_status):
        try:
            publish_status()
        except Exception:  # the status is published with the next change anyway
            log.exception("the agent's status could not be published")


class Tasks:
    """The background tasks of one feature: kept referenced (asyncio keeps only weak ones),
    failures logged, all cancelled at stop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: background work failed", self.name, exc_info=exc)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
