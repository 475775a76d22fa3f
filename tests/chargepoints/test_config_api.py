"""/api/v1 charge point configuration: the same rules, services and roles as the pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chargepoints import importexport
from chargepoints.models import ChargePoint, ChargePointConfig
from tests.conftest import cp_id
from wbm.models import ChangeRecord
from wbm.roles import Role


def free_cp() -> ChargePoint:
    return ChargePoint.objects.get(station__hostname="ev3000-2", position=2)


def call(client, method: str, url: str, body: Any = None):
    data = "" if body is None else json.dumps(body)
    return client.generic(method, url, data=data, content_type="application/json")


@pytest.fixture
def manufacturer(park, client_as):
    return client_as(Role.MANUFACTURER)


def test_a_user_reads_a_configuration(park, client_as):
    response = client_as(Role.USER).get(f"/api/v1/chargepoints/{cp_id('P1-03')}/config/")
    assert response.status_code == 200
    data = response.json()
    assert (data["chargepoint"], data["configured"]) == (cp_id("P1-03"), True)
    assert data["config"]["name"] == "P1-03" and data["config"]["rfid_reader"] == "self"
    unconfigured = client_as(Role.USER).get(f"/api/v1/chargepoints/{free_cp().pk}/config/").json()
    assert (unconfigured["configured"], unconfigured["config"]) == (False, None)


def test_put_creates_a_configuration_and_returns_it(manufacturer):
    cp = free_cp()
    body = {
        **importexport.config_to_dict(ChargePointConfig.objects.get(name="P1-02")),
        "name": "P2-02",
        "controller_uid": "self",
        "current_max_a": 20,
    }
    response = call(manufacturer, "PUT", f"/api/v1/chargepoints/{cp.pk}/config/", body)
    assert response.status_code == 201, response.json()
    assert response.json()["config"] == body
    config = ChargePointConfig.objects.get(pk=cp.pk)
    assert (config.name, config.current_max_a, config.controller_uid) == ("P2-02", 20, cp.device_uid)
    assert ChangeRecord.objects.filter(action="chargepoint.config.create", source="api").count() == 1


def test_put_refuses_invalid_values_with_errors_per_field(manufacturer):
    body = {
        **importexport.config_to_dict(ChargePointConfig.objects.get(name="P1-02")),
        "current_min_a": 16,
        "current_max_a": 10,
        "meter_type": "acme",
        "name": "P1-01",
    }
    response = call(manufacturer, "PUT", f"/api/v1/chargepoints/{cp_id('P1-02')}/config/", body)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert set(data["errors"]) == {"current_max_a", "meter_type", "name"}
    assert "minimum (16 A)" in data["errors"]["current_max_a"][0]
    assert ChargePointConfig.objects.get(pk=cp_id("P1-02")).current_max_a == 16


def test_put_needs_every_field(manufacturer):
    response = call(manufacturer, "PUT", f"/api/v1/chargepoints/{cp_id('P1-02')}/config/", {"name": "X"})
    assert response.status_code == 400
    assert response.json()["errors"]["location"] == ["This field is required."]


def test_patch_changes_some_fields(manufacturer):
    response = call(
        manufacturer,
        "PATCH",
        f"/api/v1/chargepoints/{cp_id('P1-02')}/config/",
        {"current_max_a": 12, "location": "Bay 2"},
    )
    assert response.status_code == 200
    assert (response.json()["config"]["current_max_a"], response.json()["config"]["location"]) == (12, "Bay 2")
    assert ChangeRecord.objects.get(action="chargepoint.config.update").after["current_max_a"] == 12


def test_patch_refuses_unknown_fields_wrong_types_and_unconfigured_points(manufacturer):
    url = f"/api/v1/chargepoints/{cp_id('P1-02')}/config/"
    assert call(manufacturer, "PATCH", url, {"colour": "red"}).json()["errors"] == {"colour": ["Unknown field."]}
    assert "current_max_a" in call(manufacturer, "PATCH", url, {"current_max_a": "12"}).json()["errors"]
    response = call(manufacturer, "PATCH", f"/api/v1/chargepoints/{free_cp().pk}/config/", {"current_max_a": 12})
    assert (response.status_code, response.json()["code"]) == (404, "not_configured")


def test_patch_an_unresolvable_reader_is_explained(manufacturer):
    url = f"/api/v1/chargepoints/{free_cp().pk}/config/"
    base = {**importexport.config_to_dict(ChargePointConfig.objects.get(name="P1-03")), "name": "P2-02"}
    response = call(manufacturer, "PUT", url, {**base, "rfid_reader": {"position": 7}})
    assert response.status_code == 400
    assert "position 7 of station ev3000-2" in response.json()["errors"]["rfid_reader"][0]


def test_delete_restores_the_factory_default(manufacturer):
    url = f"/api/v1/chargepoints/{cp_id('P1-02')}/config/"
    target = cp_id("P1-02")
    assert call(manufacturer, "DELETE", url).status_code == 204
    assert not ChargePointConfig.objects.filter(pk=target).exists()
    again = call(manufacturer, "DELETE", url)
    assert (again.status_code, again.json()["code"]) == (404, "not_configured")


def test_export_gives_the_file(park, client_as):
    response = client_as(Role.USER).get(f"/api/v1/chargepoints/{cp_id('P1-01')}/config/export/")
    assert response.status_code == 200
    document = response.json()
    assert (document["kind"], document["version"], document["config"]["name"]) == ("wbm.chargepoint-config", 1, "P1-01")
    assert client_as(Role.USER).get(f"/api/v1/chargepoints/{free_cp().pk}/config/export/").status_code == 404


def test_import_dry_run_shows_changes_and_writes_nothing_then_writes(manufacturer):
    document = manufacturer.get(f"/api/v1/chargepoints/{cp_id('P1-02')}/config/export/").json()
    targets = [ChargePoint.objects.get(config__name="Visitor-01").pk, free_cp().pk]
    body = {"document": document, "targets": targets, "suffix": True, "dry_run": True}
    preview = call(manufacturer, "POST", "/api/v1/chargepoints/config/import/", body)
    assert preview.status_code == 200
    data = preview.json()
    assert data["written"] is False
    assert [(t["id"], t["name"], t["configured_before"]) for t in data["chargepoints"]] == [
        (targets[0], "P1-02-1", True),
        (targets[1], "P1-02-2", False),
    ]
    assert {"field": "name", "label": "Name", "before": "Visitor-01", "after": "P1-02-1"} in data["chargepoints"][0][
        "changes"
    ]
    assert not ChargePointConfig.objects.filter(name="P1-02-1").exists()
    written = call(manufacturer, "POST", "/api/v1/chargepoints/config/import/", {**body, "dry_run": False})
    assert written.status_code == 200 and written.json()["written"] is True
    assert sorted(ChargePointConfig.objects.filter(name__startswith="P1-02-").values_list("name", flat=True)) == [
        "P1-02-1",
        "P1-02-2",
    ]


def test_import_refuses_a_bad_document_naming_the_path(manufacturer):
    document = manufacturer.get(f"/api/v1/chargepoints/{cp_id('P1-02')}/config/export/").json()
    document["config"]["current_max_a"] = 40
    response = call(
        manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": [cp_id("P1-02")]}
    )
    assert response.status_code == 400
    (target,) = response.json()["chargepoints"]
    assert list(target["errors"]) == ["document.config.current_max_a"]
    document["version"] = 7
    response = call(
        manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": [cp_id("P1-02")]}
    )
    assert list(response.json()["errors"]) == ["document.version"]
    assert ChargePointConfig.objects.get(name="P1-02").current_max_a == 16


def test_import_refuses_unknown_or_repeated_targets(manufacturer):
    document = manufacturer.get(f"/api/v1/chargepoints/{cp_id('P1-02')}/config/export/").json()
    for targets in ([999], [cp_id("P1-02"), cp_id("P1-02")]):
        response = call(
            manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": targets}
        )
        assert response.status_code == 400 and "targets" in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_writes_need_the_manufacturer(park, client_as, role):
    client = client_as(role)
    url = f"/api/v1/chargepoints/{cp_id('P1-02')}/config/"
    assert call(client, "PATCH", url, {"current_max_a": 10}).status_code == 403
    assert call(client, "DELETE", url).status_code == 403
    assert call(client, "POST", "/api/v1/chargepoints/config/import/", {}).status_code == 403
    assert ChargePointConfig.objects.get(name="P1-02").current_max_a == 16


def test_a_guest_gets_401(park, client_as):
    assert client_as(Role.GUEST).get(f"/api/v1/chargepoints/{cp_id('P1-02')}/config/").status_code == 401
