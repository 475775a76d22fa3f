"""The feature profiles through the real OCPP agent in a runtime against the test CSMS: smart
charging lowers a charging vehicle's PWM, a reservation shows Reserved, the local list, a firmware
update with its notifications. Every run: no schema or protocol violation at the CSMS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.ocpp.agent_env import BOX, Env, boot, make_env, wait_until
from wbm.runtime.claims import Source
from wbm.runtime.snapshot import ChargePointState


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path) -> Iterator[Env]:
    settings.WBM_OCPP_FIRMWARE_DIR = tmp_path / "firmware"
    yield from make_env(settings, monkeypatch, tmp_path)


def wire(delta_s: float) -> str:
    at = datetime.now(UTC) + timedelta(seconds=delta_s)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def tx_default(limit_a: float, profile_id: int = 1) -> dict:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": wire(-60),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
        },
    }


def pwm_at(env: Env, amps: float) -> ChargePointState | None:
    """One controller tick; the charge point when its PWM offers ``amps``."""
    env.steps(1, 0.05)
    snapshot = env.rt.runtime.snapshot
    point = snapshot.chargepoint(env.cps[0]) if snapshot else None
    return point if point is not None and point.pwm_limit_a == amps else None


def test_tc_056_082_a_tx_default_profile_lowers_a_charging_vehicles_pwm(env: Env) -> None:
    boot(env)
    env.plug(0)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R1", "connectorId": 1})["status"] == "Accepted"
    env.csms.wait_for("StartTransaction")
    point = wait_until(lambda: pwm_at(env, 16), what="charging at 16 A")
    assert point.iec_state == "C"
    answer = env.csms.call(BOX, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_default(8)})
    assert answer["status"] == "Accepted"

    point = wait_until(lambda: pwm_at(env, 8), what="the PWM at 8 A")
    assert point.decision.binding is Source.OCPP
    composite = env.csms.call(BOX, "GetCompositeSchedule", {"connectorId": 1, "duration": 600})
    assert composite["status"] == "Accepted"
    assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 8
    wait_until(lambda: env.status().get("composite", {}).get("1") == 8, what="the composite in the status")
    assert env.csms.call(BOX, "ClearChargingProfile", {"id": 1})["status"] == "Accepted"
    assert env.csms.violations == []


def test_tc_046_051_a_reservation_shows_reserved_and_only_its_tag_starts(env: Env) -> None:
    boot(env)
    answer = env.csms.call(
        BOX, "ReserveNow", {"connectorId": 1, "expiryDate": wire(600), "idTag": "RES1", "reservationId": 42}
    )
    assert answer["status"] == "Accepted"
    env.steps(2)
    env.csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Reserved")
    wait_until(lambda: env.status().get("reservations"), what="the reservation in the status")
    assert env.csms.call(BOX, "CancelReservation", {"reservationId": 42})["status"] == "Accepted"
    env.steps(2)
    env.csms.wait_for(
        "StatusNotification",
        lambda p: p["connectorId"] == 1 and p["status"] == "Available" and p.get("timestamp", "") > "",
    )
    assert env.csms.call(BOX, "CancelReservation", {"reservationId": 42})["status"] == "Rejected"
    assert env.csms.violations == []


def test_tc_046_1_the_reserving_card_starts_with_the_reservation_id(env: Env) -> None:
    boot(env)
    env.csms.call(
        BOX, "ReserveNow", {"connectorId": 1, "expiryDate": wire(600), "idTag": "AABBCCDD", "reservationId": 7}
    )
    env.plug(0)
    env.card("AABBCCDD")
    start = env.csms.wait_for("StartTransaction")
    assert start.get("reservationId") == 7
    wait_until(lambda: not env.agent.reservations.status(), what="the reservation used")
    assert env.csms.violations == []


def test_tc_043_008_local_list_through_the_agent(env: Env) -> None:
    boot(env)
    entries = [{"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}}]
    answer = env.csms.call(
        BOX, "SendLocalList", {"listVersion": 2, "updateType": "Full", "localAuthorizationList": entries}
    )
    assert answer["status"] == "Accepted"
    assert env.csms.call(BOX, "GetLocalListVersion", {})["listVersion"] == 2
    assert env.agent.local_list.lookup("LOCAL1") == {"status": "Accepted"}
    assert env.csms.violations == []


class _Firmware(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"firmware" * 64
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_tc_044_1_054_firmware_update_notifications_reach_the_backend(env: Env) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Firmware)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        boot(env)
        location = f"http://127.0.0.1:{server.server_address[1]}/fw.bin"
        assert env.csms.call(BOX, "UpdateFirmware", {"location": location, "retrieveDate": wire(-1)}) == {}
        env.csms.wait_for("FirmwareStatusNotification", lambda p: p["status"] == "Installed", timeout=10)
        steps = [p["status"] for p in env.csms.calls("FirmwareStatusNotification")]
        assert steps == ["Downloading", "Downloaded", "Installing", "Installed"]
        assert env.csms.call(BOX, "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})["status"] == (
            "Accepted"
        )
        wait_until(lambda: len(env.csms.calls("FirmwareStatusNotification")) == 5, what="the triggered status")
        assert env.csms.calls("FirmwareStatusNotification")[-1]["status"] == "Idle"
        assert env.csms.violations == []
    finally:
        server.shutdown()
        server.server_close()


class _Files(_Firmware):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_every_feature_call_passes_the_strict_third_party_peer(
    transactional_db, settings, monkeypatch, tmp_path
) -> None:
    from tests.ocpp.strict import StrictCsms

    settings.WBM_OCPP_FIRMWARE_DIR = tmp_path / "firmware"
    settings.WBM_OCPP_DIAGNOSTICS_DIR = tmp_path / "diagnostics"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with StrictCsms() as strict:
            for env in make_env(settings, monkeypatch, tmp_path, connectors=2, url=strict.url(BOX)):
                strict.wait_for("BootNotification")
                strict.wait_for("StatusNotification", predicate=lambda p: p["connectorId"] == 2)
                reserve = {"connectorId": 0, "expiryDate": wire(600), "idTag": "T1", "reservationId": 1}
                assert strict.call(BOX, "ReserveNow", reserve)["status"] == "Accepted"
                assert strict.call(BOX, "CancelReservation", {"reservationId": 1})["status"] == "Accepted"
                local = {"listVersion": 1, "updateType": "Differential", "localAuthorizationList": [{"idTag": "X"}]}
                assert strict.call(BOX, "SendLocalList", local)["status"] == "Accepted"
                assert strict.call(BOX, "GetLocalListVersion", {})["listVersion"] == 1
                profile = {"connectorId": 0, "csChargingProfiles": tx_default(10)}
                assert strict.call(BOX, "SetChargingProfile", profile)["status"] == "Accepted"
                schedule = strict.call(
                    BOX, "GetCompositeSchedule", {"connectorId": 2, "duration": 300, "chargingRateUnit": "W"}
                )
                assert schedule["status"] == "Accepted"
                assert strict.call(BOX, "ClearChargingProfile", {"chargingProfilePurpose": "TxDefaultProfile"})[
                    "status"
                ] == ("Accepted")
                strict.call(
                    BOX, "UpdateFirmware", {"location": f"{base}/fw.bin", "retrieveDate": wire(-1), "retries": 1}
                )
                strict.wait_for("FirmwareStatusNotification", 10, lambda p: p["status"] == "Installed")
                answer = strict.call(BOX, "GetDiagnostics", {"location": f"{base}/up/", "startTime": wire(-60)})
                assert answer["fileName"].endswith(".zip")
                strict.wait_for("DiagnosticsStatusNotification", 10, lambda p: p["status"] == "Uploaded")
                assert strict.violations == []
                assert env.csms.violations == []
    finally:
        server.shutdown()
        server.server_close()
