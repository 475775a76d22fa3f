"""The test backends themselves work: a minimal charge point (the ``ocpp`` library's client side,
written here) boots, charges and answers against ``Csms``, ``ThreadedCsms`` and the strict
ocpp-rpc peer, and every kind of fault the harness promises to catch is caught."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    ChargePointErrorCode,
    ChargePointStatus,
    ConfigurationStatus,
    Measurand,
    Reason,
    UnitOfMeasure,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.ocpp import strict
from tests.ocpp.csms import QUIET_LOGGER, CallErrorReceived, Csms, Direction, ThreadedCsms, utc_now
from tests.ocpp.strict import StrictCallError, StrictCsms

T = TypeVar("T")
OCPP16 = [Subprotocol("ocpp1.6")]


class Charger(ChargePoint):
    """Just enough of a charge point: answers GetConfiguration and ChangeConfiguration."""

    config: dict[str, str]

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> call_result.GetConfiguration:
        keys = key or list(self.config)
        return call_result.GetConfiguration(
            configuration_key=[
                datatypes.KeyValue(key=k, readonly=False, value=self.config[k]) for k in keys if k in self.config
            ],
            unknown_key=[k for k in keys if k not in self.config] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> call_result.ChangeConfiguration:
        if key not in self.config:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.not_supported)
        self.config[key] = value
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    async def boot(self) -> Any:
        return await self.call(call.BootNotification(charge_point_vendor="Test", charge_point_model="Harness"))


@asynccontextmanager
async def charger(url: str, charge_box_id: str = "CP1", **connect_options: Any) -> AsyncIterator[Charger]:
    async with connect(url, subprotocols=OCPP16, **connect_options) as ws:
        cp = Charger(charge_box_id, ws, response_timeout=5, logger=QUIET_LOGGER)
        cp.config = {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
        serving = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            serving.cancel()


def bad_status() -> call.StatusNotification:
    return call.StatusNotification(connector_id=1, error_code=ChargePointErrorCode.no_error, status="Bogus")


async def charge_once(cp: Charger) -> int:
    """Boot, plug in, authorize, start, meter, stop; returns the transaction id."""
    await cp.boot()
    await cp.call(
        call.StatusNotification(
            connector_id=1, error_code=ChargePointErrorCode.no_error, status=ChargePointStatus.preparing
        )
    )
    await cp.call(call.Authorize(id_tag="TAG1"))
    started = await cp.call(call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=utc_now()))
    sample = datatypes.SampledValue(
        value="1234", measurand=Measurand.energy_active_import_register, unit=UnitOfMeasure.wh
    )
    meter_value = datatypes.MeterValue(timestamp=utc_now(), sampled_value=[sample])
    await cp.call(call.MeterValues(connector_id=1, transaction_id=started.transaction_id, meter_value=[meter_value]))
    await cp.call(
        call.StopTransaction(
            meter_stop=1500, timestamp=utc_now(), transaction_id=started.transaction_id, reason=Reason.local
        )
    )
    return int(started.transaction_id)


class LoopThread:
    """A charge point's own event loop in a thread, for the synchronous backends."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=15)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def cp_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


class HeldCharger:
    """A ``charger`` kept open on a ``LoopThread`` while a synchronous test drives the backend."""

    def __init__(self, thread: LoopThread, url: str) -> None:
        self.thread = thread
        self._context = charger(url)
        self.cp = thread.run(self._context.__aenter__())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.thread.run(coro)

    def close(self) -> None:
        self.thread.run(self._context.__aexit__(None, None, None))


# -- Csms on the test's loop -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_charge_point_boots_charges_and_answers_get_configuration(csms: Csms) -> None:
    async with charger(csms.url("CP1")) as cp:
        boot = await cp.boot()
        assert (boot.status, boot.interval) == ("Accepted", 300)
        await csms.wait_connected("CP1")
        assert csms.boot_accepted("CP1")

        first, second = await charge_once(cp), await charge_once(cp)
        config = await csms.call("CP1", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})

    assert second == first + 1
    assert config == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    }
    assert [p["connectorId"] for p in csms.calls("StartTransaction")] == [1, 1]
    assert csms.calls("MeterValues")[0]["meterValue"][0]["sampledValue"][0]["value"] == "1234"
    answers = [f for f in csms.frames if f.direction is Direction.CS_TO_CP and f.action == "StartTransaction"]
    assert [f.payload["transactionId"] for f in answers] == [first, second]
    assert all(f.raw and f.charge_box_id == "CP1" for f in csms.frames)
    assert csms.violations == []


