"""/api/v1/ocpp/…: settings (write-only key), certificate, variables (all or nothing), status,
messages and restart, with the pages' roles and rules."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chargepoints.choices import ReleaseMode
from ocppcfg.models import ConfigurationValue, Direction, MessageLog, OcppSettings
from tests.conftest import make_user
from tests.factories import make_configured_chargepoint
from tests.ocpp.test_pages import SECRET, make_pem
from wbm.roles import Role
from wbm.runtime import commands

URL_OK = "wss://backend.example:443/ocpp/CB-0042"


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def api(role: Role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def patch(client: Client, url: str, body: Any):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


ROUTES = [
    ("get", "/api/v1/ocpp/status/", Role.USER),
    ("get", "/api/v1/ocpp/messages/", Role.USER),
    ("get", "/api/v1/ocpp/settings/", Role.OPERATOR),
    ("patch", "/api/v1/ocpp/settings/", Role.OPERATOR),
    ("get", "/api/v1/ocpp/variables/", Role.OPERATOR),
    ("patch", "/api/v1/ocpp/variables/", Role.OPERATOR),
    ("get", "/api/v1/ocpp/certificate/", Role.OPERATOR),
    ("delete", "/api/v1/ocpp/certificate/", Role.OPERATOR),
    ("post", "/api/v1/ocpp/restart/", Role.OPERATOR),
]


@pytest.mark.parametrize(("method", "url", "minimum"), ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_every_ocpp_api_route_answers_its_role(db, sent, method, url, minimum):
    for role in Role:
        client = api(role)
        response = patch(client, url, {}) if method == "patch" else getattr(client, method)(url)
        if role >= minimum:
            assert response.status_code in (200, 202, 204), (role, response.content)
        else:
            assert response.status_code == (401 if role == Role.GUEST else 403), role


def test_settings_never_answer_the_key_and_an_empty_key_keeps_it(db, sent, django_capture_on_commit_callbacks):
    client = api(Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(client, "/api/v1/ocpp/settings/", {"backend_url": URL_OK, "authorization_key": SECRET})
    assert response.status_code == 200, response.content
    body = response.json()
    assert SECRET not in response.content.decode() and "authorization_key" not in body
    assert body["authorization_key_set"] is True and body["charge_box_id"] == "CB-0042"
    assert body["protocol"] == "ocpp1.6j" and body["certificate"] is None
    assert set(body) >= {"backend_url", "network_interface", "authorization_user", "model", "vendor", "serial_number"}
    patch(client, "/api/v1/ocpp/settings/", {"authorization_key": "", "model": "M2"})
    assert OcppSettings.load().authorization_key == SECRET and OcppSettings.load().model == "M2"
    assert SECRET not in client.get("/api/v1/ocpp/settings/").content.decode()
    response = patch(client, "/api/v1/ocpp/settings/", {"clear_authorization_key": True})
    assert response.json()["authorization_key_set"] is False
    assert sent == ["ocpp.reload"]  # the others' reloads run at the test's (rolled back) commit


@pytest.mark.parametrize(
    "url",
    [
        "ws://backend.example/ocpp/CB;rm -rf",
        "ws://backend.example/ocpp/`id`",
        "ws://backend example/CB-1",
        "http://backend.example/CB-1",
        "ftp://backend.example/CB-1",
        "ws://backend.example",
        "ws://backend.example/CB-1|sh",
    ],
)
def test_a_bad_backend_url_is_refused_with_its_reason_and_nothing_is_written(db, sent, url):
    response = patch(api(Role.OPERATOR), "/api/v1/ocpp/settings/", {"backend_url": url, "model": "X"})
    assert response.status_code == 400
    assert response.json()["errors"]["backend_url"]
    assert not OcppSettings.objects.exists() and sent == []


def test_network_interface_is_one_of_ppp0_wlan0_eth0(db, sent):
    client = api(Role.OPERATOR)
    assert patch(client, "/api/v1/ocpp/settings/", {"network_interface": "wlan0"}).status_code == 200
    assert patch(client, "/api/v1/ocpp/settings/", {"network_interface": "tun0"}).status_code == 400
    assert OcppSettings.load().network_interface == "wlan0"


def test_a_certificate_is_uploaded_as_pem_text_or_a_file_and_deleted(db, sent):
    client = api(Role.OPERATOR)
    patch(client, "/api/v1/ocpp/settings/", {"backend_url": URL_OK})
    response = client.post(
        "/api/v1/ocpp/certificate/",
        data=json.dumps({"pem": make_pem(cn="Api CA").decode()}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["certificate"]["subject"] == "CN=Api CA"
    assert client.get("/api/v1/ocpp/settings/").json()["certificate"]["subject"] == "CN=Api CA"
    upload = SimpleUploadedFile("ca.pem", make_pem(cn="File CA"), content_type="application/x-pem-file")
    response = client.post("/api/v1/ocpp/certificate/", {"file": upload})
    assert response.status_code == 201 and response.json()["certificate"]["subject"] == "CN=File CA"
    assert client.delete("/api/v1/ocpp/certificate/").status_code == 204
    assert OcppSettings.load().ca_certificate == "" and client.get("/api/v1/ocpp/certificate/").json() == {
        "certificate": None
    }


@pytest.mark.parametrize(
    ("url", "pem", "code"),
    [
        ("ws://backend.example/CB-1", make_pem(), "wss://"),
        (URL_OK, b"not a certificate", "PEM"),
        (URL_OK, make_pem(expired=True), "expired"),
    ],
    ids=["ws-url", "not-pem", "expired"],
)
def test_a_bad_certificate_is_refused(db, sent, url, pem, code):
    client = api(Role.OPERATOR)
    patch(client, "/api/v1/ocpp/settings/", {"backend_url": url})
    response = client.post(
        "/api/v1/ocpp/certificate/", data=json.dumps({"pem": pem.decode()}), content_type="application/json"
    )
    assert response.status_code == 400
    assert code in " ".join(response.json()["errors"]["certificate"])
    assert OcppSettings.load().ca_certificate == ""


def test_variables_answer_value_readonly_meaning_group_and_unit(db, sent):
    patch(api(Role.OPERATOR), "/api/v1/ocpp/settings/", {"authorization_key": SECRET})
    response = api(Role.OPERATOR).get("/api/v1/ocpp/variables/")
    body = response.json()
    assert body["HeartbeatInterval"] == {
        "value": "300",
        "readonly": False,
        "meaning": body["HeartbeatInterval"]["meaning"],
        "group": "ocpp",
        "unit": "s",
        "kind": "int",
        "minimum": 0,
        "maximum": 86400,
    }
    assert body["GlobalMaxCurrent"]["group"] == "charx" and body["GlobalMaxCurrent"]["unit"] == "A"
    assert body["NumberOfConnectors"]["readonly"] is True
    assert body["AuthorizationKey"]["value"] == "****" and SECRET not in response.content.decode()


def test_patching_variables_is_all_or_nothing_with_errors_per_key(db, sent, django_capture_on_commit_callbacks):
    client = api(Role.OPERATOR)
    response = patch(
        client,
        "/api/v1/ocpp/variables/",
        {
            "HeartbeatInterval": 120,
            "GlobalMaxCurrent": 100000,
            "NumberOfConnectors": 3,
            "NoSuchKey": 1,
            "FreeMode": "maybe",
        },
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"GlobalMaxCurrent", "NumberOfConnectors", "NoSuchKey", "FreeMode"}
    assert not ConfigurationValue.objects.exists() and sent == []
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(client, "/api/v1/ocpp/variables/", {"HeartbeatInterval": 120, "FreeMode": True})
    assert response.status_code == 200
    assert response.json()["HeartbeatInterval"]["value"] == "120" and response.json()["FreeMode"]["value"] == "true"
    assert sent == ["ocpp.reload"]
    assert patch(client, "/api/v1/ocpp/variables/", [1, 2]).status_code == 400


def test_status_lists_the_ocpp_charge_points_and_the_connection(db):
    cp = make_configured_chargepoint(name="Ocpp-Two", release_mode=ReleaseMode.OCPP, ocpp_connector_id=2)
    make_configured_chargepoint(name="Ocpp-NoId", release_mode=ReleaseMode.OCPP, ocpp_connector_id=-1)
    make_configured_chargepoint(name="Dash", release_mode=ReleaseMode.DASHBOARD)
    body = api(Role.USER).get("/api/v1/ocpp/status/").json()
    assert body["connected"] is False and body["since"] is None and body["last_heartbeat"] is None
    assert body["queue"] == {"count": 0, "oldest": None, "items": []}
    assert [(c["id"], c["connector_id"]) for c in body["chargepoints"]] == [(cp.pk, 2)]
    assert body["without_connector_id"] == ["Ocpp-NoId"]
    assert body["agent"] is None and body["runtime"]["alive"] is False


def test_messages_answer_the_last_50_newest_first(db):
    now = timezone.now()
    for i in range(60):
        MessageLog.objects.create(
            at=now + timedelta(seconds=i),
            direction=Direction.SENT,
            message_type=2,
            unique_id=f"u{i}",
            action="Heartbeat",
            payload="{}",
        )
    body = api(Role.USER).get("/api/v1/ocpp/messages/").json()
    assert len(body) == 50 and body[0]["unique_id"] == "u59" and body[-1]["unique_id"] == "u10"
    assert set(body[0]) == {"id", "at", "direction", "message_type", "unique_id", "action", "payload"}


def test_restart_restarts_the_ocpp_agent_and_says_when_no_runtime_runs(db, monkeypatch):
    client = api(Role.OPERATOR)
    response = client.post("/api/v1/ocpp/restart/")
    assert response.status_code == 503 and response.json()["detail"]
    told: list[Any] = []

    def call(command: commands.Command) -> dict[str, Any]:
        told.append(command)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    assert client.post("/api/v1/ocpp/restart/").status_code == 202
    assert [(t.name, t.agent) for t in told] == [("agent.restart", "ocpp")]
