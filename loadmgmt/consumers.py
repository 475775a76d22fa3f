"""The Load Management page live: the status, the chart's series and the allocation per
charging point, as OOB swaps of the partials the page rendered."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from loadmgmt.status import status_context
from loadmgmt.views import TEMPLATE, chart_data
from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, SYSTEM_GROUP, read_snapshot


class LoadManagementConsumer(LiveConsumer):
    """ws/loadmgmt/: re-renders what changed of the agent's state (published with system
    updates) and of the agent's running state."""

    required = Perm.LOADMGMT_VIEW
    groups_to_join = (PARK_GROUP, SYSTEM_GROUP)

    async def connect(self) -> None:
        self._shown: dict[str, str] = {}
        await super().connect()

    def _changed(self, name: str, html: str) -> str:
        if self._shown.get(name) == html:
            return ""
        self._shown[name] = html
        return html

    def _parts(self) -> str:
        # the context holds texts already (reasons in words): build it in the page's language
        with translation.override(self.language):
            context = status_context(read_snapshot())
            context["chart"] = chart_data(context["history"])
        return "".join(
            self._changed(name, self.render(f"{TEMPLATE}#{name}", context))
            for name in ("status", "chartdata", "points")
        )

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        self._shown.clear()
        await self.send(text_data=self._parts() + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=self._parts() + self.heartbeat(event["generated_at"]))

    async def system_update(self, event: dict[str, Any]) -> None:
        html = self._parts()
        if html:
            await self.send(text_data=html)
