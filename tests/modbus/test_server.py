"""The Modbus/TCP server against what real clients do (MODBUS.md 2.1, 2.2): evcc, the Home
Assistant library, the Loxone template; refusals, the watchdog, malformed frames and a flood."""

from __future__ import annotations

import contextlib
import logging
import socket
import time

import pytest
from pymodbus.client import ModbusTcpClient

from chargepoints.models import ChargePointConfig
from modbus.agent import ModbusAgent
from modbus.server import MAX_RATE
from tests.conftest import RuntimeThread, cp_id
from wbm import registry
from wbm.runtime import local
from wbm.runtime.claims import Source, Verdict

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = 1, 2, 3


@pytest.fixture
def modbus(transactional_db, settings, monkeypatch):
    """The demo park, a runtime with the Modbus server on a free port, and a client on it."""
    from chargepoints.demo import load_demo_park

    settings.WBM_MODBUS_HOST, settings.WBM_MODBUS_PORT = "127.0.0.1", 0
    agents = tuple(a for a in registry.agent_classes() if a.name != "modbus")
    monkeypatch.setattr(registry, "agent_classes", lambda: (*agents, ModbusAgent))
    load_demo_park()
    rt = RuntimeThread()
    status = wait_for(lambda: (rt.runtime.snapshot and rt.runtime.snapshot.agent_state("modbus")) or None)
    client = ModbusTcpClient("127.0.0.1", port=status["port"], timeout=3)
    assert client.connect()
    rt.client = client  # type: ignore[attr-defined]
    rt.port = status["port"]  # type: ignore[attr-defined]
    try:
        yield rt
    finally:
        client.close()
        rt.close()
        local.set_current(None)


def wait_for(probe, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def status_letter(word: int) -> str:
    return chr(word >> 8)


def u32(words: list[int]) -> int:
    return (words[0] << 16) | words[1]


def plug_in_charging(rt, name: str) -> int:
    pk = cp_id(name)
    assert rt.call("sim.plug_in", cp=pk, phases=3, max_current_a=32)["ok"]
    rt.step()
    return pk


def test_evcc_sequence_drives_the_current_down_and_pauses_to_b(modbus):
    client, rt = modbus.client, modbus
    pk = plug_in_charging(rt, "P1-01")  # connector 1, release mode Dashboard, 32 A
    assert rt.call("cp.release", cp=pk, allow=True)["ok"]
    assert rt.step().chargepoint(pk).iec_state == "C"
    # evcc at start: 114, 1301, 1112; then it polls 1299 (first byte only) and 1301
    assert client.read_holding_registers(114, count=1, device_id=255).registers[0] >= 4
    assert client.read_holding_registers(1301, count=1, device_id=255).registers[0] == 32
    meter = client.read_holding_registers(1112, count=1, device_id=255).registers[0]
    assert meter not in (0, 65535)
    assert status_letter(client.read_holding_registers(1299, count=1, device_id=255).registers[0]) == "C"
    assert not client.write_registers(1301, [10], device_id=255).isError()
    state = rt.step().chargepoint(pk)
    assert state.pwm_limit_a == 10 and state.decision.binding is Source.MODBUS
    assert client.read_holding_registers(1301, count=1, device_id=255).registers[0] == 10
    assert client.read_holding_registers(1297, count=1, device_id=255).registers[0] == 10
    # Enable(false): 0 pauses in every release mode, and the vehicle drops from C to B
    assert not client.write_registers(1301, [0], device_id=255).isError()
    state = rt.step().chargepoint(pk)
    assert state.pwm_limit_a == 0 and state.decision.verdict is Verdict.BELOW_MINIMUM
    assert client.read_holding_registers(1301, count=1, device_id=255).registers[0] == 0
    word = client.read_holding_registers(1299, count=1, device_id=255).registers[0]
    assert status_letter(word) == "B" and word == 0x4231  # B1: no PWM
    # Enable(true) again
    assert not client.write_registers(1301, [16], device_id=255).isError()
    rt.runtime.clock.advance(10)  # raising waits 5 s after the last change (IEC 61851-1)
    assert rt.step().chargepoint(pk).pwm_limit_a == 16


def test_home_assistant_block_reads_and_fc04_equals_fc03(modbus):
    client = modbus.client
    pk = plug_in_charging(modbus, "P1-02")  # permanent release: charging at 16 A
    snapshot = modbus.step()
    station = client.read_holding_registers(100, count=68, device_id=1)
    assert not station.isError() and len(station.registers) == 68
    config = client.read_holding_registers(2100, count=24, device_id=1)
    assert config.registers[1] == 16  # configured maximum
    status = client.read_holding_registers(2232, count=77, device_id=1)
    assert not status.isError() and len(status.registers) == 77
    state = snapshot.chargepoint(pk)
    assert u32(status.registers[0:2]) == round(state.meter.voltages_v[0] * 1000)
    assert status_letter(status.registers[67]) == "C"
    for address, count in ((100, 68), (2100, 24), (2232, 77)):
        holding = client.read_holding_registers(address, count=count, device_id=1).registers
        assert client.read_input_registers(address, count=count, device_id=1).registers == holding


def test_loxone_writes_fc06_and_coils(modbus):
    client, rt = modbus.client, modbus
    pk = cp_id("P1-03")
    ChargePointConfig.objects.filter(pk=pk).update(
        release_mode="modbus", connection_type="socket_outlet", locking_mode="remote"
    )
    assert rt.call("config.reload")["ok"] and rt.call("modbus.reload")["ok"]
    assert rt.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)["ok"]
    rt.step()
    assert not client.write_register(3301, 8).isError()
    coil = client.write_coil(3300, True)  # the charging release as a coil (FC05)
    assert not coil.isError() and coil.bits[0] is True
    state = rt.step().chargepoint(pk)
    assert state.release and state.pwm_limit_a == 8
    assert client.read_holding_registers(3300, count=1).registers[0] == 1
    assert not client.write_coil(3303, True).isError()  # locking (Remote control)
    assert wait_for(lambda: rt.step().chargepoint(pk).locked)
    assert client.write_coil(3301, True).exception_code == ILLEGAL_ADDRESS  # not a coil
    assert not client.write_coil(3300, False).isError()
    assert rt.step().chargepoint(pk).release is False


