"""A stand-in for the OCPP agent (the parts of the contract the feature modules use) and a
backend wired to a ``Station`` with the feature handlers over an in-memory pipe: the ocpp library
checks every CALL and answer against the OCPP 1.6 schemas on both sides."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest_asyncio
from asgiref.sync import sync_to_async
from django.db import close_old_connections
from ocpp.v16 import ChargePoint

from ocppcfg.features.firmware import Firmware
from ocppcfg.features.handlers import FeatureHandlers
from ocppcfg.features.locallist import LocalList
from ocppcfg.features.reservations import Reservations
from ocppcfg.features.smart import SmartCharging
from ocppcfg.variables import VARIABLES
from wbm.runtime.claims import ClaimBoard, Kind, Source


@dataclass(frozen=True)
class ActiveTx:
    local_id: int
    transaction_id: int | None
    started_at: datetime
    id_tag: str
    meter_start_wh: int = 0


class FakeCtx:
    def __init__(self, known: set[int]) -> None:
        self.claims = ClaimBoard(known=lambda cp: cp in known, clock=time.monotonic)

    async def db(self, func, *args, **kwargs):
        def work():
            close_old_connections()
            try:
                return func(*args, **kwargs)
            finally:
                close_old_connections()

        return await sync_to_async(work, thread_sensitive=False)()


def vehicle(phases: int = 3) -> SimpleNamespace:
    return SimpleNamespace(phases=phases, max_current_a=32.0)


@dataclass
class FakeAgent:
    """The agent's surface as the contract gives it, with what a test needs to steer it."""

    connectors: dict[int, int] = field(default_factory=lambda: {1: 101, 2: 102})
    values: dict[str, str] = field(default_factory=lambda: {k: v.default for k, v in VARIABLES.items()})
    connected: bool = True
    accepted: bool = True
    charge_box_id: str = "CP_TEST"
    states: dict[int, Any] = field(default_factory=dict)
    active: dict[int, ActiveTx] = field(default_factory=dict)
    sent: list[Any] = field(default_factory=list)
    enqueued: list[Any] = field(default_factory=list)
    ticks: list[Any] = field(default_factory=list)
    ends: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ctx = FakeCtx(set(self.connectors.values()))
        for connector in self.connectors:
            self.states.setdefault(connector, SimpleNamespace(ocpp_status="Available", vehicle=None, meter=None))
        self.reservations = Reservations(self)  # type: ignore[arg-type]
        self.local_list = LocalList(self)  # type: ignore[arg-type]
        self.smart = SmartCharging(self)  # type: ignore[arg-type]
        self.firmware = Firmware(self)  # type: ignore[arg-type]

    # --- the contract ---
    def state_of(self, connector_id: int):
        return self.states.get(connector_id)

    def active_transactions(self) -> dict[int, ActiveTx]:
        return dict(self.active)

    async def send(self, payload: Any, *, timeout: float | None = None) -> Any:
        self.sent.append(payload)
        return None

    async def enqueue(self, payload: Any, *, transaction_local_id: int | None = None) -> None:
        self.enqueued.append(payload)

    def on_transaction_end(self, callback) -> None:
        self.ends.append(callback)

    def on_tick(self, callback) -> None:
        self.ticks.append(callback)

    # --- steering ---
    def set_status(self, connector: int, status: str, *, with_vehicle: bool = False, phases: int = 3) -> None:
        self.states[connector] = SimpleNamespace(
            ocpp_status=status, vehicle=vehicle(phases) if with_vehicle else None, meter=None
        )

    async def tick(self, now: datetime | None = None) -> None:
        for callback in self.ticks:
            result = callback(now or datetime.now(UTC))
            if asyncio.iscoroutine(result):
                await result

    def end_transaction(self, connector: int) -> None:
        tx = self.active.pop(connector)
        for callback in self.ends:
            callback(connector, tx)

    def claim(self, connector: int, kind: Kind, key: str):
        cp = self.connectors[connector]
        return next(
            (c for c in self.ctx.claims.claims(cp) if c.kind is kind and c.source is Source.OCPP and c.key == key),
            None,
        )

    def statuses(self, action: str) -> list[str]:
        return [p.status for p in self.enqueued if type(p).__name__ == action]

    async def start(self) -> None:
        for feature in (self.local_list, self.reservations, self.smart, self.firmware):
            await feature.start()

    async def stop(self) -> None:
        for feature in (self.local_list, self.reservations, self.smart, self.firmware):
            await feature.stop()


def in_(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def wire(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- a backend and a Station with the feature handlers, over an in-memory pipe ------------------


class Pipe:
    def __init__(self, inbox: asyncio.Queue[str], outbox: asyncio.Queue[str]) -> None:
        self.inbox, self.outbox = inbox, outbox

    async def recv(self) -> str:
        return await self.inbox.get()

    async def send(self, message: str) -> None:
        await self.outbox.put(message)


class Station(FeatureHandlers, ChargePoint):
    def __init__(self, agent: FakeAgent, connection: Pipe) -> None:
        super().__init__("CP_TEST", connection, response_timeout=5)
        self.agent = agent  # type: ignore[assignment]


class Backend(ChargePoint):
    """The central side: sends CALLs, answers nothing (the features' notifications go through the
    fake agent)."""


@pytest_asyncio.fixture(name="linked")
async def linked_fixture(transactional_db) -> AsyncIterator[tuple[FakeAgent, Backend]]:
    agent = FakeAgent()
    await agent.start()
    to_cp: asyncio.Queue[str] = asyncio.Queue()
    to_cs: asyncio.Queue[str] = asyncio.Queue()
    station = Station(agent, Pipe(to_cp, to_cs))
    backend = Backend("CP_TEST", Pipe(to_cs, to_cp), response_timeout=5)
    tasks = [asyncio.create_task(station.start()), asyncio.create_task(backend.start())]
    try:
        yield agent, backend
    finally:
        await agent.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest_asyncio.fixture(name="agent")
async def agent_fixture(transactional_db) -> AsyncIterator[FakeAgent]:
    fake = FakeAgent()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def test_the_fake_agent_offers_what_the_features_use() -> None:
    fake = FakeAgent()
    assert set(fake.connectors) == {1, 2}
    assert fake.values["LocalAuthListEnabled"] == "true"
