"""The simulated hardware: vehicles draw what the PWM and their own maximum allow, meters count."""

from __future__ import annotations

import pytest

from wbm.runtime.backends.controller import HardwarePoint
from wbm.runtime.backends.simulated import NOMINAL_HZ, VEHICLE_DRAW, SimulatedBackend

CP = 1
T0 = 1_000_000.0


async def backend_with_point(*, meter: bool = True, register_wh: float = 5000.0) -> SimulatedBackend:
    backend = SimulatedBackend(seed=3, state_file=None)
    await backend.open(
        [
            HardwarePoint(
                id=CP,
                station_id=1,
                position=1,
                device_uid="d5ae627400010001",
                energy_register_wh=register_wh,
                meter_installed=meter,
            )
        ]
    )
    await backend.poll(T0)
    return backend


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("phases", "vehicle_max_a", "pwm_a", "expected_a"),
    [
        (3, 32, 16, 16 * VEHICLE_DRAW),  # the PWM limits
        (3, 10, 16, 10 * VEHICLE_DRAW),  # the vehicle limits
        (1, 32, 20, 20 * VEHICLE_DRAW),
        (1, 13, 32, 13 * VEHICLE_DRAW),
    ],
)
async def test_a_vehicle_draws_what_the_pwm_and_its_own_maximum_allow(phases, vehicle_max_a, pwm_a, expected_a):
    backend = await backend_with_point()
    backend.plug_in(CP, phases=phases, max_current_a=vehicle_max_a, ventilation=False)
    await backend.set_pwm(CP, pwm_a)
    await backend.poll(T0 + 10)
    hw = backend.read(CP)
    assert hw.iec_state == "C"
    assert hw.currents_a[0] == pytest.approx(expected_a, abs=0.06)
    if phases == 3:
        assert hw.currents_a[1] == pytest.approx(expected_a, abs=0.06)
        assert hw.currents_a[2] == pytest.approx(expected_a, abs=0.06)
    else:
        assert hw.currents_a[1:] == (0.0, 0.0)
    assert hw.meter is not None
    assert hw.meter.currents_a == hw.currents_a
    expected_power = sum(u * i for u, i in zip(hw.meter.voltages_v, hw.currents_a, strict=True)) * 0.99
    assert hw.meter.power_w == pytest.approx(expected_power, rel=0.01)


@pytest.mark.asyncio
async def test_without_pwm_or_below_six_amps_the_vehicle_waits_in_state_b():
    backend = await backend_with_point()
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await backend.poll(T0 + 1)
    assert backend.read(CP).iec_state == "B"
    await backend.set_pwm(CP, 5.0)
    await backend.poll(T0 + 2)
    hw = backend.read(CP)
    assert hw.iec_state == "B"
    assert hw.currents_a == (0.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_a_ventilating_vehicle_charges_in_state_d():
    backend = await backend_with_point()
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=True)
    await backend.set_pwm(CP, 16)
    await backend.poll(T0 + 1)
    assert backend.read(CP).iec_state == "D"


@pytest.mark.asyncio
async def test_the_energy_register_only_grows_and_counts_the_energy_drawn():
    backend = await backend_with_point(register_wh=5000.0)
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await backend.set_pwm(CP, 16)
    readings = []
    now = T0
    for step in range(60):
        now += 60
        if step == 20:
            backend.vehicle_mode(CP, "paused")
        if step == 30:
            backend.vehicle_mode(CP, "requesting")
        if step == 40:
            backend.unplug(CP)
        await backend.poll(now)
        assert backend.read(CP).meter is not None
        readings.append(backend.read(CP).meter.energy_wh)  # type: ignore[union-attr]
    await backend.poll(now - 3600)  # a clock step backwards does not count backwards
    readings.append(backend.read(CP).meter.energy_wh)  # type: ignore[union-attr]
    assert readings == sorted(readings)
    assert readings[0] > 5000.0
    # 30 minutes at ~16 A on three phases ≈ 3 × 230 V × 15.5 A × 0.5 h ≈ 5.3 kWh
    assert readings[-1] - 5000.0 == pytest.approx(3 * 230 * 16 * VEHICLE_DRAW * 0.99 * 0.5, rel=0.03)
    assert backend.energy_registers()[CP] == pytest.approx(readings[-1], abs=0.1)


@pytest.mark.asyncio
async def test_the_meter_reports_every_quantity_of_the_manual():
    backend = await backend_with_point()
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await backend.set_pwm(CP, 16)
    await backend.poll(T0 + 5)
    meter = backend.read(CP).meter
    assert meter is not None
    assert all(225 < u < 235 for u in meter.voltages_v)
    assert meter.frequency_hz == NOMINAL_HZ
    assert 0 < meter.power_factor <= 1
    assert meter.power_w > 10_000


