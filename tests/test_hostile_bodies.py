"""Hostile request bodies get a 400 (or 411), never a 500, and cannot flood the log: JSON nested
too deep, text that is not valid Unicode, chunked writes, booleans that are not booleans."""

from __future__ import annotations

import http.client
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from chargepoints import importexport
from tests.conftest import cp_id, make_user
from wbm.errors import RateLimitedRequestErrors
from wbm.roles import Role
from wbm.runtime.bus import read_snapshot
from wbm.validation import MAX_JSON_DEPTH, InvalidUnicode, JsonTooDeep, load_json, refuse_invalid_unicode

LONE_SURROGATE_JSON = '"\\ud800"'  # valid JSON, but no UTF-8 text
NOT_UNICODE_EN = "The request contains text that is not valid Unicode."
NOT_BOOLEAN_EN = "Must be true or false (a JSON boolean)."


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _manufacturer() -> Client:
    client = Client()
    client.force_login(make_user(Role.MANUFACTURER))
    return client


def _post(client: Client, url: str, body: str, **extra: Any):
    return client.post(url, body, content_type="application/json", **extra)


# --- item 12: JSON nested too deep ------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_to_the_token_route_is_400_not_500(db, depth: int):
    response = _post(Client(), "/api/v1/auth/token/", nested(depth))
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.",
        "code": "parse_error",
    }


def test_json_up_to_the_limit_still_parses():
    assert load_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))


def test_deeply_nested_json_is_400_on_every_json_route(runtime):
    client = _manufacturer()
    pk = cp_id("P1-01")
    deep = nested(100_000)
    for method, url in [
        ("post", f"/api/v1/simulator/chargepoints/{pk}/fault/"),
        ("put", f"/api/v1/chargepoints/{pk}/config/"),
        ("patch", f"/api/v1/chargepoints/{pk}/config/"),
        ("post", "/api/v1/chargepoints/config/import/"),
        ("post", f"/api/v1/chargepoints/{pk}/release/"),
    ]:
        response = getattr(client, method)(url, deep, content_type="application/json")
        assert response.status_code == 400, url
        assert response.json()["code"] == "parse_error"


def test_a_deeply_nested_configuration_file_is_refused_naming_the_file():
    body = '{"kind": "wbm.chargepoint-config", "version": 1, "config": ' + nested(20_000) + "}"
    with pytest.raises(importexport.ConfigFileInvalid) as refused:
        importexport.parse_document(body.encode())
    assert [(e.path, e.message) for e in refused.value.errors] == [
        ("file", f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    ]


def test_the_import_page_refuses_a_deeply_nested_file(runtime):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("deep.json", nested(20_000).encode(), content_type="application/json")
    response = _manufacturer().post("/chargepoints/import/", {"file": upload, "targets": [cp_id("P1-01")]})
    assert response.status_code in (200, 400)
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.content.decode()


@pytest.fixture
def request_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[float]]:
    """The rate limit as configured in settings.LOGGING, a minute long, on a clock the test moves."""
    limiter = next(f for f in logging.getLogger("django.request").filters if isinstance(f, RateLimitedRequestErrors))
    now = [1000.0]
    monkeypatch.setattr(limiter, "interval_s", 60.0)
    monkeypatch.setattr(limiter, "clock", lambda: now[0])
    monkeypatch.setattr(limiter, "_seen", {})
    caplog.set_level(logging.INFO)
    return caplog, now


def test_repeated_bad_requests_from_one_client_are_one_line_a_minute_with_a_count(db, request_log):
    caplog, now = request_log
    deep = nested(100_000)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "django.request"]

    for _ in range(50):
        assert _post(Client(), "/api/v1/auth/token/", deep).status_code == 400
    assert lines() == ["Bad Request: /api/v1/auth/token/"]
    assert "Traceback" not in caplog.text

    # another client is logged at once
    _post(Client(REMOTE_ADDR="192.0.2.9"), "/api/v1/auth/token/", deep)
    assert len(lines()) == 2 and len(caplog.text) < 1000

    now[0] += 61
    caplog.clear()
    _post(Client(), "/api/v1/auth/token/", deep)
    assert lines() == ["Bad Request: /api/v1/auth/token/ (+49 more like this from 127.0.0.1 in the last 60 s)"]


