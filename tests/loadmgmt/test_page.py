"""The Load Management page and API: who may see and change what, every bad input refused at
its field (English and German) with nothing written, the audit record, the runtime told after
the commit, ETag/If-Match; the status shows the allocation with its reasons."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from chargepoints.demo import load_demo_park
from chargepoints.models import ChargePoint, ChargePointConfig
from loadmgmt.models import LoadCircuit
from tests.conftest import make_user
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

URL = "/loadmanagement/"
API = "/api/v1/loadmgmt/"
CONFIG_API = "/api/v1/loadmgmt/config/"


@pytest.fixture
def park(db) -> list[int]:
    load_demo_park()
    return list(ChargePoint.objects.filter(config__isnull=False).order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def _client(role: Role, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def _form(park: list[int], **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "revision": "",
        "park_name": "Garage",
        "fuse_a": "32",
        "threshold_a": "4",
        "meter_connection": "none",
        "strategy": "equal",
        "chargepoints": [str(pk) for pk in park],
    }
    data.update({k: v for k, v in values.items() if v is not None})
    return data


def _field_errors(html: str, name: str) -> list[str]:
    block = re.search(rf'id="id_{name}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


def _rs485_without_meter() -> int:
    return ChargePoint.objects.get(config__name="Visitor-01").pk  # no energy measuring device


BAD = [
    ("fuse_a", {"fuse_a": "0"}, "A fuse value must be at least 1 A."),
    ("fuse_a", {"fuse_a": "-16"}, "A fuse value must be at least 1 A."),
    ("fuse_a", {"fuse_a": "631"}, "A fuse value can be at most 630 A."),
    ("fuse_a", {"fuse_a": "abc"}, "Enter a whole number."),
    ("fuse_a", {"fuse_a": ""}, "Enter the fuse value of the load circuit."),
    ("threshold_a", {"threshold_a": "0"}, "The threshold must be between 1 A and 32 A."),
    (
        "meter_ip",
        {"meter_connection": "tcp", "meter_ip": "not-an-ip", "meter_type": "eem_em377", "higher_fuse_a": "63"},
        "Enter an IPv4 address, e.g. 192.168.1.20.",
    ),
    (
        "meter_ip",
        {"meter_connection": "tcp", "meter_ip": "192.168.4.20", "meter_type": "eem_em377", "higher_fuse_a": "63"},
        "Addresses in 192.168.4.x and 192.168.5.x are reserved",
    ),
    (
        "meter_ip",
        {"meter_connection": "tcp", "meter_ip": "192.168.5.7", "meter_type": "eem_ma370", "higher_fuse_a": "63"},
        "Addresses in 192.168.4.x and 192.168.5.x are reserved",
    ),
    (
        "meter_ip",
        {"meter_connection": "tcp", "meter_ip": "", "meter_type": "eem_ma370", "higher_fuse_a": "63"},
        "Enter the IP address of the measuring device.",
    ),
    (
        "meter_type",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "", "higher_fuse_a": "63"},
        "Choose the energy measuring device type.",
    ),
    (
        "higher_fuse_a",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "eem_ma370", "higher_fuse_a": "0"},
        "A fuse value must be at least 1 A.",
    ),
    (
        "higher_fuse_a",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "eem_ma370", "higher_fuse_a": "-1"},
        "A fuse value must be at least 1 A.",
    ),
    (
        "higher_fuse_a",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "eem_ma370", "higher_fuse_a": "20"},
        "The feed-in fuse also protects the load circuit",
    ),
    (
        "higher_fuse_a",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "eem_ma370", "higher_fuse_a": "1000"},
        "A fuse value can be at most 630 A.",
    ),
    (
        "higher_fuse_a",
        {"meter_connection": "tcp", "meter_ip": "10.0.0.5", "meter_type": "eem_ma370", "higher_fuse_a": ""},
        "Enter the fuse value of the feed-in",
    ),
    (
        "rs485_chargepoint",
        {"meter_connection": "rs485", "higher_fuse_a": "63"},
        "Choose the charging point the measuring device is connected to.",
    ),
]


@pytest.mark.parametrize(("field", "values", "message"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_every_bad_input_is_refused_at_its_field_and_nothing_is_written(park, sent, field, values, message):
    response = _client(Role.OPERATOR).post(URL, _form(park, **values), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    errors = _field_errors(html, field)
    assert errors and errors[0].startswith(message), errors
    assert 'data-testid="lm-invalid"' in html
    assert not LoadCircuit.objects.exists() and sent == []


def test_a_fuse_below_a_minimum_current_is_refused_a_busy_park_only_noted(park, sent):
    big = park[0]
    ChargePointConfig.objects.filter(pk=big).update(current_min_a=10)
    html = _client(Role.OPERATOR).post(URL, _form(park, fuse_a="8"), HTTP_HX_REQUEST="true").content.decode()
    assert _field_errors(html, "fuse_a")[0].startswith("The fuse value must be at least the minimum charging current")
    assert not LoadCircuit.objects.exists()
    # below the sum of the minimums (10 + 6 + 6 + 6) but above each: the manual pauses vehicles
    html = _client(Role.OPERATOR).post(URL, _form(park, fuse_a="20"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="lm-saved"' in html and 'data-testid="lm-shortfall"' in html
    assert "add up to 28 A" in html


def test_rs485_needs_a_chargepoint_with_a_meter_of_that_type(park, sent):
    values = {"meter_connection": "rs485", "higher_fuse_a": "63", "rs485_chargepoint": str(_rs485_without_meter())}
    html = _client(Role.OPERATOR).post(URL, _form(park, **values), HTTP_HX_REQUEST="true").content.decode()
    # Visitor-01 is not even offered: the choice is refused as such
    assert _field_errors(html, "rs485_chargepoint")
    assert not LoadCircuit.objects.exists()


def test_bad_input_in_german_is_refused_at_the_field(park, sent):
    response = _client(Role.OPERATOR, "de").post(
        URL, _form(park, fuse_a="abc", threshold_a="0"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert _field_errors(html, "fuse_a") == ["Bitte eine ganze Zahl eingeben."]  # Django's own German
    assert _field_errors(html, "threshold_a")  # ours, German once the catalogue has it
    assert "Lastmanagement" in _client(Role.OPERATOR, "de").get(URL).content.decode()
    assert not LoadCircuit.objects.exists()


def test_a_valid_save_writes_records_and_tells_the_runtime_after_commit(park, sent, django_capture_on_commit_callbacks):
    values = {
        "meter_connection": "tcp",
        "meter_ip": "10.0.0.5",
        "meter_type": "eem_em377",
        "higher_fuse_a": "63",
        "rs485_chargepoint": "1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(Role.OPERATOR).post(URL, _form(park, **values), HTTP_HX_REQUEST="true")
    assert 'data-testid="lm-saved"' in response.content.decode()
    circuit = LoadCircuit.objects.get()
    assert (circuit.fuse_a, circuit.meter_ip, circuit.meter_type, circuit.higher_fuse_a) == (
        32,
        "10.0.0.5",
        "eem_em377",
        63,
    )
    assert circuit.rs485_chargepoint_id is None  # only with RS-485
    assert sorted(circuit.chargepoints.values_list("pk", flat=True)) == park
    assert sent == ["loadmgmt.reload"]
    record = ChangeRecord.objects.get(action="loadmgmt.circuit.update")
    after, before = record.after or {}, record.before or {}
    assert after["meter_ip"] == "10.0.0.5" and before["meter_connection"] == "none"
    assert "fuse_a" not in after  # 32 A, as it was
    # switching the meter off resets what no longer applies
    _client(Role.OPERATOR).post(URL, _form(park, revision="1"), HTTP_HX_REQUEST="true")
    circuit.refresh_from_db()
    assert (circuit.meter_ip, circuit.meter_type, circuit.higher_fuse_a) == (None, "", None)


def test_the_connection_type_shows_its_own_fields(park):
    client = _client(Role.OPERATOR)
    html = client.get(URL).content.decode()
    assert 'name="meter_ip"' not in html and 'name="rs485_chargepoint"' not in html
    html = client.post(URL, _form(park, meter_connection="tcp", refresh="1"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="meter_ip"' in html and 'name="meter_type"' in html and 'name="higher_fuse_a"' in html
    assert "errorlist" not in html
    html = client.post(URL, _form(park, meter_connection="rs485", refresh="1"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="rs485_chargepoint"' in html and 'name="meter_ip"' not in html
    assert "Visitor-01</option>" not in html  # no meter: not offered for RS-485
    assert not LoadCircuit.objects.exists()


def test_a_user_sees_status_and_configuration_but_cannot_change_it(park, sent):
    html = _client(Role.USER).get(URL).content.decode()
    assert 'data-testid="lm-config-view"' in html and 'id="lm-form"' not in html
    assert _client(Role.USER).post(URL, _form(park)).status_code == 403
    assert _client(Role.USER).patch(CONFIG_API, "{}", content_type="application/json").status_code == 403
    assert _client(Role.GUEST).get(URL).status_code == 302
    assert not LoadCircuit.objects.exists()


def _patch(client: Client, body: Any, **headers: Any):  # type: ignore[no-untyped-def]
    return client.patch(CONFIG_API, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_api_refuses_bad_input_per_field_in_the_requests_language(park, sent, language):
    client = _client(Role.OPERATOR, language)
    response = _patch(
        client,
        {
            "fuse_a": -5,
            "meter_connection": "tcp",
            "meter_ip": "192.168.5.1",
            "meter_type": "eem_ma370",
            "higher_fuse_a": 0,
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"fuse_a", "meter_ip", "higher_fuse_a"}
    assert not LoadCircuit.objects.exists() and sent == []


def test_the_api_patch_with_etag_and_a_stale_if_match(park, sent, django_capture_on_commit_callbacks):
    client = _client(Role.OPERATOR)
    got = client.get(CONFIG_API)
    assert got["ETag"] == '"0"' and got.json()["chargepoints"] == []
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, {"fuse_a": 40, "chargepoints": park[:2]}, HTTP_IF_MATCH='"0"')
    assert response.status_code == 200 and response["ETag"] == '"1"'
    assert response.json()["fuse_a"] == 40 and response.json()["chargepoints"] == park[:2]
    stale = _patch(client, {"fuse_a": 50}, HTTP_IF_MATCH='"0"')
    assert stale.status_code == 412 and stale.json()["revision"] == 1
    assert LoadCircuit.objects.get().fuse_a == 40
    assert sent == ["loadmgmt.reload"]


def test_the_status_api_without_a_runtime_says_not_active(park):
    body = _client(Role.USER).get(API).json()
    assert body["active"] is False and body["points"] == [] and body["monitored"] == 0
