"""Liveness is honest: a runtime that has died is said to be dead, on open pages within 3 s, on a
fresh page render and in the API, and the values it left are greyed, not presented as live.

Scaled mode is simulated in the embedded test settings: ``WBM_RUNTIME_TRANSPORT="channels"`` makes
``bus.liveness()`` read the heartbeat from the (locmem) cache, where the test writes it, with the
snapshot a runtime published before it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.conftest import RuntimeThread, cp_id, session_cookie
from wbm.asgi import application
from wbm.dashboard import liveness as watch_module
from wbm.roles import Role
from wbm.runtime import bus, local
from wbm.runtime.snapshot import ParkSnapshot

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
TRY_AGAIN_LATER = 4013  # 1013 + 3000: Daphne sends no 1013
STALE_AGE_S = 42.0


@pytest.fixture(autouse=True)
def _no_outage_left_over() -> Iterator[None]:
    watch_module._unreachable_since = None
    yield
    watch_module._unreachable_since = None


def _published_snapshot() -> ParkSnapshot:
    """What a runtime of the demo park published before it stopped (the runtime is gone)."""
    rt = RuntimeThread()
    try:
        return rt.step()
    finally:
        rt.close()
        local.set_current(None)


@pytest.fixture
def scaled(transactional_db, settings) -> ParkSnapshot:
    """Scaled mode as a web process sees it: the snapshot in the cache, no runtime in here."""
    from chargepoints.demo import load_demo_park

    load_demo_park()
    snapshot = _published_snapshot()
    settings.WBM_RUNTIME_TRANSPORT = "channels"
    cache.set(bus.SNAPSHOT_KEY, snapshot, None)
    return snapshot


def _beat(age_s: float) -> float:
    at = time.time() - age_s
    cache.set(bus.HEARTBEAT_KEY, at, None)
    return at


def _utc_hhmmss(epoch: float) -> str:
    """As the server renders it (TIME_ZONE is UTC) until live.js shows the browser's time."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S")


# --- a fresh page render ------------------------------------------------------------------------


def test_a_page_rendered_while_the_runtime_is_dead_says_so_and_greys_the_values(scaled, client):
    last = _beat(STALE_AGE_S)
    body = client.get("/").content.decode()
    assert 'data-testid="sum-available">4<' in body, "the last values are still shown"
    assert re.search(r'<body [^>]*data-live="stale"', body), "values greyed from the start"
    banner = re.search(r'<div id="stale-banner"[^>]*>', body)
    assert banner and "hidden" not in banner.group(0), banner
    assert f"The controller is not running since <span data-since>{_utc_hhmmss(last)}</span>." in body
    assert f"Controller not running since {_utc_hhmmss(last)}" in body  # the indicator
    beat = re.search(r'<span id="live-heartbeat"[^>]*>', body)
    assert beat and 'data-runtime="down"' in beat.group(0)
    assert f'data-since="{int(last * 1000)}"' in beat.group(0), "live.js shows it in local time"


def test_a_page_rendered_while_the_runtime_runs_is_as_before(scaled, client):
    _beat(0.2)
    body = client.get("/").content.decode()
    assert 'data-live="stale"' not in body
    banner = re.search(r'<div id="stale-banner"[^>]*>', body)
    assert banner and "hidden" in banner.group(0)
    assert 'data-runtime="alive"' in body


def test_a_page_rendered_while_the_store_is_unreachable_says_that(scaled, client, monkeypatch):
    def unreachable() -> Any:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(bus, "liveness", unreachable)
    body = client.get("/").content.decode()
    assert re.search(r'<body [^>]*data-live="stale"', body)
    assert "The live data store cannot be reached since <span data-since>" in body
    assert 'data-runtime="unreachable"' in body


def test_embedded_pages_behave_as_before_without_a_runtime(db, client):
    body = client.get("/").content.decode()
    assert "The controller runtime is not running: no live values are available." in body
    assert 'data-live="stale"' not in body
    assert re.search(r'<div id="stale-banner"[^>]*hidden', body)


# --- the API: stale state answered, flagged -----------------------------------------------------


def _api(client_as, role: Role, path: str) -> dict[str, Any]:
    response = client_as(role).get(path)
    assert response.status_code == 200, response.content[:300]
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.GUEST, "/api/v1/dashboard/"),
        (Role.USER, "/api/v1/park/"),
        (Role.USER, "/api/v1/chargepoints/{pk}/"),
        (Role.USER, "/api/v1/chargepoints/{pk}/status/"),
    ],
)
def test_the_api_flags_state_of_a_dead_runtime(scaled, client_as, role, path):
    last = _beat(STALE_AGE_S)
    document = _api(client_as, role, path.format(pk=cp_id("P1-01")))
    runtime = document["runtime"]
    assert runtime["alive"] is False
    assert runtime["age_s"] >= STALE_AGE_S
    assert runtime["last_seen"].endswith("Z"), "ISO 8601, UTC"
    seen = datetime.fromisoformat(runtime["last_seen"].replace("Z", "+00:00")).timestamp()
    assert abs(seen - last) < 0.01


def test_the_api_says_alive_while_the_runtime_runs(scaled, client_as):
    _beat(0.3)
    runtime = _api(client_as, Role.USER, "/api/v1/park/")["runtime"]
    assert runtime["alive"] is True and runtime["age_s"] < 2


def test_the_api_of_an_embedded_runtime_is_alive(runtime, client_as):
    runtime.step()
    answer = _api(client_as, Role.USER, "/api/v1/park/")["runtime"]
    assert answer["alive"] is True and answer["age_s"] == 0.0 and answer["last_seen"]


# --- open pages: the per-process watch ----------------------------------------------------------


