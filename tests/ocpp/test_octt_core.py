"""OCTT charge point cases (Core, Local Auth List, Smart Charging at agent level) not scripted in
the ``test_agent_*`` modules, each named after its test case ID: the real agent in a runtime
against the test CSMS; every test ends with no schema or protocol violation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ocppcfg.models import OutboxMessage
from tests.ocpp.agent_env import BOX, Env, boot, make_env, wait_until
from tests.ocpp.test_features_agent import tx_default, wire


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path) -> Iterator[Env]:
    yield from make_env(settings, monkeypatch, tmp_path)


def charging(env: Env, tag: str = "CAFE01") -> int:
    """Plug in, present ``tag``: the transactionId the backend gave."""
    env.plug(0)
    env.card(tag)
    env.csms.wait_for("StartTransaction", lambda p: p["idTag"] == tag)
    return int(wait_until(lambda: 1 in env.agent.active and env.agent.active[1].transaction_id, what="the txId"))


def stepping(env: Env, probe: Any, timeout: float = 6.0, what: str = "condition") -> Any:
    """``probe()`` truthy, stepping the runtime meanwhile (statuses come from controller ticks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        env.rt.step()
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def statuses(env: Env, connector: int) -> list[str]:
    return [p["status"] for p in env.csms.calls("StatusNotification") if p["connectorId"] == connector]


# --- 2.3 Stop charging session -------------------------------------------------------------------


def test_tc_068_stop_id_tag_matches_start(env: Env) -> None:
    boot(env)
    tx_id = charging(env, "0AB1C2D3")
    env.card("0AB1C2D3")
    stop = env.csms.wait_for("StopTransaction")
    assert stop == {**stop, "idTag": "0AB1C2D3", "transactionId": tx_id, "reason": "Local"}
    assert env.csms.violations == []


def test_tc_069_a_card_of_the_same_parent_stops_it(env: Env) -> None:
    env.csms.respond("Authorize", lambda p: {"idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}})
    env.csms.respond(
        "StartTransaction",
        lambda p: {"transactionId": 5, "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
    )
    boot(env)
    tx_id = charging(env, "11111111")
    env.card("22222222")  # another card of the same parent
    stop = env.csms.wait_for("StopTransaction")
    assert stop["idTag"] == "22222222" and stop["transactionId"] == tx_id and stop["reason"] == "Local"
    assert env.csms.violations == []


def test_tc_005_2_unplug_stops_and_the_status_goes_available(env: Env) -> None:
    boot(env)
    env.values(StopTransactionOnEVSideDisconnect="true", UnlockConnectorOnEVSideDisconnect="false")
    env.rt.call("ocpp.reload")
    tx_id = charging(env)
    stepping(env, lambda: "Charging" in statuses(env, 1), what="Charging")
    env.unplug(0)
    stop = env.csms.wait_for("StopTransaction")
    assert stop["reason"] == "EVDisconnected" and stop["transactionId"] == tx_id
    stepping(env, lambda: statuses(env, 1)[-1] == "Available", what="Available")
    assert env.csms.violations == []


# --- 2.4 Cache, 2.17 local list ------------------------------------------------------------------


def test_tc_007_cached_id_starts_without_authorize(env: Env) -> None:
    boot(env)
    env.values(LocalPreAuthorize="true", AuthorizationCacheEnabled="true")
    env.rt.call("ocpp.reload")
    charging(env, "ABCDEF01")  # Authorize fills the cache
    env.card("ABCDEF01")
    env.csms.wait_for("StopTransaction")
    env.unplug(0)
    authorizes = len(env.csms.calls("Authorize"))
    env.plug(0)
    env.card("ABCDEF01")
    wait_until(lambda: len(env.csms.calls("StartTransaction")) == 2, what="the second start")
    assert len(env.csms.calls("Authorize")) == authorizes  # the cache decided
    assert env.csms.violations == []


def test_tc_008_id_in_local_list_starts_without_authorize(env: Env) -> None:
    boot(env)
    env.values(LocalPreAuthorize="true", LocalAuthListEnabled="true")
    env.rt.call("ocpp.reload")
    local = {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "10CA1001", "idTagInfo": {"status": "Accepted"}}],
    }
    assert env.csms.call(BOX, "SendLocalList", local)["status"] == "Accepted"
    env.plug(0)
    env.card("10CA1001")
    assert env.csms.wait_for("StartTransaction")["idTag"] == "10CA1001"
    assert env.csms.calls("Authorize") == []
    assert env.csms.violations == []


# --- 2.7/2.12 Unlock -----------------------------------------------------------------------------


def test_tc_030_unlock_failure(env: Env) -> None:
    boot(env)
    env.plug(0)
    stepping(env, lambda: env.agent.state_of(1).locked, what="the lock to close")
    assert env.rt.call("sim.lock_fault", cp=env.cps[0], stuck=True)["ok"]
    assert env.csms.call(BOX, "UnlockConnector", {"connectorId": 1})["status"] == "UnlockFailed"
    assert env.rt.call("sim.lock_fault", cp=env.cps[0], stuck=False)["ok"]
    assert env.csms.call(BOX, "UnlockConnector", {"connectorId": 1})["status"] == "Unlocked"
    assert env.csms.violations == []


def test_tc_024_lock_failure_at_start_no_transaction(env: Env) -> None:
    """The lock fails when the vehicle is there (the simulator's injected ConnectorLockFailure):
    the connector reports Faulted with that error code, and a card starts no transaction."""
    boot(env)
    env.plug(0)
    assert env.rt.call("sim.fault", cp=env.cps[0], code="ConnectorLockFailure", info="lock stuck")["ok"]
    faulted = stepping(
        env,
        lambda: next((p for p in env.csms.calls("StatusNotification") if p["status"] == "Faulted"), None),
        what="Faulted",
    )
    assert faulted["errorCode"] == "ConnectorLockFailure"
    env.card("0A0B0C0E")
    env.steps(3)
    assert env.csms.calls("StartTransaction") == [] and not env.agent.active
    assert env.csms.call(BOX, "RemoteStartTransaction", {"idTag": "R", "connectorId": 1})["status"] == "Rejected"
    assert env.csms.violations == []


# --- 2.9 Meter values ----------------------------------------------------------------------------

PER_PHASE = "Current.Import,Voltage,Power.Active.Import,Energy.Active.Import.Register"


def test_tc_070_sampled_meter_values_with_the_configured_measurands_per_phase(env: Env) -> None:
    boot(env)
    env.values(MeterValueSampleInterval="1", MeterValuesSampledData=PER_PHASE)
    env.rt.call("ocpp.reload")
    tx_id = charging(env)
    env.steps(4, 0.3)
    mv = env.csms.wait_for("MeterValues", lambda p: p.get("transactionId") == tx_id, timeout=5)
    sampled = mv["meterValue"][0]["sampledValue"]
    assert {s["context"] for s in sampled} == {"Sample.Periodic"}
    assert {s["measurand"] for s in sampled} == set(PER_PHASE.split(","))
    assert {s.get("phase") for s in sampled if s["measurand"] == "Current.Import"} == {"L1", "L2", "L3"}
    assert {s.get("phase") for s in sampled if s["measurand"] == "Voltage"} == {"L1-N", "L2-N", "L3-N"}
    assert all(s["unit"] in ("A", "V", "W", "Wh") for s in sampled)
    assert env.csms.violations == []


def test_tc_071_clock_aligned_meter_values(env: Env) -> None:
    boot(env)
    env.values(ClockAlignedDataInterval="1", MeterValuesAlignedData="Energy.Active.Import.Register,Current.Import")
    env.rt.call("ocpp.reload")
    tx_id = charging(env)
    env.steps(4, 0.3)
    mv = env.csms.wait_for(
        "MeterValues", lambda p: p["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock", timeout=5
    )
    assert mv["transactionId"] == tx_id
    stamp = mv["meterValue"][0]["timestamp"]
    assert stamp.endswith(".000Z")  # on a whole second: the interval boundary, not the sampling moment
    assert {s["measurand"] for s in mv["meterValue"][0]["sampledValue"]} == {
        "Energy.Active.Import.Register",
        "Current.Import",
    }
    assert env.csms.violations == []


def test_stop_txn_sampled_data_goes_into_transaction_data(env: Env) -> None:
    boot(env)
    env.values(StopTxnSampledData="Energy.Active.Import.Register,Current.Import")
    env.rt.call("ocpp.reload")
    charging(env)
    env.card("CAFE01")
    stop = env.csms.wait_for("StopTransaction")
    data = stop["transactionData"]
    ends = [v for v in data if v["sampledValue"][0]["context"] == "Transaction.End"]
    assert ends and {s["measurand"] for s in ends[0]["sampledValue"]} == {
        "Energy.Active.Import.Register",
        "Current.Import",
    }
    assert env.csms.violations == []


# --- 2.13 Power failure --------------------------------------------------------------------------


def test_tc_032_1_032_2_power_failure_while_charging_stops_once_with_power_loss(env: Env) -> None:
    """The controller has no back-up power: the transaction open when power went is stopped once
    with PowerLoss after the boot (TC_032_2's order; TC_032_1's StopTransaction before going
    down needs a back-up supply this hardware does not have)."""
    boot(env)
    tx_id = charging(env)
    env.restart_runtime(kill=True)  # power cut
    boots = len(env.csms.calls("BootNotification"))
    stop = env.csms.wait_for("StopTransaction", timeout=8)
    assert stop["reason"] == "PowerLoss" and stop["transactionId"] == tx_id
    wait_until(lambda: len(env.csms.calls("BootNotification")) >= boots, what="the boot")
    wait_until(lambda: OutboxMessage.objects.count() == 0, what="the queue to drain")
    env.steps(4, 0.2)
    assert len(env.csms.calls("StopTransaction")) == 1
    assert not env.agent.active
    assert env.csms.violations == []


def test_an_open_transaction_after_a_clean_restart_stops_with_reboot(env: Env) -> None:
    boot(env)
    tx_id = charging(env)
    env.restart_runtime()  # a clean stop and start of the process
    stop = env.csms.wait_for("StopTransaction", timeout=8)
    assert stop["reason"] == "Reboot" and stop["transactionId"] == tx_id
    assert env.csms.violations == []


def test_tc_034_unavailable_is_persisted_over_a_power_failure(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})["status"] == "Accepted"
    stepping(env, lambda: statuses(env, 1)[-1] == "Unavailable" and statuses(env, 0)[-1] == "Unavailable")
    frames = len(env.csms.frames)
    env.restart_runtime(kill=True)
    env.csms.wait_for("BootNotification", after=frames, timeout=8)
    for connector in (0, 1):

        def unavailable(p: dict[str, Any], c: int = connector) -> bool:
            return bool(p["connectorId"] == c and p["status"] == "Unavailable")

        stepping(env, lambda u=unavailable: any(u(p) for p in env.csms.calls("StatusNotification")[-4:]), 8)
    assert env.csms.violations == []


# --- 2.14 Offline --------------------------------------------------------------------------------


def test_tc_037_1_offline_start_with_a_valid_cached_id_tag(env: Env) -> None:
    boot(env)
    env.values(LocalAuthorizeOffline="true", AuthorizationCacheEnabled="true")
    env.rt.call("ocpp.reload")
    charging(env, "C0C0C0C0")
    env.card("C0C0C0C0")
    env.csms.wait_for("StopTransaction")
    env.unplug(0)
    env.csms.stop()
    wait_until(lambda: not env.agent.connected, what="the disconnect")
    env.plug(0)
    env.card("C0C0C0C0")
    wait_until(lambda: 1 in env.agent.active, what="the offline start")
    env.csms.start()
    start = env.csms.wait_for("StartTransaction", lambda p: True, after=0, timeout=8)
    wait_until(lambda: len(env.csms.calls("StartTransaction")) == 2, 8, "the offline StartTransaction")
    assert env.csms.calls("StartTransaction")[-1]["idTag"] == "C0C0C0C0" and start
    wait_until(lambda: env.agent.active[1].transaction_id == 2, what="its transactionId")
    assert env.csms.violations == []


def test_tc_037_2_offline_start_invalid_id_tag_goes_on_without_stop(env: Env) -> None:
    keys = {
        "AllowOfflineTxForUnknownId": "true",
        "LocalAuthorizeOffline": "true",
        "StopTransactionOnInvalidId": "false",
    }
    env.values(**keys)
    boot(env)
    env.rt.call("ocpp.reload")
    env.csms.stop()
    wait_until(lambda: not env.agent.connected, what="the disconnect")
    env.plug(0)
    env.card("BADBAD01")
    wait_until(lambda: 1 in env.agent.active, what="the offline start")
    env.csms.respond("StartTransaction", {"transactionId": 77, "idTagInfo": {"status": "Invalid"}})
    env.csms.start()
    env.csms.wait_for("StartTransaction", timeout=8)
    wait_until(lambda: env.agent.active[1].transaction_id == 77, what="its transactionId")
    env.steps(3)
    assert env.csms.calls("StopTransaction") == [] and env.agent.active[1].deauthorized
    assert env.csms.violations == []


# --- 2.20 Reservation: "Rejected" ----------------------------------------------------------------


def test_tc_048_4_050_4_reserve_now_rejected(env: Env) -> None:
    """No key turns reservations off (SupportedFeatureProfiles and ReserveConnectorZeroSupported
    are read-only), so "Rejected" is what a reservation the charge point cannot hold gets: an
    unknown connector, or an expiry in the past (for a connector and for the charge point)."""
    boot(env)
    unknown = {"connectorId": 9, "expiryDate": wire(600), "idTag": "X", "reservationId": 1}
    assert env.csms.call(BOX, "ReserveNow", unknown)["status"] == "Rejected"
    expired = {"connectorId": 1, "expiryDate": wire(-60), "idTag": "X", "reservationId": 2}
    assert env.csms.call(BOX, "ReserveNow", expired)["status"] == "Rejected"
    whole = {**expired, "connectorId": 0, "reservationId": 3}
    assert env.csms.call(BOX, "ReserveNow", whole)["status"] == "Rejected"
    assert env.csms.violations == []


# --- 2.22 Smart charging with RemoteStart --------------------------------------------------------


def test_tc_059_remote_start_with_a_tx_profile_caps_the_transaction(env: Env) -> None:
    boot(env)
    env.plug(0)
    profile = {**tx_default(8, 3), "chargingProfilePurpose": "TxProfile"}
    payload = {"idTag": "REMOTE59", "connectorId": 1, "chargingProfile": profile}
    assert env.csms.call(BOX, "RemoteStartTransaction", payload)["status"] == "Accepted"
    env.csms.wait_for("StartTransaction")
    state = stepping(env, lambda: (s := env.agent.state_of(1)) is not None and s.pwm_limit_a == 8 and s, 8, "8 A")
    assert state.decision.binding == "ocpp"
    assert env.csms.violations == []


def test_tc_060_remote_start_with_a_profile_of_the_wrong_purpose_is_rejected(env: Env) -> None:
    boot(env)
    env.plug(0)
    payload = {"idTag": "REMOTE60", "connectorId": 1, "chargingProfile": tx_default(8, 4)}  # TxDefaultProfile
    assert env.csms.call(BOX, "RemoteStartTransaction", payload)["status"] == "Rejected"
    env.steps(2)
    assert env.csms.calls("StartTransaction") == []
    assert env.csms.violations == []
