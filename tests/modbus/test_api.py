"""/api/v1/modbus/: the Modbus page's data, its rules (all or nothing), roles and ETag."""

from __future__ import annotations

import json
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

URL = "/api/v1/modbus/"


@pytest.fixture
def park(db) -> list[int]:
    load_demo_park()
    return list(ChargePoint.objects.order_by("station_id", "position").values_list("pk", flat=True))


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def _client(role: Role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def _patch(client: Client, body: Any, **headers: Any):
    return client.patch(URL, json.dumps(body), content_type="application/json", **headers)


def test_get_lists_every_charge_point_with_its_addresses_the_switch_and_the_server(park):
    response = _client(Role.OPERATOR).get(URL)
    assert response.status_code == 200
    assert response["ETag"] == '"0"'
    body = response.json()
    assert [a["chargepoint"] for a in body["addresses"]] == park
    assert [a["effective_address"] for a in body["addresses"]] == [1000 * n for n in range(1, len(park) + 1)]
    assert all(a["start_address"] == -1 for a in body["addresses"])
    assert body["addresses"][0]["name"] == "P1-01"
    assert body["allow_restart"] is False
    assert body["server"] is None  # no runtime in this test
    assert body["revision"] == 0


@pytest.mark.parametrize(("role", "status"), [(Role.GUEST, 401), (Role.USER, 403)])
def test_below_operator_is_refused(park, role, status):
    assert _client(role).get(URL).status_code == status
    assert _patch(_client(role), {"allow_restart": True}).status_code == status
    assert not ModbusSettings.objects.exists()


def test_patch_sets_every_address_records_and_tells_the_runtime(park, sent, django_capture_on_commit_callbacks):
    body = {"addresses": [{"chargepoint": pk, "start_address": 1000 * (len(park) - n)} for n, pk in enumerate(park)]}
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(_client(Role.OPERATOR), body)
    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"1"'
    answer = response.json()
    assert [a["effective_address"] for a in answer["addresses"]] == [1000 * (len(park) - n) for n in range(len(park))]
    assert sent == ["modbus.reload"]
    record = ChangeRecord.objects.get(action="modbus.settings.update")
    assert record.source == "api" and record.role == "operator"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(2500, "multiple of 1000"), (0, "from 1000 to 48000"), (48001, "from 1000 to 48000"), (-5, "from 1000")],
)
def test_a_bad_address_is_refused_with_its_field_error_and_nothing_written(park, sent, value, fragment):
    body = {"addresses": [{"chargepoint": pk, "start_address": 1000 * (n + 1)} for n, pk in enumerate(park)]}
    body["addresses"][0]["start_address"] = value
    response = _patch(_client(Role.OPERATOR), body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid"
    assert list(answer["errors"]) == [f"addresses.{park[0]}"]
    assert fragment in answer["errors"][f"addresses.{park[0]}"][0]
    assert not ModbusStartAddress.objects.exists() and sent == []


def test_a_partial_patch_that_would_mix_is_refused_at_the_others(park):
    response = _patch(_client(Role.OPERATOR), {"addresses": [{"chargepoint": park[0], "start_address": 3000}]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "reachable via Modbus only if theirs are assigned manually too" in response.json()["detail"]
    assert set(errors) == {f"addresses.{pk}" for pk in park[1:]}
    assert all(m[0].startswith("Mixed operation is not possible") for m in errors.values())


def test_duplicates_unknown_and_repeated_charge_points_are_refused(park):
    client = _client(Role.OPERATOR)
    body = {"addresses": [{"chargepoint": pk, "start_address": 1000 * (n + 1)} for n, pk in enumerate(park)]}
    body["addresses"][1]["start_address"] = 1000
    errors = _patch(client, body).json()["errors"]
    assert set(errors) == {f"addresses.{park[0]}", f"addresses.{park[1]}"}
    unknown = _patch(client, {"addresses": [{"chargepoint": 99999, "start_address": -1}]})
    assert unknown.status_code == 400 and "addresses.99999" in unknown.json()["errors"]
    twice = [{"chargepoint": park[0], "start_address": -1}, {"chargepoint": park[0], "start_address": -1}]
    assert _patch(client, {"addresses": twice}).status_code == 400
    bads: list[Any] = [
        {"addresses": [{"chargepoint": park[0], "start_address": "1000; reboot"}]},
        {"allow_restart": "yes"},
        [],
    ]
    for bad in bads:
        response = _patch(client, bad)
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not ModbusStartAddress.objects.exists() and not ModbusSettings.objects.exists()


def test_allow_restart_and_if_match(park, sent):
    client = _client(Role.OPERATOR)
    stale = _patch(client, {"allow_restart": True}, HTTP_IF_MATCH='"7"')
    assert stale.status_code == 412 and stale.json()["revision"] == 0
    etag = client.get(URL)["ETag"]
    ok = _patch(client, {"allow_restart": True}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["allow_restart"] is True and ok["ETag"] == '"1"'
    again = _patch(client, {"allow_restart": False}, HTTP_IF_MATCH=etag)
    assert again.status_code == 412
    assert ModbusSettings.objects.get().allow_restart is True


def test_an_empty_patch_changes_nothing(park, sent):
    response = _patch(_client(Role.OPERATOR), {})
    assert response.status_code == 200 and response.json()["revision"] == 0
    assert sent == [] and not ChangeRecord.objects.filter(action="modbus.settings.update").exists()