async def _connect(path: str = "/ws/dashboard/", role: Role = Role.GUEST) -> WebsocketCommunicator:
    headers = list(SAME_ORIGIN)
    if role != Role.GUEST:
        headers += await database_sync_to_async(session_cookie)(role)
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, code
    return communicator


async def _until(communicator: WebsocketCommunicator, pattern: str, timeout_s: float = 5.0) -> str:
    async with asyncio.timeout(timeout_s):
        while True:
            frame = await communicator.receive_from(timeout=timeout_s)
            if re.search(pattern, frame, re.S):
                return frame


@pytest.mark.asyncio
async def test_an_open_page_hears_within_3_s_that_the_runtime_died_and_when_it_is_back(scaled):
    last = await asyncio.to_thread(_beat, 0.0)
    communicator = await _connect()
    try:
        first = await communicator.receive_from(timeout=5)
        assert 'data-testid="card"' in first and 'data-runtime="alive"' in first
        # the runtime is killed: its heartbeat stops, nothing more arrives on the socket
        frame = await _until(communicator, r'data-runtime="down"', timeout_s=6)
        noticed_after = time.time() - last
        assert noticed_after <= 3.0 + 0.3, f"noticed {noticed_after:.2f} s after the last heartbeat"
        assert f'data-since="{int(last * 1000)}"' in frame
        # back: the whole picture again, said to be live
        await asyncio.to_thread(_beat, 0.0)
        frame = await _until(communicator, r'data-runtime="alive"', timeout_s=3)
        assert 'data-testid="card"' in frame, "updates may have been missed meanwhile"
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_page_opened_while_the_runtime_is_dead_gets_its_last_values_flagged(scaled):
    last = await asyncio.to_thread(_beat, STALE_AGE_S)
    communicator = await _connect("/ws/chargepoints/overview/", Role.USER)
    try:
        frame = await communicator.receive_from(timeout=5)
        assert 'id="overview-live-' in frame, "the last values, to be greyed"
        assert 'data-runtime="down"' in frame and f'data-since="{int(last * 1000)}"' in frame
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_an_open_page_hears_when_the_store_is_unreachable(scaled, monkeypatch):
    await asyncio.to_thread(_beat, 0.0)
    communicator = await _connect()
    try:
        await communicator.receive_from(timeout=5)

        def unreachable() -> Any:
            raise RedisConnectionError("Connection refused")

        monkeypatch.setattr(bus, "liveness", unreachable)
        frame = await _until(communicator, r'data-runtime="unreachable"', timeout_s=3)
        assert re.search(r'data-since="\d+"', frame)
    finally:
        await communicator.disconnect()


async def _closed_try_again_later(communicator: WebsocketCommunicator) -> list[str]:
    """The frames up to the close, which must be 4013 (try again later), not 1011 or a 500."""
    frames = []
    async with asyncio.timeout(5):
        while True:
            message = await communicator.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                assert message.get("code") == TRY_AGAIN_LATER, message
                return frames
            frames.append(message.get("text", ""))


@pytest.mark.asyncio
async def test_redis_failing_during_the_handshake_closes_with_try_again_later(scaled, monkeypatch, caplog):
    async def refused(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(type(get_channel_layer()), "group_add", refused)
    communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=SAME_ORIGIN)
    with caplog.at_level(logging.WARNING, logger="wbm.dashboard.consumers"):
        connected, _ = await communicator.connect(timeout=5)
        assert connected, "accepted, then closed: not a failed handshake"
        frames = await _closed_try_again_later(communicator)
    assert any('data-runtime="unreachable"' in f for f in frames), "the page is told why"
    lines = [r for r in caplog.records if "closed with 4013" in r.getMessage()]
    assert len(lines) == 1


@pytest.mark.asyncio
async def test_redis_going_away_under_an_open_socket_closes_it_with_try_again_later(scaled, monkeypatch, caplog):
    await asyncio.to_thread(_beat, 0.0)
    layer = get_channel_layer()
    receive = layer.receive
    failing = asyncio.Event()

    async def receive_until_redis_goes(channel: str) -> Any:
        await failing.wait()
        raise RedisConnectionError("Error UNKNOWN while writing to socket. Connection lost.")

    monkeypatch.setattr(layer, "receive", receive_until_redis_goes)
    communicator = await _connect()
    try:
        assert 'data-runtime="alive"' in await communicator.receive_from(timeout=5)
        with caplog.at_level(logging.WARNING, logger="wbm.dashboard.consumers"):
            failing.set()
            frames = await _closed_try_again_later(communicator)
        assert any('data-runtime="unreachable"' in f for f in frames)
        assert len([r for r in caplog.records if "closed with 4013" in r.getMessage()]) == 1
    finally:
        monkeypatch.setattr(layer, "receive", receive)
        await communicator.wait()


@pytest.mark.asyncio
async def test_a_live_socket_rejoins_its_groups_before_they_expire(live_runtime, monkeypatch):
    layer = get_channel_layer()
    monkeypatch.setattr(layer, "group_expiry", 1)
    monkeypatch.setattr(watch_module, "REJOIN_S", 0.3)
    communicator = await _connect()
    try:
        await communicator.receive_from(timeout=5)
        await asyncio.sleep(2.0)  # twice the expiry
        summary = {"available": 1, "occupied": 0, "charging": 0, "error": 0, "total_power_w": 0.0}
        await layer.group_send(
            bus.PARK_GROUP, {"type": "park.update", "generated_at": time.time(), "summary": summary, "changed": []}
        )
        frame = ""
        while 'id="live-heartbeat"' not in frame:  # other parts of the page may come first
            frame = await communicator.receive_from(timeout=3)  # times out: not a member any more
    finally:
        await communicator.disconnect()
