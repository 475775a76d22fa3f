"""What the controller and the Session Recorder write: sessions with their EVCC ID, samples of the
power over time (through a running runtime), bounded, never negative, never ended twice."""

from __future__ import annotations

import logging

import pytest

from chargepoints import services
from chargepoints.models import ChargingSession
from ledger import services as ledger_services
from ledger.agent import SessionRecorder
from ledger.models import MAX_SAMPLES_PER_SESSION, SessionSample
from tests.conftest import RuntimeThread, cp_id
from tests.ledger.history import record_session, utc
from wbm.runtime.agent import DatabaseError


def _recorder(rt: RuntimeThread) -> SessionRecorder:
    agent = rt.runtime.agent("session-recorder")
    assert isinstance(agent, SessionRecorder), "the ledger registers its agent"
    return agent


def _charge(rt: RuntimeThread, name: str, **vehicle: object) -> int:
    pk = cp_id(name)
    assert rt.call("sim.plug_in", cp=pk, phases=3, max_current_a=16, **vehicle)["ok"]
    rt.call("cp.release", cp=pk, allow=True)
    rt.step()
    rt.drain()
    return pk


def test_the_recorder_writes_one_sample_per_running_session_from_the_snapshot(runtime):
    pk = _charge(runtime, "P1-01")
    recorder = _recorder(runtime)
    for _ in range(3):
        runtime.clock.advance(60)
        runtime.step()
        assert runtime.run(recorder.record()) == 1
    session = ChargingSession.objects.get(chargepoint_id=pk)
    samples = list(SessionSample.objects.filter(session=session).order_by("at"))
    assert len(samples) == 3
    assert all(s.power_w > 1000 for s in samples), "a 3-phase 16 A vehicle draws about 11 kW"
    assert samples[0].energy_wh < samples[1].energy_wh < samples[2].energy_wh
    assert (samples[1].at - samples[0].at).total_seconds() == pytest.approx(60, abs=1)


def test_no_vehicle_no_sample_and_no_database_work(runtime):
    runtime.step()
    assert runtime.run(_recorder(runtime).record()) == 0
    assert not SessionSample.objects.exists()


def test_a_failing_database_costs_the_samples_of_that_moment_only(runtime, monkeypatch, caplog):
    _charge(runtime, "P1-01")
    recorder = _recorder(runtime)

    async def broken(*args, **kwargs):
        raise DatabaseError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(recorder.ctx, "db", broken)
        with caplog.at_level(logging.WARNING, logger="ledger.agent"):
            assert runtime.run(recorder.record()) == 0
            assert runtime.run(recorder.record()) == 0
    assert len([r for r in caplog.records if r.name == "ledger.agent"]) == 1, "said once"
    runtime.clock.advance(60)
    runtime.step()
    assert runtime.run(recorder.record()) == 1
    assert SessionSample.objects.count() == 1


def test_the_evcc_id_of_an_iso15118_vehicle_is_recorded(runtime):
    pk = _charge(runtime, "P1-01", hlc=True, evcc_id="00:a0:c9:14:2a:3f")  # HLC "Optional" in the demo park
    assert ChargingSession.objects.get(chargepoint_id=pk).evcc_id == "00A0C9142A3F"


def test_a_vehicle_without_iso15118_leaves_the_evcc_id_empty(runtime):
    pk = _charge(runtime, "P1-02")
    assert ChargingSession.objects.get(chargepoint_id=pk).evcc_id == ""


@pytest.mark.django_db
def test_samples_per_session_stay_bounded_and_keep_the_whole_plug_in(park):
    from chargepoints.models import ChargePoint

    cp = ChargePoint.objects.filter(config__isnull=False).first()
    session = record_session(cp, started_at=utc(2026, 3, 1, 8, 0), minutes=None)
    counts: dict[int, int] = {}
    start = session.started_at.timestamp()
    for minute in range(MAX_SAMPLES_PER_SESSION + 10):
        counts = ledger_services.session_samples_record(
            at=start + 60 * minute, readings={cp.pk: (7000.0, 100.0 * minute)}, counts=counts
        )
    stored = SessionSample.objects.filter(session=session)
    assert stored.count() == counts[session.pk] <= MAX_SAMPLES_PER_SESSION
    assert stored.count() >= MAX_SAMPLES_PER_SESSION // 2
    ats = [s.timestamp() for s in stored.order_by("at").values_list("at", flat=True)]
    assert ats[0] == start and ats[-1] == start + 60 * (MAX_SAMPLES_PER_SESSION + 9)


@pytest.mark.django_db
def test_a_session_never_ends_twice_and_never_has_negative_energy(park):
    from chargepoints.models import ChargePoint

    cp = ChargePoint.objects.filter(config__isnull=False).first()
    pk = services.charging_session_open(chargepoint_id=cp.pk, started_at=1_767_000_000, meter_start_wh=5000)
    services.charging_session_close(
        session_id=pk, ended_at=1_767_003_600, meter_stop_wh=4000, id_tag="", reason="Local"
    )
    services.charging_session_close(
        session_id=pk, ended_at=1_767_009_999, meter_stop_wh=9000, id_tag="X", reason="PowerLoss"
    )
    session = ChargingSession.objects.get(pk=pk)
    assert session.energy_wh == 0 and session.stop_reason == "Local" and session.ended_at.timestamp() == 1_767_003_600


@pytest.mark.django_db
def test_open_records_the_evcc_id_upper_case(park):
    from chargepoints.models import ChargePoint

    cp = ChargePoint.objects.filter(config__isnull=False).first()
    pk = services.charging_session_open(
        chargepoint_id=cp.pk, started_at=1_767_000_000, meter_start_wh=0, evcc_id="0a1b2c3d4e5f"
    )
    assert ChargingSession.objects.get(pk=pk).evcc_id == "0A1B2C3D4E5F"
