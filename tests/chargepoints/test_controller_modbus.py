"""What the controller does for the Modbus server: its blocks (X304 availability → state F, X305
force unlock) and its commands (X302 digital outputs, X308 clear the last RFID tag)."""

from __future__ import annotations

from tests.conftest import cp_id
from wbm.runtime.claims import Kind, Source


def test_a_modbus_unavailable_block_puts_the_charge_point_into_f_and_back(runtime):
    pk = cp_id("P1-02")  # permanent release
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    assert runtime.step().chargepoint(pk).iec_state == "C"
    runtime.run(_block(runtime, pk, "unavailable"))
    state = runtime.step().chargepoint(pk)
    assert state.iec_state == "F" and state.ocpp_status == "Unavailable" and state.pwm_limit_a == 0
    assert state.enabled is True  # not the user's Disable: nothing is persisted
    runtime.run(_withdraw(runtime, pk, "unavailable"))
    assert runtime.step().chargepoint(pk).iec_state in ("B", "C")


def test_the_group_block_does_the_same(runtime):
    pk = cp_id("P1-01")
    runtime.run(_block(runtime, pk, "group_unavailable"))
    assert runtime.step().chargepoint(pk).iec_state == "F"


def test_a_modbus_unlock_block_unlocks_a_socket_that_locks_on_connect(runtime):
    pk = cp_id("P1-01")  # locks on EV connected
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    assert runtime.step().chargepoint(pk).locked is True
    runtime.run(_block(runtime, pk, "unlock"))
    assert runtime.step().chargepoint(pk).locked is False
    runtime.run(_withdraw(runtime, pk, "unlock"))
    assert runtime.step().chargepoint(pk).locked is True


def test_outputs_are_set_on_the_hardware_by_the_controller(runtime):
    pk = cp_id("P1-01")
    assert runtime.call("cp.output", cp=pk, index=2, mode="high")["ok"]
    assert runtime.step().chargepoint(pk).digital_outputs[1] == "high"
    assert runtime.call("cp.output", cp=pk, index=5, mode="high")["error"] == "bad_argument"
    assert runtime.call("cp.output", cp=pk, index=1, mode="sideways")["error"] == "bad_argument"


def test_clear_rfid_forgets_the_last_tag(runtime):
    pk = cp_id("P1-03")  # has a reader
    runtime.call("sim.rfid", cp=pk, tag="04A1B2C3")
    assert runtime.step().chargepoint(pk).rfid == "04A1B2C3"
    assert runtime.call("cp.clear_rfid", cp=pk)["ok"]
    assert runtime.step().chargepoint(pk).rfid == ""


async def _block(rt, pk: int, key: str) -> None:
    rt.runtime.claims.block(pk, Source.MODBUS, key=key)


async def _withdraw(rt, pk: int, key: str) -> None:
    rt.runtime.claims.withdraw(pk, Source.MODBUS, Kind.BLOCK, key)
