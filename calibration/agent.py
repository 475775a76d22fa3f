"""The Calibration Law Agent: only runs while calibration law is on (``wanted``); checks the
calibration-law rules every minute and publishes the findings' counts (System Control / Status)."""

from __future__ import annotations

import asyncio
import logging

from django.utils.translation import gettext_lazy as _

from calibration import rules
from calibration.services import calibration_law_active
from wbm.runtime.agent import Agent, DatabaseError

log = logging.getLogger(__name__)


def _check() -> dict[str, int]:
    return rules.summary(rules.findings())


class CalibrationLawAgent(Agent):
    """Ensures that the charging station is operated in compliance with calibration laws."""

    name = "calibration-law"
    title = _("Calibration Law Agent")
    description = _("Ensures that the charging station is operated in compliance with calibration laws.")
    order = 160
    PERIOD_S = 60.0

    @classmethod
    def wanted(cls) -> bool:
        """Registered only while calibration law is on (read at the start of the process)."""
        return calibration_law_active()

    async def run(self) -> None:
        reported = -1
        while True:
            try:
                counts = await self.ctx.db(_check)
            except DatabaseError:
                counts = {"errors": -1, "warnings": -1, "ok": 0}
            self.ctx.set_status(counts)
            if counts["errors"] != reported and counts["errors"] > 0:
                log.warning("calibration law: %d settings are not compliant", counts["errors"])
            reported = counts["errors"]
            self.ctx.publish()
            await asyncio.sleep(self.PERIOD_S)