def test_watchdog_lapses_to_the_clients_fallback_current(modbus):
    client, rt = modbus.client, modbus
    pk = plug_in_charging(rt, "P1-02")  # permanent release, 16 A
    assert not client.write_register(2306, 8).isError()
    assert not client.write_register(2307, 30).isError()
    assert client.read_holding_registers(2306, count=2).registers == [8, 30]
    assert rt.step().chargepoint(pk).pwm_limit_a == 16  # renewed: limits nothing
    rt.runtime.clock.advance(20)
    assert not client.write_register(2307, 30).isError()  # the client renews it
    rt.runtime.clock.advance(20)
    assert rt.step().chargepoint(pk).pwm_limit_a == 16
    rt.runtime.clock.advance(11)  # 31 s without a renewal
    state = rt.step().chargepoint(pk)
    assert state.pwm_limit_a == 8
    assert state.decision.binding is Source.FALLBACK and state.decision.lapsed is Source.MODBUS
    assert not client.write_register(2307, 65535).isError()  # off: the limit goes
    rt.runtime.clock.advance(10)
    assert rt.step().chargepoint(pk).pwm_limit_a == 16


def test_refusals_answer_exceptions_and_are_counted(modbus, caplog):
    client = modbus.client
    caplog.set_level(logging.WARNING, logger="modbus")
    # the release register in another release mode (P1-01: Dashboard): 01
    assert client.write_register(1300, 1).exception_code == ILLEGAL_FUNCTION
    assert "refused a write from 127.0.0.1" in caplog.text
    # restart registers: off by default
    assert client.write_register(165, 1).exception_code == ILLEGAL_FUNCTION
    assert client.write_register(166, 1).exception_code == ILLEGAL_FUNCTION
    # beyond the map, read-only registers, out-of-range values
    assert client.read_holding_registers(168, count=1).exception_code == ILLEGAL_ADDRESS
    assert client.read_holding_registers(1300, count=10).exception_code == ILLEGAL_ADDRESS  # into X309
    assert client.read_holding_registers(60000, count=1).exception_code == ILLEGAL_ADDRESS
    assert client.write_register(1299, 1).exception_code == ILLEGAL_ADDRESS
    assert client.write_register(114, 9).exception_code == ILLEGAL_ADDRESS
    assert client.write_register(1304, 2).exception_code == ILLEGAL_VALUE
    assert client.write_register(1306, 90).exception_code == ILLEGAL_VALUE
    assert client.read_coils(0, count=1).exception_code == ILLEGAL_FUNCTION
    state = wait_for(lambda: _state_when(modbus, lambda s: s["writes_refused"] >= 7))
    assert state["running"] is True


