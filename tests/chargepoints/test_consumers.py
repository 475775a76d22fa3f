"""The status page's WebSocket: the groups and buttons of one charge point, live."""

from __future__ import annotations

import asyncio
import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.conftest import cp_id, execute_wire, session_cookie
from wbm.asgi import application
from wbm.roles import Role

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _connect(path: str, role: Role | None):
    headers = list(SAME_ORIGIN)
    if role is not None:
        headers += await database_sync_to_async(session_cookie)(role)
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def _until(communicator: WebsocketCommunicator, pattern: str) -> str:
    async with asyncio.timeout(5):
        while True:
            frame = await communicator.receive_from(timeout=5)
            if re.search(pattern, frame, re.S):
                return frame


async def test_status_socket_sends_groups_and_buttons_then_follows_the_charge_point(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-01")
    communicator, connected, _ = await _connect(f"/ws/chargepoints/{pk}/", Role.MANUFACTURER)
    assert connected
    try:
        frame = await communicator.receive_from(timeout=5)
        assert 'id="cp-status-groups" class="cp-groups" hx-swap-oob="true"' in frame
        assert 'id="cp-operations" class="cp-ops" hx-swap-oob="true"' in frame
        assert 'data-iec="A"' in frame and 'data-testid="op-disable"' in frame
        assert 'id="live-heartbeat"' in frame
        result = await execute_wire(
            live_runtime, "sim.plug_in", {"cp": pk, "phases": 3, "max_current_a": 16, "hlc": True}
        )
        assert result["ok"], result
        frame = await _until(communicator, r'data-iec="B"')
        assert 'data-testid="op-allow"' in frame  # a vehicle arrived: the release button appears
        assert re.search(r'data-testid="iso-evcc">[0-9A-F]{12}<', frame)
        await execute_wire(live_runtime, "cp.availability", {"cp": pk, "enabled": False})
        frame = await _until(communicator, r'data-iec="F"')
        assert 'data-status="error"' in frame and 'data-testid="op-enable"' in frame
    finally:
        await communicator.disconnect()


async def test_a_user_socket_shows_only_this_charge_point_with_a_users_buttons(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-01")
    other = await database_sync_to_async(cp_id)("Visitor-01")
    communicator, connected, _ = await _connect(f"/ws/chargepoints/{pk}/", Role.USER)
    assert connected
    try:
        await communicator.receive_from(timeout=5)
        await execute_wire(live_runtime, "sim.plug_in", {"cp": other, "phases": 3, "max_current_a": 16})
        frame = await _until(communicator, r'id="live-heartbeat"')
        assert "Visitor-01" not in frame
        assert 'data-testid="op-disable"' not in frame  # a User's buttons, rendered for a User
    finally:
        await communicator.disconnect()


async def test_guest_is_refused_and_an_unknown_charge_point_closes(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-01")
    _c, connected, code = await _connect(f"/ws/chargepoints/{pk}/", None)
    assert not connected and code == 4403
    _c, connected, code = await _connect("/ws/chargepoints/9999/", Role.USER)
    assert not connected and code == 4404


def _save_board(board: int) -> None:
    from chargepoints.models import ChargePoint
    from chargepoints.services import rfid_board_update
    from wbm.audit import Actor

    rfid_board_update(
        chargepoint=ChargePoint.objects.select_related("station", "config").get(pk=board),
        data={
            "connection_type": "1:1",
            "buzzer_volume_pct": 50,
            "profiles": {"waiting_authorization": {"mode": "on", "color": "red"}},
        },
        actor=Actor.system(),
    )


async def test_rfid_board_socket_follows_the_live_state_and_saved_settings(live_runtime):
    board = await database_sync_to_async(cp_id)("P1-03")
    communicator, connected, _ = await _connect("/ws/chargepoints/rfid-board/", Role.USER)
    assert connected
    try:
        frame = await communicator.receive_from(timeout=5)
        assert f'id="board-active-{board}" class="board-active" data-profile="ready" hx-swap-oob="true"' in frame
        await execute_wire(live_runtime, "sim.plug_in", {"cp": board, "phases": 3, "max_current_a": 16})
        frame = await _until(communicator, r'data-profile="waiting_authorization"')
        assert "c-white m-flashing" in frame  # factory setting of that profile
        await database_sync_to_async(_save_board)(board)
        frame = await _until(communicator, r"c-red m-on")
        assert 'data-profile="waiting_authorization"' in frame
    finally:
        await communicator.disconnect()


async def test_rfid_board_socket_refuses_a_guest(live_runtime):
    _c, connected, code = await _connect("/ws/chargepoints/rfid-board/", None)
    assert not connected and code == 4403
