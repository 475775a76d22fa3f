"""The CHARX register map (modbus.registers), read back the way the real clients decode it.

The decoders below mirror the clients of MODBUS.md: aiophoenixcontactcharx (``_u32``, ``_s32``,
``_u64``, ``_s64``, ``_ascii``, ``_ip``, ``_mac``, ``_vehicle_status``), evcc (mbmd big-endian
``Int32``/``Int64``, ``bytesAsString`` = TrimLeft NUL + TrimSpace, ``Status()`` = ``string(b[0])``)
and HA-Veton's split reads.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from modbus import registers as r
from modbus.registers import (
    ClearRfid,
    ControlState,
    CpRegisterConfig,
    ForceUnlock,
    IllegalAddress,
    IllegalValue,
    NoLiveState,
    RegisterView,
    RestartGroup,
    RestartServer,
    SetAvailability,
    SetCurrentLimit,
    SetDynamicCurrent,
    SetGroupAvailability,
    SetLock,
    SetOutputs,
    SetRelease,
    SetWatchdogFallback,
    SetWatchdogTimer,
    StationControl,
    StationInfo,
)
from wbm.runtime.claims import Decision, Source, Verdict
from wbm.runtime.snapshot import ChargePointState, Iso15118State, MeterReading, ParkSnapshot, Vehicle

# --- the clients' decoders ----------------------------------------------------------------------


def _u32(regs: list[int], offset: int) -> int:
    return (regs[offset] << 16) | regs[offset + 1]


def _s32(regs: list[int], offset: int) -> int:
    value = _u32(regs, offset)
    return value if value < 0x80000000 else value - 0x100000000


def _u64(regs: list[int], offset: int) -> int:
    return (regs[offset] << 48) | (regs[offset + 1] << 32) | (regs[offset + 2] << 16) | regs[offset + 3]


def _s64(regs: list[int], offset: int) -> int:
    value = _u64(regs, offset)
    return value if value < 0x8000000000000000 else value - 0x10000000000000000


def _s16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def aio_ascii(regs: list[int], offset: int, num_words: int) -> str:
    """aiophoenixcontactcharx ``_ascii``: NUL bytes dropped, then stripped."""
    chars: list[str] = []
    for reg in regs[offset : offset + num_words]:
        high, low = (reg >> 8) & 0xFF, reg & 0xFF
        if high:
            chars.append(chr(high))
        if low:
            chars.append(chr(low))
    return "".join(chars).rstrip("\x00").strip()


def raw_bytes(regs: list[int]) -> bytes:
    return b"".join(reg.to_bytes(2, "big") for reg in regs)


def evcc_string(regs: list[int]) -> str:
    """evcc ``bytesAsString``: leading NULs stripped, then white space on both sides."""
    return raw_bytes(regs).lstrip(b"\x00").decode("ascii").strip()


def evcc_status(regs: list[int]) -> str:
    """evcc ``Status()``: only the first byte counts."""
    letter = chr(raw_bytes(regs)[0])
    return {"A": "A", "B": "B", "C": "C", "D": "C", "E": "E", "F": "F"}.get(letter, "error")


def aio_ip(regs: list[int], offset: int) -> str:
    return ".".join(str(regs[offset + i]) for i in range(4))


def aio_mac(regs: list[int], offset: int) -> str:
    return ":".join(f"{(reg >> 8) & 0xFF:02X}:{reg & 0xFF:02X}" for reg in regs[offset : offset + 3])


def status_text(word: int) -> str:
    return chr(word >> 8) + chr(word & 0xFF)


# --- realistic states -----------------------------------------------------------------------------

CAR = Vehicle(phases=3, max_current_a=16, ventilation=False, mode="requesting", cable_a=32)
METER = MeterReading(
    currents_a=(15.52, 15.48, 15.5),
    voltages_v=(230.4, 229.1, 231.7),
    power_w=10594.3,
    energy_wh=123456.7,
    power_factor=0.99,
    frequency_hz=50.0,
)
OFFERED = Decision(offered_a=16.0, verdict=Verdict.OFFERED, released=True, cap_a=16.0, binding=Source.CONFIG)

IDLE = ChargePointState(
    id=7,
    station_id=1,
    position=1,
    configured=True,
    name="P1-01",
    location="Bay 1",
    iec_state="A",
    ocpp_status="Available",
    dashboard_status="available",
    local_bus="connected",
    pwm_limit_a=0.0,
    currents_a=(0.0, 0.0, 0.0),
    meter_configured=True,
    meter=dataclasses.replace(METER, currents_a=(0.0, 0.0, 0.0), power_w=0.0, power_factor=1.0),
    session_energy_wh=None,
    charging_s=0,
    plugin_s=0,
    plugged_since=None,
    enabled=True,
    release=False,
    release_mode="modbus",
    locked=False,
    unlock_enforced=False,
    reserved=False,
    vehicle=None,
    rfid="",
    temperature_c=24.5,
    temperature_configured=False,
    error_code="NoError",
    error_info="",
    digital_inputs=(False, False, False, False),
    digital_outputs=("low", "low", "low", "low"),
    analog_inputs_v=(0.0, 0.0),
    iso15118=None,
)
CHARGING = dataclasses.replace(
    IDLE,
    iec_state="C",
    ocpp_status="Charging",
    dashboard_status="charging",
    pwm_limit_a=16.0,
    currents_a=METER.currents_a,
    meter=METER,
    session_energy_wh=5234.4,
    charging_s=1805,
    plugin_s=1860,
    plugged_since=1_700_000_000.0,
    release=True,
    locked=True,
    vehicle=CAR,
    rfid="04A1B2C3D4E5F6",
    digital_inputs=(True, False, True, False),
    digital_outputs=("high", "low", "flashing", "floating"),
    decision=OFFERED,
)

CONFIG = CpRegisterConfig(
    charging_case=0,
    max_current_a=16,
    min_current_a=6,
    rcm_configured=1,
    temp_lower_c=-5,
    temp_upper_c=80,
    derating_start_a=16,
    derating_stop_a=6,
    temperature_monitoring=1,
    accept_status_d=0,
    proximity=0,
    overcurrent_monitoring=2,
    meter_type_code=1,
    controller_uid="A1B2C3",
    server_uid="D4E5F6",
    bus_position=1,
    release_mode_code=5,
    release_mode="modbus",
    fallback_current_a=8,
    phase_rotation="L2L3L1",
)
STATION = StationInfo(
    designation="CHARX SEC-3100",
    software_version="0.1.0",
    controller_count=2,
    mac_eth0="A8:74:1D:00:12:34",
    ip_eth0="192.168.4.10",
    subnet_eth0="255.255.255.0",
)
X = 1000  # start address of charge point 7
OTHER = 8  # a second charge point at 2000


def snapshot(*states: ChargePointState, at: float = 1_700_001_860.0) -> ParkSnapshot:
    return ParkSnapshot(generated_at=at, runtime_started_at=1_700_000_000.0, chargepoints=states)


def make_view(
    *, controls: dict[int, ControlState] | None = None, station_control: StationControl | None = None, **config: Any
) -> RegisterView:
    cfg = dataclasses.replace(CONFIG, **config)
    return RegisterView(
        station=STATION,
        configs={7: cfg, OTHER: dataclasses.replace(CONFIG, bus_position=2, phase_rotation="L1L2L3")},
        controls=controls if controls is not None else {7: ControlState(), OTHER: ControlState()},
        station_control=station_control or StationControl(),
        addresses={7: 1000, OTHER: 2000},
    )


def other(**changes: Any) -> ChargePointState:
    return dataclasses.replace(IDLE, id=OTHER, position=2, **changes)


# --- the station block ----------------------------------------------------------------------------


def test_the_station_block_reads_as_aiophoenixcontactcharx_decodes_it():
    view = make_view()
    regs = view.read(100, 68, snapshot(CHARGING, other()))
    assert len(regs) == 68
    assert aio_ascii(regs, 0, 10) == "CHARX SEC-3100"
    assert aio_ascii(regs, 10, 4) == "0.1.0"
    assert regs[14] == 2
    assert aio_mac(regs, 15) == "A8:74:1D:00:12:34"
    assert aio_mac(regs, 18) == "00:00:00:00:00:00"
    assert aio_ip(regs, 21) == "192.168.4.10"
    assert aio_ip(regs, 25) == "0.0.0.0"
    assert aio_ip(regs, 29) == "255.255.255.0"
    assert regs[37:45] == [0] * 8  # gateways: placeholders
    assert (regs[45], regs[46]) == (4, 0)  # no modem: unknown, unknown
    assert regs[47:52] == [0, 0, 1, 1, 1]  # non-critical, E/F, A, B/C/D, C2
    assert _u32(regs, 52) == 10_594_300
    s = sum(u * i for u, i in zip(METER.voltages_v, METER.currents_a, strict=True))
    assert _u32(regs, 56) == round(s * 1000)
    assert _s32(regs, 54) == round((s * s - METER.power_w**2) ** 0.5 * 1000)
    # charge point 7 is wired L2-L3-L1: its L1 current is on the grid's L2
    assert (_s32(regs, 58), _s32(regs, 60), _s32(regs, 62)) == (15_500, 15_520, 15_480)
    assert regs[64] == 1  # group available
    assert regs[67] == 65535  # no dynamic cap


def test_evcc_diagnose_reads_the_designation_version_and_count():
    view = make_view()
    snap = snapshot(CHARGING)
    assert evcc_string(view.read(100, 10, snap)) == "CHARX SEC-3100"
    assert evcc_string(view.read(110, 4, snap)) == "0.1.0"
    assert view.read(114, 1, snap) == [2]


def test_the_group_currents_read_minus_one_when_a_metered_phase_rotation_is_unknown():
    view = make_view(phase_rotation="")
    regs = view.read(158, 6, snapshot(CHARGING, other()))
    assert [_s32(regs, i) for i in (0, 2, 4)] == [-1, -1, -1]
    assert regs == [0xFFFF] * 6


def test_the_group_currents_read_minus_one_without_a_live_state_or_any_meter():
    view = make_view()
    assert [_s32(view.read(158, 6, None), i) for i in (0, 2, 4)] == [-1, -1, -1]
    no_meter = snapshot(dataclasses.replace(CHARGING, meter=None, meter_configured=False))
    assert [_s32(view.read(158, 6, no_meter), i) for i in (0, 2, 4)] == [-1, -1, -1]


def test_the_group_counts_follow_the_status_letters():
    view = make_view()
    faulted = dataclasses.replace(IDLE, iec_state="F", error_code="GroundFailure", error_info="dc_residual_current")
    regs = view.read(147, 5, snapshot(faulted, other(iec_state="B", vehicle=CAR)))
    assert regs == [0, 1, 0, 1, 0]
    derating = Decision(
        offered_a=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        cap_a=10.0,
        binding=Source.SAFETY,
        binding_key="derating",
    )
    regs = view.read(147, 5, snapshot(dataclasses.replace(CHARGING, decision=derating), other()))
    assert regs == [1, 0, 1, 1, 1]  # derating is a non-critical error


def test_the_station_control_registers_read_what_the_agent_set():
    control = StationControl(group_available=0, dynamic_current_a=63)
    view = make_view(station_control=control)
    assert view.read(164, 4, snapshot(CHARGING)) == [0, 0, 0, 63]
    control.dynamic_current_a = 100  # the agent's object, read at every request
    assert view.read(167, 1, snapshot(CHARGING)) == [100]


# --- the configuration block ----------------------------------------------------------------------


def test_the_configuration_block_reads_as_aiophoenixcontactcharx_decodes_it():
    regs = make_view().read(X + 100, 24, None)  # configuration needs no live state
    assert regs[0:4] == [0, 16, 6, 1]
    assert (_s16(regs[4]), _s16(regs[5])) == (-5, 80)
    assert regs[6:13] == [16, 6, 1, 0, 0, 2, 1]
    assert aio_ascii(regs, 13, 3) == "A1B2C3"
    assert aio_ascii(regs, 16, 3) == "D4E5F6"
    assert regs[19:24] == [1, 5, 0, 0, 0]


def test_evcc_start_sees_a_meter_and_the_configured_maximum_as_initial_current():
    view = make_view()
    snap = snapshot(IDLE)
    meter_type = view.read(X + 112, 1, snap)[0]
    assert meter_type > 0 and meter_type != 65535
    assert view.read(X + 301, 1, snap) == [16]
    assert view.read(114, 1, snap)[0] >= 1


# --- the status block -----------------------------------------------------------------------------


def test_the_status_and_control_blocks_read_in_one_request_as_aiophoenixcontactcharx_decodes_them():
    regs = make_view().read(X + 232, 77, snapshot(CHARGING))
    assert [_u32(regs, i) for i in (0, 2, 4)] == [230_400, 229_100, 231_700]
    assert [_s32(regs, i) for i in (6, 8, 10)] == [15_520, 15_480, 15_500]
    assert _u32(regs, 12) == 10_594_300
    assert _s32(regs, 14) > 0
    assert _u32(regs, 16) >= _u32(regs, 12)
    assert _u64(regs, 18) == 123_456
    assert _s64(regs, 22) == 0 and _u64(regs, 26) == 0  # reactive, apparent energy: not measured
    assert regs[30:33] == [0, 0, 0]  # SOC placeholders
    assert aio_ascii(regs, 33, 10) == ""
    assert aio_ascii(regs, 43, 10) == "04A1B2C3D4E5F6"
    assert _u32(regs, 53) == 1860
    assert _u32(regs, 55) == 1805
    assert _u64(regs, 57) == 5234
    assert _u32(regs, 61) == 0
    assert regs[63] == 0b0101  # inputs 1 and 3
    assert regs[64] == 27  # 16 A = 26.7 % duty
    assert regs[65] == 16
    assert regs[66] == 32  # the cable's PP rating
    assert status_text(regs[67]) == "C2"
    # control X300–X308
    assert regs[68:77] == [1, 16, 0x0312, 1, 1, 0, 8, 65535, 0]


def test_evcc_polls_decode_as_evcc_does():
    view = make_view()
    snap = snapshot(CHARGING)
    assert evcc_status(view.read(X + 299, 1, snap)) == "C"
    assert view.read(X + 301, 1, snap)[0] != 0  # Enabled()
    assert _u32(view.read(X + 287, 2, snap), 0) == 1805  # ChargeDuration()
    assert _u32(view.read(X + 285, 2, snap), 0) == 1860  # ConnectionDuration()
    assert _s32(view.read(X + 244, 2, snap), 0) / 1e3 == pytest.approx(10594.3)  # currentPower()
    assert _s64(view.read(X + 250, 4, snap), 0) / 1e3 == pytest.approx(123.456)  # totalEnergy() kWh
    currents = view.read(X + 238, 6, snap)
    assert [_s32(currents, i) / 1e3 for i in (0, 2, 4)] == [15.52, 15.48, 15.5]
    voltages = view.read(X + 232, 6, snap)
    assert [_s32(voltages, i) / 1e3 for i in (0, 2, 4)] == [230.4, 229.1, 231.7]


def test_evcc_identify_reads_the_evcc_id_then_the_rfid_without_padding():
    view = make_view()
    hlc = dataclasses.replace(CHARGING, vehicle=dataclasses.replace(CAR, hlc=True, evcc_id="0A1B2C3D4E5F"))
    assert evcc_string(view.read(X + 265, 10, snapshot(hlc))) == "0A1B2C3D4E5F"
    assert evcc_string(view.read(X + 265, 10, snapshot(CHARGING))) == "0A1B2C3D4E5F"  # the last one
    fresh = make_view()
    assert evcc_string(fresh.read(X + 265, 10, snapshot(CHARGING))) == ""  # empty: evcc reads the RFID
    assert evcc_string(fresh.read(X + 275, 10, snapshot(CHARGING))) == "04A1B2C3D4E5F6"


def test_the_iso15118_evcc_id_counts_too():
    iso = Iso15118State(
        start_charging_utc="",
        departure_utc="",
        progress="Start",
        session_id="1",
        evcc_id="F0E1D2C3B4A5",
        energy_transfer_mode="AC_three_phase_core",
        tcp_status="CONNECTED",
        qca_link_status="UP",
        error="",
    )
    regs = make_view().read(X + 265, 10, snapshot(dataclasses.replace(CHARGING, iso15118=iso)))
    assert aio_ascii(regs, 0, 10) == "F0E1D2C3B4A5"


def test_ha_veton_splits_the_64_bit_energy_across_its_read_and_gets_the_same_words():
    view = make_view()
    snap = snapshot(CHARGING)
    whole = view.read(X + 232, 77, snap)
    assert view.read(X + 244, 18, snap) == whole[12:30]
    assert view.read(X + 252, 2, snap) == whole[20:22]  # the low half of X250 alone
    assert view.read(X + 293, 7, snap) == whole[61:68]
    assert view.read(X + 300, 8, snap) == whole[68:76]
    assert view.read(X + 299, 2, snap) == whole[67:69]  # status and control in one


def test_without_a_meter_the_currents_read_minus_one_and_nothing_is_measured():
    no_meter = dataclasses.replace(CHARGING, meter=None, meter_configured=False, session_energy_wh=None)
    regs = make_view(meter_type_code=0).read(X + 232, 68, snapshot(no_meter))
    assert [_u32(regs, i) for i in (0, 2, 4)] == [0, 0, 0]
    assert [_s32(regs, i) for i in (6, 8, 10)] == [-1, -1, -1]
    assert _u32(regs, 12) == 0
    assert _u64(regs, 18) == 0
    assert _u64(regs, 57) == 0


def test_a_meter_that_stops_answering_keeps_the_last_energy_reading():
    view = make_view()
    assert _u64(view.read(X + 250, 4, snapshot(CHARGING)), 0) == 123_456
    lost = dataclasses.replace(CHARGING, meter=None, error_code="PowerMeterFailure")
    regs = view.read(X + 232, 68, snapshot(lost))
    assert _u64(regs, 18) == 123_456  # never backwards for evcc's totalEnergy()
    assert [_s32(regs, i) for i in (6, 8, 10)] == [-1, -1, -1]
    assert _u32(regs, 61) == r.BIT_METER


def test_the_times_follow_the_plug_in_and_reset_at_unplug():
    view = make_view()
    b_state = dataclasses.replace(CHARGING, iec_state="B", pwm_limit_a=0.0, release=False)
    seen = []
    for plugin_s, charging_s in ((10, 0), (20, 8), (30, 18)):
        regs = view.read(X + 285, 4, snapshot(dataclasses.replace(b_state, plugin_s=plugin_s, charging_s=charging_s)))
        seen.append((_u32(regs, 0), _u32(regs, 2)))
    assert seen == [(10, 0), (20, 8), (30, 18)]
    assert view.read(X + 285, 4, snapshot(IDLE)) == [0, 0, 0, 0]


def test_the_pwm_duty_follows_iec_61851():
    assert r.pwm_duty_percent(6) == 10
    assert r.pwm_duty_percent(16) == 27
    assert r.pwm_duty_percent(32) == 53
    assert r.pwm_duty_percent(51) == 85
    assert r.pwm_duty_percent(63) == 89
    assert r.pwm_duty_percent(80) == 96
    view = make_view()
    assert view.read(X + 296, 2, snapshot(IDLE)) == [100, 0]  # no PWM: constant level
    assert view.read(X + 296, 1, snapshot(dataclasses.replace(IDLE, iec_state="F")))[0] == 0


def test_a_fixed_cable_reads_the_configured_maximum_as_its_rating():
    fixed = dataclasses.replace(CHARGING, vehicle=dataclasses.replace(CAR, cable_a=None))
    assert make_view(charging_case=1).read(X + 298, 1, snapshot(fixed)) == [16]
    assert make_view().read(X + 298, 1, snapshot(IDLE)) == [0]


# --- the status word ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iec", "pwm", "text", "evcc"),
    [
        ("A", 0.0, "A1", "A"),
        ("A", 16.0, "A2", "A"),
        ("B", 0.0, "B1", "B"),
        ("B", 16.0, "B2", "B"),
        ("C", 0.0, "C1", "C"),
        ("C", 16.0, "C2", "C"),
        ("D", 0.0, "D1", "C"),
        ("D", 10.0, "D2", "C"),
        ("E", 0.0, "E0", "E"),
        ("F", 0.0, "F0", "F"),
        ("F", 16.0, "F0", "F"),
        ("", 0.0, "IN", "error"),
    ],
)
def test_the_status_word_is_the_two_letter_iec_status(iec, pwm, text, evcc):
    cp = dataclasses.replace(CHARGING, iec_state=iec, pwm_limit_a=pwm)
    word = r.iec_status_word(cp)
    assert word != 0
    assert status_text(word) == text
    assert evcc_status([word]) == evcc


def test_the_status_word_is_never_zero():
    for letter in ("A", "B", "C", "D", "E", "F", "", "X", "?"):
        for pwm in (0.0, 6.0):
            assert r.iec_status_word(dataclasses.replace(IDLE, iec_state=letter, pwm_limit_a=pwm)) != 0


@pytest.mark.django_db(transaction=True)
def test_a_vehicle_whose_release_is_withdrawn_drops_from_c2_to_b1_in_the_simulation(runtime):
    """End to end through the runtime and the simulated hardware: release → C2; release
    withdrawn → B1 at once (evcc sees "B", not "charging"); connection time rises on, charging
    time stops; unplug → A1, times 0."""
    from tests.conftest import cp_id

    cp = cp_id("P1-01")
    view = RegisterView(
        station=STATION,
        configs=r.cp_register_configs([cp]),
        controls={cp: ControlState()},
        station_control=StationControl(),
        addresses={cp: 1000},
    )
    runtime.call("sim.plug_in", cp=cp, phases=3, max_current_a=16, ventilation=False)
    assert status_text(view.read(1299, 1, runtime.step())[0]) == "B1"
    runtime.call("cp.release", cp=cp, allow=True)
    runtime.clock.advance(20)
    snap = runtime.step()
    regs = view.read(1285, 15, snap)
    assert status_text(regs[14]) == "C2"
    connected, charged = _u32(regs, 0), _u32(regs, 2)
    assert connected >= 20 and charged >= 19
    runtime.call("cp.release", cp=cp, allow=False)
    runtime.clock.advance(10)
    snap = runtime.step()
    regs = view.read(1285, 15, snap)
    assert status_text(regs[14]) == "B1"
    assert evcc_status(regs[14:15]) == "B"
    assert _u32(regs, 0) >= connected + 10  # connection time rises on
    assert _u32(regs, 2) <= charged + 1  # charging time stops
    runtime.call("sim.unplug", cp=cp)
    regs = view.read(1285, 15, runtime.step())
    assert status_text(regs[14]) == "A1"
    assert regs[:4] == [0, 0, 0, 0]


# --- the error bitmask ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "info", "bit"),
    [
        ("HighTemperature", "", r.BIT_TEMPERATURE_HIGH),
        ("ReaderFailure", "", r.BIT_RFID_READER),
        ("EVCommunicationError", "", r.BIT_VEHICLE),
        ("ConnectorLockFailure", "", r.BIT_LOCKING),
        ("OverCurrentFailure", "overcurrent", r.BIT_OVERCURRENT),
        ("PowerMeterFailure", "", r.BIT_METER),
        ("PowerSwitchFailure", "contactor_welded", r.BIT_CONTACTOR),
        ("OverVoltage", "", r.BIT_POWER_SUPPLY),
        ("UnderVoltage", "", r.BIT_POWER_SUPPLY),
        ("GroundFailure", "dc_residual_current", r.BIT_RESIDUAL_CURRENT),
        ("InternalError", "", r.BIT_VEHICLE),  # no bit of its own: "status F"
        ("OtherError", "", r.BIT_VEHICLE),
        ("Unknown", "", r.BIT_VEHICLE),
        ("NoError", "ventilation_rejected", r.BIT_STATUS_D),
        ("NoError", "hlc_required", r.BIT_VEHICLE),
        ("WeakSignal", "", 0),
        ("NoError", "", 0),
    ],
)
def test_the_error_bitmask_maps_our_faults_to_the_manual_bits(code, info, bit):
    cp = dataclasses.replace(CHARGING, error_code=code, error_info=info)
    assert r.error_bitmask(cp) == bit
    regs = make_view().read(X + 293, 2, snapshot(cp))
    assert _u32(regs, 0) == bit  # most significant word first


def test_the_bit_numbers_are_the_manuals():
    assert r.BIT_TEMPERATURE_HIGH == 1 << 0
    assert r.BIT_LOAD_MANAGEMENT_PAUSED == 1 << 4
    assert r.BIT_CP == 1 << 19
    assert r.BIT_OVERCURRENT == 1 << 24
    assert r.BIT_RESIDUAL_CURRENT == 1 << 30
    assert _u32(list(r.enc.u32(r.BIT_RESIDUAL_CURRENT)), 0) == 0x40000000


@pytest.mark.parametrize(("cable", "bit"), [(13, r.BIT_REJECTED_13A), (20, r.BIT_REJECTED_20A_13A)])
def test_a_rejected_plug_sets_the_bit_of_its_rating(cable, bit):
    cp = dataclasses.replace(
        CHARGING,
        iec_state="B",
        vehicle=dataclasses.replace(CAR, cable_a=cable),
        error_code="OtherError",
        error_info="plug_rejected",
    )
    assert r.error_bitmask(cp) == bit


def test_the_decision_sets_derating_load_management_and_overcurrent_bits():
    derating = Decision(
        offered_a=10.0,
        verdict=Verdict.OFFERED,
        released=True,
        cap_a=10.0,
        binding=Source.SAFETY,
        binding_key="derating",
    )
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=derating)) == r.BIT_DERATING
    stopped = dataclasses.replace(derating, offered_a=0.0, verdict=Verdict.BELOW_MINIMUM, cap_a=0.0)
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=stopped)) == r.BIT_DERATING | r.BIT_TEMPERATURE_HIGH
    paused = Decision(
        offered_a=0.0, verdict=Verdict.BELOW_MINIMUM, released=True, cap_a=3.0, binding=Source.LOAD_MANAGEMENT
    )
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=paused)) == r.BIT_LOAD_MANAGEMENT_PAUSED
    lapsed = dataclasses.replace(paused, binding=Source.FALLBACK, lapsed=Source.LOAD_MANAGEMENT)
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=lapsed)) == r.BIT_LOAD_MANAGEMENT_PAUSED
    overcurrent = Decision(
        offered_a=0.0,
        verdict=Verdict.BLOCKED,
        released=True,
        cap_a=16.0,
        binding=Source.CONFIG,
        blocked_by=Source.SAFETY,
        block_reason="overcurrent",
    )
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=overcurrent)) == r.BIT_OVERCURRENT
    evze = dataclasses.replace(OFFERED, binding=Source.SAFETY, binding_key="ev_ze_ready")
    assert r.error_bitmask(dataclasses.replace(CHARGING, decision=evze)) == r.BIT_OVERCURRENT


def test_state_e_sets_the_control_pilot_bit_and_an_enforced_unlock_failure_the_release_bit():
    assert r.error_bitmask(dataclasses.replace(IDLE, iec_state="E")) == r.BIT_CP
    failing = dataclasses.replace(CHARGING, error_code="ConnectorLockFailure", unlock_enforced=True)
    assert r.error_bitmask(failing) == r.BIT_LOCK_RELEASE


# --- undocumented ranges and spans ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "count"),
    [
        (0, 1),
        (99, 1),
        (99, 2),  # spans into the station block
        (167, 2),  # spans out of it
        (168, 1),
        (500, 10),
        (999, 1),
        (X, 1),
        (X + 99, 1),
        (X + 99, 2),
        (X + 123, 2),
        (X + 124, 1),
        (X + 200, 10),
        (X + 231, 1),
        (X + 231, 2),
        (X + 308, 2),
        (X + 309, 1),
        (X + 999, 2),  # across into the next block
        (3000 + 100, 1),  # no charge point starts at 3000
        (48000 + 232, 1),
        (65000, 1),
    ],
)
def test_a_read_touching_an_undocumented_range_is_an_illegal_address(address, count):
    with pytest.raises(IllegalAddress) as err:
        make_view().read(address, count, snapshot(CHARGING, other()))
    assert err.value.exception_code == 2


@pytest.mark.parametrize("count", [0, 126])
def test_a_read_of_no_or_too_many_registers_is_an_illegal_value(count):
    with pytest.raises(IllegalValue) as err:
        make_view().read(X + 232, count, snapshot(CHARGING))
    assert err.value.exception_code == 3


def test_every_documented_register_reads_alone_and_in_its_block():
    view = make_view()
    snap = snapshot(CHARGING, other())
    for first, end, base in ((100, 168, 0), (100, 124, X), (232, 309, X), (100, 124, 2000), (232, 309, 2000)):
        whole = view.read(base + first, end - first, snap)
        assert [view.read(base + a, 1, snap)[0] for a in range(first, end)] == whole
        assert all(0 <= w <= 0xFFFF for w in whole)


def test_a_status_read_without_live_state_is_a_device_failure_but_control_and_config_read():
    view = make_view()
    with pytest.raises(NoLiveState) as err:
        view.read(X + 299, 1, None)
    assert err.value.exception_code == 4
    with pytest.raises(NoLiveState):
        view.read(2000 + 232, 10, snapshot(CHARGING))  # charge point 8 is not in it
    assert view.read(X + 300, 9, None) == [0, 16, 0, 0, 1, 0, 8, 65535, 0]
    assert view.read(X + 100, 2, None) == [0, 16]


# --- the control block ----------------------------------------------------------------------------


def test_control_registers_read_live_or_configured_values_until_written():
    controls = {7: ControlState(), OTHER: ControlState()}
    view = make_view(controls=controls)
    snap = snapshot(CHARGING)
    assert view.read(X + 300, 9, snap) == [1, 16, 0x0312, 1, 1, 0, 8, 65535, 0]
    control = controls[7]
    control.release, control.current_limit_a, control.outputs = 0, 0, 0x2222
    control.locked, control.available, control.force_unlock = 0, 0, 1
    control.watchdog_fallback_a, control.watchdog_timer_s = 6, 30
    assert view.read(X + 300, 9, snap) == [0, 0, 0x2222, 0, 0, 1, 6, 30, 0]


def test_clearing_the_last_rfid_blanks_x275_until_another_tag_comes():
    controls = {7: ControlState(), OTHER: ControlState()}
    view = make_view(controls=controls)
    assert aio_ascii(view.read(X + 275, 10, snapshot(CHARGING)), 0, 10) == "04A1B2C3D4E5F6"
    unplugged = dataclasses.replace(IDLE, rfid="")
    assert aio_ascii(view.read(X + 275, 10, snapshot(unplugged)), 0, 10) == "04A1B2C3D4E5F6"  # the last
    controls[7].clear_rfid()
    assert view.read(X + 275, 10, snapshot(unplugged)) == [0x2020] * 10
    again = dataclasses.replace(CHARGING, rfid="DEADBEEF")
    assert aio_ascii(view.read(X + 275, 10, snapshot(again)), 0, 10) == "DEADBEEF"
    controls[7].clear_rfid()
    same = snapshot(again, at=1_700_001_861.0)
    assert evcc_string(view.read(X + 275, 10, same)) == ""  # the cleared tag does not come back


# --- caching --------------------------------------------------------------------------------------


def test_a_charge_points_status_block_is_encoded_once_per_live_state(monkeypatch):
    calls = []
    encode = r.status_words

    def counting(*args: Any) -> list[int]:
        calls.append(args[0].id)
        return encode(*args)

    monkeypatch.setattr(r, "status_words", counting)
    view = make_view()
    snap = snapshot(CHARGING, other())
    for _ in range(10):
        view.read(X + 232, 77, snap)
    assert calls == [7]
    view.read(X + 232, 77, snapshot(dataclasses.replace(CHARGING, plugin_s=1861), other()))
    assert calls == [7, 7]


# --- writes ---------------------------------------------------------------------------------------

ADDRESSES = {7: 1000, OTHER: 2000}


@pytest.mark.parametrize(
    ("address", "value", "intent"),
    [
        (X + 300, 1, SetRelease(7, True)),
        (X + 300, 0, SetRelease(7, False)),
        (X + 301, 6, SetCurrentLimit(7, 6, 6)),
        (X + 301, 80, SetCurrentLimit(7, 80, 80)),
        (X + 301, 0, SetCurrentLimit(7, 0, 0)),  # withdraws the release
        (X + 301, 5, SetCurrentLimit(7, 0, 5)),
        (X + 301, 81, SetCurrentLimit(7, 0, 81)),
        (X + 302, 0x4321, SetOutputs(7, 0x4321)),
        (X + 303, 1, SetLock(7, True)),
        (X + 304, 0, SetAvailability(7, False)),
        (X + 305, 1, ForceUnlock(7)),
        (X + 306, 6, SetWatchdogFallback(7, 6)),
        (X + 306, 0, SetWatchdogFallback(7, 0)),
        (X + 306, 80, SetWatchdogFallback(7, 80)),
        (X + 307, 30, SetWatchdogTimer(7, 30)),
        (X + 307, 65535, SetWatchdogTimer(7, None)),
        (X + 307, 0, SetWatchdogTimer(7, None)),
        (X + 308, 1, ClearRfid(7)),
        (X + 308, 7, ClearRfid(7)),
        (2000 + 300, 1, SetRelease(OTHER, True)),
        (164, 0, SetGroupAvailability(False)),
        (165, 1, RestartServer()),
        (166, 1, RestartGroup()),
        (167, 32, SetDynamicCurrent(32)),
        (167, 0, SetDynamicCurrent(0)),
        (167, 65535, SetDynamicCurrent(None)),
    ],
)
def test_each_writable_register_decodes_to_its_intent(address, value, intent):
    assert r.decode_write(address, [value], addresses=ADDRESSES) == [intent]


@pytest.mark.parametrize(("address", "value"), [(X + 305, 0), (X + 308, 0), (165, 0), (166, 0)])
def test_a_trigger_written_zero_does_nothing(address, value):
    assert r.decode_write(address, [value], addresses=ADDRESSES) == []


@pytest.mark.parametrize(
    ("address", "value"),
    [
        (X + 300, 2),
        (X + 302, 0x0005),  # mode 5 does not exist
        (X + 302, 0xF000),
        (X + 303, 2),
        (X + 304, 65535),
        (X + 305, 2),
        (X + 306, 5),
        (X + 306, 81),
        (164, 2),
        (165, 2),
        (166, 3),
        (X + 301, 65536),  # not a 16-bit value
        (X + 301, -1),
    ],
)
def test_a_value_out_of_range_is_an_illegal_value(address, value):
    with pytest.raises(IllegalValue) as err:
        r.decode_write(address, [value], addresses=ADDRESSES)
    assert err.value.exception_code == 3


@pytest.mark.parametrize(
    "address", [100, 114, 147, 163, 99, 168, 0, X + 100, X + 112, X + 120, X + 232, X + 299, X + 309, X + 50, 3300]
)
def test_a_read_only_or_unknown_register_is_an_illegal_address(address):
    with pytest.raises(IllegalAddress) as err:
        r.decode_write(address, [1], addresses=ADDRESSES)
    assert err.value.exception_code == 2


def test_a_block_write_decodes_every_register_or_none():
    intents = r.decode_write(X + 300, [1, 16, 0, 1, 1, 0, 6, 60, 0], addresses=ADDRESSES)
    assert intents == [
        SetRelease(7, True),
        SetCurrentLimit(7, 16, 16),
        SetOutputs(7, 0),
        SetLock(7, True),
        SetAvailability(7, True),
        SetWatchdogFallback(7, 6),
        SetWatchdogTimer(7, 60),
    ]
    assert r.decode_write(164, [1, 0, 0, 40], addresses=ADDRESSES) == [
        SetGroupAvailability(True),
        SetDynamicCurrent(40),
    ]
    with pytest.raises(IllegalValue):
        r.decode_write(X + 300, [1, 16, 0, 7], addresses=ADDRESSES)  # the lock value is bad: nothing applies
    with pytest.raises(IllegalAddress):
        r.decode_write(X + 306, [6, 60, 1, 0], addresses=ADDRESSES)  # runs past X308
    with pytest.raises(IllegalAddress):
        r.decode_write(163, [0, 1], addresses=ADDRESSES)  # starts on a read-only register
    with pytest.raises(IllegalValue):
        r.decode_write(X + 300, [], addresses=ADDRESSES)


# --- the builders (database) ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "code"),
    [("dashboard", 0), ("whitelist", 1), ("remote", 2), ("permanent", 3), ("ocpp", 4), ("modbus", 5)],
)
def test_the_release_modes_map_to_their_register_codes(mode, code):
    from tests.factories import make_configured_chargepoint

    extra: dict[str, Any] = {"ocpp_connector_id": 1} if mode == "ocpp" else {}
    if mode == "whitelist":
        extra["rfid_reader"] = "self"
    cp = make_configured_chargepoint(release_mode=mode, **extra)
    config = r.cp_register_configs([cp.pk])[cp.pk]
    assert config.release_mode_code == code
    assert config.release_mode == mode


@pytest.mark.django_db
def test_a_configured_charge_point_reads_its_configuration():
    from tests.factories import make_configured_chargepoint

    cp = make_configured_chargepoint(
        current_max_a=32,
        current_min_a=8,
        fallback_current_a=10,
        connection_type="connector",
        status_d_rejection="accept",
        derating_sensor="ptc",
        derating_start_temp_c=-10,
        derating_stop_temp_c=90,
        overcurrent_detection="shutdown",
        locking_mode="remote",
        phase_rotation="L3L1L2",
    )
    config = r.cp_register_configs()[cp.pk]
    assert config.charging_case == 1
    assert (config.max_current_a, config.min_current_a, config.fallback_current_a) == (32, 8, 10)
    assert (config.temp_lower_c, config.temp_upper_c, config.temperature_monitoring) == (-10, 90, 2)
    assert (config.accept_status_d, config.overcurrent_monitoring, config.meter_type_code) == (1, 1, 1)
    assert config.controller_uid == cp.device_uid[-6:].upper()
    assert config.server_uid  # the server station's head module
    assert config.bus_position == cp.position
    assert config.locking_remote is True
    assert config.phase_rotation == "L3L1L2"
    regs = list(config.words())
    assert _s16(regs[4]) == -10


@pytest.mark.django_db
def test_meter_types_map_to_x112_codes_every_one_with_a_meter():
    from chargepoints.choices import MeterType
    from tests.factories import make_configured_chargepoint

    expected = {
        "eem_350": 1,
        "eem_em357": 2,
        "cg_em24": 3,
        "eem_em357_ee": 4,
        "cg_em340": 6,
        "iskra_wm3m4": 11,
        "inepro_pro380": 12,
    }
    for meter in MeterType:
        cp = make_configured_chargepoint(meter_type=meter.value)
        code = r.cp_register_config(cp).meter_type_code
        if meter.value == "":
            assert code == 0
        else:
            assert code not in (0, 65535), meter  # evcc shows the meter
            assert code == expected.get(meter.value, code)


@pytest.mark.django_db
def test_an_unconfigured_charge_point_reads_the_defaults():
    from tests.factories import make_chargepoint

    cp = make_chargepoint()
    config = r.cp_register_config(cp)
    assert (config.release_mode_code, config.meter_type_code, config.max_current_a) == (0, 0, 16)
    assert config.controller_uid == cp.device_uid[-6:].upper()


@pytest.mark.django_db
def test_the_station_info_is_the_server_stations_head_module():
    from tests.factories import make_chargepoint, make_station

    server = make_station(head_ip="10.20.30.40", head_mac="A8:74:1D:AA:BB:CC")
    make_chargepoint(server, device_name="CHARX SEC-3150")
    make_chargepoint(make_station())
    info = r.station_info()
    assert info.designation == "CHARX SEC-3150"
    assert info.software_version == "0.1.0"
    assert info.controller_count == 2
    assert (info.ip_eth0, info.mac_eth0) == ("10.20.30.40", "A8:74:1D:AA:BB:CC")
    assert (info.modem_registration, info.modem_signal) == (4, 0)
    regs = list(info.words())
    assert aio_ip(regs, 21) == "10.20.30.40"
    assert aio_mac(regs, 15) == "A8:74:1D:AA:BB:CC"


# --- encoding edge cases --------------------------------------------------------------------------


def test_values_saturate_instead_of_wrapping_and_text_is_cut_and_padded():
    assert r.enc.u32(-5) == (0, 0)
    assert r.enc.u32(1 << 40) == (0xFFFF, 0xFFFF)
    assert _s32(list(r.enc.s32(-1)), 0) == -1
    assert _s64(list(r.enc.s64(-2)), 0) == -2
    assert r.enc.ascii_words("ABCDEFGH", 3) == (0x4142, 0x4344, 0x4546)
    assert r.enc.ascii_words("Ä", 1) == (0x3F20,)
    assert r.enc.mac_words("nonsense") == (0, 0, 0)
    assert r.enc.ipv4_words("::1") == (0, 0, 0, 0)


# --- cost -----------------------------------------------------------------------------------------


def test_the_cost_of_a_read(capsys):
    """Not asserted: prints what one read costs (10 clients polling every second)."""
    view = make_view()
    states = [dataclasses.replace(CHARGING, plugin_s=1860 + i) for i in range(200)]
    n = 2000
    start = time.perf_counter()
    for i in range(n):  # a new live state every 10 reads: 10 clients per snapshot
        view.read(X + 232, 77, snapshot(states[i // 10]))
    mixed = (time.perf_counter() - start) / n
    snap = snapshot(CHARGING)
    start = time.perf_counter()
    for _ in range(n):
        view.read(X + 232, 77, snap)
    cached = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(n // 10):
        view.read(X + 232, 77, snapshot(states[i]))
    fresh = (time.perf_counter() - start) / (n // 10)
    with capsys.disabled():
        print(
            f"\nX232×77 read: {cached * 1e6:.1f} µs cached, {fresh * 1e6:.1f} µs on a new state, "
            f"{mixed * 1e6:.1f} µs with 10 reads per snapshot"
        )
