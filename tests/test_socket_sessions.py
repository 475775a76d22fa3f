"""A live WebSocket gets no more than its session may see, and ends with that session.

Through the stack of ``wbm.asgi`` (same-origin check, session, router) with the demo park and a
runtime (``live_runtime``): an account still on its default password is a Guest on the sockets;
logout, a password change, expiry, a disabled account and a changed role close a session's
sockets with 4401.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import PASSWORD, cp_id, execute_wire, make_user, settle
from tests.test_ws_access_matrix import ROUTES, WsRoute
from wbm.accounts.models import Profile
from wbm.asgi import application
from wbm.roles import MIN_ROLE, Role

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
DENIED = 4403
SESSION_ENDED = 4401
CARD = 'data-testid="card"'

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _log_in(username: str, role: Role, *, must_change: bool = False) -> Client:
    client = Client()
    client.force_login(make_user(role, username=username, must_change=must_change))
    return client


def _another_session(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


async def _socket(client: Client, path: str = "/ws/dashboard/") -> tuple[WebsocketCommunicator, bool, Any]:
    cookie = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    communicator = WebsocketCommunicator(application, path, headers=SAME_ORIGIN + cookie)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def _closed_with(communicator: WebsocketCommunicator) -> int:
    """Read until the server closes the socket; its close code."""
    async with asyncio.timeout(5):
        while True:
            message = await communicator.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return int(message["code"])


async def _plug_in_at_p1_01(runtime: Any) -> None:
    pk = await database_sync_to_async(cp_id)("P1-01")
    result = await execute_wire(runtime, "sim.plug_in", {"cp": pk, "phases": 3, "max_current_a": 16})
    assert result["ok"], result
    await settle(runtime)


# --- an account still on its default password is a Guest on the sockets ------------------------


async def test_a_default_password_gets_the_guests_dashboard(live_runtime):
    await _plug_in_at_p1_01(live_runtime)  # released via the dashboard: a User gets the button
    changed = await database_sync_to_async(_log_in)("op-changed", Role.OPERATOR)
    forced = await database_sync_to_async(_log_in)("op-forced", Role.OPERATOR, must_change=True)
    frames = {}
    for name, client in (("changed", changed), ("forced", forced)):
        communicator, connected, _code = await _socket(client)
        assert connected
        frames[name] = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
    assert CARD in frames["forced"], "the forced account still sees the cards, as a Guest"
    assert "Allow charging" in frames["changed"]
    assert "Allow charging" not in frames["forced"]


GUEST_REFUSED = [r for r in ROUTES if r.perm is not None and MIN_ROLE[r.perm] > Role.GUEST]


@pytest.mark.parametrize("route", GUEST_REFUSED, ids=str)
async def test_a_default_password_is_refused_where_a_guest_is(live_runtime, route: WsRoute):
    forced = await database_sync_to_async(_log_in)("mf-forced", Role.MANUFACTURER, must_change=True)
    url = await database_sync_to_async(route.example_path)()
    _communicator, connected, code = await _socket(forced, url)
    assert not connected and code == DENIED, f"ws {url} let an account on its default password in"


# --- a socket ends with its session -------------------------------------------------------------


async def test_logout_closes_the_sessions_sockets_and_no_other(live_runtime):
    here = await database_sync_to_async(_log_in)("op-logout", Role.OPERATOR)
    elsewhere = await database_sync_to_async(_another_session)("op-logout")
    mine, connected, _ = await _socket(here)
    assert connected
    other, connected, _ = await _socket(elsewhere)
    assert connected
    await mine.receive_from(timeout=5)
    await other.receive_from(timeout=5)
    response = await database_sync_to_async(here.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await _closed_with(mine) == SESSION_ENDED
    await _plug_in_at_p1_01(live_runtime)
    assert "live-heartbeat" in await other.receive_from(timeout=5), "the other session streams on"
    await other.disconnect()


async def test_a_password_change_closes_the_sockets_of_every_session_of_the_account(live_runtime):
    here = await database_sync_to_async(_log_in)("op-change", Role.OPERATOR)
    elsewhere = await database_sync_to_async(_another_session)("op-change")
    sockets = []
    for client in (here, elsewhere):
        communicator, connected, _ = await _socket(client)
        assert connected
        sockets.append(communicator)
    new = "Ladepark-Nord-2024"
    response = await database_sync_to_async(here.post)(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    for communicator in sockets:
        assert await _closed_with(communicator) == SESSION_ENDED
    # the session that changed it goes on: its page opens a new socket, now with the full role
    communicator, connected, _ = await _socket(here, "/ws/system/")
    assert connected
    await communicator.disconnect()


def _expire_sessions(username: str) -> None:
    user = User.objects.get(username=username)
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def _disable(username: str) -> None:
    User.objects.filter(username=username).update(is_active=False)


def _demote(username: str) -> None:
    Profile.objects.filter(user__username=username).update(role=Role.USER)


@pytest.mark.parametrize("end", [_expire_sessions, _disable, _demote], ids=["expired", "disabled", "role changed"])
async def test_a_long_lived_socket_closes_when_its_session_no_longer_grants_it(live_runtime, settings, end):
    settings.WBM_SOCKET_RECHECK_S = 0.05
    client = await database_sync_to_async(_log_in)("op-recheck", Role.OPERATOR)
    communicator, connected, _ = await _socket(client)
    assert connected
    await communicator.receive_from(timeout=5)
    await database_sync_to_async(end)("op-recheck")
    assert await _closed_with(communicator) == SESSION_ENDED


async def test_a_socket_whose_session_still_holds_keeps_streaming(live_runtime, settings):
    settings.WBM_SOCKET_RECHECK_S = 0.01
    client = await database_sync_to_async(_log_in)("op-stays", Role.OPERATOR)
    communicator, connected, _ = await _socket(client)
    assert connected
    await communicator.receive_from(timeout=5)
    for _ in range(3):  # several re-checks pass meanwhile
        await _plug_in_at_p1_01(live_runtime)
        async with asyncio.timeout(5):  # a frame of park values (the banner may come on its own)
            while "live-heartbeat" not in await communicator.receive_from(timeout=5):
                pass
        pk = await database_sync_to_async(cp_id)("P1-01")
        await execute_wire(live_runtime, "sim.unplug", {"cp": pk})
    await communicator.disconnect()