@pytest.mark.asyncio
async def test_a_power_meter_failure_makes_the_meter_not_available_and_the_charge_point_faulted():
    backend = await backend_with_point()
    backend.inject_fault(CP, "PowerMeterFailure", "no answer")
    await backend.poll(T0 + 1)
    hw = backend.read(CP)
    assert hw.meter is None
    assert hw.fault_code == "PowerMeterFailure"
    assert hw.fault_info == "no answer"
    backend.clear_fault(CP)
    await backend.poll(T0 + 2)
    assert backend.read(CP).meter is not None


@pytest.mark.asyncio
async def test_a_charge_point_without_meter_reports_none():
    backend = await backend_with_point(meter=False)
    assert backend.read(CP).meter is None


@pytest.mark.asyncio
@pytest.mark.parametrize("code", ["OverCurrentFailure", "GroundFailure", "HighTemperature", "InternalError"])
async def test_a_fault_puts_the_charge_point_into_state_f_and_stops_the_current(code):
    backend = await backend_with_point()
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await backend.set_pwm(CP, 16)
    await backend.poll(T0 + 1)
    assert backend.read(CP).iec_state == "C"
    backend.inject_fault(CP, code, "")
    await backend.poll(T0 + 2)
    hw = backend.read(CP)
    assert hw.iec_state == "F"
    assert hw.currents_a == (0.0, 0.0, 0.0)
    backend.clear_fault(CP)
    await backend.poll(T0 + 3)
    assert backend.read(CP).iec_state == "C"


@pytest.mark.asyncio
async def test_an_ev_communication_error_suspends_charging_without_state_f():
    backend = await backend_with_point()
    backend.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await backend.set_pwm(CP, 16)
    backend.inject_fault(CP, "EVCommunicationError", "")
    await backend.poll(T0 + 1)
    hw = backend.read(CP)
    assert hw.iec_state == "B"
    assert hw.currents_a == (0.0, 0.0, 0.0)


@pytest.mark.asyncio
async def test_a_disabled_charge_point_is_in_state_f():
    backend = await backend_with_point()
    await backend.set_available(CP, False)
    assert backend.read(CP).iec_state == "F"


@pytest.mark.asyncio
async def test_hardware_events_are_reported_once_by_the_next_poll():
    backend = await backend_with_point()
    backend.plug_in(CP, phases=1, max_current_a=16, ventilation=False)
    backend.present_rfid(CP, "04A1B2C3D4E5F6")
    backend.set_digital_input(CP, 2, True)
    backend.set_digital_input(CP, 2, True)  # no edge: no event
    events = await backend.poll(T0 + 1)
    assert [(e.kind, e.value) for e in events] == [("plugged", ""), ("rfid", "04A1B2C3D4E5F6"), ("input_rising", "2")]
    assert await backend.poll(T0 + 2) == []
    backend.set_digital_input(CP, 2, False)
    backend.unplug(CP)
    assert [e.kind for e in await backend.poll(T0 + 3)] == ["input_falling", "unplugged"]


@pytest.mark.asyncio
async def test_a_set_temperature_holds_until_released_then_follows_the_load():
    backend = await backend_with_point()
    backend.set_temperature(CP, 75.0)
    await backend.poll(T0 + 600)
    assert backend.read(CP).temperature_c == 75.0
    backend.set_temperature(CP, None)
    await backend.poll(T0 + 660)
    assert backend.read(CP).temperature_c < 75.0


@pytest.mark.asyncio
async def test_every_poll_writes_the_energy_registers_ahead_so_a_kill_takes_none_back(tmp_path):
    """What a poll measured is on disk before anyone can show it: the hardware reopened after a
    kill (no close, no last save) has every watt-hour the last poll counted."""
    point = HardwarePoint(
        id=CP, station_id=1, position=1, device_uid="d5ae627400010001", energy_register_wh=5000.0, meter_installed=True
    )
    first = SimulatedBackend(seed=3, state_file=tmp_path / "hw.json")
    await first.open([point])
    first.plug_in(CP, phases=3, max_current_a=16, ventilation=False)
    await first.set_pwm(CP, 16)
    now = T0
    for _ in range(5):
        now += 1
        await first.poll(now)  # only the energy changes: the full state file is not rewritten
    shown = first.read(CP).meter.energy_wh  # type: ignore[union-attr]
    assert shown > 5000.0
    # killed here: no close()
    second = SimulatedBackend(seed=3, state_file=tmp_path / "hw.json")
    await second.open([point])
    assert second.read(CP).meter.energy_wh >= shown  # type: ignore[union-attr]
    assert second.read(CP).vehicle is not None  # and the plugged vehicle is still there
