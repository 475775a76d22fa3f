"""REBOOT SYSTEM and charging sessions: a vehicle that stays plugged through the reboot has its
session ended with Reboot (once) and gets a new one; a later clean restart resumes that one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chargepoints.demo import load_demo_park
from chargepoints.models import ChargingSession
from tests.conftest import RuntimeThread, cp_id
from wbm.runtime import local
from wbm.system import reboot


@pytest.fixture
def park(transactional_db, settings, tmp_path: Path) -> Iterator[Path]:
    """The demo park; the runtime's marks (running, reboot) in this test's state directory."""
    settings.STATE_DIR = str(tmp_path)
    settings.WBM_SYSTEM_RESTART = True
    load_demo_park()
    yield tmp_path / "hardware.json"
    local.set_current(None)


def _sessions(pk: int) -> list[ChargingSession]:
    return list(ChargingSession.objects.filter(chargepoint_id=pk).order_by("started_at", "pk"))


def _charge(rt: RuntimeThread, pk: int, seconds: int) -> None:
    result: dict[str, Any] = rt.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    assert result["ok"], result
    for _ in range(seconds // 30):
        rt.clock.advance(30)
        rt.step()
    rt.drain()


def _reboot_system(rt: RuntimeThread) -> None:
    """REBOOT SYSTEM: the mark, then the clean stop (the process then starts again)."""
    reboot.install(lambda: None)
    try:
        assert reboot.request("test")
    finally:
        reboot.install(None)
    rt.close()


def test_after_reboot_system_a_plugged_vehicles_session_ends_with_reboot_once(park: Path) -> None:
    pk = cp_id("P1-02")
    first = RuntimeThread(state_file=park)
    _charge(first, pk, 300)
    [before] = _sessions(pk)
    _reboot_system(first)

    second = RuntimeThread(state_file=park, clock=first.clock)
    try:
        state = second.step().chargepoint(pk)
        second.drain()
        assert state.vehicle is not None  # still plugged
    finally:
        second.close()  # a clean stop, no reboot this time
    ended, new = _sessions(pk)
    assert ended.pk == before.pk and ended.stop_reason == "Reboot" and ended.ended_at is not None
    assert new.ended_at is None and new.started_at >= ended.ended_at
    assert new.meter_start_wh >= (ended.meter_stop_wh or 0) > before.meter_start_wh

    third = RuntimeThread(state_file=park, clock=first.clock)  # the mark was read once
    try:
        third.step()
        third.drain()
    finally:
        third.close()
    assert [(s.pk, s.stop_reason) for s in _sessions(pk)] == [(ended.pk, "Reboot"), (new.pk, "")]
