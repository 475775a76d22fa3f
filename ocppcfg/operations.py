"""The backend's operations on the charge point that are not transactions of their own (a mixin
of ``OcppAgent``): ChangeAvailability (Scheduled while a transaction runs), UnlockConnector,
Reset soft/hard, TriggerMessage.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from chargepoints.controller.commands import CpUnlockNow
from ocppcfg import availability
from ocppcfg.link import setting
from ocppcfg.metering import measurand_list
from wbm.runtime.agent import DatabaseError

if TYPE_CHECKING:
    from ocppcfg.identification import PendingAuth
    from ocppcfg.transactions import ActiveTx


class RemoteOperations:
    if TYPE_CHECKING:  # provided by OcppAgent / TransactionFlow
        ctx: Any
        values: dict[str, str]
        connectors: dict[int, int]
        connected: bool
        accepted: bool
        setup: Any
        reservations: Any
        local_list: Any
        inoperative_rows: dict[int, bool]
        registration: str | None
        active: dict[int, ActiveTx]
        pending: dict[int, PendingAuth]
        _sent_status: dict[int, Any]

        def _flag(self, key: str, default: str = "false") -> bool: ...
        def _seconds(self, key: str, default: float) -> float: ...
        def _grant(self, cp_id: int) -> None: ...
        def connector_of(self, cp_id: int) -> int | None: ...
        def apply_availability(self) -> None: ...
        def vehicle_at(self, cp_id: int) -> bool: ...
        def state_of(self, connector_id: int) -> Any: ...
        def inoperative(self, connector_id: int) -> bool: ...
        def reconnect(self, reason: str) -> None: ...
        async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None: ...
        async def heartbeat(self) -> None: ...
        async def status_notification(self, connector_id: int, force: bool = True) -> None: ...
        async def start_transaction(
            self, connector_id: int, id_tag: str, *, parent_id_tag: str = "", reservation_id: int | None = None
        ) -> None: ...
        async def stop_transaction(self, connector_id: int, reason: str, *, id_tag: str = "") -> bool: ...
        async def _meter_values(
            self, connector_id: int, context: str, measurands: list[str], at: float = 0.0
        ) -> None: ...

    # --- availability and unlock -------------------------------------------------------------
    def _settle_scheduled(self) -> list[int]:
        """Scheduled Inoperative changes whose transactions have ended apply now."""
        done = []
        for connector_id, scheduled in list(self.inoperative_rows.items()):
            targets = list(self.connectors) if connector_id == 0 else [connector_id]
            if scheduled and not any(c in self.active for c in targets):
                self.inoperative_rows[connector_id] = False
                done.append(connector_id)
        self.apply_availability()
        return done

    async def _settle_scheduled_db(self) -> None:
        for connector_id in self._settle_scheduled():
            with contextlib.suppress(DatabaseError):
                await self.ctx.db(availability.set_inoperative, connector_id, scheduled=False)
            self._sent_status.pop(connector_id, None)

    async def change_availability(self, connector_id: int, kind: str) -> str:
        if connector_id != 0 and connector_id not in self.connectors:
            return "Rejected"
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        try:
            if kind == "Inoperative":
                busy = any(c in self.active for c in targets)
                await self.ctx.db(availability.set_inoperative, connector_id, scheduled=busy)
                self.inoperative_rows[connector_id] = busy
                self.apply_availability()
                return "Scheduled" if busy else "Accepted"
            await self.ctx.db(availability.set_operative, connector_id)
        except DatabaseError:
            return "Rejected"
        if connector_id == 0:
            self.inoperative_rows.clear()
        else:
            self.inoperative_rows.pop(connector_id, None)
        self.apply_availability()
        return "Accepted"

    async def unlock(self, connector_id: int) -> str:
        result = await self.ctx.execute(CpUnlockNow(cp=self.connectors[connector_id]))
        return str(result.get("status") or "UnlockFailed") if result.get("ok") else "UnlockFailed"

    async def reset(self, kind: str) -> None:
        """Stop every transaction (SoftReset/HardReset), let the outbox deliver, then close the
        connection and boot again. The web process is not restarted."""
        reason = "HardReset" if kind == "Hard" else "SoftReset"
        for connector_id in list(self.active):
            await self.stop_transaction(connector_id, reason)
        deadline = time.monotonic() + setting("WBM_OCPP_RESET_FLUSH_S", 5.0)
        while time.monotonic() < deadline and self.connected:
            count = await self.ctx.db(outbox_count)
            if not count:
                break
            await asyncio.sleep(0.1)
        self.accepted = False
        self.registration = None
        if kind == "Hard":
            self._sent_status.clear()
        self.reconnect(f"{kind} reset")

    # --- triggered messages, meter values ------------------------------------------------------
    async def triggered(self, message: str, connector_id: int | None) -> None:
        if message == "BootNotification":
            await self.send(("BootNotification", self._boot_payload()))
        elif message == "Heartbeat":
            await self.heartbeat()
        elif message == "StatusNotification":
            for c in [connector_id] if connector_id is not None else [0, *sorted(self.connectors)]:
                await self.status_notification(c)
        elif message == "MeterValues":
            for c in [connector_id] if connector_id is not None else sorted(self.connectors):
                await self._meter_values(c, "Trigger", measurand_list(self.values.get("MeterValuesSampledData", "")))

    def _boot_payload(self) -> dict[str, Any]:
        payload = {"chargePointVendor": self.setup.vendor[:20], "chargePointModel": self.setup.model[:20]}
        if self.setup.serial_number:
            payload["chargePointSerialNumber"] = self.setup.serial_number[:25]
        return payload


def outbox_count() -> int:
    from ocppcfg.models import OutboxMessage

    return OutboxMessage.objects.count()
