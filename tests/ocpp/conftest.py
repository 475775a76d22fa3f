"""Test backends for the OCPP charge point: started before a test, stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.ocpp.csms import Csms, ThreadedCsms
from tests.ocpp.strict import StrictCsms


@pytest_asyncio.fixture
async def csms() -> AsyncIterator[Csms]:
    """A running central system on the test's event loop (no auth, no TLS)."""
    server = Csms()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def threaded_csms() -> Iterator[ThreadedCsms]:
    """A running central system on an event loop in its own thread, with synchronous methods."""
    with ThreadedCsms() as server:
        yield server


@pytest.fixture
def strict_csms() -> Iterator[StrictCsms]:
    """ocpp-rpc's strict central system in a Node process (installed by scripts/test.sh)."""
    with StrictCsms() as server:
        yield server
