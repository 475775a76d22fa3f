"""Export → import round trips; an import to several charge points is previewed, then written to
all or none; every kind of bad file is refused with the field path and nothing is written."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chargepoints import importexport, services
from chargepoints.forms import CONFIG_FIELDS
from chargepoints.models import ChargePoint, ChargePointConfig
from tests.conftest import cp_id
from tests.factories import make_chargepoint, make_configured_chargepoint, make_station
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role

ACTOR = Actor(username="manufacturer-t", role=Role.MANUFACTURER, source="web")


def exported(client, name: str) -> dict[str, Any]:
    response = client.get(f"/chargepoints/{cp_id(name)}/export.json")
    assert response.status_code == 200
    return json.loads(response.content)


def park_state() -> dict[int, dict[str, Any] | None]:
    """Every charge point's configuration as a file would hold it (None: not configured)."""
    out: dict[int, dict[str, Any] | None] = {}
    for cp in ChargePoint.objects.select_related("config", "station"):
        config = getattr(cp, "config", None)
        out[cp.pk] = importexport.config_to_dict(config) if config else None
    return out


def cp_at(station: str, position: int) -> ChargePoint:
    return ChargePoint.objects.select_related("station").get(station__hostname=station, position=position)


def upload(client, document: Any, targets: list[int], *, suffix: bool = False, raw: bytes | None = None):
    content = raw if raw is not None else json.dumps(document).encode()
    data = {
        "step": "preview",
        "file": SimpleUploadedFile("config.json", content, "application/json"),
        "targets": [str(t) for t in targets],
    }
    if suffix:
        data["suffix"] = "on"
    return client.post("/chargepoints/import/", data)


def confirm(client, preview_response):
    """Press the confirm button of the preview page (posting its hidden fields)."""
    context = preview_response.context
    plan = context["plan"]
    return client.post(
        "/chargepoints/import/",
        {
            "step": "confirm",
            "document": context["document_text"],
            "fingerprint": plan.fingerprint,
            "suffix": "1" if plan.suffix else "0",
            "targets": [str(t.chargepoint.pk) for t in plan.targets],
        },
    )


@pytest.fixture
def manufacturer(park, client_as):
    return client_as(Role.MANUFACTURER)


# --- export ----------------------------------------------------------------------------------------


def test_the_export_is_a_versioned_file_with_every_field(manufacturer):
    response = manufacturer.get(f"/chargepoints/{cp_id('P1-03')}/export.json")
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="chargepoint-P1-03.json"'
    document = json.loads(response.content)
    assert (document["kind"], document["version"]) == ("wbm.chargepoint-config", 1)
    assert document["exported_at"].endswith("Z")
    assert document["source"] == {
        "station": "ev3000",
        "position": 3,
        "device_uid": cp_at("ev3000", 3).device_uid,
        "device_name": "CHARX SEC-3100",
    }
    assert list(document["config"]) == list(CONFIG_FIELDS)
    config = document["config"]
    assert (config["name"], config["release_mode"], config["current_max_a"]) == ("P1-03", "whitelist", 16)
    # hardware references are relative: its own controller, its own reader terminal
    assert (config["controller_uid"], config["rfid_reader"]) == ("self", "self")


def test_a_user_may_export_but_an_unconfigured_point_has_nothing_to_export(park, client_as):
    user = client_as(Role.USER)
    assert user.get(f"/chargepoints/{cp_id('P1-01')}/export.json").status_code == 200
    assert user.get(f"/chargepoints/{cp_at('ev3000-2', 2).pk}/export.json").status_code == 404
    assert client_as(Role.GUEST).get(f"/chargepoints/{cp_id('P1-01')}/export.json").status_code == 302


def test_a_reader_elsewhere_is_exported_by_position_or_station(park):
    config = ChargePointConfig.objects.get(name="P1-02")
    config.release_mode, config.rfid_reader = "whitelist", cp_at("ev3000", 3)
    assert importexport.config_to_dict(config)["rfid_reader"] == {"position": 3}
    config.rfid_reader = cp_at("ev3000-2", 1)
    assert importexport.config_to_dict(config)["rfid_reader"] == {"station": "ev3000-2", "position": 1}


