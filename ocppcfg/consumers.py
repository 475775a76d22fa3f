"""The OCPP pages live: the connection, the charge points and the offline queue of the status
page, and the configuration keys' change counter of the server variables page, as OOB swaps of
the partials the pages rendered. New message rows and a changed table are fetched by the page
(``ocppcfg/static/ocppcfg/ocpp.js``) when the counters grow: this consumer reads no database
after connecting."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from ocppcfg.views import STATUS_TEMPLATE, VARIABLES_TEMPLATE, ocpp_points, status_context, values_seq
from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, SYSTEM_GROUP, read_snapshot


class _ChangedParts(LiveConsumer):
    groups_to_join = (PARK_GROUP, SYSTEM_GROUP)  # agent states travel with system updates

    async def connect(self) -> None:
        self._shown: dict[str, str] = {}
        await super().connect()

    def _changed(self, name: str, html: str) -> str:
        """``html`` if it differs from what the page shows, else nothing."""
        if self._shown.get(name) == html:
            return ""
        self._shown[name] = html
        return html

    def parts(self) -> str:
        raise NotImplementedError

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        self._shown.clear()
        await self.send(text_data=self.parts() + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=self.parts() + self.heartbeat(event["generated_at"]))

    async def system_update(self, event: dict[str, Any]) -> None:
        html = self.parts()
        if html:
            await self.send(text_data=html)


class OcppStatusConsumer(_ChangedParts):
    """ws/ocpp/: the connection (with the message and timeline counters), the charge points
    controlled via the backend (read once, at connect) and the offline queue."""

    required = Perm.OCPP_VIEW

    async def connect(self) -> None:
        self.points, self.missing = await database_sync_to_async(ocpp_points)()
        await super().connect()

    def parts(self) -> str:
        context = status_context(read_snapshot(), self.points, self.missing)
        return "".join(
            self._changed(name, self.render(f"{STATUS_TEMPLATE}#{name}", context))
            for name in ("connection", "chargepoints", "queue")
        )


class OcppVariablesConsumer(_ChangedParts):
    """ws/ocpp/variables/: the counter of configuration changes (``values_seq``)."""

    required = Perm.OCPP_SETTINGS_EDIT

    def parts(self) -> str:
        return self._changed(
            "seq", self.render(f"{VARIABLES_TEMPLATE}#seq", {"values_seq": values_seq(read_snapshot())})
        )