@pytest.mark.asyncio
async def test_responders_override_delay_and_refuse(csms: Csms) -> None:
    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.5)
        return {"currentTime": utc_now()}

    def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("refused")  # any exception: a CALLERROR InternalError

    csms.respond(
        "Authorize", lambda payload: {"idTagInfo": {"status": "Blocked" if payload["idTag"] == "X" else "Accepted"}}
    )
    csms.respond("Heartbeat", slow)
    csms.respond("DataTransfer", refuse)
    async with charger(csms.url("CP1")) as cp:
        await cp.boot()
        assert (await cp.call(call.Authorize(id_tag="X"))).id_tag_info["status"] == "Blocked"
        cp._response_timeout = 0.2
        with pytest.raises(asyncio.TimeoutError):
            await cp.call(call.Heartbeat())
        await asyncio.sleep(0.4)  # the late answer arrives before the next CALL
        cp._response_timeout = 5
        with pytest.raises(OCPPError) as refused:
            await cp.call(call.DataTransfer(vendor_id="wbm"), suppress=False)

    assert refused.value.code == "InternalError"

    assert csms.calls("Heartbeat") == [{}]
    assert csms.violations == []


@pytest.mark.asyncio
async def test_a_schema_violation_is_collected_and_refused_with_the_1_6_code(csms: Csms) -> None:
    async with charger(csms.url("CP1")) as cp:
        await cp.boot()
        with pytest.raises(OCPPError) as refused:
            await cp.call(bad_status(), skip_schema_validation=True, suppress=False)

    assert refused.value.code == "FormationViolation"
    [violation] = csms.violations
    assert (violation.action, violation.charge_box_id) == ("StatusNotification", "CP1")
    assert "Bogus" in violation.problem


@pytest.mark.asyncio
async def test_protocol_faults_of_the_charge_point_are_violations(csms: Csms) -> None:
    async with connect(csms.url("CP1"), subprotocols=OCPP16) as ws:
        await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))  # before any boot
        await ws.recv()
        await ws.send(json.dumps([2, "b1", "BootNotification", {"chargePointVendor": "T", "chargePointModel": "M"}]))
        await ws.recv()
        csms.respond("Heartbeat", slow_heartbeat)
        await ws.send(json.dumps([2, "h2", "Heartbeat", {}]))
        await ws.send(json.dumps([2, "h3", "Heartbeat", {}]))  # while h2 is unanswered
        await ws.send("{not json")
        await ws.send(json.dumps([4, "x1", "FormatViolation", "", {}]))  # answers nothing, 2.0 spelling

    problems = {v.unique_id: v.problem for v in csms.violations}
    assert "before a BootNotification was accepted" in problems["h1"]
    assert "second CALL while Heartbeat [h2]" in problems["h3"]
    assert problems[None] == "not JSON"
    assert "not an OCPP 1.6 code" in problems["x1"]
    assert len(csms.violations) == 4


async def slow_heartbeat(payload: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0.3)
    return {"currentTime": utc_now()}


@pytest.mark.asyncio
async def test_handshake_needs_ocpp16_and_the_right_basic_password() -> None:
    async with Csms(users={"CP1": "secret"}) as csms:

        def basic(user: str, password: str) -> dict[str, Any]:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"additional_headers": {"Authorization": f"Basic {token}"}}

        for options in (basic("CP1", "wrong"), basic("CP2", "secret"), {}):
            with pytest.raises(InvalidStatus) as refused:
                async with charger(csms.url("CP1"), **options):
                    pass
            assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as no_subprotocol:
            async with connect(csms.url("CP1"), **basic("CP1", "secret")):
                pass
        assert no_subprotocol.value.response.status_code == 400
        async with charger(csms.url("CP1"), **basic("CP1", "secret")) as cp:
            assert (await cp.boot()).status == "Accepted"

    assert [h.status for h in csms.handshakes] == [401, 401, 401, 400, 101]


@pytest.mark.asyncio
async def test_tls_is_trusted_with_the_ca_and_only_with_it() -> None:
    async with Csms(tls=True) as csms:
        assert csms.url("CP1").startswith("wss://127.0.0.1:")
        assert csms.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
        with pytest.raises(ssl.SSLCertVerificationError):
            async with charger(csms.url("CP1"), ssl=ssl.create_default_context()):
                pass
        trusting = ssl.create_default_context(cadata=csms.ca_pem)
        async with charger(csms.url("CP1"), ssl=trusting) as cp:
            assert (await cp.boot()).status == "Accepted"
        localhost = csms.url("CP1").replace("127.0.0.1", "localhost")
        async with charger(localhost, ssl=trusting) as cp:
            await cp.call(call.Heartbeat())
    assert csms.violations == []


@pytest.mark.asyncio
async def test_an_outage_closes_the_connection_and_the_csms_returns_on_the_same_port(csms: Csms) -> None:
    port = csms.port
    async with charger(csms.url("CP1")) as cp:
        await cp.boot()
        await csms.stop()
        await asyncio.wait_for(cp._connection.wait_closed(), 5)
        assert cp._connection.close_code == 1001
    with pytest.raises(OSError):
        await connect(csms.url("CP1"), subprotocols=OCPP16, open_timeout=1)

    await csms.start()
    assert csms.port == port
    async with charger(csms.url("CP1")) as cp:
        await cp.call(call.Heartbeat())  # a reconnect needs no new boot
    assert csms.violations == []


