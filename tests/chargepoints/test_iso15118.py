"""ISO 15118 status data: what the simulator produces for a configured HLC charge point."""

from __future__ import annotations

from chargepoints.models import ChargePointConfig
from tests.conftest import cp_id


def _state(runtime, name: str):
    return runtime.step().chargepoint(cp_id(name))


def test_hlc_section_is_absent_when_iso15118_is_not_configured(runtime):
    assert _state(runtime, "P1-02").iso15118 is None


def test_hlc_vehicle_gets_a_session_with_its_evcc_id_and_three_phase_mode(runtime):
    target = cp_id("P1-01")  # HLC "Optional" in the demo park
    idle = _state(runtime, "P1-01").iso15118
    assert idle is not None and idle.session_id == "" and idle.tcp_status == "DISCONNECTED"
    assert runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=16, hlc=True, evcc_id="00:a0:c9:14:2a:3f")[
        "ok"
    ]
    runtime.call("cp.release", cp=target, allow=True)
    iso = _state(runtime, "P1-01").iso15118
    assert iso.evcc_id == "00A0C9142A3F"
    assert len(iso.session_id) == 16 and int(iso.session_id, 16) >= 0
    assert iso.energy_transfer_mode == "AC_three_phase_core"
    assert (iso.tcp_status, iso.qca_link_status, iso.progress, iso.error) == ("CONNECTED", "UP", "Start", "")
    assert iso.start_charging_utc.endswith("Z") and iso.departure_utc > iso.start_charging_utc


def test_single_phase_vehicle_requests_single_phase_core_and_stops_on_pause(runtime):
    target = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=target, phases=1, max_current_a=16, hlc=True)
    runtime.call("cp.release", cp=target, allow=True)
    iso = _state(runtime, "P1-01").iso15118
    assert iso.energy_transfer_mode == "AC_single_phase_core" and len(iso.evcc_id) == 12
    runtime.call("sim.vehicle", cp=target, action="pause")
    assert _state(runtime, "P1-01").iso15118.progress == "Stop"


def test_injected_error_aborts_high_level_communication(runtime):
    target = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=16, hlc=True)
    assert runtime.call("sim.iso_error", cp=target, error="SEQUENCE_TIMEOUT")["ok"]
    iso = _state(runtime, "P1-01").iso15118
    assert iso.error == "SEQUENCE_TIMEOUT"
    assert iso.tcp_status == "DISCONNECTED" and iso.qca_link_status == "UP"
    assert runtime.call("sim.iso_error", cp=target, error="SLAC_FAILED")["ok"]
    iso = _state(runtime, "P1-01").iso15118
    assert iso.qca_link_status == "DOWN" and iso.session_id == ""
    assert runtime.call("sim.iso_error", cp=target, error="")["ok"]
    assert _state(runtime, "P1-01").iso15118.tcp_status == "CONNECTED"


def test_iso_error_is_refused_without_hlc_or_vehicle(runtime):
    assert runtime.call("sim.iso_error", cp=cp_id("P1-02"), error="SLAC_FAILED")["error"] == "hlc_disabled"
    assert runtime.call("sim.iso_error", cp=cp_id("P1-01"), error="SLAC_FAILED")["error"] == "no_vehicle"
    runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16)
    assert runtime.call("sim.iso_error", cp=cp_id("P1-01"), error="SLAC_FAILED")["error"] == "no_hlc_vehicle"
    assert runtime.call("sim.iso_error", cp=cp_id("P1-01"), error="BOGUS")["error"] == "bad_choice"


def test_required_hlc_refuses_a_vehicle_without_iso15118(runtime):
    target = cp_id("Visitor-01")  # permanent release
    ChargePointConfig.objects.filter(chargepoint_id=target).update(hlc_mode="required")
    runtime.call("config.reload")
    runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=16, hlc=False)
    state = _state(runtime, "Visitor-01")
    assert state.iec_state == "B" and state.pwm_limit_a == 0 and state.error_info == "hlc_required"
    runtime.call("sim.unplug", cp=target)
    runtime.call("sim.plug_in", cp=target, phases=3, max_current_a=16, hlc=True)
    assert _state(runtime, "Visitor-01").iec_state == "C"
    runtime.call("sim.iso_error", cp=target, error="CHARGING_PROFILE_INVALID")
    assert _state(runtime, "Visitor-01").iec_state == "B"