# --- round trips -------------------------------------------------------------------------------------


def test_export_delete_import_restores_the_configuration_exactly(manufacturer):
    before = park_state()
    target = cp_id("P1-03")
    document = exported(manufacturer, "P1-03")
    assert manufacturer.post(f"/chargepoints/{target}/delete/").status_code == 302
    assert park_state()[target] is None
    preview = upload(manufacturer, document, [target])
    assert preview.status_code == 200 and preview.context["plan"].ok
    assert confirm(manufacturer, preview).status_code == 302
    assert park_state() == before
    again = exported(manufacturer, "P1-03")
    assert again["config"] == document["config"] and again["source"] == document["source"]


def test_a_configuration_with_every_setting_changed_round_trips(manufacturer):
    target = ChargePoint.objects.get(config__name="P1-01")
    values = {
        "connection_type": "socket_outlet",
        "socket_outlet_type": "3pos_hella",
        "locking_mode": "remote",
        "plug_rejection": "reject_20_13",
        "status_d_rejection": "accept",
        "current_min_a": 8,
        "current_max_a": 20,
        "fallback_current_a": 10,
        "fallback_time_s": 120,
        "meter_type": "cg_em340",
        "phase_rotation": "L3L1L2",
        "calibration_abbreviation": "P1",
        "calibration_selection": "screen",
        "contactor_monitoring_input": 3,
        "aux_contact_type": "no",
        "dc_residual_monitoring": False,
        "overcurrent_detection": "ev_ze_ready",
        "out_of_balance_suppression": True,
        "derating_sensor": "pt1000",
        "derating_start_temp_c": 55,
        "derating_stop_temp_c": 75,
        "derating_start_current_a": 18,
        "derating_stop_current_a": 7,
        "release_mode": "ocpp",
        "rfid_reader": {"position": 3},
        "rfid_reader_type": "netronix_uw_xeu1",
        "rfid_timeout_s": 45,
        "ocpp_connector_id": 4,
        "hlc_mode": "required",
        "evse_id": "DE123E4567",
        "free_charge_service": True,
    }
    config = {**exported(manufacturer, "P1-01")["config"], **values}
    services.chargepoint_config_import(
        document={"kind": importexport.KIND, "version": 1, "config": config},
        targets=[target],
        suffix=False,
        actor=ACTOR,
    )
    assert exported(manufacturer, "P1-01")["config"] == config
    stored = ChargePointConfig.objects.get(pk=target.pk)
    assert stored.rfid_reader == cp_at("ev3000", 3) and stored.ocpp_connector_id == 4
    # and once more: importing the export changes nothing
    plan = importexport.import_plan(document=exported(manufacturer, "P1-01"), targets=[target], suffix=False)
    assert plan.ok and plan.targets[0].changes == []


# --- several charge points, suffixes, all or none -----------------------------------------------------


def test_import_to_two_points_with_suffixes_in_backplane_order(manufacturer):
    visitor, free = cp_at("ev3000-2", 1), cp_at("ev3000-2", 2)
    document = exported(manufacturer, "P1-02")
    # selected in the form in reverse: the suffixes still follow the backplane positions
    preview = upload(manufacturer, document, [free.pk, visitor.pk], suffix=True)
    body = preview.content.decode()
    plan = preview.context["plan"]
    assert [(t.chargepoint.pk, t.name) for t in plan.targets] == [(visitor.pk, "P1-02-1"), (free.pk, "P1-02-2")]
    assert "Not configured yet: a new configuration is created." in body
    assert "Currently configured as “Visitor-01”." in body  # the preview does not rename it yet
    assert 'id="import-confirm"' in body and "Write configuration to 2 charging points" in body
    assert ChargePointConfig.objects.filter(name__startswith="P1-02-").count() == 0  # nothing written yet
    response = confirm(manufacturer, preview)
    assert response.status_code == 302
    assert ChargePointConfig.objects.get(pk=visitor.pk).name == "P1-02-1"
    new = ChargePointConfig.objects.get(pk=free.pk)
    assert (new.name, new.release_mode, new.controller_uid) == ("P1-02-2", "permanent", free.device_uid)
    assert ChangeRecord.objects.filter(action="chargepoint.config.import", source="import").count() == 2


