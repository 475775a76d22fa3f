"""Every page that shows live values follows the runtime: the overview, the simulator's state panel
and a charge point configured elsewhere on an open dashboard; a fault shows its code where people
look first (overview, dashboard summary)."""

from __future__ import annotations

import asyncio
import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chargepoints.models import ChargePoint
from tests.conftest import cp_id, execute_wire, session_cookie
from tests.factories import make_configured_chargepoint
from wbm.asgi import application
from wbm.roles import Role

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def _connect(path: str, role: Role | None) -> WebsocketCommunicator:
    headers = list(SAME_ORIGIN)
    if role is not None:
        headers += await database_sync_to_async(session_cookie)(role)
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _until(communicator: WebsocketCommunicator, pattern: str) -> str:
    async with asyncio.timeout(5):
        while True:
            frame = await communicator.receive_from(timeout=5)
            if re.search(pattern, frame, re.S):
                return frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_overview_follows_status_error_code_and_power(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-02")
    communicator = await _connect("/ws/chargepoints/overview/", Role.USER)
    try:
        frame = await communicator.receive_from(timeout=5)
        assert f'id="overview-live-{pk}"' in frame and 'hx-swap-oob="true"' in frame
        await execute_wire(live_runtime, "sim.plug_in", {"cp": pk, "phases": 3, "max_current_a": 16})
        frame = await _until(communicator, rf'id="overview-live-{pk}".*?data-status="charging"')
        await execute_wire(live_runtime, "sim.fault", {"cp": pk, "code": "GroundFailure", "info": ""})
        frame = await _until(communicator, rf'id="overview-live-{pk}".*?Ground(<wbr>)?Failure')
        assert 'data-status="error"' in frame
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_simulator_state_panel_is_live(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-01")
    communicator = await _connect(f"/ws/system/simulator/{pk}/", Role.MANUFACTURER)
    try:
        frame = await communicator.receive_from(timeout=5)
        assert 'id="sim-state"' in frame
        await execute_wire(live_runtime, "sim.plug_in", {"cp": pk, "phases": 1, "max_current_a": 16})
        await _until(communicator, r'id="sim-state".*?data-testid="sim-iec-state">B')
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_simulator_socket_is_for_the_manufacturer(live_runtime):
    pk = await database_sync_to_async(cp_id)("P1-01")
    headers = SAME_ORIGIN + await database_sync_to_async(session_cookie)(Role.OPERATOR)
    communicator = WebsocketCommunicator(application, f"/ws/system/simulator/{pk}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert not connected and code == 4403


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_charge_point_configured_elsewhere_appears_on_an_open_dashboard(live_runtime):
    communicator = await _connect("/ws/dashboard/", None)
    try:
        await communicator.receive_from(timeout=5)
        created = await database_sync_to_async(make_configured_chargepoint)(name="Newcomer", release_mode="permanent")
        await execute_wire(live_runtime, "config.reload", {})
        frame = await _until(communicator, rf'id="cp-{created.pk}"')
        # a card that comes or goes changes the grouping by station: the cards section anew
        assert "Newcomer" in frame and re.search(r'<section id="cp-cards"[^>]*hx-swap-oob="true"', frame)
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_fault_shows_its_code_in_the_overview_and_counts_on_the_dashboard(runtime, client_as):
    pk = cp_id("P1-02")
    runtime.call("sim.fault", cp=pk, code="OverVoltage", info="")
    overview = client_as(Role.USER).get("/chargepoints/").content.decode()
    row = re.search(rf'id="overview-live-{pk}".*?</td>\s*<td', overview, re.S)
    assert row is not None and "OverVoltage" in row.group(0).replace("<wbr>", "")
    dashboard = client_as(Role.GUEST).get("/").content.decode()
    assert re.search(r'data-testid="sum-error">1<', dashboard)
    assert ChargePoint.objects.get(pk=pk).enabled
