"""Live Charging Stations pages: the status page of one charge point and the CHARX RFID/NFC board
page follow the runtime over their WebSocket, as OOB swaps of the partials the page rendered."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chargepoints import selectors
from chargepoints.models import ChargePoint
from chargepoints.rfidboard import RFIDBOARD_GROUP, BoardInfo, board_live
from chargepoints.status import DeviceInfo, device_info, status_context
from wbm.dashboard.consumers import LiveConsumer
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP, changed_states, read_snapshot
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

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
        for cp in changed_states(event):
            if cp.id == self.device.pk:
                html = self._render_state(cp)
        await self.send(text_data=html + self.heartbeat(event["generated_at"]))


RFIDBOARD_TEMPLATE = "chargepoints/rfidboard.html"


class RfidBoardConsumer(LiveConsumer):
    """ws/chargepoints/rfid-board/: the active profile of every board, as the simulated board
    shows it for the live state; board settings are re-read when someone saves them."""

    required = Perm.RFID_BOARD_VIEW
    groups_to_join = (PARK_GROUP, RFIDBOARD_GROUP)

    async def connect(self) -> None:
        self.boards: list[BoardInfo] = await database_sync_to_async(selectors.rfid_board_list)()
        self.shown: dict[int, str] = {}
        await super().connect()

    def _render_boards(self, snapshot: ParkSnapshot | None, only_changed: bool) -> str:
        html = []
        for board in self.boards:
            part = self.render(f"{RFIDBOARD_TEMPLATE}#active", {"board": board, "live": board_live(board, snapshot)})
            if not only_changed or self.shown.get(board.pk) != part:
                self.shown[board.pk] = part
                html.append(part)
        return "".join(html)

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        await self.send(
            text_data=self._render_boards(snapshot, only_changed=False) + self.heartbeat(snapshot.generated_at)
        )

    async def park_update(self, event: dict[str, Any]) -> None:
        # the event carries the changed charge points only; a board needs all it serves
        html = self._render_boards(read_snapshot(), only_changed=True)
        await self.send(text_data=html + self.heartbeat(event["generated_at"]))

    async def rfidboard_changed(self, event: dict[str, Any]) -> None:
        self.boards = await database_sync_to_async(selectors.rfid_board_list)()
        snapshot = read_snapshot()
        await self.send(text_data=self._render_boards(snapshot, only_changed=True))


OVERVIEW_TEMPLATE = "chargepoints/overview.html"


class OverviewConsumer(LiveConsumer):
    """ws/chargepoints/overview/: the live cells of every charge point row (status with its error
    code, IEC state, power) on the Charging Stations overview."""

    required = Perm.PARK_VIEW

    def _cells(self, live: ChargePointState) -> str:
        return self.render(f"{OVERVIEW_TEMPLATE}#live-cells", {"live": live, "cp_id": live.id})

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        cells = "".join(self._cells(cp) for cp in snapshot.chargepoints)
        await self.send(text_data=cells + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        cells = "".join(self._cells(cp) for cp in changed_states(event))
        await self.send(text_data=cells + self.heartbeat(event["generated_at"]))


SIMULATOR_TEMPLATE = "chargepoints/simulator.html"


class SimulatorConsumer(LiveConsumer):
    """ws/system/simulator/<pk>/: the simulator's "Current state" panel of one charge point."""

    required = Perm.SIMULATOR_USE

    async def connect(self) -> None:
        self.pk = int(self.scope["url_route"]["kwargs"]["pk"])
        await super().connect()

    def _state(self, live: ChargePointState | None) -> str:
        return self.render(f"{SIMULATOR_TEMPLATE}#state", {"live": live})

    async def send_full(self) -> None:
        snapshot = read_snapshot()
        if snapshot is None:
            return
        await self.send(text_data=self._state(snapshot.chargepoint(self.pk)) + self.heartbeat(snapshot.generated_at))

    async def park_update(self, event: dict[str, Any]) -> None:
        html = "".join(self._state(cp) for cp in changed_states(event) if cp.id == self.pk)
        await self.send(text_data=html + self.heartbeat(event["generated_at"]))