def test_the_preview_shows_what_changes_per_charge_point(manufacturer):
    document = exported(manufacturer, "P1-02")
    document["config"]["current_max_a"] = 20
    document["config"]["location"] = "Car park North, level 0, bay 2"
    preview = upload(manufacturer, document, [cp_id("P1-02")])
    target = preview.context["plan"].targets[0]
    assert [(c.field, c.label, c.before, c.after) for c in target.changes] == [
        ("current_max_a", "Charge current maximum (A)", "16", "20")
    ]
    body = preview.content.decode()
    assert 'data-field="current_max_a"' in body and 'data-field="location"' not in body
    assert ChargePointConfig.objects.get(name="P1-02").current_max_a == 16


def test_without_suffix_two_points_would_share_a_name_so_nothing_is_written(manufacturer):
    before = park_state()
    document = exported(manufacturer, "P1-02")
    document["config"]["name"] = "Shared"
    preview = upload(manufacturer, document, [cp_at("ev3000-2", 1).pk, cp_at("ev3000-2", 2).pk])
    plan = preview.context["plan"]
    assert not plan.ok and 'id="import-confirm"' not in preview.content.decode()
    assert all("config.name" in [e.path for e in t.errors] for t in plan.targets)
    assert "also selected for this import" in plan.targets[0].errors[0].message
    with pytest.raises(services.ImportRejected):
        services.chargepoint_config_import(
            document=document, targets=[t.chargepoint for t in plan.targets], suffix=False, actor=ACTOR
        )
    assert park_state() == before


def test_one_refused_point_keeps_every_point_unwritten(manufacturer):
    ChargePointConfig.objects.filter(name="P1-03").update(name="Copy-2")  # the second target's new name
    before = park_state()
    document = exported(manufacturer, "P1-01")
    document["config"]["name"] = "Copy"
    preview = upload(manufacturer, document, [cp_at("ev3000-2", 1).pk, cp_at("ev3000-2", 2).pk], suffix=True)
    first, second = preview.context["plan"].targets
    assert first.errors == []
    assert [e.path for e in second.errors] == ["config.name"]
    assert 'id="import-confirm"' not in preview.content.decode()
    assert park_state() == before


def test_importing_an_ocpp_connector_id_to_two_points_gives_the_second_the_next_free_one(manufacturer):
    document = exported(manufacturer, "P1-02")
    document["config"].update(release_mode="ocpp", ocpp_connector_id=5)
    plan = importexport.import_plan(
        document=document, suffix=True, targets=[cp_at("ev3000-2", 1), cp_at("ev3000-2", 2)]
    )
    assert plan.ok
    assert connector_ids(plan) == [5, 6]
    ocpp_notes = [[n.message for n in t.notes if n.field == "ocpp_connector_id"] for t in plan.targets]
    assert ocpp_notes == [[], ["OCPP connector ID: 6 (next free; 5 is already used by P1-02-1)"]]


def test_targets_may_swap_their_names(manufacturer):
    ChargePointConfig.objects.filter(name="P1-01").update(name="X-2")
    ChargePointConfig.objects.filter(name="P1-02").update(name="X-1")
    document = exported(manufacturer, "P1-03")
    document["config"]["name"] = "X"
    services.chargepoint_config_import(
        document=document,
        targets=[ChargePoint.objects.get(config__name="X-2"), ChargePoint.objects.get(config__name="X-1")],
        suffix=True,
        actor=ACTOR,
    )
    assert ChargePointConfig.objects.get(pk=cp_at("ev3000", 1).pk).name == "X-1"
    assert ChargePointConfig.objects.get(pk=cp_at("ev3000", 2).pk).name == "X-2"


