"""Every rule of the charge point configuration form: required fields, ranges, cross-field rules
(shown at the field), uniqueness in the park, and which fields apply (the others are reset)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django import forms

from chargepoints import choices as c
from chargepoints.forms import CONFIG_FIELDS, ChargePointConfigForm, form_data_from_values
from chargepoints.models import ChargePoint, ChargePointConfig
from tests.conftest import cp_id


def unconfigured() -> ChargePoint:
    return ChargePoint.objects.get(station__hostname="ev3000-2", position=2)


def data_of(cp_name: str, /, **changes: Any) -> dict[str, Any]:
    """The form data the page would post for a demo charge point, with changes."""
    config = ChargePointConfig.objects.get(name=cp_name)
    values = {field: getattr(config, field) for field in CONFIG_FIELDS}
    return {**form_data_from_values(values), **changes}


def form_for(cp_name: str, /, **changes: Any) -> ChargePointConfigForm:
    cp = ChargePoint.objects.get(config__name=cp_name)
    form = ChargePointConfigForm(data=data_of(cp_name, **changes), chargepoint=cp)
    form.is_valid()
    return form


def new_form(**data: Any) -> ChargePointConfigForm:
    cp = unconfigured()
    base = form_data_from_values(
        {"name": "P2-02", "location": "Visitor parking, bay 2", "controller_uid": cp.device_uid}
    )
    form = ChargePointConfigForm(data={**base, **data}, chargepoint=cp)
    form.is_valid()
    return form


def errors(form: ChargePointConfigForm) -> dict[str, str]:
    return {name: " ".join(messages) for name, messages in form.errors.items()}


# --- the demo park and a new configuration --------------------------------------------------------


@pytest.mark.parametrize("name", ["P1-01", "P1-02", "P1-03", "Visitor-01"])
def test_every_demo_configuration_is_accepted_as_it_is(park, name):
    assert errors(form_for(name)) == {}


def test_a_new_configuration_needs_only_name_and_location(park):
    form = new_form()
    assert errors(form) == {}
    assert form.cleaned_data["current_max_a"] == 16 and form.cleaned_data["release_mode"] == c.ReleaseMode.DASHBOARD


@pytest.mark.parametrize("field", ["name", "location"])
def test_name_and_location_are_required(park, field):
    assert "required" in errors(new_form(**{field: "  "}))[field]


def test_the_name_must_be_unique_in_the_park_and_the_error_names_the_holder(park):
    problem = errors(new_form(name="P1-02"))["name"]
    assert "P1-02" in problem and "ev3000, position 2" in problem


def test_keeping_its_own_name_is_no_clash(park):
    assert "name" not in errors(form_for("P1-02", name="P1-02"))


def test_the_assigned_controller_must_be_one_of_the_park_and_not_assigned_twice(park):
    assert "controller_uid" in errors(new_form(controller_uid="ffffffffffffffff"))
    taken = ChargePoint.objects.get(config__name="P1-01").device_uid
    assert "already assigned to P1-01" in errors(new_form(controller_uid=taken))["controller_uid"]


# --- Energy: currents ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("current_min_a", 5),
        ("current_max_a", 33),
        ("current_max_a", 0),
    ],
)
def test_currents_outside_what_the_hardware_allows_are_refused_at_their_field(park, field, value):
    assert "6 A to 32 A" in errors(new_form(**{field: value}))[field]


def test_a_maximum_below_the_minimum_is_refused_at_the_maximum(park):
    problem = errors(new_form(current_min_a=16, current_max_a=10, fallback_current_a=10))
    assert list(problem) == ["current_max_a"] and "minimum (16 A)" in problem["current_max_a"]


def test_minimum_equal_to_maximum_is_allowed(park):
    assert errors(new_form(current_min_a=10, current_max_a=10, fallback_current_a=10)) == {}


@pytest.mark.parametrize("fallback", [6, 20, 1])
def test_the_fallback_current_must_lie_between_minimum_and_maximum_or_pause(park, fallback):
    problem = errors(new_form(current_min_a=8, current_max_a=16, fallback_current_a=fallback))
    assert list(problem) == ["fallback_current_a"] and "8 A" in problem["fallback_current_a"]


@pytest.mark.parametrize("fallback", [0, 8, 16])
def test_a_fallback_current_of_zero_pauses_and_is_allowed(park, fallback):
    assert errors(new_form(current_min_a=8, current_max_a=16, fallback_current_a=fallback)) == {}


def test_a_fallback_current_beyond_the_hardware_is_refused(park):
    assert "fallback_current_a" in errors(new_form(fallback_current_a=40))


@pytest.mark.parametrize("seconds", [-1, 3601])
def test_the_fallback_time_has_limits(park, seconds):
    assert "fallback_time_s" in errors(new_form(fallback_time_s=seconds))


def test_a_number_field_refuses_text(park):
    assert "whole number" in errors(new_form(current_max_a="sixteen"))["current_max_a"]


# --- Energy: meter -----------------------------------------------------------------------------------


def test_every_meter_of_the_manual_can_be_chosen_and_an_unknown_one_is_refused(park):
    for meter in c.MeterType.values:
        assert errors(new_form(meter_type=meter)) == {}, meter
    assert "meter_type" in errors(new_form(meter_type="acme_3000"))


def test_phase_rotation_and_charge_current_monitoring_are_kept_only_with_a_meter(park):
    with_meter = new_form(
        meter_type=c.MeterType.EEM_350,
        phase_rotation="L2L3L1",
        overcurrent_detection="shutdown",
        out_of_balance_suppression=True,
    )
    assert with_meter.cleaned_data["phase_rotation"] == "L2L3L1"
    assert with_meter.cleaned_data["overcurrent_detection"] == "shutdown"
    assert with_meter.cleaned_data["out_of_balance_suppression"] is True
    without = new_form(
        meter_type="", phase_rotation="L2L3L1", overcurrent_detection="shutdown", out_of_balance_suppression=True
    )
    assert errors(without) == {}
    assert without.cleaned_data["phase_rotation"] == ""
    assert without.cleaned_data["overcurrent_detection"] == "ev_ze_ready"  # the default: the manual's first
    assert without.cleaned_data["out_of_balance_suppression"] is False


# --- Charging Connection ---------------------------------------------------------------------------


def test_socket_outlet_settings_apply_only_to_a_socket_outlet(park):
    socket = new_form(
        connection_type="socket_outlet",
        socket_outlet_type="3pos_hella",
        locking_mode="remote",
        plug_rejection="reject_13",
    )
    assert (
        socket.cleaned_data["socket_outlet_type"],
        socket.cleaned_data["locking_mode"],
        socket.cleaned_data["plug_rejection"],
    ) == ("3pos_hella", "remote", "reject_13")
    connector = new_form(
        connection_type="connector", socket_outlet_type="bogus", locking_mode="remote", plug_rejection="reject_13"
    )
    assert errors(connector) == {}  # a stale value of a hidden field is not an error
    assert (
        connector.cleaned_data["socket_outlet_type"],
        connector.cleaned_data["locking_mode"],
        connector.cleaned_data["plug_rejection"],
    ) == ("4pos_marquardt", "ev_connected", "reject_13")


def test_a_socket_outlet_needs_its_settings(park):
    assert "socket_outlet_type" in errors(new_form(connection_type="socket_outlet", socket_outlet_type=""))


def test_status_d_rejection_applies_to_both_connection_types(park):
    assert (
        new_form(connection_type="connector", status_d_rejection="accept").cleaned_data["status_d_rejection"]
        == "accept"
    )


# --- Monitoring -----------------------------------------------------------------------------------


def test_the_auxiliary_contact_applies_only_with_contactor_monitoring(park):
    assert new_form(contactor_monitoring_input=2, aux_contact_type="no").cleaned_data["aux_contact_type"] == "no"
    assert new_form(contactor_monitoring_input=0, aux_contact_type="no").cleaned_data["aux_contact_type"] == "nc"
    assert "contactor_monitoring_input" in errors(new_form(contactor_monitoring_input=5))


def test_derating_start_temperature_must_be_below_the_stop_temperature(park):
    for start in (80, 90):
        problem = errors(new_form(derating_sensor="pt1000", derating_start_temp_c=start, derating_stop_temp_c=80))
        assert list(problem) == ["derating_start_temp_c"] and "80 °C" in problem["derating_start_temp_c"]


def test_derating_start_current_must_be_greater_than_the_stop_current(park):
    for start in (6, 4):
        problem = errors(new_form(derating_sensor="pt1000", derating_start_current_a=start, derating_stop_current_a=6))
        assert list(problem) == ["derating_start_current_a"] and "6 A" in problem["derating_start_current_a"]


def test_valid_pt1000_derating_is_kept(park):
    form = new_form(
        derating_sensor="pt1000",
        derating_start_temp_c=50,
        derating_stop_temp_c=70,
        derating_start_current_a=20,
        derating_stop_current_a=8,
    )
    assert errors(form) == {}
    assert [
        form.cleaned_data[f]
        for f in (
            "derating_start_temp_c",
            "derating_stop_temp_c",
            "derating_start_current_a",
            "derating_stop_current_a",
        )
    ] == [50, 70, 20, 8]


def test_derating_rules_do_not_apply_without_pt1000_and_the_values_are_reset(park):
    for sensor in ("", "ptc"):
        form = new_form(
            derating_sensor=sensor,
            derating_start_temp_c=99,
            derating_stop_temp_c=10,
            derating_start_current_a=1,
            derating_stop_current_a=30,
        )
        assert errors(form) == {}
        assert form.cleaned_data["derating_start_temp_c"] == 60 and form.cleaned_data["derating_stop_current_a"] == 6


def test_the_terminating_resistor_is_kept_only_with_a_ptc(park):
    assert new_form(derating_sensor="ptc", ptc_terminating_resistor=True).cleaned_data["ptc_terminating_resistor"]
    assert not new_form(derating_sensor="pt1000", ptc_terminating_resistor=True).cleaned_data[
        "ptc_terminating_resistor"
    ]


@pytest.mark.parametrize("temperature", [-41, 151])
def test_derating_temperatures_have_a_range(park, temperature):
    assert "derating_stop_temp_c" in errors(new_form(derating_sensor="pt1000", derating_stop_temp_c=temperature))


# --- Allow Charging -------------------------------------------------------------------------------


@pytest.mark.parametrize("connector_id", [-1, 0, ""])
def test_release_by_ocpp_needs_a_connector_id_from_1(park, connector_id):
    assert "ocpp_connector_id" in errors(new_form(release_mode="ocpp", ocpp_connector_id=connector_id))


def test_the_ocpp_connector_id_must_be_unique_among_ocpp_charge_points(park):
    ChargePointConfig.objects.filter(name="P1-02").update(release_mode="ocpp", ocpp_connector_id=2)
    problem = errors(new_form(release_mode="ocpp", ocpp_connector_id=2))["ocpp_connector_id"]
    assert "2" in problem and "P1-02" in problem
    assert errors(new_form(release_mode="ocpp", ocpp_connector_id=3)) == {}


def test_a_connector_id_of_a_charge_point_not_released_by_ocpp_does_not_count(park):
    ChargePointConfig.objects.filter(name="P1-02").update(ocpp_connector_id=2)  # release: permanent
    assert errors(new_form(release_mode="ocpp", ocpp_connector_id=2)) == {}


def test_the_connector_id_is_reset_when_not_released_by_ocpp(park):
    form = new_form(release_mode="dashboard", ocpp_connector_id=7)
    assert errors(form) == {} and form.cleaned_data["ocpp_connector_id"] == -1


def test_the_rfid_reader_lists_every_charge_point_of_the_park_by_name(park):
    form = ChargePointConfigForm(chargepoint=unconfigured())
    labels = [label for _value, label in form.fields["rfid_reader"].choices]
    assert labels[0] == "No RFID reader"
    assert "P1-03 (ev3000, position 3)" in labels
    assert "Not configured (ev3000-2, position 2)" in labels
    assert len(labels) == ChargePoint.objects.count() + 1


@pytest.mark.parametrize("release_mode", list(c.ReleaseMode))
def test_rfid_settings_apply_in_every_release_mode_with_a_reader(park, release_mode):
    reader = cp_id("P1-03")
    form = new_form(
        release_mode=release_mode,
        ocpp_connector_id=1,
        rfid_reader=reader,
        rfid_reader_type="duali_mde950",
        rfid_timeout_s=30,
    )
    assert errors(form) == {}
    assert form.cleaned_data["rfid_reader"].pk == reader
    assert (form.cleaned_data["rfid_reader_type"], form.cleaned_data["rfid_timeout_s"]) == ("duali_mde950", 30)
    assert "rfid_timeout_s" in errors(
        new_form(release_mode=release_mode, ocpp_connector_id=1, rfid_reader=reader, rfid_timeout_s=0)
    )
    no_reader = new_form(
        release_mode=release_mode, ocpp_connector_id=1, rfid_reader="", rfid_reader_type="duali_mde950"
    )
    assert no_reader.cleaned_data["rfid_reader_type"] == "elatec_twn4"


@pytest.mark.parametrize("seconds", [0, 3601])
def test_the_rfid_timeout_has_limits(park, seconds):
    assert "rfid_timeout_s" in errors(
        new_form(release_mode="whitelist", rfid_reader=cp_id("P1-03"), rfid_timeout_s=seconds)
    )


def test_an_unknown_release_mode_is_refused(park):
    assert "release_mode" in errors(new_form(release_mode="coin_slot"))


# --- ISO 15118 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("evse_id", ["DE123E4567", "de123e4567", "DE*123*E4567*1"])
def test_evse_ids_in_the_manuals_format_are_accepted(park, evse_id):
    form = form_for("P1-01", hlc_mode="required", evse_id=evse_id)
    assert errors(form) == {} and form.cleaned_data["evse_id"] == evse_id.upper()


@pytest.mark.parametrize("evse_id", ["123E4567", "DE123", "DE-123-E4567", "D1123E4567"])
def test_evse_ids_in_another_format_are_refused_at_the_field(park, evse_id):
    assert "DE123E4567" in errors(form_for("P1-01", hlc_mode="optional", evse_id=evse_id))["evse_id"]


def test_contract_payment_is_refused_because_certificates_cannot_be_loaded(park):
    assert (
        "External Payment"
        in errors(form_for("P1-01", hlc_mode="optional", payment_options="contract"))["payment_options"]
    )


def test_iso15118_settings_are_reset_when_hlc_is_disabled(park):
    form = form_for(
        "P1-01", hlc_mode="disabled", evse_id="nonsense", free_charge_service=True, payment_options="contract"
    )
    assert errors(form) == {}
    assert (
        form.cleaned_data["evse_id"],
        form.cleaned_data["free_charge_service"],
        form.cleaned_data["payment_options"],
    ) == ("", False, "external")


def test_a_charge_point_without_iso15118_refuses_an_hlc_mode(park):
    assert "does not support ISO 15118" in errors(form_for("P1-02", hlc_mode="required"))["hlc_mode"]


def test_a_charge_point_without_iso15118_does_not_need_the_section(park):
    data = data_of("P1-02")
    for field in ("hlc_mode", "evse_id", "free_charge_service", "payment_options"):
        data.pop(field)
    form = ChargePointConfigForm(data=data, chargepoint=ChargePoint.objects.get(config__name="P1-02"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["hlc_mode"] == "disabled"


# --- which fields the page shows ------------------------------------------------------------------


def test_the_page_hides_exactly_the_fields_that_do_not_apply(park):
    cp = unconfigured()
    shown = ChargePointConfigForm(
        initial={"connection_type": "connector", "derating_sensor": "pt1000", "release_mode": "ocpp"}, chargepoint=cp
    ).hidden_fields_now()
    assert {"socket_outlet_type", "locking_mode", "plug_rejection", "standard"} <= shown
    assert "derating_start_temp_c" not in shown and "ptc_terminating_resistor" in shown
    assert "ocpp_connector_id" not in shown and "rfid_reader" not in shown and "rfid_timeout_s" in shown
    assert {"hlc_mode", "evse_id"} <= shown  # a CHARX SEC-3100 has no ISO 15118


@pytest.mark.parametrize(
    ("field", "value"),
    [("current_max_a", 40), ("current_min_a", 2), ("fallback_time_s", 7200), ("rfid_timeout_s", 0)],
)
def test_field_limits_live_on_the_model_so_no_way_in_can_skip_them(park, field, value):
    from django.core.exceptions import ValidationError

    from chargepoints.models import ChargePointConfig

    config = ChargePointConfig.objects.first()
    setattr(config, field, value)
    with pytest.raises(ValidationError) as refused:
        config.full_clean()
    assert field in refused.value.message_dict


def test_page_api_and_import_share_one_validation(park, monkeypatch):
    """The services and the import validate through ``forms.config_validate``."""
    from chargepoints import forms, importexport, services

    assert services.config_validate is forms.config_validate
    assert importexport.config_validate is forms.config_validate


# --- the reader stays, whatever the release mode -------------------------------------------------


@pytest.mark.parametrize("release_mode", ["dashboard", "remote", "permanent", "modbus"])
def test_changing_the_release_mode_keeps_the_reader_and_its_board(db, release_mode):
    from chargepoints import services
    from chargepoints.selectors import rfid_board_list
    from tests.factories import make_configured_chargepoint
    from wbm.audit import Actor
    from wbm.roles import Role

    cp = make_configured_chargepoint(release_mode="whitelist", rfid_reader="self", rfid_timeout_s=45)
    values = {field: getattr(cp.config, field) for field in CONFIG_FIELDS}
    data = {**form_data_from_values(values), "release_mode": release_mode}
    services.chargepoint_config_save(
        chargepoint=cp, data=data, actor=Actor(username="m", role=Role.MANUFACTURER, source="web")
    )
    stored = ChargePointConfig.objects.get(pk=cp.pk)
    assert (stored.release_mode, stored.rfid_reader_id, stored.rfid_reader_type, stored.rfid_timeout_s) == (
        release_mode,
        cp.pk,
        "charx_rfid_nfc",
        45,
    )
    assert cp.pk in [board.pk for board in rfid_board_list()]  # the CHARX RFID/NFC board stays in the menu


def test_the_page_shows_the_reader_in_every_release_mode(db):
    from tests.factories import make_configured_chargepoint

    cp = make_configured_chargepoint(release_mode="dashboard", rfid_reader="self")
    hidden = ChargePointConfigForm(
        initial={"release_mode": "dashboard", "rfid_reader": cp.pk}, chargepoint=cp
    ).hidden_fields_now()
    assert not {"rfid_reader", "rfid_reader_type", "rfid_timeout_s"} & hidden


# --- the manual's choices -------------------------------------------------------------------------


CHOICE_FIELDS = ("plug_rejection", "overcurrent_detection")


def test_plug_rejection_and_over_current_detection_offer_exactly_the_manuals_choices(park):
    form = ChargePointConfigForm(chargepoint=unconfigured())
    choices = {
        name: cast(list[tuple[str, Any]], cast(forms.ChoiceField, form.fields[name]).choices) for name in CHOICE_FIELDS
    }
    assert [str(label) for _v, label in choices["plug_rejection"]] == ["Reject 13 A", "Reject 20 A & 13 A"]
    assert [str(label) for _v, label in choices["overcurrent_detection"]] == [
        "EV/ZE Ready",
        "Overcurrent shutdown",
    ]
    assert "plug_rejection" in errors(new_form(plug_rejection="none"))
    assert "overcurrent_detection" in errors(new_form(meter_type=c.MeterType.EEM_350, overcurrent_detection=""))
