"""The OCPP pages (status, settings, server variables): who may open them, what they show, and
saving with errors in place, all or nothing; the AuthorizationKey never leaves the server."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chargepoints.choices import ReleaseMode
from ocppcfg.models import ConfigurationValue, ConnectionEvent, Direction, MessageLog, OcppSettings
from tests.conftest import make_user
from tests.factories import make_configured_chargepoint
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

SECRET = "s3cr3t-Key-XyZ-0815"


def make_pem(*, cn: str = "Test Backend CA", days: int = 365, expired: bool = False) -> bytes:
    """A self-signed CA certificate in PEM (``expired``: it ended yesterday)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(tz=UTC)
    start, end = (
        (now - timedelta(days=30), now - timedelta(days=1))
        if expired
        else (now - timedelta(days=1), now + timedelta(days=days))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """The commands the runtime is told (by wire name), answered as a running runtime would."""
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def client(role: Role, language: str = "en") -> Client:
    c = Client()
    c.cookies["wbm_language"] = language
    if role != Role.GUEST:
        c.force_login(make_user(role))
    return c


def settings_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "protocol": "ocpp1.6j",
        "network_interface": "eth0",
        "backend_url": "ws://backend.example:8080/ocpp/CB-0001",
        "authorization_user": "CB-0001",
        "authorization_key": "",
        "model": "AC-Park",
        "vendor": "WBM",
        "serial_number": "SN-1",
        "action": "save",
    }
    data.update(overrides)
    return data


def field_errors(html: str, field: str) -> str:
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return block.group(1) if block else ""


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "minimum"),
    [
        ("/ocpp/", Role.USER),
        ("/ocpp/messages/", Role.USER),
        ("/ocpp/settings/", Role.OPERATOR),
        ("/ocpp/variables/", Role.OPERATOR),
    ],
)
def test_each_page_opens_from_its_role_and_is_refused_below(db, url, minimum):
    for role in Role:
        response = client(role).get(url)
        if role >= minimum:
            assert response.status_code == 200, (role, url)
        elif role == Role.GUEST:
            assert response.status_code == 302 and "/login" in response["Location"]
        else:
            assert response.status_code == 403


def test_the_menu_lists_status_settings_and_server_variables_for_an_operator_only_status_for_a_user(db):
    operator = client(Role.OPERATOR).get("/ocpp/").content.decode()
    for url in ("/ocpp/settings/", "/ocpp/variables/"):
        assert f'href="{url}"' in operator
    user = client(Role.USER).get("/ocpp/").content.decode()
    assert 'href="/ocpp/settings/"' not in user and 'href="/ocpp/variables/"' not in user


# --- status --------------------------------------------------------------------------------


def test_status_lists_only_charge_points_by_ocpp_with_a_valid_connector_id(db):
    make_configured_chargepoint(name="Ocpp-One", release_mode=ReleaseMode.OCPP, ocpp_connector_id=1)
    make_configured_chargepoint(name="Ocpp-NoId", release_mode=ReleaseMode.OCPP, ocpp_connector_id=-1)
    make_configured_chargepoint(name="Dash-Board", release_mode=ReleaseMode.DASHBOARD)
    html = client(Role.USER).get("/ocpp/").content.decode()
    table = re.search(r'data-testid="ocpp-chargepoints">(.*?)</table>', html, re.S)
    assert table is not None
    assert "Ocpp-One" in table.group(1)
    assert "Ocpp-NoId" not in table.group(1) and "Dash-Board" not in table.group(1)
    hint = re.search(r'data-testid="ocpp-hint">(.*?)</div></div>', html, re.S)
    assert hint is not None and "Ocpp-NoId" in hint.group(1) and "Allow Charging" in hint.group(1)


def test_status_without_ocpp_charge_points_gives_the_manuals_hint(db):
    make_configured_chargepoint(name="Dash-Board", release_mode=ReleaseMode.DASHBOARD)
    html = client(Role.USER).get("/ocpp/").content.decode()
    assert 'data-testid="ocpp-chargepoints"' not in html
    assert "No charging point is controlled via the backend." in html and "Allow Charging" in html


