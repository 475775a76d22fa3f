"""Snapshots cross loops and processes as dicts: the conversion must be exact and reversible."""

from __future__ import annotations

import dataclasses

from tests.conftest import cp_id


def test_a_charge_point_state_converts_to_the_dict_asdict_gives_and_back(runtime):
    assert runtime.call(
        "sim.plug_in",
        cp=cp_id("P1-01"),
        phases=3,
        max_current_a=32,
        ventilation=False,
        hlc=True,
        evcc_id="00:1A:2B:3C:4D:5E",
    )["ok"]
    assert runtime.call("sim.plug_in", cp=cp_id("P1-02"), phases=1, max_current_a=16)["ok"]
    assert runtime.call("sim.fault", cp=cp_id("P1-03"), code="ReaderFailure", info="no answer")["ok"]
    snapshot = runtime.step()
    rich = snapshot.chargepoint(cp_id("P1-01"))
    assert rich.meter is not None and rich.vehicle is not None and rich.iso15118 is not None
    for cp in snapshot.chargepoints:
        data = cp.as_dict()
        assert data == dataclasses.asdict(cp)
        assert type(data["currents_a"]) is tuple
        assert type(cp).from_dict(data) == cp