def test_the_refusal_filter_still_keeps_a_refused_call_to_one_line(client_as, request_log):
    caplog, _now = request_log
    url = "/api/v1/system/agents/controller/restart/"
    assert client_as(Role.USER).post(url, {}, content_type="application/json").status_code == 403
    assert [r.name for r in caplog.records if url in r.getMessage()] == ["wbm.access"]


# --- item 13: text that is not valid Unicode -------------------------------------------------


def test_the_helper_refuses_a_lone_surrogate():
    assert refuse_invalid_unicode("Ladepunkt ä €") == "Ladepunkt ä €"
    with pytest.raises(InvalidUnicode):
        refuse_invalid_unicode("\ud800")
    with pytest.raises(JsonTooDeep):
        load_json(nested(MAX_JSON_DEPTH + 1))


def test_a_lone_surrogate_in_a_simulator_fault_is_400_and_the_dashboard_stays_up(runtime):
    pk = cp_id("P1-01")
    client = _manufacturer()
    body = '{"code": "OtherError", "info": ' + LONE_SURROGATE_JSON + "}"
    response = _post(client, f"/api/v1/simulator/chargepoints/{pk}/fault/", body)
    assert response.status_code == 400
    assert response.json() == {"detail": NOT_UNICODE_EN, "code": "parse_error"}
    runtime.step()
    assert read_snapshot().chargepoint(pk).error_code != "OtherError"  # type: ignore[union-attr]
    assert Client().get("/").status_code == 200


