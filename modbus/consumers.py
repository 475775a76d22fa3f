"""The Modbus page live: the server's state (clients, requests a second, last error) and the
register map viewer of one charge point, as OOB swaps of the partials the page rendered."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import translation

from modbus import viewer
from modbus.views import TEMPLATE, server_context
from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, SYSTEM_GROUP, changed_states, read_snapshot


class ModbusConsumer(LiveConsumer):
    """ws/modbus/ (the server's state) and ws/modbus/<pk>/ (also the registers of charge point
    ``pk``). The start address and configuration the viewer reads with are read once, at
    connect; a save on the page reloads the page's panels, and the socket with them."""

    required = Perm.MODBUS_VIEW
    groups_to_join = (PARK_GROUP, SYSTEM_GROUP)  # agent states travel with system updates

    async def connect(self) -> None:
        pk = self.scope["url_route"]["kwargs"].get("pk")
        self.source: viewer.ViewerSource | None = None
        if pk is not None:
            self.source = await database_sync_to_async(viewer.viewer_source)(int(pk), read_snapshot())
        self._shown: dict[str, str] = {}
        await super().connect()

    def _changed(self, name: str, html: str) -> str:
        """``html`` if it differs from what the page shows, else nothing."""
        if self._shown.get(name) == html:
            return ""
        self._shown[name] = html
        return html

    def _server(self) -> str:
        return self._changed("server", self.render(f"{TEMPLATE}#server", server_context(read_snapshot())))

    def _registers(self) -> str:
        if self.source is None:
            return ""
        with translation.override(self.language):  # the decoded values are formatted for the page
            table = viewer.register_table(self.source, read_snapshot())
        return self._changed("registers", self.render(f"{TEMPLATE}#registers", {"table": table}))

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        self._shown.clear()
        await self.send(text_data=self._server() + self._registers() + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        html = ""
        if self.source is not None and any(cp.id == self.source.chargepoint for cp in changed_states(event)):
            html = self._registers()
        await self.send(text_data=html + self.heartbeat(event["generated_at"]))

    async def system_update(self, event: dict[str, Any]) -> None:
        html = self._server()
        if html:
            await self.send(text_data=html)