def test_status_says_red_and_that_the_runtime_is_not_running_without_one(db):
    html = client(Role.USER).get("/ocpp/").content.decode()
    assert 'data-connected="false"' in html
    assert 'data-testid="ocpp-runtime-down"' in html
    assert 'ws-connect="/ws/ocpp/"' in html


def _log(n: int, **kw: Any) -> list[MessageLog]:
    now = timezone.now()
    rows = []
    for i in range(n):
        rows.append(
            MessageLog.objects.create(
                at=now + timedelta(seconds=i),
                direction=Direction.SENT if i % 2 == 0 else Direction.RECEIVED,
                message_type=2 if i % 2 == 0 else 3,
                unique_id=f"uid-{i:04d}",
                action="Heartbeat" if i % 2 == 0 else "",
                payload=json.dumps({"n": i, "currentTime": "2026-01-01T00:00:00Z"}),
                **kw,
            )
        )
    return rows


def test_status_shows_the_last_50_messages_newest_first_with_the_manuals_columns(db):
    _log(55)
    html = client(Role.USER).get("/ocpp/").content.decode()
    for header in (
        "Time stamp of transmission",
        "Message type (2 = CALL, 3 = CALLRESULT, 4 = CALLERROR)",
        "Message ID",
        "Action",
        "Payload",
    ):
        assert f"<th>{header}</th>" in html
    ids = re.findall(r'<tr data-id="(\d+)" class="ocpp-msg', html)
    assert len(ids) == 50
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)
    assert "uid-0054" in html and "uid-0004" not in html
    # readable and expandable: pretty JSON inside <details>
    assert "<details><summary" in html and "&quot;n&quot;: 54" in html
    assert "Older messages are in the log files" in html and 'href="/system/logs/"' in html


def test_the_messages_fragment_gives_only_the_rows_after_the_newest_shown(db):
    rows = _log(5)
    html = client(Role.USER).get(f"/ocpp/messages/?after={rows[2].pk}").content.decode()
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]
    assert ids == [rows[4].pk, rows[3].pk]
    assert "<html" not in html
    assert client(Role.USER).get("/ocpp/messages/?after=abc").status_code == 200


