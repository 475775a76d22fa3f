"""The Session Recorder: the power of every running session over time, for its chart."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ledger import services
from wbm.runtime.agent import Agent, DatabaseError

log = logging.getLogger(__name__)


class SessionRecorder(Agent):
    """Every ``WBM_SESSION_SAMPLE_S`` seconds, one sample (power, energy of the session) per
    charge point with a vehicle plugged in and a meter, written in one insert to its open
    session. Reads only the snapshot; database work runs in a worker thread (``ctx.db``), so
    it never holds up the runtime; a failing database costs the samples of that moment only."""

    name = "session-recorder"
    title = _("Session Recorder")
    description = _("Records the power of running charging sessions for their chart.")
    order = 120

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.counts: dict[int, int] = {}  # samples per open session, as last written
        self.failing = False

    async def run(self) -> None:
        period = max(1.0, float(settings.WBM_SESSION_SAMPLE_S))
        while True:
            await asyncio.sleep(period)
            await self.record()

    async def record(self) -> int:
        """Take one sample of every running session now; returns how many were written."""
        snapshot = self.ctx.snapshot()
        if snapshot is None:
            return 0
        readings = {
            cp.id: (float(cp.power_w or 0.0), float(cp.session_energy_wh or 0.0))
            for cp in snapshot.chargepoints
            if cp.plugged_since is not None and cp.meter is not None and cp.session_energy_wh is not None
        }
        if not readings:
            self.counts.clear()
            return 0
        try:
            counts = await self.ctx.db(
                services.session_samples_record, at=snapshot.generated_at, readings=readings, counts=self.counts
            )
        except DatabaseError:
            if not self.failing:  # ctx.db logged the cause; say once what it costs
                log.warning("%s: cannot write samples, the charts miss them until the database is back", self.name)
            self.failing = True
            return 0
        if self.failing:
            log.info("%s: writing samples again", self.name)
            self.failing = False
        self.counts = counts  # sessions that ended drop out
        return len(counts)
