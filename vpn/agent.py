"""The OpenVPN agent: keeps the tunnel as the activation mode says.

- Permanently Activated: connected whenever a valid configuration is stored (at start, after a save);
- Permanently Deactivated: never connected;
- On Request: connected while the last ``VpnRequest`` (the MQTT bridge hands it over from the
  remote broker's ``<prefix>/<device type>/<device id>/command`` topic) said so.

The tunnel itself is the OS backend's (``vpn.osbackend``). The agent publishes its status
(connected, server IP, private IP, connected since, last error) for the page, the API and the
MQTT topic ``VPN_Connection_State``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.utils.translation import gettext_lazy as _

from vpn import config, osbackend
from vpn.choices import Activation
from vpn.commands import VpnReload, VpnRequest
from vpn.selectors import AGENT
from wbm.runtime.agent import Agent

log = logging.getLogger(__name__)


def _load() -> tuple[str, str | None]:
    """The activation mode and the stored configuration (runs in a database worker)."""
    from vpn.selectors import vpn_settings_get

    return vpn_settings_get().activation, osbackend.backend().read_config()


class OpenVpnAgent(Agent):
    """See the module docstring."""

    name = AGENT
    title = _("OpenVPN")
    description = _("Connects the controller to an OpenVPN server as the activation mode says.")
    order = 80
    commands = (VpnReload, VpnRequest)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.mode = Activation.DEACTIVATED.value
        self.text: str | None = None
        self.requested = False
        self.link: osbackend.VpnLink | None = None
        self.last_error = ""
        self._backend = osbackend.backend()

    async def run(self) -> None:
        self.ctx.handle(VpnReload, self._reload)
        self.ctx.handle(VpnRequest, self._request)
        await self._reload(VpnReload())
        await asyncio.Event().wait()  # everything else happens in the command handlers

    async def _reload(self, _command: VpnReload) -> dict[str, Any]:
        self.mode, self.text = await self.ctx.db(_load)
        self.link = None  # a new configuration: a new connection
        return self._apply()

    async def _request(self, command: VpnRequest) -> dict[str, Any]:
        self.requested = command.connect
        log.info("OpenVPN: %s requested", "connection" if command.connect else "disconnection")
        return self._apply()

    def _wanted(self) -> bool:
        if self.mode == Activation.ACTIVATED:
            return True
        return self.mode == Activation.ON_REQUEST and self.requested

    def _apply(self) -> dict[str, Any]:
        if not self._wanted() or self.text is None:
            self.link = None
            self.last_error = ""
        elif self.link is None:
            try:
                self.link = self._backend.connect(self.text)
                self.last_error = ""
            except osbackend.VpnFailed as exc:
                self.last_error = exc.log[-2] if len(exc.log) > 1 else str(exc)
        status = self.status()
        self.ctx.set_status(status)
        self.ctx.publish()
        return status

    def status(self) -> dict[str, Any]:
        server_ip = config.check(self.text).server_ip if self.text else ""
        return {
            "connected": self.link is not None,
            "configured": self.text is not None,
            "mode": self.mode,
            "requested": self.requested,
            "server_ip": server_ip,
            "private_ip": self.link.private_ip if self.link else "",
            "connected_since": self.link.connected_since if self.link else None,
            "last_error": self.last_error,
        }
