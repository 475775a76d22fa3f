"""The runtime's event stream: typed events, bounded subscriptions.

Agents follow what happens (a vehicle plugged in, a card read, an input edge, a fault, a status
change, a session) by subscribing to event types. Publishing never waits: each subscription has
a bounded queue, and a subscriber that does not keep up loses its oldest events (counted and
logged), so a slow subscriber never stalls control.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every runtime event; ``at`` is epoch seconds."""

    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePointEvent(Event):
    cp_id: int


# --- hardware ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Plugged(ChargePointEvent):
    """A vehicle was connected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unplugged(ChargePointEvent):
    """The vehicle was disconnected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RfidRead(ChargePointEvent):
    """A card was presented at the reader of ``cp_id``."""

    tag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InputChanged(ChargePointEvent):
    """A digital input changed its level (an edge)."""

    index: int  # 1-based
    level: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRaised(ChargePointEvent):
    code: str  # OCPP error code
    info: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultCleared(ChargePointEvent):
    code: str  # the code that was cleared


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionTripped(ChargePointEvent):
    """A monitoring function acted: "dc_residual_current", "contactor_welded", "overcurrent"
    (charging paused for a minute), "overcurrent:failed", "overcurrent:resumed", "ev_ze_ready"
    (a derating stage), "contactor_welded:cleared"."""

    what: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleStateChanged(ChargePointEvent):
    """The IEC 61851-1 state changed (A..F)."""

    before: str
    after: str


# --- controller ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(ChargePointEvent):
    """The OCPP status of a charge point changed."""

    before: str
    after: str
    error_code: str = "NoError"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(ChargePointEvent):
    session_id: str  # the runtime's id of the session (stable across the database write)
    meter_start_wh: float
    id_tag: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded(ChargePointEvent):
    session_id: str
    meter_stop_wh: float
    reason: str  # OCPP 1.6 stop reason: EVDisconnected, PowerLoss, Reboot, ...
    id_tag: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigReloaded(Event):
    """The configuration was read anew; ``cp_ids`` are the charge points now in the park."""

    cp_ids: tuple[int, ...] = ()


@dataclass(eq=False)
class Subscription:
    """A bounded queue of the events of some types. Iterate it, or ``get()``."""

    types: tuple[type[Event], ...]
    name: str
    maxsize: int = DEFAULT_QUEUE
    dropped: int = 0
    _queue: asyncio.Queue[Event] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.maxsize)

    def offer(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # the oldest goes: the newest state matters most
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("subscriber %s is not keeping up: %d events dropped", self.name, self.dropped)
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def pending(self) -> list[Event]:
        """Everything queued now, without waiting."""
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()


class EventBus:
    """Fan-out of runtime events to subscriptions; runs on the runtime's loop."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def subscribe(self, *types: type[Event], name: str, maxsize: int = DEFAULT_QUEUE) -> Subscription:
        if not types:
            types = (Event,)
        subscription = Subscription(types=types, name=name, maxsize=maxsize)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every matching subscription; never waits."""
        for subscription in self._subscriptions:
            if isinstance(event, subscription.types):
                subscription.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