def test_status_shows_the_connection_timeline_and_its_fragment(db):
    ConnectionEvent.objects.create(
        at=timezone.now(), kind=ConnectionEvent.Kind.DISCONNECTED, close_code=1006, detail="gone"
    )
    ConnectionEvent.objects.create(at=timezone.now(), kind=ConnectionEvent.Kind.CONNECTED, rtt_ms=12.5)
    html = client(Role.USER).get("/ocpp/").content.decode()
    assert 'data-testid="ocpp-timeline"' in html and "1006" in html and "12.5 ms" in html
    part = client(Role.USER).get("/ocpp/?part=timeline", HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<section class="panel" id="ocpp-timeline"') and "gone" in part


def test_status_in_german(db):
    html = client(Role.USER, "de").get("/ocpp/").content.decode()
    assert 'lang="de"' in html


# --- settings ------------------------------------------------------------------------------


def test_saving_settings_stores_them_records_them_and_reloads_the_agent(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client(Role.OPERATOR).post("/ocpp/settings/", settings_form(authorization_key=SECRET))
    assert response.status_code == 302
    stored = OcppSettings.load()
    assert stored.backend_url == "ws://backend.example:8080/ocpp/CB-0001" and stored.charge_box_id == "CB-0001"
    assert stored.authorization_key == SECRET and stored.model == "AC-Park"
    assert sent == ["ocpp.reload"]
    record = ChangeRecord.objects.get(action="ocpp.settings.update")
    assert SECRET not in json.dumps(record.after) and SECRET not in json.dumps(record.before)


def test_the_key_is_never_on_the_page_and_an_empty_key_keeps_the_stored_one(db, sent):
    c = client(Role.OPERATOR)
    c.post("/ocpp/settings/", settings_form(authorization_key=SECRET))
    page = c.get("/ocpp/settings/").content.decode()
    assert SECRET not in page
    assert re.search(r'<input type="password" name="authorization_key"[^>]*>', page)
    assert 'value="' + SECRET not in page
    assert "set</span>" in page
    c.post("/ocpp/settings/", settings_form(model="Other", authorization_key=""))
    assert OcppSettings.load().authorization_key == SECRET
    assert OcppSettings.load().model == "Other"
    # a failing save does not echo the key either
    bad = c.post("/ocpp/settings/", settings_form(backend_url="http://x/y", authorization_key=SECRET))
    assert bad.status_code == 400 and SECRET not in bad.content.decode()


def test_the_key_can_be_removed(db, sent):
    c = client(Role.OPERATOR)
    c.post("/ocpp/settings/", settings_form(authorization_key=SECRET))
    c.post("/ocpp/settings/", settings_form(clear_key="on"))
    assert OcppSettings.load().authorization_key == ""
    assert "not set</span>" in c.get("/ocpp/settings/").content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ws://backend.example/ocpp/CB;reboot", "must not contain these characters"),
        ("ws://backend.example/ocpp/$(id)", "must not contain these characters"),
        ("ws://backend.example/ocpp/CB 1", "must not contain spaces"),
        ("http://backend.example/ocpp/CB-1", "must start with ws:// or wss://"),
        ("ws://backend.example", "must end with the charge box ID"),
        ("ws://backend.example/", "must end with the charge box ID"),
        ("ws:///CB-1", "host name or IP address"),
        ("ws://user:pw@backend.example/CB-1", "not in the URL"),
        ("ws://backend.example:99999/CB-1", "port"),
    ],
)
def test_a_bad_backend_url_is_refused_at_the_field_and_nothing_is_written(db, sent, url, message):
    response = client(Role.OPERATOR).post("/ocpp/settings/", settings_form(backend_url=url))
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "backend_url")
    assert not OcppSettings.objects.exists()
    assert sent == []


def test_a_bad_backend_url_is_explained_in_german(db, sent):
    from django.utils import translation

    response = client(Role.OPERATOR, "de").post(
        "/ocpp/settings/", settings_form(backend_url="http://backend.example/CB-1")
    )
    with translation.override("de"):  # the catalog's German (English until the lead adds it)
        expected = translation.gettext("The URL must start with ws:// or wss://.")
    assert expected in field_errors(response.content.decode(), "backend_url")
    assert 'lang="de"' in response.content.decode()


def test_htmx_gets_the_form_back_with_errors_in_place(db, sent):
    response = client(Role.OPERATOR).post(
        "/ocpp/settings/", settings_form(backend_url="ws://x/a b"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="panel" id="ocpp-settings"')
    assert 'data-testid="ocpp-settings-invalid"' in html


def test_model_and_vendor_are_limited_to_20_characters_and_the_serial_to_25(db, sent):
    response = client(Role.OPERATOR).post("/ocpp/settings/", settings_form(model="M" * 21, serial_number="S" * 26))
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "model") and field_errors(html, "serial_number")
    assert not OcppSettings.objects.exists()


def _upload(pem: bytes, name: str = "ca.pem") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pem, content_type="application/x-pem-file")


def test_a_certificate_is_stored_for_wss_and_shown_by_subject_and_expiry(db, sent):
    c = client(Role.OPERATOR)
    response = c.post(
        "/ocpp/settings/",
        settings_form(
            backend_url="wss://backend.example/ocpp/CB-1", certificate=_upload(make_pem(cn="Backend Root CA"))
        ),
    )
    assert response.status_code == 302
    page = c.get("/ocpp/settings/").content.decode()
    assert "CN=Backend Root CA" in page and 'data-testid="ocpp-certificate-delete"' in page
    assert "BEGIN CERTIFICATE" not in page
    c.post("/ocpp/settings/", {"action": "delete_certificate"})
    assert OcppSettings.load().ca_certificate == ""
    assert 'data-testid="ocpp-certificate-delete"' not in c.get("/ocpp/settings/").content.decode()


