"""The real OCPP agent against the strict third-party peer (ocpp-rpc in strictMode, Node): boot,
statuses, authorization, transactions with meter values, every remote operation of the profiles
implemented, an outage with the backend gone and back, wrong Basic credentials. ocpp-rpc checks
every frame in both directions with its own schemas: each test ends with no strict violation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ocppcfg.models import OutboxMessage
from tests.ocpp.agent_env import BOX, Env, make_env, running, wait_until
from tests.ocpp.strict import StrictCsms
from tests.ocpp.test_features_agent import tx_default, wire

MEASURANDS = "Energy.Active.Import.Register,Current.Import,Voltage,Power.Active.Import"


class _Files(BaseHTTPRequestHandler):
    """A firmware image to download and a place to upload diagnostics."""

    def do_GET(self) -> None:
        body = b"\x7fELF firmware image"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def strict() -> Iterator[StrictCsms]:
    with StrictCsms() as server:
        yield server


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path, strict: StrictCsms) -> Iterator[Env]:
    settings.WBM_OCPP_FIRMWARE_DIR = tmp_path / "firmware"
    settings.WBM_OCPP_DIAGNOSTICS_DIR = tmp_path / "diagnostics"
    keys = {"MeterValueSampleInterval": "1", "MeterValuesSampledData": MEASURANDS}
    yield from make_env(settings, monkeypatch, tmp_path, connectors=2, url=strict.url(BOX), keys=keys)


def booted(strict: StrictCsms, after: int = 0) -> None:
    strict.wait_for("BootNotification", after=after)
    for connector in (0, 1, 2):

        def of(payload: dict[str, Any], wanted: int = connector) -> bool:
            return bool(payload["connectorId"] == wanted)

        strict.wait_for("StatusNotification", predicate=of, after=after)


def seen(env: Env, strict: StrictCsms, method: str, predicate: Any = None, timeout: float = 8.0) -> Any:
    """A CALL of ``method`` from the charge point, stepping the runtime (its controller) meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        env.rt.step()
        try:
            return strict.wait_for(method, 0.2, predicate)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def test_strict_core_transaction_and_every_remote_operation(env: Env, strict: StrictCsms, files: str) -> None:
    booted(strict)
    call = lambda action, payload: strict.call(BOX, action, payload)  # noqa: E731
    # authorize, a card transaction with meter values, a remote stop
    env.plug(0)
    env.card("04A1B2C3")
    assert strict.wait_for("Authorize")["idTag"] == "04A1B2C3"
    assert strict.wait_for("StartTransaction")["connectorId"] == 1
    wait_until(lambda: env.agent.active[1].transaction_id, what="the transactionId")
    env.steps(4, 0.3)
    values = strict.wait_for("MeterValues", 5, lambda p: "transactionId" in p)
    assert {s.get("measurand") for s in values["meterValue"][0]["sampledValue"]} >= {"Voltage", "Current.Import"}
    tx_id = env.agent.active[1].transaction_id
    assert call("RemoteStopTransaction", {"transactionId": tx_id})["status"] == "Accepted"
    assert strict.wait_for("StopTransaction")["reason"] == "Remote"
    # a remote start with a TxProfile (TC_059), then unlock ends it
    profile = {**tx_default(10, 7), "chargingProfilePurpose": "TxProfile"}
    start = call("RemoteStartTransaction", {"idTag": "REMOTE1", "connectorId": 2, "chargingProfile": profile})
    assert start["status"] == "Accepted"
    env.plug(1)
    strict.wait_for("StartTransaction", predicate=lambda p: p["connectorId"] == 2)
    wait_until(lambda: 2 in env.agent.active and env.agent.active[2].transaction_id, what="the second transaction")
    assert call("UnlockConnector", {"connectorId": 2})["status"] == "Unlocked"
    assert strict.wait_for("StopTransaction", predicate=lambda p: p["reason"] == "UnlockCommand")
    env.unplug(0)
    env.unplug(1)
    seen(env, strict, "StatusNotification", lambda p: p["connectorId"] == 2 and p["status"] == "Available")
    # availability, configuration, cache, data transfer
    assert call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})["status"] == "Accepted"
    seen(env, strict, "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable")
    assert call("ChangeAvailability", {"connectorId": 1, "type": "Operative"})["status"] == "Accepted"
    env.steps(2)
    assert call("GetConfiguration", {})["configurationKey"]
    assert call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})["unknownKey"] == ["Nope"]
    assert call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"})["status"] == "Accepted"
    assert call("ChangeConfiguration", {"key": "Nope", "value": "1"})["status"] == "NotSupported"
    assert call("ClearCache", {})["status"] == "Accepted"
    assert call("DataTransfer", {"vendorId": "com.example", "messageId": "x", "data": "1"})["status"] in (
        "UnknownVendorId",
        "Rejected",
    )
    # every message TriggerMessage can ask for
    for message in (
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    ):
        before = len(strict.events)
        payload: dict[str, Any] = {"requestedMessage": message}
        if message in ("MeterValues", "StatusNotification"):
            payload["connectorId"] = 1
        assert call("TriggerMessage", payload)["status"] == "Accepted"
        strict.wait_for(message, after=before)
    # local list, reservations, smart charging
    full = {
        "listVersion": 3,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
    }
    assert call("SendLocalList", full)["status"] == "Accepted"
    diff = {"listVersion": 4, "updateType": "Differential", "localAuthorizationList": [{"idTag": "B"}]}
    assert call("SendLocalList", diff)["status"] == "Accepted"
    assert call("GetLocalListVersion", {})["listVersion"] == 4
    reserve = {"connectorId": 1, "expiryDate": wire(600), "idTag": "T1", "reservationId": 11}
    assert call("ReserveNow", reserve)["status"] == "Accepted"
    assert call("CancelReservation", {"reservationId": 11})["status"] == "Accepted"
    assert call("CancelReservation", {"reservationId": 11})["status"] == "Rejected"
    assert call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": tx_default(16)})["status"] == "Accepted"
    composite = call("GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"})
    assert composite["status"] == "Accepted"
    assert call("ClearChargingProfile", {"id": 1})["status"] == "Accepted"
    # firmware and diagnostics against a local HTTP server
    call("UpdateFirmware", {"location": f"{files}/fw.bin", "retrieveDate": wire(-1), "retries": 1})
    strict.wait_for("FirmwareStatusNotification", 10, lambda p: p["status"] == "Installed")
    answer = call("GetDiagnostics", {"location": f"{files}/up/", "startTime": wire(-60)})
    assert answer["fileName"].endswith(".zip")
    strict.wait_for("DiagnosticsStatusNotification", 10, lambda p: p["status"] == "Uploaded")
    # resets: each ends with a new boot
    for kind in ("Soft", "Hard"):
        before = len(strict.events)
        assert call("Reset", {"type": kind})["status"] == "Accepted"
        booted(strict, after=before)
    assert strict.violations == []


