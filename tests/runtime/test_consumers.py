"""The live WebSockets: full picture on connect, then the changed cards as htmx OOB swaps."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.conftest import cp_id, execute_wire, session_cookie, settle
from wbm.asgi import application
from wbm.roles import Role

HOST = "testserver"
SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", HOST.encode())]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[WebsocketCommunicator, bool, Any]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def receive_until(communicator: WebsocketCommunicator, pattern: str, timeout_s: float = 5.0) -> str:
    """Frames until one matches (heartbeats of unrelated ticks may come first)."""
    async with asyncio.timeout(timeout_s):
        while True:
            frame = await communicator.receive_from(timeout=timeout_s)
            if re.search(pattern, frame, re.S):
                return frame


def card(frame: str, cp: int) -> str:
    match = re.search(rf'<article id="cp-{cp}"[^>]*>.*?</article>', frame, re.S)
    assert match, frame[:500]
    return match.group(0)


async def test_the_dashboard_socket_sends_the_whole_park_on_connect(live_runtime):
    communicator, connected, _ = await connect("/ws/dashboard/", SAME_ORIGIN)
    assert connected
    try:
        frame = await receive_until(communicator, r'<section id="park-summary"')  # a tick's heartbeat may come first
        assert 'hx-swap-oob="true"' in frame
        assert 'data-testid="sum-available">4<' in frame
        for name in ("P1-01", "P1-02", "P1-03", "Visitor-01"):
            assert f'<div class="name">{name}</div>' in frame
        assert frame.count('<article id="cp-') == 4  # the unconfigured one is not shown
        assert 'id="live-heartbeat"' in frame
    finally:
        await communicator.disconnect()


async def test_a_simulator_change_reaches_the_client_as_a_swap_of_that_card(live_runtime):
    communicator, connected, _ = await connect("/ws/dashboard/", SAME_ORIGIN)
    assert connected
    try:
        await communicator.receive_from(timeout=5)
        target = await database_sync_to_async(cp_id)("P1-02")
        result = await execute_wire(
            live_runtime, "sim.plug_in", {"cp": target, "phases": 3, "max_current_a": 16, "ventilation": False}
        )
        assert result["ok"], result
        frame = await receive_until(communicator, rf'<article id="cp-{target}"[^>]*data-status="charging"')
        swapped = card(frame, target)
        assert 'hx-swap-oob="true"' in swapped
        assert 'data-status="charging"' in swapped
        assert re.search(r'data-testid="status">\s*Charging\s*<', swapped)
        assert 'data-testid="sum-charging">1<' in frame
    finally:
        await communicator.disconnect()


async def test_a_fault_turns_the_card_to_error_with_its_code(live_runtime):
    communicator, connected, _ = await connect("/ws/dashboard/", SAME_ORIGIN)
    assert connected
    try:
        await communicator.receive_from(timeout=5)
        target = await database_sync_to_async(cp_id)("Visitor-01")
        result = await execute_wire(live_runtime, "sim.fault", {"cp": target, "code": "OverCurrentFailure", "info": ""})
        assert result["ok"], result
        swapped = card(await receive_until(communicator, rf'<article id="cp-{target}"[^>]*data-status="error"'), target)
        assert 'data-status="error"' in swapped
        assert "OverCurrentFailure" in swapped
    finally:
        await communicator.disconnect()


async def test_a_guest_is_refused_on_the_system_socket(live_runtime):
    _communicator, connected, code = await connect("/ws/system/", SAME_ORIGIN)
    assert not connected
    assert code == 4403


async def test_a_logged_in_user_follows_the_system_status(live_runtime):
    cookie = await database_sync_to_async(session_cookie)(Role.USER)
    communicator, connected, _ = await connect("/ws/system/", [*SAME_ORIGIN, *cookie])
    assert connected
    try:
        frame = await communicator.receive_from(timeout=5)
        assert '<section class="panel" id="agents" hx-swap-oob="true">' in frame
        assert 'id="app-controller"' in frame  # the manual's "Controller Agent" row
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"origin", b"http://evil.example"), (b"host", HOST.encode())], id="foreign origin"),
        pytest.param([(b"origin", b"http://testserver:8000"), (b"host", HOST.encode())], id="other port"),
        pytest.param([(b"host", HOST.encode())], id="no origin"),
        pytest.param([(b"origin", b"http://testserver")], id="no host"),
    ],
)
async def test_a_socket_from_a_foreign_page_is_refused(live_runtime, headers):
    _communicator, connected, _ = await connect("/ws/dashboard/", headers)
    assert not connected


async def test_a_tick_that_changes_nothing_a_card_shows_sends_no_cards(live_runtime):
    communicator, connected, _ = await connect("/ws/dashboard/", SAME_ORIGIN)
    assert connected
    try:
        await receive_until(communicator, r'<section id="park-summary"')  # the full picture
        await settle(live_runtime)  # an idle park: only the mains voltages jitter
        await settle(live_runtime)
        # frames still on their way from the connect may carry cards; once settled, a tick sends none
        frames = [await communicator.receive_from(timeout=5)]
        while not await communicator.receive_nothing(timeout=0.3):
            frames.append(await communicator.receive_from(timeout=1))
            assert len(frames) < 50, "the socket never went quiet"
        await settle(live_runtime)
        frame = await receive_until(communicator, r'id="live-heartbeat"')
        assert "<article" not in frame
    finally:
        await communicator.disconnect()
