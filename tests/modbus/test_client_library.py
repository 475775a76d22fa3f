"""The published Home Assistant library (``aiophoenixcontactcharx``) against our server: it fetches
the device and three charge points and decodes what the snapshot holds; its writes act."""

from __future__ import annotations

import asyncio

from aiophoenixcontactcharx import CharxClient
from aiophoenixcontactcharx.models import EnergyMeterType, ReleaseMode, VehicleStatus

from tests.conftest import cp_id
from tests.modbus.test_server import modbus  # noqa: F401 (the fixture)


def fetch(port: int, count: int):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        async with CharxClient("127.0.0.1", port=port, timeout=3) as client:
            return await client.fetch_data(num_charging_points=count)

    return asyncio.run(run())


def test_the_library_reads_the_device_and_three_charge_points(modbus):  # noqa: F811
    rt = modbus
    charging = cp_id("P1-02")  # connector 2: permanent release
    assert rt.call("sim.plug_in", cp=charging, phases=3, max_current_a=16)["ok"]
    rt.step()
    rt.runtime.clock.advance(30)  # half a minute of charging
    snapshot = rt.step()
    data = fetch(modbus.port, 3)
    device = data.device_info
    assert device.num_controllers >= 3 and device.designation and device.software_version
    assert device.availability is True and device.dynamic_max_current_a == 65535
    assert device.num_charging == 1
    by_connector = {cp.charging_point: cp for cp in data.charging_points}
    for connector, name in ((1, "P1-01"), (2, "P1-02"), (3, "P1-03")):
        state = snapshot.chargepoint(cp_id(name))
        cp = by_connector[connector]
        assert cp.config.bus_position == state.position
        assert cp.config.energy_meter_type is not EnergyMeterType.UNKNOWN
        assert cp.status.energy_active_wh == int(state.meter.energy_wh)
        assert cp.status.voltage_l1_mv == round(state.meter.voltages_v[0] * 1000)
        assert cp.control.charging_release is state.release
    two = by_connector[2]
    state = snapshot.chargepoint(charging)
    assert two.config.release_mode is ReleaseMode.PERMANENT and two.config.max_current_cfg_a == 16
    assert two.status.vehicle_status is VehicleStatus.C2
    assert two.status.current_l1_ma == round(state.currents_a[0] * 1000)
    assert two.status.setpoint_a == int(state.pwm_limit_a)
    assert two.status.connection_time_s == state.plugin_s
    assert two.status.charging_duration_s == state.charging_s
    assert by_connector[1].status.vehicle_status is VehicleStatus.A1


def test_the_library_writes_the_current_and_the_watchdog(modbus):  # noqa: F811
    rt = modbus
    pk = cp_id("P1-02")
    assert rt.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)["ok"]
    rt.step()

    async def write():  # type: ignore[no-untyped-def]
        async with CharxClient("127.0.0.1", port=modbus.port, timeout=3) as client:
            await client.set_max_current(2, 9)
            await client.set_watchdog(2, timer_s=60, fallback_current_a=6)

    asyncio.run(write())
    state = rt.step().chargepoint(pk)
    assert state.pwm_limit_a == 9
    control = fetch(modbus.port, 2).charging_points[1].control
    assert (control.max_current_a, control.watchdog_current_a, control.watchdog_timer_s) == (9, 6, 60)
