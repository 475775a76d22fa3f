"""/api/v1: the status page's groups and operations, and the RFID/NFC boards, with the same roles."""

from __future__ import annotations

import json

import pytest

from chargepoints.models import RfidBoard, RfidLedProfile
from tests.conftest import cp_id
from wbm.roles import Role


def post(client, url: str, body: dict, method: str = "post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_status_api_has_every_group_and_hides_what_the_page_hides(runtime, client_as):
    client = client_as(Role.USER)
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, hlc=True, evcc_id="00A0C9142A3F")
    data = client.get(f"/api/v1/chargepoints/{pk}/status/").json()
    assert data["current"]["status"] == "occupied" and data["current"]["local_bus"] == "connected"
    assert data["device"] == {"name": "CHARX SEC-3150", "uid": "d5ae627400010001"}
    assert data["base_module"] == {"hardware_version": "1.2.0", "firmware_version": "1.8.3"}
    assert data["bus"] == {"position": 1, "head_ip": "192.168.1.50", "head_mac": "A8:74:1D:10:22:31"}
    assert data["meter"]["available"] is True and data["meter"]["frequency_hz"] == 50.0
    assert data["details"]["iec_state"] == "B" and data["details"]["temperature_c"] is None
    assert data["iso15118"]["evcc_id"] == "00A0C9142A3F" and data["iso15118"]["tcp_status"] == "CONNECTED"
    visitor = client.get(f"/api/v1/chargepoints/{cp_id('Visitor-01')}/status/").json()
    assert visitor["meter"] is None and visitor["current"]["currents_a"] is None
    assert visitor["current"]["charged_energy_wh"] is None
    p2 = client.get(f"/api/v1/chargepoints/{cp_id('P1-02')}/status/").json()
    assert p2["iso15118"] is None


def test_state_api_carries_the_iso15118_section(runtime, client_as):
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=1, max_current_a=16, hlc=True)
    runtime.call("sim.iso_error", cp=pk, error="SLAC_FAILED")
    data = client_as(Role.USER).get(f"/api/v1/chargepoints/{pk}/").json()
    assert data["iso15118"]["error"] == "SLAC_FAILED" and data["iso15118"]["qca_link_status"] == "DOWN"
    assert data["vehicle"]["hlc"] is True


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_api_refuses_disable_and_unlock_below_manufacturer(runtime, client_as, role):
    client = client_as(role)
    pk = cp_id("P1-02")
    assert post(client, f"/api/v1/chargepoints/{pk}/availability/", {"enabled": False}).status_code == 403
    assert post(client, f"/api/v1/chargepoints/{pk}/unlock/", {"enforce": True}).status_code == 403
    assert runtime.step().chargepoint(pk).enabled


def test_api_disable_and_unlock_act_on_the_hardware(runtime, client_as):
    client = client_as(Role.MANUFACTURER)
    pk = cp_id("P1-02")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    response = post(client, f"/api/v1/chargepoints/{pk}/availability/", {"enabled": False})
    assert response.status_code == 200
    assert response.json()["iec_state"] == "F" and response.json()["dashboard_status"] == "error"
    post(client, f"/api/v1/chargepoints/{pk}/availability/", {"enabled": True})
    runtime.clock.advance(5)  # raising the PWM again waits the vehicle's 5 s
    assert runtime.step().chargepoint(pk).iec_state == "C"
    data = post(client, f"/api/v1/chargepoints/{pk}/unlock/", {"enforce": True}).json()
    assert data["unlock_enforced"] is True and data["locked"] is False and data["pwm_limit_a"] == 0
    assert post(client, f"/api/v1/chargepoints/{pk}/unlock/", {"enforce": "maybe"}).status_code == 400


def test_api_user_may_release(runtime, client_as):
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    response = post(client_as(Role.USER), f"/api/v1/chargepoints/{pk}/release/", {"allow": True})
    assert response.status_code == 200 and response.json()["release"] is True


def test_rfid_board_api_reads_and_changes_a_board(runtime, client_as):
    board = cp_id("P1-03")
    boards = client_as(Role.USER).get("/api/v1/chargepoints/rfid-boards/").json()
    assert [b["chargepoint"] for b in boards] == [board]
    assert boards[0]["firmware_version"] == "1.2.4" and boards[0]["active_profile"] == "ready"
    assert len(boards[0]["profiles"]) == 14 and "backend_online" not in boards[0]["profiles"]
    client = client_as(Role.MANUFACTURER)
    response = post(
        client,
        f"/api/v1/chargepoints/rfid-boards/{board}/",
        {
            "connection_type": "1:n",
            "buzzer_volume_pct": 10,
            "profiles": {"backend_online": {"mode": "flashing", "color": "red", "period_ms": 700}},
        },
        method="put",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["connection_type"] == "1:n" and list(data["profiles"]) == [
        "backend_online",
        "waiting_authorization",
        "offline",
        "not_ready",
        "waiting_card",
        "rfid_accepted",
        "rfid_rejected",
    ]
    assert data["profiles"]["backend_online"] == {
        "name": "Backend online",
        "mode": "flashing",
        "color": "red",
        "brightness_pct": 100,
        "period_ms": 700,
        "min_brightness_pct": 0,
        "max_brightness_pct": 100,
    }
    assert RfidBoard.objects.get(pk=board).buzzer_volume_pct == 10


def test_rfid_board_api_validates_and_keeps_the_roles(runtime, client_as):
    board = cp_id("P1-03")
    url = f"/api/v1/chargepoints/rfid-boards/{board}/"
    assert post(client_as(Role.OPERATOR), url, {"buzzer_volume_pct": 10}, method="put").status_code == 403
    client = client_as(Role.MANUFACTURER)
    response = post(
        client,
        url,
        {"profiles": {"charging": {"mode": "fade", "min_brightness_pct": 90, "max_brightness_pct": 10}}},
        method="put",
    )
    assert response.status_code == 400
    assert "profiles.charging.min_brightness_pct" in response.json()["errors"]
    response = post(client, url, {"buzzer_volume_pct": 101, "profiles": {"nonsense": {}}}, method="put")
    assert response.status_code == 400
    assert {"buzzer_volume_pct", "profiles.nonsense"} <= set(response.json()["errors"])
    assert not RfidLedProfile.objects.exists() and RfidBoard.objects.get(pk=board).buzzer_volume_pct == 50
    assert client.get(f"/api/v1/chargepoints/rfid-boards/{cp_id('P1-01')}/").status_code == 404
