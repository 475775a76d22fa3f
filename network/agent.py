"""The network's live part: the safety countdown and the modem service.

``NetworkAgent`` puts back network settings that were not confirmed before their deadline
(``PendingChange`` rows: stored with the deadline, so a restart of the process does not lose
one). ``ModemAgent`` is the modem service: starting it starts the modem (and enters the stored
SIM PIN once, never a PIN the SIM refused), and it publishes the modem's status; "Restart modem
service" restarts this agent alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from network import osbackend, services
from network.commands import NetworkReload
from network.models import ModemSettings
from wbm.runtime.agent import Agent, DatabaseError

log = logging.getLogger(__name__)
_booted = False  # routes removed "until restart" come back once per start of the controller


class NetworkAgent(Agent):
    """Restores unconfirmed network changes at their deadline."""

    name = "network"
    title = _("Network")
    description = _("Restores network settings that were not confirmed within the countdown.")
    order = 30
    commands = (NetworkReload,)

    async def run(self) -> None:
        global _booted
        wake = asyncio.Event()

        async def reload(_command: NetworkReload) -> dict[str, Any] | None:
            wake.set()
            return None

        self.ctx.handle(NetworkReload, reload)
        if not _booted:
            _booted = True
            with contextlib.suppress(DatabaseError):
                await self.ctx.db(services.routes_after_restart)
        period = max(0.2, min(1.0, float(getattr(settings, "WBM_NETWORK_CONFIRM_S", 90)) / 5))
        while True:
            try:
                restored = await self.ctx.db(services.pending_expire)
            except DatabaseError:
                restored = []
            if restored:
                log.warning("network: not confirmed in time, restored the previous %s settings", ", ".join(restored))
            wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(period):
                    await wake.wait()


def _modem_config() -> tuple[bool, str]:
    modem = ModemSettings.load()
    return modem.service_active, modem.sim_pin


class ModemAgent(Agent):
    """The modem service: (re)starts the modem and publishes its status every 2 s."""

    name = "modem"
    title = _("Modem")
    description = _("Starts the cellular modem, enters the stored SIM PIN once and reports the modem's status.")
    order = 140

    async def run(self) -> None:
        system = osbackend.backend()
        await asyncio.to_thread(system.modem_restart)
        with contextlib.suppress(DatabaseError):
            active, pin = await self.ctx.db(_modem_config)
            if active and pin:  # automatic: a PIN the SIM refused before is not sent again
                await asyncio.to_thread(system.modem_unlock, pin, "", automatic=True)
        while True:
            self.ctx.set_status(await asyncio.to_thread(system.modem_status))
            await asyncio.sleep(2.0)
