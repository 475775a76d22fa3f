"""Live Charging Stations pages: the status page of one charge point and the CHARX RFID/NFC board
page follow the runtime over their WebSocket, as OOB swaps of the partials the page rendered."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chargepoints import selectors
from chargepoints.models import ChargePoint
from chargepoints.status import DeviceInfo, device_info, status_context
from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ChargePointState

STATUS_TEMPLATE = "chargepoints/status.html"


def _device(pk: int) -> DeviceInfo | None:
    try:
        return device_info(selectors.chargepoint_get(pk=pk))
    except ChargePoint.DoesNotExist:
        return None


class ChargePointConsumer(LiveConsumer):
    """ws/chargepoints/<pk>/: the status groups and the operation buttons of one charge point."""

    required = Perm.PARK_VIEW

    async def connect(self) -> None:
        pk = int(self.scope["url_route"]["kwargs"]["pk"])
        # the hardware facts are read once; live values come from the runtime
        device = await database_sync_to_async(_device)(pk)
        if device is None:
            await self.close(code=4404)
            return
        self.device = device
        await super().connect()

    def _render_state(self, live: ChargePointState | None) -> str:
        context = status_context(self.device, live)
        html = self.render(f"{STATUS_TEMPLATE}#groups", context)
        # the buttons only when they change: replacing a form under a click would lose its answer
        operations = self.render(f"{STATUS_TEMPLATE}#operations", context)
        if operations != getattr(self, "_operations", None):
            self._operations = operations
            html += operations
        return html

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        html = self._render_state(snapshot.chargepoint(self.device.pk))
        await self.send(text_data=html + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        html = ""
        for data in event["changed"]:
            if data["id"] == self.device.pk:
                html = self._render_state(ChargePointState.from_dict(data))
        await self.send(text_data=html + self.heartbeat(event["generated_at"]))
