"""The MQTT bridge page and /api/v1/mqtt/: the password is write-only (never on the page, in the
API, the audit or the logs of the page), bad input in every text field is refused and nothing is
written, the certificate must be PEM, Clear configuration, Add row, the information pop-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mqttbridge.models import BridgeSettings, ForwardRow
from tests.mqtt.conftest import make_ca
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

URL = "/network/mqtt/"
API = "/api/v1/mqtt/"
PASSWORD = "Very-secret-pw1"
BROKER = {
    "host": "broker.example.com",
    "port": 8883,
    "username": "station",
    "password": PASSWORD,
    "added_prefix": "CHARX",
    "station_name": "Test station",
    "location": "Blomberg",
    "action": "save",
}


@pytest.fixture(autouse=True)
def state(settings, tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    settings.STATE_DIR = tmp_path

    def call(command: commands.Command) -> dict[str, Any]:
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return tmp_path / "system" / "mosquitto"


def test_password_is_write_only_everywhere(client_as, state) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    assert client.post(URL, BROKER).status_code == 200
    assert BridgeSettings.objects.get().password == PASSWORD
    page = client.get(URL).content.decode()
    assert PASSWORD not in page and "A password is stored." in page
    document = client.get(API).json()
    assert PASSWORD not in str(document) and document["broker"]["password_set"] is True
    assert PASSWORD not in str(list(ChangeRecord.objects.values_list("before", "after")))
    # saving again with an empty password keeps it; clear_password removes it
    client.post(URL, {**BROKER, "password": "", "location": "Bad Salzuflen"})
    assert BridgeSettings.objects.get().password == PASSWORD
    done = client.put(
        API, {"host": "broker.example.com", "clear_password": True}, content_type="application/json"
    ).json()
    assert done["broker"]["password_set"] is False
    assert (state / "bridge.conf").stat().st_mode & 0o777 == 0o600


BAD_TEXT = ["a\nb", "a\x00b", "x" * 300, "a\u202eb", 'pw "; reboot']
FREE_TEXT = ("station_name", "location")  # shell characters are stored inertly there: see the next test


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        (field, bad)
        for field in ("host", "username", "password", "added_prefix", *FREE_TEXT)
        for bad in BAD_TEXT
        if not (field in FREE_TEXT and bad == 'pw "; reboot')
    ],
)
def test_bad_input_in_every_text_field_is_refused(client_as, field: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    response = client_as(Role.OPERATOR).post(URL, {**BROKER, field: bad})
    assert response.status_code == 400
    assert not BridgeSettings.objects.exists()


def test_free_text_with_shell_characters_is_stored_inertly(client_as, state) -> None:  # type: ignore[no-untyped-def]
    name = 'Hall "A"; $(reboot) <b>'
    client = client_as(Role.OPERATOR)
    client.post(URL, {**BROKER, "station_name": name})
    assert BridgeSettings.objects.get().station_name == name
    assert name not in (state / "bridge.conf").read_text()  # only in the JSON payload of "config"
    assert "&lt;b&gt;" in client.get(URL).content.decode()


def test_invalid_unicode_in_the_api_is_refused(client_as) -> None:  # type: ignore[no-untyped-def]
    response = client_as(Role.OPERATOR).generic("PUT", API, b'{"host": "a\\udcffb"}', content_type="application/json")
    assert response.status_code == 400
    assert not BridgeSettings.objects.exists()


def test_certificate_must_be_pem_without_a_key(client_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    for raw in (b"not a certificate", b"\xff\xfe", make_ca(tmp_path).key.read_bytes()):
        response = client.post(URL, {"action": "certificate", "certificate": SimpleUploadedFile("x.pem", raw)})
        assert response.status_code == 400
    ca = make_ca(tmp_path)
    response = client.post(
        URL,
        {"action": "certificate", "certificate": SimpleUploadedFile("broker-ca.pem", ca.ca_pem + ca.key.read_bytes())},
    )
    assert response.status_code == 400 and "private key" in response.content.decode()
    response = client.post(
        URL, {"action": "certificate", "certificate": SimpleUploadedFile("broker-ca.pem", ca.ca_pem)}
    )
    assert response.status_code == 200 and "broker-ca.pem" in client.get(URL).content.decode()
    api = client.post(API + "certificate/", {"pem": "junk"}, content_type="application/json")
    assert api.status_code == 400


def test_rows_add_row_info_popup_and_clear(client_as, state) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    client.post(URL, BROKER)
    device = BridgeSettings.objects.get().device_id
    added = client.post(
        URL,
        {"action": "add_row", "local_topic": ["wbm/park"], "remote_topic": ["park"], "direction": ["out"]},
        HTTP_HX_REQUEST="true",
    )
    assert added.content.decode().count('name="local_topic"') == 2
    bad = client.post(
        URL,
        {
            "action": "rows",
            "local_topic": ["wbm/chargepoint/+/status"],
            "remote_topic": ["status"],
            "direction": ["out"],
        },
    )
    assert bad.status_code == 400 and not ForwardRow.objects.exists()
    ok = client.post(
        URL,
        {
            "action": "rows",
            "local_topic": ["wbm/chargepoint/+/status", ""],
            "remote_topic": ["cp/+/status", ""],
            "direction": ["out", "out"],
        },
    )
    assert ok.status_code == 200 and ForwardRow.objects.count() == 1
    page = client.get(URL).content.decode()
    assert f"CHARX/ev3000/{device}/cp/+/status" in page and "data-copy=" in page
    assert f"topic +/status out 0 wbm/chargepoint/ CHARX/ev3000/{device}/cp/" in (state / "bridge.conf").read_text()
    api = client.put(
        API + "topics/",
        {"topics": [{"local_topic": "wbm/park", "remote_topic": "park", "direction": "both"}]},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["topics"][0]["full_remote_topic"] == f"CHARX/ev3000/{device}/park"
    client.post(URL, {"action": "clear"})
    stored = BridgeSettings.objects.get()
    assert stored.host == "" and stored.password == "" and not ForwardRow.objects.exists()
    assert stored.device_id == device
    assert "no remote broker configured" in (state / "bridge.conf").read_text()


def test_user_role_cannot_read_or_change_the_bridge(client_as) -> None:  # type: ignore[no-untyped-def]
    assert client_as(Role.USER).get(URL).status_code == 403
    assert client_as(Role.USER).put(API, {"host": "x"}, content_type="application/json").status_code == 403
    assert client_as(Role.MANUFACTURER).get(URL).status_code == 200
