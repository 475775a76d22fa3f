"""The configuration pages: create, edit (errors at the field), conditional fields re-rendered
without saving, copy from another charge point, delete with an offer to export, who may do what,
and saving takes effect in the runtime at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chargepoints.forms import CONFIG_FIELDS, form_data_from_values
from chargepoints.models import ChargePoint, ChargePointConfig
from tests.conftest import cp_id
from wbm.models import ChangeRecord
from wbm.roles import Role


def free_cp() -> ChargePoint:
    return ChargePoint.objects.get(station__hostname="ev3000-2", position=2)


def posted(name: str, **changes: Any) -> dict[str, Any]:
    """What the page posts for a configured charge point (checkboxes only when ticked)."""
    config = ChargePointConfig.objects.get(name=name)
    data = form_data_from_values({f: getattr(config, f) for f in CONFIG_FIELDS})
    data.update(changes)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def hidden_wraps(html: str) -> set[str]:
    return set(re.findall(r'id="wrap-([a-z0-9_]+)" hidden', html))


def shown_wraps(html: str) -> set[str]:
    return set(re.findall(r'id="wrap-([a-z0-9_]+)">', html))


@pytest.fixture
def manufacturer(park, client_as):
    return client_as(Role.MANUFACTURER)


def test_an_unconfigured_point_offers_create_configuration_with_the_manuals_sections(manufacturer):
    body = manufacturer.get(f"/chargepoints/{free_cp().pk}/config/").content.decode()
    assert '<h1 id="config-title">Create configuration</h1>' in body
    for heading in (
        "Charging Connection",
        "Energy",
        "Charge Currents",
        "Calibration Law",
        "Monitoring",
        "Derating",
        "Allow Charging",
    ):
        assert f">{heading}</h" in body, heading
    assert 'id="section-iso15118"' not in body  # a CHARX SEC-3100 has no ISO 15118
    assert "Copy configuration from" in body
    assert 'value="d5ae627400020002" selected' in body  # its own controller is preselected


def test_a_configured_point_shows_configuration_with_iso15118_for_an_hlc_module(manufacturer):
    body = manufacturer.get(f"/chargepoints/{cp_id('P1-01')}/config/").content.decode()
    assert '<h1 id="config-title">Configuration · P1-01</h1>' in body
    assert 'id="section-iso15118"' in body and "TLS policy" in body and "display only" in body
    assert 'id="export-link"' in body and 'id="delete-link"' in body


def test_creating_a_configuration_saves_audits_and_puts_it_on_the_dashboard(manufacturer):
    cp = free_cp()
    data = form_data_from_values(
        {
            "name": "P2-02",
            "location": "Visitor parking, bay 2",
            "controller_uid": cp.device_uid,
            "dc_residual_monitoring": True,
        }
    )
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = manufacturer.post(f"/chargepoints/{cp.pk}/config/", data)
    assert response.status_code == 302 and response["Location"] == f"/chargepoints/{cp.pk}/config/"
    config = ChargePointConfig.objects.get(pk=cp.pk)
    assert (config.name, config.current_max_a, config.dc_residual_monitoring) == ("P2-02", 16, True)
    record = ChangeRecord.objects.get(action="chargepoint.config.create")
    assert record.before is None and record.after["name"] == "P2-02" and record.username == "manufacturer-t"
    page = manufacturer.get(response["Location"]).content.decode()
    assert "The configuration of “P2-02” was created." in page and "Configuration · P2-02" in page


def test_an_invalid_value_is_shown_at_its_field_and_nothing_is_saved(manufacturer):
    target = cp_id("P1-02")
    response = manufacturer.post(
        f"/chargepoints/{target}/config/",
        posted("P1-02", current_max_a=40, derating_sensor="pt1000", derating_start_temp_c=90),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="config-errors"' in body
    errors = dict(re.findall(r'<ul class="errorlist" id="id_([a-z_]+)-errors"><li>([^<]+)</li>', body))
    assert errors["current_max_a"] == "The hardware allows 6 A to 32 A."
    assert errors["derating_start_temp_c"].startswith("The start temperature must be below the stop temperature")
    assert 'name="current_max_a" value="40"' in body  # the entered value stays for correcting
    assert ChargePointConfig.objects.get(pk=target).current_max_a == 16


def test_a_controlling_field_re_renders_the_form_without_saving(manufacturer):
    target = cp_id("P1-02")
    plain = manufacturer.get(f"/chargepoints/{target}/config/").content.decode()
    assert {"derating_start_temp_c", "ptc_terminating_resistor", "ocpp_connector_id"} <= hidden_wraps(plain)
    assert "socket_outlet_type" in shown_wraps(plain)
    response = manufacturer.post(
        f"/chargepoints/{target}/config/",
        posted(
            "P1-02",
            refresh="1",
            derating_sensor="pt1000",
            connection_type="connector",
            release_mode="ocpp",
            current_max_a="abc",
        ),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<form id="config-form"')  # only the form
    assert {"derating_start_temp_c", "derating_stop_current_a", "ocpp_connector_id"} <= shown_wraps(html)
    assert {"socket_outlet_type", "locking_mode", "plug_rejection", "ptc_terminating_resistor"} <= hidden_wraps(html)
    assert "errorlist" not in html  # a refresh does not validate
    assert 'name="current_max_a" value="abc"' in html  # and keeps what was typed
    assert '<select name="derating_sensor" data-controls="1"' in html
    assert f'<div id="config-form-box" hx-post="/chargepoints/{target}/config/"' in plain
    assert 'hx-trigger="controlschange" hx-include="#config-form"' in plain  # static/wbm/page.js fires it
    assert """hx-vals='{"refresh": "1"}'""" in plain
    assert ChargePointConfig.objects.get(pk=target).derating_sensor == ""


def test_hidden_stale_values_are_reset_to_their_defaults_on_save(manufacturer):
    target = cp_id("P1-02")
    response = manufacturer.post(
        f"/chargepoints/{target}/config/",
        posted(
            "P1-02",
            connection_type="connector",
            socket_outlet_type="3pos_hella",
            meter_type="",
            phase_rotation="L1L2L3",
            release_mode="dashboard",
            ocpp_connector_id=9,
        ),
    )
    assert response.status_code == 302
    config = ChargePointConfig.objects.get(pk=target)
    assert (config.connection_type, config.socket_outlet_type, config.phase_rotation, config.ocpp_connector_id) == (
        "connector",
        "4pos_marquardt",
        "",
        -1,
    )


def test_copy_from_fills_the_form_but_keeps_name_controller_and_saves_nothing(manufacturer):
    target = free_cp()
    url = f"/chargepoints/{target.pk}/config/?copy_from={cp_id('P1-03')}"
    response = manufacturer.get(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="copied-banner"' in html and "Values copied from P1-03 (ev3000, position 3)" in html
    form = response.context["form"]
    assert form["release_mode"].value() == "whitelist" and str(form["meter_type"].value()) == "eem_em357"
    assert form["name"].value() == "" and form["controller_uid"].value() == target.device_uid
    assert str(form["rfid_reader"].value()) == str(target.pk)  # "its own reader" stays its own
    assert not ChargePointConfig.objects.filter(pk=target.pk).exists()
    full = manufacturer.get(url).content.decode()  # without JS: the whole page
    assert "<html" in full and 'id="copied-banner"' in full


def test_copy_from_an_unknown_point_says_so(manufacturer):
    body = manufacturer.get(f"/chargepoints/{free_cp().pk}/config/?copy_from=999").content.decode()
    assert "no other configured charging point" in body


def test_delete_asks_first_offers_export_and_restores_the_factory_default(manufacturer):
    target = cp_id("P1-02")
    page = manufacturer.get(f"/chargepoints/{target}/delete/").content.decode()
    assert "cannot be undone" in page
    assert f'id="export-first" href="/chargepoints/{target}/export.json"' in page
    assert ChargePointConfig.objects.filter(pk=target).exists()
    response = manufacturer.post(f"/chargepoints/{target}/delete/")
    assert response.status_code == 302 and response["Location"] == "/chargepoints/"
    assert not ChargePointConfig.objects.filter(pk=target).exists()
    record = ChangeRecord.objects.get(action="chargepoint.config.delete")
    assert record.before["name"] == "P1-02" and record.after is None
    manufacturer.get("/")  # shows the message once
    assert "P1-02" not in manufacturer.get("/").content.decode()
    again = manufacturer.get(f"/chargepoints/{target}/delete/")
    assert again.status_code == 302


def test_the_overview_links_configuration_for_the_manufacturer_and_export_for_a_user(park, client_as):
    body = client_as(Role.MANUFACTURER).get("/chargepoints/").content.decode()
    assert 'id="import-config"' in body
    assert f'id="configure-{free_cp().pk}"' in body and ">Create configuration</a>" in body
    assert f'id="configure-{cp_id("P1-01")}"' in body and f'id="export-{cp_id("P1-01")}"' in body
    user = client_as(Role.USER).get("/chargepoints/").content.decode()
    assert f'id="export-{cp_id("P1-01")}"' in user
    assert 'id="import-config"' not in user and "configure-" not in user


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_only_the_manufacturer_may_configure_or_delete(park, client_as, role):
    client = client_as(role)
    target = cp_id("P1-02")
    assert client.get(f"/chargepoints/{target}/config/").status_code == 200  # read-only: test_readonly.py
    assert client.post(f"/chargepoints/{target}/config/", posted("P1-02", current_max_a=10)).status_code == 403
    assert client.post(f"/chargepoints/{target}/delete/").status_code == 403
    config = ChargePointConfig.objects.get(pk=target)
    assert config.current_max_a == 16


def test_a_guest_is_sent_to_the_login(park, client_as):
    response = client_as(Role.GUEST).get(f"/chargepoints/{cp_id('P1-02')}/config/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_saving_works_while_the_runtime_is_stopped(manufacturer):
    # no runtime in this test: the configuration is saved, the runtime reads it when it starts
    response = manufacturer.post(f"/chargepoints/{cp_id('P1-02')}/config/", posted("P1-02", current_max_a=12))
    assert response.status_code == 302
    assert ChargePointConfig.objects.get(name="P1-02").current_max_a == 12


def test_a_lower_maximum_lowers_the_pwm_of_a_charging_vehicle_at_once(runtime, client_as):
    target = cp_id("P1-02")  # permanent release, maximum 16 A
    assert runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=32, ventilation=False)["ok"]
    runtime.step()
    user = client_as(Role.USER)
    live = user.get(f"/api/v1/chargepoints/{target}/").json()
    assert (live["iec_state"], live["pwm_limit_a"]) == ("C", 16.0)
    manufacturer = client_as(Role.MANUFACTURER)
    response = manufacturer.post(
        f"/chargepoints/{target}/config/", posted("P1-02", current_max_a=10, fallback_current_a=6)
    )
    assert response.status_code == 302
    live = user.get(f"/api/v1/chargepoints/{target}/").json()  # no further tick needed
    assert (live["iec_state"], live["pwm_limit_a"]) == ("C", 10.0)


def test_deleting_a_configuration_stops_charging_at_once(runtime, client_as):
    target = cp_id("P1-02")
    runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=16, ventilation=False)
    runtime.step()
    assert client_as(Role.MANUFACTURER).post(f"/chargepoints/{target}/delete/").status_code == 302
    live = client_as(Role.USER).get(f"/api/v1/chargepoints/{target}/").json()
    assert (live["configured"], live["pwm_limit_a"]) == (False, 0.0)


def test_delete_returns_the_charge_point_to_its_delivery_state(
    manufacturer, monkeypatch, django_capture_on_commit_callbacks
):
    from chargepoints import services
    from chargepoints.choices import RfidBoardProfile
    from chargepoints.models import RfidBoard, RfidLedProfile
    from tests.factories import make_configured_chargepoint

    cp = make_configured_chargepoint(release_mode="whitelist", rfid_reader="self")
    board = RfidBoard.objects.create(chargepoint=cp, buzzer_volume_pct=90)
    RfidLedProfile.objects.create(board=board, profile=RfidBoardProfile.READY, color="red")
    ChargePoint.objects.filter(pk=cp.pk).update(enabled=False)
    told: list[Any] = []

    def call(command: Any) -> dict[str, Any]:
        told.append(command)
        return {"ok": True}

    monkeypatch.setattr(services.commands, "call", call)
    with django_capture_on_commit_callbacks(execute=True):
        response = manufacturer.post(f"/chargepoints/{cp.pk}/delete/")
    assert response.status_code == 302
    cp.refresh_from_db()
    assert not ChargePointConfig.objects.filter(pk=cp.pk).exists()
    assert cp.enabled is True
    assert (
        not RfidBoard.objects.filter(pk=cp.pk).exists() and not RfidLedProfile.objects.filter(board_id=cp.pk).exists()
    )
    assert [
        (c.name, getattr(c, "cp", None), getattr(c, "enabled", None)) for c in told if c.name == "cp.availability"
    ] == [("cp.availability", cp.pk, True)]
    assert "config.reload" in [c.name for c in told]
    actions = set(ChangeRecord.objects.filter(object_id=str(cp.pk)).values_list("action", flat=True))
    assert {"chargepoint.config.delete", "rfidboard.delete", "chargepoint.enable"} <= actions


def test_the_contract_payment_option_is_shown_but_cannot_be_chosen(manufacturer):
    from tests.factories import make_configured_chargepoint

    cp = make_configured_chargepoint(hlc_mode="optional")
    body = manufacturer.get(f"/chargepoints/{cp.pk}/config/").content.decode()
    match = re.search(r'<select name="payment_options"[^>]*>(.*?)</select>', body, re.S)
    assert match is not None
    select = match.group(1)
    assert re.search(
        r'<option value="contract"[^>]* disabled[^>]*>Vehicle identification \(contract\)</option>', select
    )
    assert re.search(r'<option value="external"[^>]* selected>Allow External Payment</option>', select)
    assert "certificates, which cannot be loaded via the web page" in body  # the reason, as the help text
    refused = manufacturer.post(f"/chargepoints/{cp.pk}/config/", posted(cp.config.name, payment_options="contract"))
    assert refused.status_code == 200 and 'id="id_payment_options-errors"' in refused.content.decode()
    assert ChargePointConfig.objects.get(pk=cp.pk).payment_options == "external"