def test_a_name_that_is_too_long_with_its_suffix_is_refused(manufacturer):
    document = exported(manufacturer, "P1-02")
    document["config"]["name"] = "N" * 39
    plan = importexport.import_plan(document=document, targets=[cp_at("ev3000-2", 2)], suffix=True)
    assert [e.path for e in plan.targets[0].errors] == ["config.name"]


def test_a_reader_reference_resolves_relative_to_the_target(manufacturer):
    document = exported(manufacturer, "P1-03")  # reader "self"
    document["config"]["name"] = "Reader"
    free = cp_at("ev3000-2", 2)
    services.chargepoint_config_import(document=document, targets=[free], suffix=False, actor=ACTOR)
    assert ChargePointConfig.objects.get(pk=free.pk).rfid_reader_id == free.pk
    document["config"].update(name="Reader2", rfid_reader={"position": 3})  # no position 3 on ev3000-2
    plan = importexport.import_plan(document=document, targets=[free], suffix=False)
    assert [(e.path, "position 3 of station ev3000-2" in e.message) for e in plan.targets[0].errors] == [
        ("config.rfid_reader", True)
    ]
    # the reader applies in every release mode, so it must be found in every one
    document["config"]["release_mode"] = "dashboard"
    assert [
        e.path for e in importexport.import_plan(document=document, targets=[free], suffix=False).targets[0].errors
    ] == ["config.rfid_reader"]
    document["config"]["rfid_reader"] = None
    assert importexport.import_plan(document=document, targets=[free], suffix=False).ok


def test_a_change_after_the_preview_is_noticed_and_nothing_is_written(manufacturer):
    document = exported(manufacturer, "P1-02")
    document["config"]["current_max_a"] = 20
    preview = upload(manufacturer, document, [cp_id("P1-02")])
    ChargePointConfig.objects.filter(name="P1-02").update(location="Moved meanwhile")
    response = confirm(manufacturer, preview)
    assert response.status_code == 200 and 'id="import-outdated"' in response.content.decode()
    assert ChargePointConfig.objects.get(name="P1-02").current_max_a == 16


def test_the_import_reloads_the_runtime_once_committed(manufacturer, monkeypatch, django_capture_on_commit_callbacks):
    calls: list[str] = []
    monkeypatch.setattr(services.commands, "call", lambda command: calls.append(command.name) or {"ok": True})
    with django_capture_on_commit_callbacks(execute=True):
        services.chargepoint_config_import(
            document=exported(manufacturer, "P1-02"), targets=[cp_id_obj("P1-02")], suffix=False, actor=ACTOR
        )
    assert calls == ["config.reload"]


def cp_id_obj(name: str) -> ChargePoint:
    return ChargePoint.objects.get(config__name=name)


# --- bad files ------------------------------------------------------------------------------------


def _doc(**config_changes: Any) -> dict[str, Any]:
    """A valid file (P1-02's configuration) with changes."""
    config = importexport.config_to_dict(ChargePointConfig.objects.get(name="P1-02"))
    return {"kind": importexport.KIND, "version": 1, "config": {**config, **config_changes}}


def _without(document: dict[str, Any], *path: str) -> dict[str, Any]:
    out = copy.deepcopy(document)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