def _state_when(rt, condition):
    state = rt.runtime.snapshot.agent_state("modbus")
    return state if state and condition(state) else None


def test_restart_registers_once_allowed(modbus):
    from modbus.models import ModbusSettings

    rt = modbus
    ModbusSettings.objects.update_or_create(pk=ModbusSettings.SINGLETON_PK, defaults={"allow_restart": True})
    assert rt.call("modbus.reload")["ok"]
    before = rt.runtime.supervisor.status()
    restarts = {a.name: a.restarts for a in before}
    assert not modbus.client.write_register(166, 1).isError()

    def controller_restarted():
        now = {a.name: a for a in rt.runtime.supervisor.status()}
        c = now["controller"]
        return c.state == "running" and (c.restarts > restarts["controller"] or c.started_at != _started(before))

    wait_for(controller_restarted)
    assert rt.runtime.agent("modbus") is not None  # the server itself stays


def _started(statuses):
    return next(a.started_at for a in statuses if a.name == "controller")


def test_availability_f_and_group_current(modbus):
    client, rt = modbus.client, modbus
    a = plug_in_charging(rt, "P1-02")
    b = plug_in_charging(rt, "Visitor-01")
    assert not client.write_register(2304, 0).isError()
    assert rt.step().chargepoint(a).iec_state == "F"
    assert status_letter(client.read_holding_registers(2299, count=1).registers[0]) == "F"
    assert client.read_holding_registers(2304, count=1).registers[0] == 0
    assert not client.write_register(2304, 1).isError()
    assert rt.step().chargepoint(a).iec_state != "F"
    # 167: 24 A over the two charge points with a vehicle (no load circuit: the agent splits it)
    assert not client.write_register(167, 24).isError()
    wait_for(lambda: rt.step().chargepoint(b).pwm_limit_a == 12)
    assert client.read_holding_registers(167, count=1).registers[0] == 24
    # published for load management, which takes it as its circuit's limit when it runs one
    assert rt.runtime.snapshot.agent_state("modbus")["dynamic_current_a"] == 24
    assert not client.write_register(167, 65535).isError()
    rt.runtime.clock.advance(10)
    wait_for(lambda: rt.step().chargepoint(b).pwm_limit_a == 20)


def test_malformed_frames_and_a_flood_leave_the_server_running(modbus):
    port = modbus.port
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        raw.sendall(b"\x00\x01\x00\x00\x00\x06\x01\x63\x00\x00\x00\x01")  # unknown function 0x63
        raw.sendall(b"\xff" * 300)
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
    request = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x72\x00\x01"  # FC03 114 x 1
    # a flood from one client that does not wait for answers (pymodbus drops what it cannot frame)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as flood:
        for _ in range(2000):
            flood.sendall(request)
    # one that waits, but asks faster than the limit (MAX_RATE a second): the excess is dropped
    answered = 0
    with socket.create_connection(("127.0.0.1", port), timeout=2) as fast:
        fast.settimeout(0.2)
        for _ in range(int(MAX_RATE * 2.5)):
            fast.sendall(request)
            with contextlib.suppress(TimeoutError):
                answered += len(fast.recv(65536)) // 11
    assert answered > MAX_RATE
    for _ in range(3):  # a polite client still gets its answers
        assert not modbus.client.read_holding_registers(114, count=1).isError()
    state = wait_for(lambda: _state_when(modbus, lambda s: s["dropped"] > 0 and s["requests"] >= answered))
    assert state["running"] is True


def test_the_page_reads_back_what_a_client_wrote(modbus):
    """The register viewer on the page shows X301/X306/X307 as written, from the agent's state."""
    client, rt = modbus.client, modbus
    assert not client.write_registers(2306, [8, 30]).isError()
    assert not client.write_register(2301, 12).isError()

    def controls():  # type: ignore[no-untyped-def]
        state = rt.runtime.snapshot.agent_state("modbus") or {}
        written = state.get("controls", {}).get(str(cp_id("P1-02")), {})
        return written if written.get("current_limit_a") == 12 else None

    written = wait_for(controls)
    assert (written["watchdog_fallback_a"], written["watchdog_timer_s"]) == (8, 30)
