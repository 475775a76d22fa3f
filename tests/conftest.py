from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from chargepoints.demo import load_demo_park
from wbm.accounts.models import Profile
from wbm.roles import Role
from wbm.runtime import local
from wbm.runtime.backends.simulated import SimulatedBackend
from wbm.runtime.clock import ManualClock
from wbm.runtime.commands import Rejected, command_from_wire
from wbm.runtime.core import Runtime
from wbm.runtime.snapshot import ParkSnapshot

PASSWORD = "S3cure-test-pass!"


@pytest.fixture(autouse=True)
def _fresh_snapshot() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def make_user(role: Role, *, username: str | None = None, must_change: bool = False) -> User:
    username = username or f"{role.name.lower()}-t"  # not the label: that follows the active language
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(PASSWORD)
    user.save()
    Profile.objects.update_or_create(user=user, defaults={"role": role, "must_change_password": must_change})
    return user


@pytest.fixture
def client_as(db) -> Callable[[Role], Client]:
    """A logged-in test client for a role (Guest: not logged in)."""

    def make(role: Role) -> Client:
        client = Client()
        if role != Role.GUEST:
            client.force_login(make_user(role))
        return client

    return make


@pytest.fixture
def park(db) -> None:
    load_demo_park()


async def settle(runtime: Runtime) -> None:
    """Let the controller take one tick and publish it."""
    controller = runtime.agent("controller")
    assert controller is not None, "the controller agent is not running"
    await controller.settle()  # type: ignore[attr-defined]


async def execute_wire(runtime: Runtime, name: str, args: dict[str, Any]) -> dict[str, Any]:
    try:
        command = command_from_wire(name, args)
    except Rejected as exc:
        return {"ok": False, "error": exc.code, "params": exc.params}
    return await runtime.execute(command)


_KILLED: list[asyncio.AbstractEventLoop] = []


class RuntimeThread:
    """A runtime on its own event loop in a thread, as in embedded mode; ``step()`` advances it."""

    def __init__(self, *, state_file: Any = None, clock: ManualClock | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clock = clock or ManualClock()
        self.runtime = Runtime(
            SimulatedBackend(seed=7, state_file=state_file), clock=self.clock, tick_s=3600, serve_commands=False
        )
        self.run(self.runtime.start())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=15)

    def step(self) -> ParkSnapshot:
        """One tick of the controller, published; returns the new snapshot."""
        self.run(settle(self.runtime))
        assert self.runtime.snapshot is not None
        return self.runtime.snapshot

    def drain(self) -> None:
        """Wait until the controller has written what it queued for the database."""
        self.run(self.runtime.agent("controller").db_idle())  # type: ignore[union-attr]

    def call(self, name: str, **args):  # type: ignore[no-untyped-def]
        """A command by its wire name, as scaled mode receives it; returns the runtime's answer."""
        return self.run(execute_wire(self.runtime, name, args))

    def close(self) -> None:
        try:
            self.run(self.runtime.stop())
        finally:  # a stop that fails must not leave this runtime as the process's for later tests
            self._end_loop()
            if local.get() is self.runtime:
                local.set_current(None)

    def kill(self) -> None:
        """As ``kill -9``: the loop stops where it is, nothing is saved or closed. The dead loop is
        kept (not closed) so its frozen tasks are not collected and run their clean-up."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        _KILLED.append(self.loop)
        local.set_current(None)

    def _end_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def runtime(transactional_db) -> Iterator[RuntimeThread]:
    """The demo park with a running runtime (committed data: the runtime reads from threads)."""
    load_demo_park()
    rt = RuntimeThread()
    try:
        yield rt
    finally:
        rt.close()
        local.set_current(None)


def cp_id(name: str) -> int:
    from chargepoints.models import ChargePoint

    return ChargePoint.objects.get(config__name=name).pk


def session_cookie(role: Role) -> list[tuple[bytes, bytes]]:
    """A Cookie header logging a WebSocket client in with a role (call via database_sync_to_async)."""
    client = Client()
    client.force_login(make_user(role))
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


@pytest_asyncio.fixture
async def live_runtime(transactional_db) -> AsyncIterator[Runtime]:
    """The demo park with a runtime on the test's own event loop, as under Daphne."""
    await get_channel_layer().flush()
    await database_sync_to_async(load_demo_park)()
    runtime = Runtime(
        SimulatedBackend(seed=11, state_file=None), clock=ManualClock(), tick_s=3600, serve_commands=False
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        local.set_current(None)