def test_a_lone_surrogate_as_a_key_or_in_a_configuration_name_is_400(runtime):
    pk = cp_id("P1-01")
    client = _manufacturer()
    for body in ['{"name": ' + LONE_SURROGATE_JSON + "}", "{" + LONE_SURROGATE_JSON + ": 1}"]:
        response = client.patch(f"/api/v1/chargepoints/{pk}/config/", body, content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"] == NOT_UNICODE_EN
    assert client.get(f"/api/v1/chargepoints/{pk}/config/").json()["config"]["name"] == "P1-01"


def test_a_configuration_file_with_a_lone_surrogate_is_refused_naming_the_file():
    body = '{"kind": "wbm.chargepoint-config", "version": 1, "config": {"name": ' + LONE_SURROGATE_JSON + "}}"
    with pytest.raises(importexport.ConfigFileInvalid) as refused:
        importexport.parse_document(body.encode())
    assert [(e.path, e.message) for e in refused.value.errors] == [
        ("file", "The file contains text that is not valid Unicode.")
    ]


def test_form_data_and_query_strings_that_are_not_utf8_are_400(runtime):
    client = _manufacturer()
    pk = cp_id("P1-01")
    page = client.generic(
        "POST",
        "/system/simulator/",
        f"cp={pk}&op=fault&fault-code=OtherError&fault-info=%ED%A0%80".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 400 and NOT_UNICODE_EN in page.content.decode()
    runtime.step()
    assert read_snapshot().chargepoint(pk).error_code != "OtherError"  # type: ignore[union-attr]
    query = client.get("/system/simulator/?cp=%ED%A0%80")
    assert query.status_code == 400 and NOT_UNICODE_EN in query.content.decode()
    api = client.get("/api/v1/park/?x=%FF")
    assert api.status_code == 400 and api.json() == {"detail": NOT_UNICODE_EN, "code": "invalid_unicode"}
    assert client.get("/system/simulator/?cp=" + str(pk) + "&q=%C3%A4").status_code == 200  # ä is fine


def test_the_dashboard_survives_a_state_string_that_cannot_be_encoded(runtime):
    # a fault message that got past every check (e.g. from hardware): the page must still show
    assert runtime.call("sim.fault", cp=cp_id("P1-01"), code="OtherError", info="bad \ud800 text")["ok"]
    runtime.step()
    response = Client().get("/")
    assert response.status_code == 200
    assert "P1-01" in response.content.decode()


# --- item 14: chunked request bodies --------------------------------------------------------


async def _asgi(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    from wbm.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(10)
    content = b""
    while True:
        message = await communicator.receive_output(10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], content


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_chunked_write_through_the_asgi_application_is_411():
    body = json.dumps({"username": "user", "password": "user"}).encode()
    status, content = await _asgi(
        "POST",
        "/api/v1/auth/token/",
        [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        body,
    )
    assert status == 411
    assert json.loads(content)["code"] == "length_required"
    page_status, page = await _asgi("PUT", "/chargepoints/1/config/", [(b"transfer-encoding", b"chunked")], b"x=1")
    assert page_status == 411 and b"send it with a Content-Length" in page


def test_a_chunked_body_sent_to_a_real_server_is_411(tmp_path: Path):
    from tests.e2e.conftest import WbmServer

    server = WbmServer(state_dir=tmp_path / "state").start()
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        body = json.dumps({"username": "user", "password": "user"}).encode()
        connection.request(
            "POST",
            "/api/v1/auth/token/",
            body=iter([body[:10], body[10:]]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 411, answer
        assert answer["code"] == "length_required"
        connection.close()
    finally:
        server.stop()


# --- item 15: booleans are JSON booleans on the API -----------------------------------------


@pytest.mark.parametrize("value", ["no", 0, 1, "true", None])
def test_a_boolean_that_is_not_a_json_boolean_is_400_and_changes_nothing(runtime, value: Any):
    client = _manufacturer()
    pk = cp_id("P1-01")
    before = read_snapshot().chargepoint(pk)
    for url, field in [
        (f"/api/v1/chargepoints/{pk}/release/", "allow"),
        (f"/api/v1/chargepoints/{pk}/availability/", "enabled"),
        (f"/api/v1/chargepoints/{pk}/unlock/", "enforce"),
        (f"/api/v1/chargepoints/{pk}/lock/", "locked"),
    ]:
        response = client.post(url, {field: value}, content_type="application/json")
        assert response.status_code == 400, url
        assert response.json()["errors"][field] == [
            NOT_BOOLEAN_EN if value is not None else "This field may not be null."
        ]
    runtime.step()
    after = read_snapshot().chargepoint(pk)
    assert (after.enabled, after.release, after.unlock_enforced) == (
        before.enabled,
        before.release,
        before.unlock_enforced,
    )  # type: ignore[union-attr]


def test_an_import_with_dry_run_no_is_refused_and_writes_nothing(runtime):
    client = _manufacturer()
    pk = cp_id("P1-01")
    document = client.get(f"/api/v1/chargepoints/{pk}/config/export/").json()
    document["config"]["location"] = "changed by a dry run"
    for field in ("dry_run", "suffix"):
        payload = {"document": document, "targets": [pk], "dry_run": True, "suffix": False, field: "no"}
        response = client.post("/api/v1/chargepoints/config/import/", payload, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"][field] == [NOT_BOOLEAN_EN]
    assert client.get(f"/api/v1/chargepoints/{pk}/config/").json()["config"]["location"] != "changed by a dry run"


def test_the_simulator_api_takes_only_json_booleans(runtime):
    client = _manufacturer()
    pk = cp_id("P1-01")
    url = f"/api/v1/simulator/chargepoints/{pk}/plug_in/"
    response = _post(client, url, json.dumps({"phases": 3, "max_current_a": 16, "ventilation": "no"}))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["ventilation"]
    assert response.json()["errors"]["ventilation"][0]["message"] == NOT_BOOLEAN_EN
    runtime.step()
    assert read_snapshot().chargepoint(pk).vehicle is None  # type: ignore[union-attr]
    ok = _post(client, url, json.dumps({"phases": 3, "max_current_a": 16, "ventilation": False, "hlc": True}))
    assert ok.status_code == 200
