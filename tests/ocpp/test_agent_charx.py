"""The CHARX server variables through the real agent against the test CSMS: FreeMode, ServiceRestart,
EVDiscardTimeOut, PresentingRFIDEndCharging, MaxCurrent/GlobalMaxCurrent caps,
AvailabilityOnlyWhenTimeSynchronized, RFIDByteOrder, MinimumStatusDuration,
TransactionMessageAttempts/RetryInterval, the outbox bound, an ISO 15118 EVCC ID as idTag."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ocppcfg import outbox
from ocppcfg.models import OutboxMessage
from tests.factories import make_configured_chargepoint
from tests.ocpp.agent_env import Env, boot, make_env, running, wait_until
from tests.ocpp.csms import ThreadedCsms
from tests.ocpp.test_octt_core import charging, statuses, stepping
from wbm.runtime import clock
from wbm.runtime.claims import Kind, Source
from wbm.system import osbackend


@pytest.fixture
def env(transactional_db, settings, monkeypatch, tmp_path) -> Iterator[Env]:
    yield from make_env(settings, monkeypatch, tmp_path)


def reload(env: Env, **keys: str) -> None:
    env.values(**keys)
    env.rt.call("ocpp.reload")


def test_free_mode_starts_with_the_free_mode_uid(env: Env) -> None:
    boot(env)
    reload(env, FreeMode="true", FreeModeUID="FREE0001")
    env.plug(0)
    assert env.csms.wait_for("StartTransaction")["idTag"] == "FREE0001"
    assert env.csms.violations == []


def test_service_restart_starts_occupied_connectors_with_the_service_uid(
    transactional_db, settings, monkeypatch, tmp_path
) -> None:
    keys = {"ServiceRestart": "true", "ServiceUID": "SERVICE1"}
    with running(settings, monkeypatch, tmp_path, keys=keys) as env:
        boot(env)
        env.plug(0)  # a vehicle, but no transaction (release "By OCPP" needs one)
        env.steps(2)
        assert env.csms.calls("StartTransaction") == []
        env.restart_runtime(kill=True)
        assert env.csms.wait_for("StartTransaction", timeout=8)["idTag"] == "SERVICE1"
        assert env.csms.violations == []


def test_ev_discard_timeout_ends_a_card_waiting_for_the_vehicle(env: Env) -> None:
    boot(env)
    reload(env, ConnectionTimeOut="60", EVDiscardTimeOut="1")
    env.card("AABBCCDD")
    wait_until(lambda: 1 in env.agent.pending, what="the card waiting")
    wait_until(lambda: 1 not in env.agent.pending, 3, "EVDiscardTimeOut")
    assert env.csms.violations == []


def test_presenting_the_card_again_does_not_end_charging_when_switched_off(env: Env) -> None:
    boot(env)
    reload(env, PresentingRFIDEndCharging="false")
    charging(env, "0A0B0C0D")
    env.card("0A0B0C0D")
    env.steps(3)
    assert env.csms.calls("StopTransaction") == [] and 1 in env.agent.active
    assert env.csms.violations == []


def test_rfid_byte_order_little_endian_reverses_the_uid_sent(env: Env) -> None:
    boot(env)
    reload(env, RFIDByteOrder="LittleEndian")
    env.plug(0)
    env.card("04A1B2C3")
    assert env.csms.wait_for("Authorize")["idTag"] == "C3B2A104"
    assert env.csms.wait_for("StartTransaction")["idTag"] == "C3B2A104"
    assert env.csms.violations == []


def test_iso15118_evcc_id_is_authorized_as_id_tag(env: Env) -> None:
    boot(env)
    env.plug(0, hlc=True, evcc_id="0A1B2C3D4E5F")
    assert env.csms.wait_for("Authorize")["idTag"] == "0A1B2C3D4E5F"
    assert env.csms.wait_for("StartTransaction")["idTag"] == "0A1B2C3D4E5F"
    assert env.csms.violations == []


def offered(env: Env, index: int, amps: float) -> Any:
    env.rt.step()
    snapshot = env.rt.runtime.snapshot
    state = snapshot.chargepoint(env.cps[index]) if snapshot else None
    return state if state is not None and state.pwm_limit_a == amps else None


def test_max_current_caps_each_connector(env: Env) -> None:
    boot(env)
    reload(env, MaxCurrent="10")
    charging(env)
    state = stepping(env, lambda: offered(env, 0, 10), what="10 A")
    assert state.decision.binding == "ocpp" and state.decision.binding_key == "max_current"
    assert env.csms.violations == []


def test_global_max_current_is_shared_among_connectors_with_a_vehicle(
    transactional_db, settings, monkeypatch, tmp_path
) -> None:
    with running(settings, monkeypatch, tmp_path, connectors=2, keys={"GlobalMaxCurrent": "14"}) as env:
        boot(env)
        env.plug(0)
        env.card("0000AAAA", 0)
        env.plug(1)
        env.card("0000BBBB", 1)
        wait_until(lambda: len(env.csms.calls("StartTransaction")) == 2, what="two transactions")
        for index in (0, 1):
            state = stepping(env, lambda i=index: offered(env, i, 7), what="7 A each")
            assert state.decision.binding == "ocpp" and state.decision.binding_key == "global_max"
        assert env.csms.violations == []


def test_availability_only_when_time_synchronized(transactional_db, settings, monkeypatch, tmp_path) -> None:
    original = ThreadedCsms.start

    def start_silent(self: ThreadedCsms) -> None:  # the boot goes unanswered: no time yet
        original(self)
        self.silent(True)

    monkeypatch.setattr(ThreadedCsms, "start", start_silent)
    settings.STATE_DIR = str(tmp_path)
    osbackend.time_set(when=datetime.now(UTC), source="manual")  # set by hand: not synchronized (NTP off)
    keys = {"AvailabilityOnlyWhenTimeSynchronized": "true"}
    options = {"cp_response_timeout_s": 1.0}  # the agent's CALL timeout in tests is 2 s
    with running(settings, monkeypatch, tmp_path, keys=keys, csms_options=options) as env:
        claims = env.rt.runtime.claims

        def blocked() -> bool:
            return claims.has(env.cps[0], Kind.BLOCK, Source.OCPP, "inoperative_time")

        env.csms.wait_for("BootNotification", timeout=10)
        stepping(env, blocked, what="the block while the time is unknown")
        env.csms.silent(False)
        stepping(env, lambda: not blocked(), 15, what="the block to go with the backend's time")
        assert env.status()["registration"] == "Accepted"
        assert env.csms.violations == []
    clock.forget_offset()  # no other test reads this one's clock


def test_minimum_status_duration_holds_back_a_short_lived_status(env: Env) -> None:
    boot(env)
    reload(env, MinimumStatusDuration="2")
    env.plug(0)
    env.unplug(0)  # Preparing for a moment only
    env.steps(5, 0.1)
    env.plug(0)
    stepping(env, lambda: "Preparing" in statuses(env, 1), 6, "Preparing after it lasted")
    assert statuses(env, 1).count("Preparing") == 1
    assert env.csms.violations == []


def test_transaction_message_attempts_on_callerror_then_dropped(env: Env) -> None:
    def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("refused")  # a CALLERROR InternalError

    boot(env)
    reload(env, TransactionMessageAttempts="2", TransactionMessageRetryInterval="1")
    charging(env)
    env.csms.respond("StopTransaction", refuse)
    env.card("CAFE01")
    wait_until(lambda: len(env.csms.calls("StopTransaction")) == 2, 6, "two attempts")
    wait_until(lambda: OutboxMessage.objects.count() == 0, 4, "the message dropped")
    time.sleep(1.5)
    assert len(env.csms.calls("StopTransaction")) == 2  # not a third time
    assert env.csms.violations == []


def test_the_outbox_bound_drops_intermediate_meter_values_first(transactional_db, settings) -> None:
    settings.WBM_OCPP_OUTBOX_MAX = 5
    cp = make_configured_chargepoint()
    now = datetime.now(UTC)
    row = outbox.start_transaction(
        connector_id=1,
        cp_id=cp.pk,
        id_tag="T",
        parent_id_tag="",
        reservation_id=None,
        meter_start_wh=0,
        started_at=now,
        payload={"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
    )
    for n in range(8):
        outbox.enqueue("MeterValues", {"connectorId": 1, "n": n}, row.local_id)
    stop = {"meterStop": 9, "timestamp": "2026-01-01T01:00:00Z", "reason": "Local"}
    assert outbox.stop_transaction(
        local_id=row.local_id, meter_stop_wh=9, stopped_at=now, reason="Local", stop_id_tag="", payload=stop
    )
    actions = list(OutboxMessage.objects.order_by("seq").values_list("action", flat=True))
    assert len(actions) == 5 and actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
    kept = [m.payload["n"] for m in OutboxMessage.objects.filter(action="MeterValues").order_by("seq")]
    assert kept == [5, 6, 7]  # the newest stay
    # full of Start/Stop only: a MeterValues is refused, a Stop still goes in
    settings.WBM_OCPP_OUTBOX_MAX = 2
    OutboxMessage.objects.filter(action="MeterValues").delete()
    assert outbox.enqueue("MeterValues", {"connectorId": 1}, row.local_id) is None
    assert outbox.enqueue("StopTransaction", {"x": 1}, row.local_id) is not None