BAD_FILES: list[tuple[str, Any, str, str]] = [
    # (id, document or raw bytes, path named, part of the message)
    ("not-json", b"kind: chargepoint\n", "file", "not JSON"),
    ("not-utf8", b"\xff\xfe{}", "file", "UTF-8"),
    ("array", b"[1, 2]", "file", "JSON object"),
    ("too-large", b"{" + b" " * (64 * 1024) + b"}", "file", "64 KiB"),
    ("unknown-kind", lambda: {**_doc(), "kind": "wbm.whitelist"}, "kind", "wbm.whitelist"),
    ("missing-kind", lambda: _without(_doc(), "kind"), "kind", "required"),
    ("unknown-version", lambda: {**_doc(), "version": 2}, "version", "version 2"),
    ("version-as-text", lambda: {**_doc(), "version": "1"}, "version", "Unknown version"),
    ("missing-config", lambda: _without(_doc(), "config"), "config", "required"),
    ("unknown-top-level-field", lambda: {**_doc(), "extra": 1}, "extra", "Unknown field"),
    ("missing-field", lambda: _without(_doc(), "config", "current_max_a"), "config.current_max_a", "required"),
    ("unknown-field", lambda: _doc(colour="red"), "config.colour", "Unknown field"),
    ("wrong-type", lambda: _doc(current_max_a="16"), "config.current_max_a", "whole number"),
    ("boolean-as-number", lambda: _doc(current_max_a=True), "config.current_max_a", "whole number"),
    ("wrong-boolean", lambda: _doc(dc_residual_monitoring="yes"), "config.dc_residual_monitoring", "true or false"),
    ("bad-reader", lambda: _doc(rfid_reader=3), "config.rfid_reader", "position"),
    ("out-of-range", lambda: _doc(current_max_a=40), "config.current_max_a", "6 A to 32 A"),
    (
        "cross-field",
        lambda: _doc(current_min_a=16, current_max_a=10, fallback_current_a=10),
        "config.current_max_a",
        "minimum",
    ),
    ("unknown-choice", lambda: _doc(meter_type="acme_3000"), "config.meter_type", "valid choice"),
    ("empty-name", lambda: _doc(name=""), "config.name", "required"),
    ("name-taken", lambda: _doc(name="P1-01"), "config.name", "already used"),
]


