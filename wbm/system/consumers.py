from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, SYSTEM_GROUP, read_snapshot
from wbm.system.selectors import status_context


class SystemConsumer(LiveConsumer):
    """System Control / Status: agents and system data, live."""

    required = Perm.SYSTEM_VIEW
    groups_to_join = (SYSTEM_GROUP, PARK_GROUP)

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        context = await database_sync_to_async(status_context)(snapshot)  # apps' summaries may read the DB
        await self.send(
            text_data=self.render("system/status.html#agents", context)
            + self.render("system/status.html#system", context)
            + self.heartbeat(snapshot.generated_at)
        )

    async def system_update(self, event: dict[str, Any]) -> None:
        await self.send_full()

    async def park_update(self, event: dict[str, Any]) -> None:
        await self.send(text_data=self.heartbeat(event["generated_at"]))