def test_the_upload_shows_only_for_a_wss_url(db, sent):
    c = client(Role.OPERATOR)
    c.post("/ocpp/settings/", settings_form(backend_url="ws://backend.example/CB-1"))
    page = c.get("/ocpp/settings/").content.decode()
    assert re.search(r'id="ocpp-cert-upload" data-testid="ocpp-certificate-upload" hidden', page)
    c.post("/ocpp/settings/", settings_form(backend_url="wss://backend.example/CB-1"))
    page = c.get("/ocpp/settings/").content.decode()
    assert not re.search(r'id="ocpp-cert-upload" data-testid="ocpp-certificate-upload" hidden', page)


@pytest.mark.parametrize(
    ("url", "pem", "message"),
    [
        ("ws://backend.example/CB-1", make_pem(), "only used with a wss:// backend URL"),
        ("wss://backend.example/CB-1", b"hello, I am not a certificate", "not a PEM file"),
        (
            "wss://backend.example/CB-1",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "readable X.509",
        ),
        ("wss://backend.example/CB-1", make_pem(expired=True), "expired on"),
        ("wss://backend.example/CB-1", b"-----BEGIN CERTIFICATE-----" + b"A" * 70_000, "too large"),
    ],
    ids=["ws-url", "not-pem", "not-a-certificate", "expired", "too-large"],
)
def test_a_bad_certificate_is_refused_and_nothing_is_written(db, sent, url, pem, message):
    response = client(Role.OPERATOR).post("/ocpp/settings/", settings_form(backend_url=url, certificate=_upload(pem)))
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "certificate")
    assert not OcppSettings.objects.exists()


