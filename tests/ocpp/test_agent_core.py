"""The OCPP agent's core against the test CSMS: boot, statuses, authorization, transactions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ocpp.agent_env import BOX, Env, boot, make_env, running, wait_until


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path) -> Iterator[Env]:
    yield from make_env(settings, monkeypatch, tmp_path)


def test_tc_001_cold_boot_accepted_then_heartbeat_and_statuses(env: Env) -> None:
    boot_payload = env.csms.wait_for("BootNotification")
    assert boot_payload["chargePointVendor"] == "WBM"
    assert boot_payload["chargePointModel"] == "AC-Controller"
    boot(env)
    status = wait_until(lambda: env.status().get("registration") == "Accepted" and env.status())
    assert status["connected"] is True
    assert status["connectors"][0]["connector_id"] == 1
    assert env.csms.violations == []


def test_tc_002_boot_pending_sends_nothing_else_until_accepted(
    transactional_db, settings, monkeypatch, tmp_path
) -> None:
    from tests.ocpp.csms import ThreadedCsms, utc_now

    answers = iter(["Pending", "Rejected", "Accepted"])

    def boot_answer(_payload):
        return {"status": next(answers, "Accepted"), "currentTime": utc_now(), "interval": 1}

    original = ThreadedCsms.start

    def start(self):
        original(self)
        self.respond("BootNotification", boot_answer)

    monkeypatch.setattr(ThreadedCsms, "start", start)
    with running(settings, monkeypatch, tmp_path) as env:
        # while Pending the backend may ask; the charge point answers
        env.csms.wait_for("BootNotification")
        answer = env.csms.call(BOX, "GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert answer["configurationKey"][0]["key"] == "HeartbeatInterval"
        wait_until(lambda: len(env.csms.calls("BootNotification")) >= 3, 8, "three boots")
        boot(env)
        assert env.status()["registration"] == "Accepted"
        assert env.csms.violations == []


def test_tc_003_plug_in_first_then_card_transaction_with_meter_values(env: Env) -> None:
    boot(env)
    env.values(MeterValueSampleInterval="1")
    env.rt.call("ocpp.reload")
    env.plug(0)
    env.csms.wait_for("StatusNotification", lambda p: p["status"] == "Preparing")
    env.card("04A1B2C3")
    assert env.csms.wait_for("Authorize")["idTag"] == "04A1B2C3"
    start = env.csms.wait_for("StartTransaction")
    assert start["connectorId"] == 1 and start["idTag"] == "04A1B2C3" and isinstance(start["meterStart"], int)
    env.steps(3)
    env.csms.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
    mv = env.csms.wait_for("MeterValues", timeout=5)
    assert mv["transactionId"] == 1
    sampled = mv["meterValue"][0]["sampledValue"]
    assert any(s["measurand"] == "Energy.Active.Import.Register" and s["unit"] == "Wh" for s in sampled)
    assert {s.get("phase") for s in sampled if s["measurand"] == "Current.Import"} == {"L1", "L2", "L3"}
    env.card("04A1B2C3")  # the same card again ends it
    stop = env.csms.wait_for("StopTransaction")
    assert stop["transactionId"] == 1 and stop["reason"] == "Local" and stop["idTag"] == "04A1B2C3"
    assert stop["meterStop"] >= start["meterStart"]
    assert env.csms.violations == []


def test_tc_004_1_card_first_then_plug_in_starts(env: Env) -> None:
    boot(env)
    env.card("AABBCCDD")
    env.csms.wait_for("Authorize")
    env.plug(0)
    start = env.csms.wait_for("StartTransaction")
    assert start["idTag"] == "AABBCCDD"
    assert env.csms.violations == []


def test_tc_004_2_card_first_connection_timeout_discards_it(env: Env) -> None:
    boot(env)
    env.values(ConnectionTimeOut="1")
    env.rt.call("ocpp.reload")
    env.card("AABBCCDD")
    env.csms.wait_for("Authorize")
    wait_until(lambda: 1 in env.agent.pending, 4, "the authorization waiting for the vehicle")
    wait_until(lambda: not env.agent.pending, 4, "the authorization to time out")
    env.plug(0)
    env.steps(3)
    assert env.csms.calls("StartTransaction") == []
    assert env.csms.violations == []


def test_tc_023_invalid_card_starts_nothing(env: Env) -> None:
    env.csms.respond("Authorize", {"idTagInfo": {"status": "Invalid"}})
    boot(env)
    env.plug(0)
    env.card("DEADBEEF")
    env.csms.wait_for("Authorize")
    env.steps(3)
    assert env.csms.calls("StartTransaction") == []
    assert env.csms.violations == []


def test_tc_010_012_remote_start_plugged_then_remote_stop(env: Env) -> None:
    boot(env)
    env.plug(0)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "REMOTE1", "connectorId": 1})["status"] == "Accepted"
    start = env.csms.wait_for("StartTransaction")
    assert start["idTag"] == "REMOTE1"
    env.steps(2)
    env.csms.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
    assert env.iec_state(0) == "C"
    tx_id = wait_until(lambda: env.agent.active[1].transaction_id, what="the transactionId")
    assert env.csms.call(BOX, "RemoteStopTransaction", {"transactionId": tx_id})["status"] == "Accepted"
    stop = env.csms.wait_for("StopTransaction")
    assert stop["reason"] == "Remote" and stop["transactionId"] == tx_id
    env.steps(2)
    assert env.iec_state(0) != "C"
    assert env.csms.violations == []


def test_tc_011_1_remote_start_first_then_plug_in(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "REMOTE1"})["status"] == "Accepted"
    wait_until(lambda: 1 in env.agent.pending, what="a pending remote start")
    env.plug(0)
    assert env.csms.wait_for("StartTransaction")["idTag"] == "REMOTE1"
    assert env.csms.violations == []


def test_tc_011_2_remote_start_times_out_without_vehicle(env: Env) -> None:
    boot(env)
    env.values(ConnectionTimeOut="1")
    env.rt.call("ocpp.reload")
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R", "connectorId": 1})["status"] == "Accepted"
    wait_until(lambda: 1 in env.agent.pending)
    wait_until(lambda: 1 not in env.agent.pending, 4, "the timeout")
    env.plug(0)
    env.steps(2)
    assert env.csms.calls("StartTransaction") == []
    assert env.csms.violations == []


def test_tc_026_027_028_remote_rejections(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R", "connectorId": 0})["status"] == "Rejected"
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R", "connectorId": 7})["status"] == "Rejected"
    env.plug(0)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R", "connectorId": 1})["status"] == "Accepted"
    env.csms.wait_for("StartTransaction")
    # busy now
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R2", "connectorId": 1})["status"] == "Rejected"
    assert env.csms.call(BOX, "RemoteStopTransaction", {"transactionId": 999})["status"] == "Rejected"
    assert env.csms.violations == []


def test_tc_005_1_unplug_stops_with_ev_disconnected(env: Env) -> None:
    boot(env)
    env.plug(0)
    env.card("CAFE01")
    env.csms.wait_for("StartTransaction")
    env.unplug(0)
    assert env.csms.wait_for("StopTransaction")["reason"] == "EVDisconnected"
    assert env.csms.violations == []


def test_tc_005_3_unplug_keeps_transaction_when_configured(env: Env) -> None:
    boot(env)
    env.values(StopTransactionOnEVSideDisconnect="false")
    env.rt.call("ocpp.reload")
    env.plug(0)
    env.card("CAFE01")
    env.csms.wait_for("StartTransaction")
    env.unplug(0)
    env.steps(2)
    assert env.csms.calls("StopTransaction") == [] and 1 in env.agent.active
    env.plug(0)
    env.steps(3)
    assert env.iec_state(0) == "C"
    assert env.csms.violations == []


def test_tc_041_fault_is_reported_with_its_error_code(env: Env) -> None:
    boot(env)
    assert env.rt.call("sim.fault", cp=env.cps[0], code="GroundFailure", info="RCD tripped")["ok"]
    env.steps(2)
    faulted = env.csms.wait_for("StatusNotification", lambda p: p["status"] == "Faulted")
    assert faulted["errorCode"] == "GroundFailure" and faulted["info"] == "RCD tripped"
    assert env.rt.call("sim.clear_fault", cp=env.cps[0])["ok"]
    env.steps(2)
    env.csms.wait_for(
        "StatusNotification",
        lambda p: p["status"] == "Available" and p["connectorId"] == 1,
        after=len(env.csms.frames) - 5,
    )
    assert env.csms.violations == []


def test_tc_037_3_start_refused_in_conf_stops_deauthorized(env: Env) -> None:
    env.csms.respond("StartTransaction", {"transactionId": 42, "idTagInfo": {"status": "Invalid"}})
    boot(env)
    env.plug(0)
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "BAD", "connectorId": 1})["status"] == "Accepted"
    stop = env.csms.wait_for("StopTransaction")
    assert stop["reason"] == "DeAuthorized" and stop["transactionId"] == 42
    assert env.csms.violations == []
