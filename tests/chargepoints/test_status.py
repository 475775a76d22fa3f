"""The Charge Point Status page: every group of the manual's status table, from the live state."""

from __future__ import annotations

import re

from chargepoints.models import ChargePoint, ChargePointConfig
from tests.conftest import cp_id
from wbm.roles import Role


def page(client, pk: int) -> str:
    response = client.get(f"/chargepoints/{pk}/")
    assert response.status_code == 200
    return response.content.decode()


def field(body: str, testid: str) -> str:
    """The text of a <dd data-testid=...>, tags stripped."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</dd>', body, re.S)
    assert match, f"no field {testid}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_status_page_shows_every_group_of_the_manual(runtime, client_as):
    pk = cp_id("P1-01")
    body = page(client_as(Role.USER), pk)
    for heading in (
        "Current charging status",
        "Device info",
        "Base module",
        "Bus communication",
        "Energy measuring device",
        "Charging point details",
        "ISO 15118",
    ):
        assert f">{heading}</h2>" in body, heading
    assert field(body, "status") == "Available"
    assert field(body, "local-bus") == "Connected"
    assert field(body, "pwm") == "0.0 A"  # always 0 A without a vehicle
    assert field(body, "device-name") == "CHARX SEC-3150"
    assert field(body, "device-uid") == ChargePoint.objects.get(pk=pk).device_uid
    assert field(body, "hardware-version") == "1.2.0" and field(body, "firmware-version") == "1.8.3"
    assert field(body, "position") == "1"
    assert field(body, "head-ip") == "192.168.1.50" and field(body, "head-mac") == "A8:74:1D:10:22:31"
    assert field(body, "iec-state") == "A – no vehicle connected"
    assert field(body, "meter-frequency") == "50.0 Hz"
    assert field(body, "meter-u1").endswith(" V")
    assert field(body, "rfid") == "–"
    assert 'data-testid="temperature"' not in body  # no temperature evaluation configured


def test_charging_values_follow_the_simulated_vehicle(runtime, client_as):
    pk = cp_id("P1-02")  # permanent release, meter
    runtime.call("sim.plug_in", cp=pk, phases=1, max_current_a=16)
    runtime.step()
    body = page(client_as(Role.USER), pk)
    assert field(body, "status") == "Charging"
    assert field(body, "iec-state") == "C – charging"
    assert field(body, "pwm") == "16.0 A"
    l1, l2, l3 = field(body, "currents").split(" | ")
    assert float(l1.split()[0]) > 15 and l2 == "0.0 A" and l3 == "0.0 A"  # a one-phase vehicle
    assert field(body, "charging-power").endswith(" kW") and field(body, "charging-power") != "0.00 kW"


def test_without_configured_meter_energy_is_hidden_and_currents_not_available(runtime, client_as):
    body = page(client_as(Role.USER), cp_id("Visitor-01"))
    assert 'id="group-meter"' not in body
    assert 'data-testid="charged-energy"' not in body and 'data-testid="charging-power"' not in body
    assert field(body, "currents") == "Not available"


def test_a_configured_meter_that_cannot_be_read_is_not_available(runtime, client_as):
    pk = cp_id("P1-02")
    runtime.call("sim.fault", cp=pk, code="PowerMeterFailure", info="")
    body = page(client_as(Role.USER), pk)
    assert 'id="group-meter"' in body
    assert field(body, "meter-i1") == "Not available" and field(body, "meter-pf") == "Not available"
    assert field(body, "charged-energy") == "Not available"
    assert field(body, "status") == "Error" and "PowerMeterFailure" in field(body, "error")


def test_iso15118_section_only_when_hlc_is_configured(runtime, client_as):
    client = client_as(Role.USER)
    assert 'id="group-iso15118"' not in page(client, cp_id("P1-02"))
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, hlc=True, evcc_id="00A0C9142A3F")
    runtime.call("cp.release", cp=pk, allow=True)
    body = page(client, pk)
    assert field(body, "iso-evcc") == "00A0C9142A3F"
    assert field(body, "iso-mode") == "AC_three_phase_core"
    assert field(body, "iso-tcp") == "CONNECTED" and field(body, "iso-qca") == "UP"
    assert field(body, "iso-progress") == "Start"
    assert re.fullmatch(r"[0-9A-F]{16}", field(body, "iso-session"))


def test_iso15118_error_is_shown_with_its_explanation(runtime, client_as):
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, hlc=True)
    runtime.call("sim.iso_error", cp=pk, error="SESSION_SETUP_TIMEOUT")
    body = page(client_as(Role.USER), pk)
    error = field(body, "iso-error")
    assert error.startswith("SESSION_SETUP_TIMEOUT")
    assert "did not set up a charging session within 18 seconds" in error
    assert field(body, "iso-tcp") == "DISCONNECTED"


def test_external_temperature_only_when_a_sensor_is_configured(runtime, client_as):
    pk = cp_id("P1-02")
    ChargePointConfig.objects.filter(chargepoint_id=pk).update(derating_sensor="pt1000")
    runtime.call("config.reload")
    runtime.call("sim.temperature", cp=pk, celsius=41.5)
    assert field(page(client_as(Role.USER), pk), "temperature") == "41.5 °C"


def test_current_rfid_is_the_tag_read_by_the_configured_reader(runtime, client_as):
    pk = cp_id("P1-03")  # its own CHARX RFID/NFC reader, whitelist release
    runtime.call("sim.rfid", cp=pk, tag="04A1B2C3D4E5F6")
    assert field(page(client_as(Role.USER), pk), "rfid") == "04A1B2C3D4E5F6"


def test_unconfigured_charge_point_shows_hardware_facts_and_not_configured(runtime, client_as):
    pk = ChargePoint.objects.get(config__isnull=True).pk
    body = page(client_as(Role.MANUFACTURER), pk)
    assert field(body, "status") == "Not configured"
    assert field(body, "device-name") == "CHARX SEC-3100" and field(body, "position") == "2"
    assert 'data-testid="op-enforce-unlock"' not in body  # unlocking needs a configuration
    assert 'data-testid="op-export"' not in body and 'data-testid="op-delete"' not in body
    assert "Create configuration" in body


def test_page_says_when_the_runtime_is_not_running(park, client_as):
    body = page(client_as(Role.USER), cp_id("P1-01"))
    assert "The controller runtime is not running" in body
    assert field(body, "device-name") == "CHARX SEC-3150"  # the hardware facts are still there


def test_guest_is_sent_to_login_and_unknown_charge_point_is_404(park, client_as):
    response = client_as(Role.GUEST).get(f"/chargepoints/{cp_id('P1-01')}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_as(Role.USER).get("/chargepoints/9999/").status_code == 404


def test_overview_links_every_charge_point_to_its_status(park, client_as):
    body = client_as(Role.USER).get("/chargepoints/").content.decode()
    for cp in ChargePoint.objects.all():
        assert f'href="/chargepoints/{cp.pk}/"' in body