def test_restart_without_a_runtime_says_so_and_with_one_restarts_the_ocpp_agent(db, monkeypatch):
    c = client(Role.OPERATOR)
    response = c.post("/ocpp/settings/restart/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="ocpp-restart-error"' in response.content.decode()
    told: list[commands.Command] = []

    def call(command: commands.Command) -> dict[str, Any]:
        told.append(command)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    response = c.post("/ocpp/settings/restart/", HTTP_HX_REQUEST="true")
    assert 'data-testid="ocpp-restart-done"' in response.content.decode()
    assert [(t.name, getattr(t, "agent", None)) for t in told] == [("agent.restart", "ocpp")]
    assert client(Role.USER).post("/ocpp/settings/restart/").status_code == 403


def test_settings_link_to_the_charge_point_configuration(db):
    cp = make_configured_chargepoint(name="Ocpp-One", release_mode=ReleaseMode.OCPP, ocpp_connector_id=1)
    html = client(Role.OPERATOR).get("/ocpp/settings/").content.decode()
    assert f'href="/chargepoints/{cp.pk}/config/"' in html


# --- server variables ----------------------------------------------------------------------


def test_variables_show_both_groups_with_readonly_and_meaning_and_the_key_as_stars(db, sent):
    client(Role.OPERATOR).post("/ocpp/settings/", settings_form(authorization_key=SECRET))
    html = client(Role.OPERATOR).get("/ocpp/variables/").content.decode()
    assert 'data-testid="ocpp-variables-ocpp"' in html and 'data-testid="ocpp-variables-charx"' in html
    for key in (
        "HeartbeatInterval",
        "MeterValueSampleInterval",
        "LocalAuthListEnabled",
        "FreeMode",
        "GlobalMaxCurrent",
        "WebSocketPingTimeout",
    ):
        assert f'id="var-{key}"' in html
    assert 'data-testid="value-NumberOfConnectors"' in html  # read-only: shown, not editable
    assert SECRET not in html and "Stored: ****" in html
    assert "Maximum total current of all charge points" in html
    de = client(Role.OPERATOR, "de").get("/ocpp/variables/").content.decode()
    assert 'lang="de"' in de


def _variables_post(**changes: str) -> dict[str, str]:
    return {f"v_{k}": v for k, v in changes.items()}


def _current_form() -> dict[str, str]:
    from ocppcfg import variables

    data = {}
    current = variables.values()
    for key, v in variables.VARIABLES.items():
        if v.readonly or v.secret or key == "NumberOfConnectors":
            continue
        data[f"v_{key}"] = current[key]
    return data


def test_changing_variables_saves_the_changed_ones_through_the_variables_module(
    db, sent, django_capture_on_commit_callbacks
):
    data = {**_current_form(), "v_HeartbeatInterval": "120", "v_FreeMode": "true"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client(Role.OPERATOR).post("/ocpp/variables/", data)
    assert response.status_code == 302
    assert dict(ConfigurationValue.objects.values_list("key", "value")) == {
        "HeartbeatInterval": "120",
        "FreeMode": "true",
    }
    assert sent == ["ocpp.reload"]
    assert ChangeRecord.objects.filter(action="ocpp.variables.update").count() == 1


def test_a_bad_variable_is_refused_at_its_field_and_nothing_is_written(db, sent):
    data = {
        **_current_form(),
        "v_HeartbeatInterval": "120",
        "v_GlobalMaxCurrent": "100000",
        "v_MeterValueSampleInterval": "abc",
    }
    response = client(Role.OPERATOR).post("/ocpp/variables/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "v_GlobalMaxCurrent") and field_errors(html, "v_MeterValueSampleInterval")
    assert not field_errors(html, "v_HeartbeatInterval")
    assert not ConfigurationValue.objects.exists()


def test_the_key_set_on_the_variables_page_is_write_only(db, sent):
    c = client(Role.OPERATOR)
    c.post("/ocpp/variables/", {**_current_form(), "v_AuthorizationKey": SECRET})
    assert OcppSettings.load().authorization_key == SECRET
    c.post("/ocpp/variables/", {**_current_form(), "v_AuthorizationKey": ""})
    assert OcppSettings.load().authorization_key == SECRET
    assert SECRET not in c.get("/ocpp/variables/").content.decode()


def test_the_table_fragment_for_a_change_by_the_backend(db):
    from ocppcfg import variables

    variables.change({"HeartbeatInterval": "77"}, origin="backend", by="backend")
    html = client(Role.OPERATOR).get("/ocpp/variables/?part=table", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<form class="panel ocpp-variables"')
    assert 'value="77"' in html


# --- live sockets --------------------------------------------------------------------------

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def _socket(path: str, role: Role):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from tests.conftest import session_cookie
    from wbm.asgi import application

    headers = [*SAME_ORIGIN, *await database_sync_to_async(session_cookie)(role)]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    return communicator, connected


async def _until(communicator: Any, pattern: str) -> str:
    import asyncio

    async with asyncio.timeout(5):
        while True:
            frame = await communicator.receive_from(timeout=5)
            if re.search(pattern, frame, re.S):
                return frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_status_socket_sends_the_connection_charge_points_and_queue(live_runtime):
    from channels.db import database_sync_to_async

    await database_sync_to_async(make_configured_chargepoint)(
        name="Ocpp-Live", release_mode=ReleaseMode.OCPP, ocpp_connector_id=1
    )
    communicator, connected = await _socket("/ws/ocpp/", Role.USER)
    assert connected
    try:
        frame = await _until(communicator, r'id="ocpp-connection"')
        assert re.search(r'id="ocpp-connection"[^>]*hx-swap-oob="true"', frame)
        assert 'data-connected="false"' in frame and "data-log-seq=" in frame
        assert 'id="ocpp-chargepoints"' in frame and "Ocpp-Live" in frame
        assert 'id="ocpp-queue"' in frame
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_variables_socket_sends_the_change_counter_to_operators_only(live_runtime):
    communicator, connected = await _socket("/ws/ocpp/variables/", Role.OPERATOR)
    assert connected
    try:
        frame = await _until(communicator, r'id="ocpp-values-seq"')
        assert re.search(r'<span id="ocpp-values-seq" hidden data-seq="\d+" hx-swap-oob="true">', frame)
    finally:
        await communicator.disconnect()
    _refused, connected = await _socket("/ws/ocpp/variables/", Role.USER)
    assert not connected
