"""The update agent: at each start of the runtime it takes an installed update on trial (or
rolls back a trial that never confirmed), and confirms the running version healthy once every
other service has been running for ``WBM_UPDATE_HEALTHY_AFTER_S`` seconds without failing."""

from __future__ import annotations

import asyncio
import logging
import threading

from django.utils.translation import gettext_lazy as _

from wbm.runtime.agent import Agent
from wbm.system import update_services
from wbm.system.update import store

log = logging.getLogger(__name__)
_booted = threading.Event()  # once per process: an agent restart is not a start of the software


class UpdateAgent(Agent):
    """Software update: trial start, health confirmation and rollback of a new version."""

    name = "software-update"
    title = _("Software Update")
    description = _(
        "Starts a newly installed version on trial, confirms it when the system is healthy, rolls it back otherwise."
    )
    order = 5

    async def run(self) -> None:
        if not _booted.is_set():
            _booted.set()
            await asyncio.to_thread(update_services.boot_and_confirm)
        healthy_since: float | None = None
        while True:
            state = await asyncio.to_thread(store().state)
            if not state.get("trial"):
                await asyncio.sleep(30)
                continue
            snapshot = self.ctx.snapshot()
            agents = snapshot.agents if snapshot is not None else ()
            ok = bool(agents) and all(a.state == "running" for a in agents if a.name != self.name)
            now = self.ctx.clock.monotonic()
            if not ok:
                healthy_since = None
            elif healthy_since is None:
                healthy_since = now
            elif now - healthy_since >= update_services.healthy_after_s():
                if await asyncio.to_thread(store().confirm):
                    log.info("software update: version %s confirmed healthy", store().installed_version())
                continue
            await asyncio.sleep(1)
