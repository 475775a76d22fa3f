"""Remote operations of the OCPP agent: configuration, cache, trigger, data transfer, reset,
unlock, availability."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocppcfg.models import AuthCacheEntry, ConnectorAvailability, OcppSettings
from tests.ocpp.agent_env import BOX, Env, boot, make_env, wait_until
from tests.ocpp.csms import CallErrorReceived
from wbm.models import ChangeRecord


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path) -> Iterator[Env]:
    yield from make_env(settings, monkeypatch, tmp_path)


def test_tc_019_get_configuration_all_and_some(env: Env) -> None:
    boot(env)
    everything = env.csms.call(BOX, "GetConfiguration", {})
    keys = {item["key"]: item for item in everything["configurationKey"]}
    assert keys["HeartbeatInterval"]["readonly"] is False
    assert keys["NumberOfConnectors"]["value"] == "1"
    assert keys["AuthorizationKey"]["value"] == "****"
    some = env.csms.call(BOX, "GetConfiguration", {"key": ["MeterValueSampleInterval", "NoSuchKey"]})
    assert [item["key"] for item in some["configurationKey"]] == ["MeterValueSampleInterval"]
    assert some["unknownKey"] == ["NoSuchKey"]
    assert env.csms.violations == []


def test_tc_021_040_change_configuration(env: Env) -> None:
    boot(env)
    seq = env.status()["values_seq"]
    assert env.csms.call(BOX, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})["status"] == (
        "Accepted"
    )
    assert env.agent.values["MeterValueSampleInterval"] == "30"
    wait_until(lambda: env.status()["values_seq"] > seq, what="values_seq to grow")
    # the audit trail says the backend changed it, from what to what
    record = ChangeRecord.objects.get(action="ocpp.variables.update")
    assert (record.username, record.source) == ("backend", "ocpp")
    assert record.before == {"MeterValueSampleInterval": "60"} and record.after == {"MeterValueSampleInterval": "30"}
    assert env.csms.call(BOX, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})["status"] == "NotSupported"
    assert env.csms.call(BOX, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "abc"})["status"] == (
        "Rejected"
    )
    assert env.csms.call(BOX, "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"})["status"] == (
        "Rejected"
    )
    assert env.csms.violations == []


def test_tc_061_clear_cache(env: Env) -> None:
    boot(env)
    env.plug(0)
    env.card("C0FFEE")
    env.csms.wait_for("StartTransaction")
    wait_until(lambda: env.agent.active[1].transaction_id, what="the StartTransaction answer")
    wait_until(lambda: AuthCacheEntry.objects.filter(id_tag="C0FFEE").exists(), what="the cache entry")
    assert env.csms.call(BOX, "ClearCache", {})["status"] == "Accepted"
    assert not AuthCacheEntry.objects.exists()
    assert env.csms.violations == []


def test_tc_054_trigger_messages_and_tc_055_rejected(env: Env) -> None:
    boot(env)
    for message in ("Heartbeat", "StatusNotification", "MeterValues", "BootNotification"):
        before = len(env.csms.calls(message))
        payload: dict[str, object] = {"requestedMessage": message}
        if message == "MeterValues":
            payload["connectorId"] = 1
        assert env.csms.call(BOX, "TriggerMessage", payload)["status"] == "Accepted"

        def arrived(m: str = message, b: int = before) -> bool:
            return len(env.csms.calls(m)) > b

        wait_until(arrived, what=f"the triggered {message}")
    mv = env.csms.calls("MeterValues")[-1]
    assert mv["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    answer = env.csms.call(BOX, "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 5})
    assert answer["status"] == "Rejected"
    assert env.csms.violations == []


def test_tc_062_data_transfer_unknown_vendor(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "DataTransfer", {"vendorId": "com.example"})["status"] == "UnknownVendorId"
    assert env.csms.call(BOX, "DataTransfer", {"vendorId": "WBM", "messageId": "x"})["status"] == "UnknownMessageId"
    assert env.csms.violations == []


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_tc_013_014_reset_without_transaction_boots_again(env: Env, kind: str) -> None:
    boot(env)
    assert env.csms.call(BOX, "Reset", {"type": kind})["status"] == "Accepted"
    wait_until(lambda: len(env.csms.calls("BootNotification")) == 2, what="a second boot")
    assert env.csms.violations == []


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
def test_tc_015_016_reset_with_transaction_stops_it(env: Env, kind: str, reason: str) -> None:
    boot(env)
    env.plug(0)
    env.card("AB12")
    env.csms.wait_for("StartTransaction")
    assert env.csms.call(BOX, "Reset", {"type": kind})["status"] == "Accepted"
    stop = env.csms.wait_for("StopTransaction")
    assert stop["reason"] == reason and stop["transactionId"] == 1
    wait_until(lambda: len(env.csms.calls("BootNotification")) == 2, what="a second boot")
    assert env.csms.violations == []


def test_tc_017_1_unlock_without_transaction(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "UnlockConnector", {"connectorId": 1})["status"] == "Unlocked"
    assert env.csms.violations == []


def test_tc_018_1_unlock_with_transaction_stops_it_first(env: Env) -> None:
    boot(env)
    env.plug(0)
    env.card("AB12")
    env.csms.wait_for("StartTransaction")
    env.steps(2)
    assert env.csms.call(BOX, "UnlockConnector", {"connectorId": 1})["status"] == "Unlocked"
    assert env.csms.wait_for("StopTransaction")["reason"] == "UnlockCommand"
    assert env.csms.violations == []


def test_tc_031_unlock_unknown_connector_not_supported(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "UnlockConnector", {"connectorId": 9})["status"] == "NotSupported"
    assert env.csms.violations == []


def test_change_availability_inoperative_scheduled_and_operative(env: Env) -> None:
    boot(env)
    assert env.csms.call(BOX, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})["status"] == "Accepted"
    env.steps(2)
    env.csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable")
    assert ConnectorAvailability.objects.filter(connector_id=1, scheduled=False).exists()
    assert env.csms.call(BOX, "ChangeAvailability", {"connectorId": 1, "type": "Operative"})["status"] == "Accepted"
    env.plug(0)
    env.card("AB12")
    env.csms.wait_for("StartTransaction")
    answer = env.csms.call(BOX, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert answer["status"] == "Scheduled"
    env.card("AB12")
    env.csms.wait_for("StopTransaction")
    wait_until(lambda: ConnectorAvailability.objects.filter(connector_id=0, scheduled=False).exists())
    env.steps(2)
    env.csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 0 and p["status"] == "Unavailable")
    assert env.csms.violations == []


def test_bad_frames_and_unknown_actions_keep_the_agent_running(env: Env) -> None:
    boot(env)
    with pytest.raises(CallErrorReceived) as unknown:
        env.csms.call(BOX, "CertificateSigned", {"certificateChain": "x"})
    assert unknown.value.code in ("NotImplemented", "NotSupported")
    env.csms.send_raw(BOX, '[2,"bad-1","ChangeConfiguration",{"key":5}]')
    env.csms.send_raw(BOX, "this is not json")
    for i in range(50):  # a flood, answered in order
        env.csms.send_raw(BOX, f'[2,"flood-{i}","GetConfiguration",{{"key":["HeartbeatInterval"]}}]')
    wait_until(
        lambda: any(f.unique_id == "flood-49" and f.message_type == 3 for f in env.csms.frames), what="the flood"
    )
    answers = [f.unique_id for f in env.csms.frames if (f.unique_id or "").startswith("flood-") and f.message_type == 3]
    assert answers == [f"flood-{i}" for i in range(50)]
    bad = next(f for f in env.csms.frames if f.unique_id == "bad-1" and f.message_type == 4)
    assert bad.error_code in ("FormationViolation", "TypeConstraintViolation", "FormatViolation")
    assert env.csms.call(BOX, "GetConfiguration", {"key": ["HeartbeatInterval"]})["configurationKey"]
    assert OcppSettings.objects.exists()
