"""/api/v1 charge point configuration: the same rules, services and roles as the pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from chargepoints import importexport
from chargepoints.choices import ReleaseMode
from chargepoints.models import ChargePoint, ChargePointConfig
from tests.factories import make_chargepoint, make_configured_chargepoint
from wbm.models import ChangeRecord
from wbm.roles import Role


@dataclass(frozen=True)
class Points:
    permanent: ChargePoint  # permanent release, a meter, at most 16 A
    reader: ChargePoint  # whitelist release with its own RFID reader
    other: ChargePoint  # configured too: a name to collide with, a target to import over
    free: ChargePoint  # factory default, no configuration


@pytest.fixture
def points(db) -> Points:
    return Points(
        permanent=make_configured_chargepoint(release_mode=ReleaseMode.PERMANENT, current_max_a=16),
        reader=make_configured_chargepoint(release_mode=ReleaseMode.WHITELIST, rfid_reader="self"),
        other=make_configured_chargepoint(),
        free=make_chargepoint(),
    )


def url(cp: ChargePoint, rest: str = "") -> str:
    return f"/api/v1/chargepoints/{cp.pk}/config/{rest}"


def call(client, method: str, path: str, body: Any = None):
    data = "" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json")


@pytest.fixture
def manufacturer(points, client_as):
    return client_as(Role.MANUFACTURER)


def test_a_user_reads_a_configuration(points, client_as):
    response = client_as(Role.USER).get(url(points.reader))
    assert response.status_code == 200
    data = response.json()
    assert (data["chargepoint"], data["configured"]) == (points.reader.pk, True)
    assert data["config"]["name"] == points.reader.config.name and data["config"]["rfid_reader"] == "self"
    unconfigured = client_as(Role.USER).get(url(points.free)).json()
    assert (unconfigured["configured"], unconfigured["config"]) == (False, None)


def test_put_creates_a_configuration_and_returns_it(points, manufacturer):
    cp = points.free
    body = {
        **importexport.config_to_dict(points.permanent.config),
        "name": "P2-02",
        "controller_uid": "self",
        "current_max_a": 20,
    }
    response = call(manufacturer, "PUT", url(cp), body)
    assert response.status_code == 201, response.json()
    assert response.json()["config"] == body
    config = ChargePointConfig.objects.get(pk=cp.pk)
    assert (config.name, config.current_max_a, config.controller_uid) == ("P2-02", 20, cp.device_uid)
    assert ChangeRecord.objects.filter(action="chargepoint.config.create", source="api").count() == 1


def test_put_refuses_invalid_values_with_errors_per_field(points, manufacturer):
    body = {
        **importexport.config_to_dict(points.permanent.config),
        "current_min_a": 16,
        "current_max_a": 10,
        "meter_type": "acme",
        "name": points.other.config.name,  # taken
    }
    response = call(manufacturer, "PUT", url(points.permanent), body)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert set(data["errors"]) == {"current_max_a", "meter_type", "name"}
    assert "minimum (16 A)" in data["errors"]["current_max_a"][0]
    assert ChargePointConfig.objects.get(pk=points.permanent.pk).current_max_a == 16


def test_put_needs_every_field(points, manufacturer):
    response = call(manufacturer, "PUT", url(points.permanent), {"name": "X"})
    assert response.status_code == 400
    assert response.json()["errors"]["location"] == ["This field is required."]


def test_patch_changes_some_fields(points, manufacturer):
    response = call(manufacturer, "PATCH", url(points.permanent), {"current_max_a": 12, "location": "Bay 2"})
    assert response.status_code == 200
    assert (response.json()["config"]["current_max_a"], response.json()["config"]["location"]) == (12, "Bay 2")
    after = ChangeRecord.objects.get(action="chargepoint.config.update").after
    assert after is not None and after["current_max_a"] == 12


def test_patch_refuses_unknown_fields_wrong_types_and_unconfigured_points(points, manufacturer):
    configured = url(points.permanent)
    assert call(manufacturer, "PATCH", configured, {"colour": "red"}).json()["errors"] == {"colour": ["Unknown field."]}
    assert "current_max_a" in call(manufacturer, "PATCH", configured, {"current_max_a": "12"}).json()["errors"]
    response = call(manufacturer, "PATCH", url(points.free), {"current_max_a": 12})
    assert (response.status_code, response.json()["code"]) == (404, "not_configured")


def test_patch_an_unresolvable_reader_is_explained(points, manufacturer):
    base = {**importexport.config_to_dict(points.reader.config), "name": "P2-02"}
    response = call(manufacturer, "PUT", url(points.free), {**base, "rfid_reader": {"position": 7}})
    assert response.status_code == 400
    station = points.free.station.hostname  # the target's own station: the reference names no other
    assert f"position 7 of station {station}" in response.json()["errors"]["rfid_reader"][0]


def test_delete_restores_the_factory_default(points, manufacturer):
    target = points.permanent.pk
    assert call(manufacturer, "DELETE", url(points.permanent)).status_code == 204
    assert not ChargePointConfig.objects.filter(pk=target).exists()
    again = call(manufacturer, "DELETE", url(points.permanent))
    assert (again.status_code, again.json()["code"]) == (404, "not_configured")


def test_export_gives_the_file(points, client_as):
    response = client_as(Role.USER).get(url(points.other, "export/"))
    assert response.status_code == 200
    document = response.json()
    assert (document["kind"], document["version"], document["config"]["name"]) == (
        "wbm.chargepoint-config",
        1,
        points.other.config.name,
    )
    assert client_as(Role.USER).get(url(points.free, "export/")).status_code == 404


def test_import_dry_run_shows_changes_and_writes_nothing_then_writes(points, manufacturer):
    source = points.permanent.config.name
    document = manufacturer.get(url(points.permanent, "export/")).json()
    targets = [points.other.pk, points.free.pk]  # one configured, one in factory default
    body = {"document": document, "targets": targets, "suffix": True, "dry_run": True}
    preview = call(manufacturer, "POST", "/api/v1/chargepoints/config/import/", body)
    assert preview.status_code == 200
    data = preview.json()
    assert data["written"] is False
    assert [(t["id"], t["name"], t["configured_before"]) for t in data["chargepoints"]] == [
        (targets[0], f"{source}-1", True),
        (targets[1], f"{source}-2", False),
    ]
    assert {"field": "name", "label": "Name", "before": points.other.config.name, "after": f"{source}-1"} in data[
        "chargepoints"
    ][0]["changes"]
    assert not ChargePointConfig.objects.filter(name=f"{source}-1").exists()
    written = call(manufacturer, "POST", "/api/v1/chargepoints/config/import/", {**body, "dry_run": False})
    assert written.status_code == 200 and written.json()["written"] is True
    assert sorted(ChargePointConfig.objects.filter(name__startswith=f"{source}-").values_list("name", flat=True)) == [
        f"{source}-1",
        f"{source}-2",
    ]


def test_import_refuses_a_bad_document_naming_the_path(points, manufacturer):
    document = manufacturer.get(url(points.permanent, "export/")).json()
    document["config"]["current_max_a"] = 40
    targets = [points.permanent.pk]
    response = call(
        manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": targets}
    )
    assert response.status_code == 400
    (target,) = response.json()["chargepoints"]
    assert list(target["errors"]) == ["document.config.current_max_a"]
    document["version"] = 7
    response = call(
        manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": targets}
    )
    assert list(response.json()["errors"]) == ["document.version"]
    assert ChargePointConfig.objects.get(pk=points.permanent.pk).current_max_a == 16


def test_import_refuses_unknown_or_repeated_targets(points, manufacturer):
    document = manufacturer.get(url(points.permanent, "export/")).json()
    unknown = ChargePoint.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1
    for targets in ([unknown], [points.permanent.pk, points.permanent.pk]):
        response = call(
            manufacturer, "POST", "/api/v1/chargepoints/config/import/", {"document": document, "targets": targets}
        )
        assert response.status_code == 400 and "targets" in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_writes_need_the_manufacturer(points, client_as, role):
    client = client_as(role)
    assert call(client, "PATCH", url(points.permanent), {"current_max_a": 10}).status_code == 403
    assert call(client, "DELETE", url(points.permanent)).status_code == 403
    assert call(client, "POST", "/api/v1/chargepoints/config/import/", {}).status_code == 403
    assert ChargePointConfig.objects.get(pk=points.permanent.pk).current_max_a == 16


def test_a_guest_gets_401(points, client_as):
    assert client_as(Role.GUEST).get(url(points.permanent)).status_code == 401