@pytest.mark.parametrize(("content", "path", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_is_refused_naming_the_field_and_nothing_is_written(manufacturer, content, path, message):
    before, records = park_state(), ChangeRecord.objects.count()
    raw = content if isinstance(content, bytes) else json.dumps(content()).encode()
    response = upload(manufacturer, None, [cp_id("P1-02")], raw=raw)
    assert response.status_code == 200
    body = response.content.decode()
    if response.context["step"] == "select":
        errors = response.context["file_errors"]
        assert 'id="import-file-errors"' in body
    else:
        errors = response.context["plan"].targets[0].errors
        assert 'id="import-confirm"' not in body
    assert any(e.path == path and message in e.message for e in errors), [str(e) for e in errors]
    assert f"<code>{path}</code>" in body
    assert park_state() == before and ChangeRecord.objects.count() == records


def test_a_forged_confirmation_is_validated_again(manufacturer):
    before = park_state()
    response = manufacturer.post(
        "/chargepoints/import/",
        {
            "step": "confirm",
            "document": json.dumps(_doc(current_max_a=99)),
            "fingerprint": "x",
            "suffix": "0",
            "targets": [str(cp_id("P1-02"))],
        },
    )
    assert response.status_code == 200
    assert [e.path for e in response.context["plan"].targets[0].errors] == ["config.current_max_a"]
    assert park_state() == before


def test_the_import_needs_a_file_and_a_charge_point(manufacturer):
    response = manufacturer.post("/chargepoints/import/", {"step": "preview"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"file", "targets"}
    assert "Select at least one charging point." in response.content.decode()


def test_the_import_page_lists_charge_points_by_backplane_position_and_preselects(manufacturer):
    response = manufacturer.get(f"/chargepoints/import/?cp={cp_id('P1-03')}")
    park = response.context["park"]
    assert [(cp.station.hostname, cp.position) for cp in park] == [
        ("ev3000", 1),
        ("ev3000", 2),
        ("ev3000", 3),
        ("ev3000-2", 1),
        ("ev3000-2", 2),
    ]
    assert f'value="{cp_id("P1-03")}" id="target-{cp_id("P1-03")}" checked' in response.content.decode()


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_only_the_manufacturer_may_import(park, client_as, role):
    client = client_as(role)
    assert client.get("/chargepoints/import/").status_code == 403
    response = client.post("/chargepoints/import/", {"step": "confirm", "document": "{}", "targets": ["1"]})
    assert response.status_code == 403


# --- the same file for several charging points: what a target cannot hold is adapted, and said ----


def cleaned(target: importexport.TargetPlan) -> dict[str, Any]:
    assert target.form is not None
    return target.form.cleaned_data


def connector_ids(plan: importexport.ImportPlan) -> list[int]:
    return [cleaned(t)["ocpp_connector_id"] for t in plan.targets]


def test_an_iso15118_export_imports_onto_a_module_without_it_with_iso15118_disabled(manufacturer):
    source = make_configured_chargepoint(
        hlc_mode="optional", evse_id="DE123E4567", free_charge_service=True, current_max_a=20
    )
    assert source.device_name == "CHARX SEC-3150"
    plain = make_chargepoint()  # a CHARX SEC-3100: no ISO 15118
    document = importexport.config_export(source.config)
    document["config"]["name"] = "From-3150"
    preview = upload(manufacturer, document, [plain.pk])
    plan = preview.context["plan"]
    assert plan.ok
    body = preview.content.decode()
    assert f'id="notes-{plain.pk}"' in body
    assert "ISO 15118 set to “Disabled”: CHARX SEC-3100 has no ISO 15118" in body
    assert 'id="import-confirm"' in body
    assert confirm(manufacturer, preview).status_code == 302
    stored = ChargePointConfig.objects.get(pk=plain.pk)
    assert (stored.hlc_mode, stored.evse_id, stored.free_charge_service) == ("disabled", "", False)
    assert stored.current_max_a == 20  # everything else as in the file


def test_an_iso15118_export_onto_a_mixed_park_adapts_only_the_module_without_it(manufacturer):
    source = make_configured_chargepoint(hlc_mode="required", evse_id="DE123E4567")
    station = make_station()
    hlc = make_chargepoint(station, supports_hlc=True, device_name="CHARX SEC-3150")
    plain = make_chargepoint(station)
    plan = importexport.import_plan(
        document=importexport.config_export(source.config), targets=[hlc, plain], suffix=True
    )
    assert plan.ok
    by_target = {t.chargepoint.pk: t for t in plan.targets}
    assert by_target[hlc.pk].notes == []
    assert cleaned(by_target[hlc.pk])["hlc_mode"] == "required"
    assert [n.field for n in by_target[plain.pk].notes] == ["hlc_mode"]
    assert cleaned(by_target[plain.pk])["hlc_mode"] == "disabled"


def test_a_file_without_iso15118_switches_it_off_on_a_module_with_it_but_says_so(manufacturer):
    plain_source = make_configured_chargepoint()  # a CHARX SEC-3100
    target = make_configured_chargepoint(hlc_mode="optional", evse_id="DE123E4567")
    document = importexport.config_export(plain_source.config)
    document["config"]["name"] = "From-3100"
    preview = upload(manufacturer, document, [target.pk])
    body = preview.content.decode()
    assert preview.context["plan"].ok
    assert "ISO 15118 will be switched off (now “Optional”)" in body
    assert confirm(manufacturer, preview).status_code == 302
    assert ChargePointConfig.objects.get(pk=target.pk).hlc_mode == "disabled"  # the file applies


def test_an_ocpp_export_onto_three_points_gives_each_the_next_free_connector_id(manufacturer):
    source = make_configured_chargepoint(release_mode="ocpp", ocpp_connector_id=7)
    station = make_station()
    targets = [make_chargepoint(station) for _ in range(3)]
    document = importexport.config_export(source.config)
    preview = upload(manufacturer, document, [t.pk for t in targets], suffix=True)
    plan = preview.context["plan"]
    assert plan.ok, plan.errors_by_path()
    assert connector_ids(plan) == [8, 9, 10]
    body = preview.content.decode()
    for target, connector in zip(targets, (8, 9, 10), strict=True):
        assert f"OCPP connector ID: {connector} (next free;" in body
        assert f'id="notes-{target.pk}"' in body
    assert "7 is already used by " + source.config.name in body
    assert confirm(manufacturer, preview).status_code == 302
    stored = ChargePointConfig.objects.filter(pk__in=[t.pk for t in targets]).order_by("chargepoint__position")
    assert [cfg.ocpp_connector_id for cfg in stored] == [8, 9, 10]


def test_the_next_free_connector_id_skips_the_ones_in_use_and_a_free_file_id_is_kept(manufacturer):
    make_configured_chargepoint(release_mode="ocpp", ocpp_connector_id=12)
    station = make_station()
    targets = [make_chargepoint(station) for _ in range(3)]
    document = _doc(name="Ocpp", release_mode="ocpp", ocpp_connector_id=11)
    plan = importexport.import_plan(document=document, targets=targets, suffix=True)
    assert plan.ok
    assert connector_ids(plan) == [11, 13, 14]
    assert plan.targets[0].notes == []


def test_the_preview_shows_labels_and_human_values_with_the_path_only_as_a_hint(manufacturer):
    target = make_configured_chargepoint(release_mode="whitelist", rfid_reader="self")
    document = importexport.config_export(target.config)
    document["config"].update(
        release_mode="ocpp", ocpp_connector_id=42, dc_residual_monitoring=False, meter_type="cg_em24"
    )
    preview = upload(manufacturer, document, [target.pk])
    changes = {ch.field: ch for ch in preview.context["plan"].targets[0].changes}
    assert (changes["release_mode"].label, changes["release_mode"].before, changes["release_mode"].after) == (
        "Release mode",
        "By Local Whitelist",
        "By OCPP",
    )
    assert (changes["ocpp_connector_id"].before, changes["ocpp_connector_id"].after) == ("not set", "42")
    assert (changes["dc_residual_monitoring"].before, changes["dc_residual_monitoring"].after) == ("Yes", "No")
    assert changes["meter_type"].after == "Carlo Gavazzi EM24"
    body = preview.content.decode()
    match = re.search(r'<tr data-field="release_mode"><td>(.*?)</td>', body)
    assert match is not None
    row = match.group(1)
    assert row.startswith("Release mode ") and "config.release_mode" in row  # the path after the label
    assert ">ocpp<" not in body and ">-1<" not in body
    # errors too: the label first, the path as a hint
    document["config"].update(current_max_a=40, hlc_mode="bogus")
    refused = upload(manufacturer, document, [target.pk]).content.decode()
    assert "<strong>Energy › Charge current maximum (A)</strong>: The hardware allows 6 A to 32 A." in refused
    assert '<span class="muted small"><code>config.current_max_a</code></span>' in refused


def test_a_file_from_an_earlier_version_with_choices_the_manual_does_not_list_is_imported(manufacturer):
    target = make_configured_chargepoint()  # a socket outlet with a meter: both fields apply
    document = importexport.config_export(target.config)
    document["config"].update(plug_rejection="none", overcurrent_detection="")
    plan = importexport.import_plan(document=document, targets=[target], suffix=False)
    assert plan.ok
    assert plan.targets[0].changes == []  # the new defaults are what it holds already
    assert [n.message for n in plan.targets[0].notes] == [
        "Plug rejection: the file has “No rejection”, which the manual does not offer; set to “Reject 13 A”.",
        "Over current detection: the file has “Disabled”, which the manual does not offer; set to “EV/ZE Ready”.",
    ]


def test_the_api_import_reports_what_it_adapted_per_charge_point(manufacturer):
    source = make_configured_chargepoint(hlc_mode="optional", release_mode="ocpp", ocpp_connector_id=20)
    station = make_station()
    targets = [make_chargepoint(station), make_chargepoint(station)]
    response = manufacturer.post(
        "/api/v1/chargepoints/config/import/",
        {"document": importexport.config_export(source.config), "targets": [t.pk for t in targets], "suffix": True},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    out = response.json()["chargepoints"]
    assert [sorted(n["field"] for n in t["notes"]) for t in out] == [["hlc_mode", "ocpp_connector_id"]] * 2
    assert "ISO 15118 set to “Disabled”" in out[0]["notes"][0]["message"]
    stored = ChargePointConfig.objects.filter(pk__in=[t.pk for t in targets]).order_by("chargepoint__position")
    assert [(cfg.hlc_mode, cfg.ocpp_connector_id) for cfg in stored] == [("disabled", 21), ("disabled", 22)]