@pytest.mark.asyncio
async def test_silent_csms_answers_neither_calls_nor_pings_and_disconnect_closes(csms: Csms) -> None:
    async with charger(csms.url("CP1"), ping_interval=None) as cp:
        await cp.boot()
        ws: ClientConnection = cp._connection
        await asyncio.wait_for(await ws.ping(), 2)
        csms.silent(True)
        cp._response_timeout = 0.3
        with pytest.raises(asyncio.TimeoutError):
            await cp.call(call.Heartbeat())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(await ws.ping(), 0.5)
        csms.silent(False)
        await asyncio.wait_for(await ws.ping(), 2)
        await csms.disconnect("CP1", code=1012)
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1012
    await csms.wait_disconnected("CP1")
    assert len(csms.calls("Heartbeat")) == 1


@pytest.mark.asyncio
async def test_raw_frames_reach_the_charge_point_and_its_answers_are_matched(csms: Csms) -> None:
    async with connect(csms.url("CP1"), subprotocols=OCPP16) as ws:
        await csms.wait_connected("CP1")
        await csms.send_raw("CP1", json.dumps([2, "u1", "NoSuchAction", {}]))
        assert json.loads(await ws.recv()) == [2, "u1", "NoSuchAction", {}]
        await ws.send(json.dumps([4, "u1", "NotSupported", "", {}]))
        with pytest.raises(CallErrorReceived) as refused:
            task = asyncio.create_task(csms.call("CP1", "Reset", {"type": "Soft"}))
            request = json.loads(await ws.recv())
            await ws.send(json.dumps([4, request[1], "NotImplemented", "no reset", {}]))
            await task
        assert refused.value.code == "NotImplemented"
        task = asyncio.create_task(csms.call("CP1", "Reset", {"type": "Soft"}))
        request = json.loads(await ws.recv())
        await ws.send(json.dumps([3, request[1], {"status": "Maybe"}]))
        assert await task == {"status": "Maybe"}

    [violation] = csms.violations
    assert (violation.action, violation.unique_id) == ("Reset", request[1])


# -- ThreadedCsms and the strict ocpp-rpc peer (synchronous tests) -------------------------------


def test_threaded_csms_serves_a_charge_point_on_another_loop(
    threaded_csms: ThreadedCsms, cp_thread: LoopThread
) -> None:
    threaded_csms.respond("BootNotification", {"status": "Accepted", "currentTime": utc_now(), "interval": 60})
    held = HeldCharger(cp_thread, threaded_csms.url("CP1"))
    try:
        assert held.run(held.cp.boot()).interval == 60
        threaded_csms.wait_connected("CP1")
        mark = len(threaded_csms.frames)
        held.run(charge_once(held.cp))
        assert threaded_csms.wait_for("StopTransaction", after=mark)["meterStop"] == 1500
        answer = threaded_csms.call("CP1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})
        assert answer == {"status": "Accepted"}
        assert held.cp.config["HeartbeatInterval"] == "60"
    finally:
        held.close()
    threaded_csms.wait_disconnected("CP1")
    assert threaded_csms.violations == []


def test_strict_peer_round_trip_and_a_strict_violation(strict_csms: StrictCsms, cp_thread: LoopThread) -> None:
    held = HeldCharger(cp_thread, strict_csms.url("CP1"))
    try:
        assert held.run(held.cp.boot()).status == "Accepted"
        strict_csms.wait_connected("CP1")
        first = held.run(charge_once(held.cp))
        assert strict_csms.wait_for("StopTransaction")["transactionId"] == first
        assert strict_csms.calls("BootNotification")[0] == {"chargePointVendor": "Test", "chargePointModel": "Harness"}
        config = strict_csms.call("CP1", "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        assert config == {"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}]}
        assert strict_csms.violations == []

        with pytest.raises(OCPPError) as refused:
            held.run(held.cp.call(bad_status(), skip_schema_validation=True, suppress=False))
        assert refused.value.code == "FormationViolation"
        with pytest.raises(StrictCallError) as unknown:
            strict_csms.call("CP1", "DataTransfer", {"vendorId": "wbm"})
        assert unknown.value.code == "NotImplemented"
    finally:
        held.close()

    [violation] = strict_csms.violations
    assert (violation["method"], violation["outbound"], violation["isCall"]) == ("StatusNotification", False, True)


def test_strict_peer_refuses_a_wrong_password(cp_thread: LoopThread) -> None:
    with StrictCsms(users={"CP1": "secret"}) as strict_csms:
        with pytest.raises(InvalidStatus) as refused:
            HeldCharger(cp_thread, strict_csms.url("CP1"))
        assert refused.value.response.status_code == 401
        token = base64.b64encode(b"CP1:secret").decode()
        ok = charger(strict_csms.url("CP1"), additional_headers={"Authorization": f"Basic {token}"})
        cp = cp_thread.run(ok.__aenter__())
        try:
            assert cp_thread.run(cp.boot()).status == "Accepted"
        finally:
            cp_thread.run(ok.__aexit__(None, None, None))


def test_strict_peer_without_node_modules_points_at_the_test_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(strict, "NODE_DIR", tmp_path)
    with pytest.raises(RuntimeError, match=r"scripts/test\.sh"):
        StrictCsms().start()
