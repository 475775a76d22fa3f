"""OCPP → Modbus page: who may open it, saving start addresses and the restart switch (errors in
place, all or nothing), the audit record and the runtime told after the commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from django.test import Client

from chargepoints.demo import load_demo_park
from chargepoints.models import ChargePoint
from modbus.models import ModbusSettings, ModbusStartAddress
from tests.conftest import make_user
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

URL = "/ocpp/modbus/"


@pytest.fixture
def park(db) -> list[int]:
    load_demo_park()
    return list(ChargePoint.objects.order_by("station_id", "position").values_list("pk", flat=True))


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """The commands the runtime is told (by wire name), answered as a running runtime would."""
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def _client(role: Role, language: str = "en") -> Client:
    client = Client()
    client.cookies["wbm_language"] = language
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def _form(park: list[int], values: Mapping[int, object] | None = None, **extra: str) -> dict[str, object]:
    data: dict[str, object] = {"form": "addresses", **{f"address_{pk}": -1 for pk in park}}
    for pk, value in (values or {}).items():
        data[f"address_{pk}"] = value
    data.update(extra)
    return data


def _field_errors(html: str, pk: int) -> list[str]:
    block = re.search(rf'<ul class="errorlist" id="id_address_{pk}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANUFACTURER])
def test_the_page_renders_for_operator_and_above(park, role):
    response = _client(role).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Modbus/TCP server" in html and "Start addresses" in html and "Register map" in html
    for pk in park:
        assert f'name="address_{pk}"' in html
    assert 'ws-connect="/ws/modbus/' in html


def test_user_is_refused_and_guest_sent_to_login(park):
    assert _client(Role.USER).get(URL).status_code == 403
    assert _client(Role.USER).post(URL, _form(park)).status_code == 403
    guest = _client(Role.GUEST).get(URL)
    assert guest.status_code == 302 and "/login" in guest["Location"]
    assert not ModbusStartAddress.objects.exists()


def test_automatic_addresses_are_shown_in_the_documented_order(park):
    html = _client(Role.OPERATOR).get(URL).content.decode()
    for n, pk in enumerate(park, start=1):
        assert re.search(rf'data-testid="effective-{pk}">{n * 1000} ', html)


def test_saving_manual_addresses_writes_records_and_tells_the_runtime_after_commit(
    park, sent, django_capture_on_commit_callbacks
):
    values = {pk: 1000 * (10 + n) for n, pk in enumerate(park)}
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(Role.OPERATOR).post(URL, _form(park, values), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "The start addresses are saved." in response.content.decode()
    # the register viewer comes along (out of band), reading at the new start address
    assert 'id="register-viewer"' in response.content.decode() and 'hx-swap-oob="true"' in response.content.decode()
    assert dict(ModbusStartAddress.objects.values_list("chargepoint_id", "start_address")) == values
    assert sent == ["modbus.reload"]
    record = ChangeRecord.objects.get(action="modbus.settings.update")
    assert record.username == "operator-t" and record.role == "operator" and record.source == "web"
    assert record.after == {"start_addresses": {str(pk): v for pk, v in values.items()}}
    assert record.before == {"start_addresses": {str(pk): -1 for pk in park}}


def test_nothing_is_told_before_the_commit(park, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _client(Role.OPERATOR).post(URL, _form(park, {pk: 1000 * (n + 1) for n, pk in enumerate(park)}))
    assert sent == [] and len(callbacks) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1500", "A start address must be an integer multiple of 1000"),
        ("0", "Enter -1 or a start address from 1000 to 48000."),
        ("49000", "Enter -1 or a start address from 1000 to 48000."),
        ("abc", "Enter a whole number."),
        ("", "This field is required."),
        ("1000; reboot", "Enter a whole number."),
    ],
)
def test_a_bad_address_is_refused_in_place_and_nothing_is_written(park, sent, value, message):
    values = {pk: 1000 * (n + 1) for n, pk in enumerate(park)}
    values[park[1]] = value  # type: ignore[assignment]
    response = _client(Role.OPERATOR).post(URL, _form(park, values), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the panel with its errors in place
    assert "Some start addresses are not valid; nothing was saved." in html
    assert any(message in e for e in _field_errors(html, park[1]))
    assert all(not _field_errors(html, pk) for pk in park if pk != park[1])
    assert not ModbusStartAddress.objects.exists() and sent == []
    assert not ChangeRecord.objects.filter(action="modbus.settings.update").exists()


def test_a_duplicate_is_refused_at_both_charge_points(park):
    values = {pk: 1000 * (n + 1) for n, pk in enumerate(park)}
    values[park[2]] = values[park[0]]
    html = _client(Role.OPERATOR).post(URL, _form(park, values)).content.decode()
    assert "Start address 1000 is also given to" in _field_errors(html, park[0])[0]
    assert "Start address 1000 is also given to" in _field_errors(html, park[2])[0]
    assert not ModbusStartAddress.objects.exists()


def test_mixed_operation_is_refused_with_the_manuals_explanation_at_the_automatic_fields(park):
    response = _client(Role.OPERATOR).post(URL, _form(park, {park[0]: 5000}))
    assert response.status_code == 400  # a plain form post: the whole page with the errors
    html = response.content.decode()
    assert not _field_errors(html, park[0])
    for pk in park[1:]:
        assert _field_errors(html, pk)[0].startswith("Mixed operation is not possible")
    assert re.search(r'data-testid="addresses-mixed">Mixed operation is not possible: once one charging point', html)
    assert not ModbusStartAddress.objects.exists()


def test_errors_are_shown_in_place_in_german(park):
    response = _client(Role.OPERATOR, "de").post(URL, _form(park, {park[0]: 1500}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    errors = _field_errors(html, park[0])
    assert len(errors) == 1 and errors[0]  # the translated text (until translated: the English one)
    assert 'class="field invalid"' in html
    assert not ModbusStartAddress.objects.exists()


def test_a_plain_form_post_that_saves_redirects_back(park, sent):
    values = {pk: 1000 * (n + 1) for n, pk in enumerate(park)}
    response = _client(Role.OPERATOR).post(URL, _form(park, values))
    assert response.status_code == 302 and response["Location"] == URL


def test_a_save_on_a_stale_page_is_refused(park, sent):
    client = _client(Role.OPERATOR)
    client.post(URL, _form(park, {pk: 1000 * (n + 1) for n, pk in enumerate(park)}, revision="0"))
    assert ModbusSettings.objects.get().revision == 1
    html = client.post(
        URL, _form(park, {pk: 1000 * (n + 2) for n, pk in enumerate(park)}, revision="0"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Someone else saved the Modbus settings meanwhile" in html
    assert ModbusStartAddress.objects.get(pk=park[0]).start_address == 1000


def test_allow_restart_is_off_by_default_and_switched_on_with_audit(park, sent, django_capture_on_commit_callbacks):
    client = _client(Role.OPERATOR)
    html = client.get(URL).content.decode()
    assert "Allow restart registers" in html and "has no authentication" in html
    assert 'name="allow_restart" id="id_allow_restart" checked' not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"form": "restart", "allow_restart": "on"}, HTTP_HX_REQUEST="true")
    assert "The setting is saved." in response.content.decode()
    assert ModbusSettings.objects.get().allow_restart is True
    assert sent == ["modbus.reload"]
    record = ChangeRecord.objects.get(action="modbus.settings.update")
    assert record.before == {"allow_restart": False} and record.after == {"allow_restart": True}


def test_the_server_state_is_rendered_from_the_agents_published_state(park, monkeypatch):
    from modbus import views

    class Snap:
        def agent_state(self, name: str):
            assert name == "modbus"
            return {
                "running": True,
                "host": "0.0.0.0",
                "port": 1502,
                "clients": [
                    {
                        "address": "192.0.2.7:50123",
                        "connected_since": 1.7e9,
                        "last_request_at": 1.7e9 + 5,
                        "requests": 42,
                    },
                    "junk",
                ],
                "requests_per_s": 2.5,
                "writes_refused": 3,
                "last_error": "",
            }

        def agent(self, name: str):
            return None

    monkeypatch.setattr(views, "read_snapshot", lambda: Snap())
    context = views.server_context(Snap())  # type: ignore[arg-type]
    assert context["listen_port"] == 1502 and context["requests_per_s"] == 2.5
    assert context["clients"] == [
        {
            "address": "192.0.2.7:50123",
            "connected_since": 1.7e9,
            "last_request_at": 1.7e9 + 5,
            "last_request": "",
            "requests": 42,
        }
    ]


# --- the live socket -------------------------------------------------------------------------

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def _socket(path: str, role: Role):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from tests.conftest import session_cookie
    from wbm.asgi import application

    headers = [*SAME_ORIGIN, *await database_sync_to_async(session_cookie)(role)]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def _until(communicator: Any, pattern: str) -> str:
    import asyncio

    async with asyncio.timeout(5):
        while True:
            frame = await communicator.receive_from(timeout=5)
            if re.search(pattern, frame, re.S):
                return frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_register_viewer_and_server_state_follow_the_runtime(live_runtime):
    from channels.db import database_sync_to_async

    from tests.conftest import cp_id, execute_wire

    pk = await database_sync_to_async(cp_id)("P1-01")
    communicator, connected, _ = await _socket(f"/ws/modbus/{pk}/", Role.OPERATOR)
    assert connected
    try:
        frame = await _until(communicator, r'id="register-table" hx-swap-oob="true"')
        assert 'id="modbus-server" class="panel"' in frame or 'id="modbus-server"' in frame
        assert re.search(r'data-testid="value-X299">A1<', frame)
        assert 'data-testid="value-X297">0 A<' in frame
        result = await execute_wire(live_runtime, "sim.plug_in", {"cp": pk, "phases": 3, "max_current_a": 16})
        assert result["ok"], result
        frame = await _until(communicator, r'data-testid="value-X299">B\d<')
        assert 'id="register-table" hx-swap-oob="true"' in frame
    finally:
        await communicator.disconnect()