def test_strict_outage_backend_gone_and_back(env: Env, strict: StrictCsms) -> None:
    booted(strict)
    env.plug(0)
    env.card("AA01")
    strict.wait_for("StartTransaction")
    wait_until(lambda: env.agent.active[1].transaction_id, what="the transactionId")
    strict.stop()  # the backend goes away
    wait_until(lambda: not env.agent.connected, 5, "the disconnect")
    wait_until(lambda: OutboxMessage.objects.filter(action="MeterValues").exists(), 5, "a queued MeterValues")
    env.unplug(0)  # stopped offline
    wait_until(lambda: not env.agent.active, 5, "the offline stop")
    before = len(strict.events)
    strict.start()  # back, same port
    wait_until(lambda: OutboxMessage.objects.count() == 0, 15, "the queue to drain")
    stop = strict.wait_for("StopTransaction", after=before)
    assert stop["reason"] == "EVDisconnected" and stop["transactionId"] == 1
    assert all(v["transactionId"] == 1 for v in strict.calls("MeterValues") if "transactionId" in v)
    assert strict.violations == []


def test_strict_wrong_basic_credentials(transactional_db, settings, monkeypatch, tmp_path) -> None:
    strict = StrictCsms(users={BOX: "right-password"})
    with strict, running(settings, monkeypatch, tmp_path, url=strict.url(BOX), user=BOX, password="wrong") as env:
        wait_until(lambda: env.status().get("last_error") == "HTTP 401", 5, "HTTP 401")
        assert strict.calls("BootNotification") == []
        assert strict.violations == []
