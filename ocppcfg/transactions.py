"""Transactions of the OCPP agent (a mixin of ``OcppAgent``): recovery after a restart (PowerLoss
or Reboot, once), ServiceRestart, starting and stopping them through the outbox, sampled and
clock-aligned meter values. Who may start one is ``identification``; the backend's other
operations are ``operations``; the outbox's delivery is ``delivery``.

Release: a started transaction puts the GRANT ``tx`` (Source.OCPP, until unplug); nothing else
releases a connector in mode "By OCPP".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocppcfg import outbox
from ocppcfg.identification import Identification, PendingAuth
from ocppcfg.metering import energy_wh, measurand_list, meter_value, ocpp_time
from ocppcfg.operations import RemoteOperations
from wbm.runtime.agent import DatabaseError
from wbm.runtime.claims import Kind, Source
from wbm.runtime.clock import system_time

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("ocppcfg.agent")

TX = "tx"  # the GRANT key of a running transaction


@dataclass
class ActiveTx:
    local_id: int
    transaction_id: int | None
    started_at: datetime
    id_tag: str
    meter_start_wh: int
    cp_id: int = 0
    parent_id_tag: str = ""
    deauthorized: bool = False  # StartTransaction.conf refused the idTag: no release after unplug
    last_sample: float = 0.0  # monotonic


class TransactionFlow(Identification, RemoteOperations):
    # provided by OcppAgent
    ctx: Any
    values: dict[str, str]
    connectors: dict[int, int]
    connected: bool
    accepted: bool
    station: Any
    reservations: Any
    local_list: Any
    inoperative_rows: dict[int, bool]
    queue_summary: dict[str, Any]
    setup: Any
    frames: Any
    _next_aligned: float | None
    _sent_status: dict[int, Any]

    def _init_transactions(self) -> None:
        self.active: dict[int, ActiveTx] = {}
        self.pending: dict[int, PendingAuth] = {}
        self._end_callbacks: list[Callable[[int, ActiveTx], None]] = []
        self._outbox_wake = asyncio.Event()
        self._tx_ids: dict[int, int] = {}  # local id -> backend transactionId (answered)

    if TYPE_CHECKING:  # provided by OcppAgent
        registration: str | None
        _last_call: float

        def spawn(self, coro: Any, delay: float = 0.0) -> Any: ...
        def publish(self) -> None: ...
        def apply_availability(self) -> None: ...
        def vehicle_at(self, cp_id: int) -> bool: ...
        def state_of(self, connector_id: int) -> Any: ...
        def inoperative(self, connector_id: int) -> bool: ...
        def reconnect(self, reason: str) -> None: ...
        async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None: ...
        async def heartbeat(self) -> None: ...
        async def status_notification(self, connector_id: int, force: bool = True) -> None: ...

    def on_transaction_end(self, callback: Callable[[int, ActiveTx], None]) -> None:
        self._end_callbacks.append(callback)

    def wake_outbox(self) -> None:
        self._outbox_wake.set()

    def _flag(self, key: str, default: str = "false") -> bool:
        return self.values.get(key, default) == "true"

    def _seconds(self, key: str, default: float) -> float:
        try:
            return float(self.values.get(key) or default)
        except ValueError:
            return default

    def connector_of(self, cp_id: int) -> int | None:
        return next((c for c, cp in self.connectors.items() if cp == cp_id), None)

    def _energy(self, cp_id: int) -> int:
        snapshot = self.ctx.snapshot()
        state = snapshot.chargepoint(cp_id) if snapshot is not None else None
        with contextlib.suppress(Exception):
            reading = self.ctx.hardware.read(cp_id)
            if reading.meter is not None:
                return int(reading.meter.energy_wh)
            return int(self.ctx.hardware.energy_registers().get(cp_id, 0))
        return energy_wh(state)

    # --- recovery ----------------------------------------------------------------------------
    async def recover(self, *, fresh: bool) -> None:
        """Open transactions from the database: after a restart of the process each is stopped
        once (Reboot after REBOOT SYSTEM or a clean stop, else PowerLoss); after a restart of
        this agent alone they go on."""
        rows = await self.ctx.db(outbox.open_transactions)
        clean = bool(self.ctx.previous_run_reboot) or self.ctx.previous_run_clean
        reason = "Reboot" if clean else "PowerLoss"
        for row in rows:
            if fresh or self.connectors.get(row.connector_id) != row.cp_id:
                now = system_time()
                payload = {
                    "meterStop": self._energy(row.cp_id),
                    "timestamp": ocpp_time(now),
                    "reason": reason,
                }
                await self.ctx.db(
                    outbox.stop_transaction,
                    local_id=row.local_id,
                    meter_stop_wh=payload["meterStop"],
                    stopped_at=datetime.fromtimestamp(now, UTC),
                    reason=reason,
                    stop_id_tag="",
                    payload=payload,
                )
                continue
            self.active[row.connector_id] = ActiveTx(
                local_id=row.local_id,
                transaction_id=row.transaction_id,
                started_at=row.started_at,
                id_tag=row.id_tag,
                meter_start_wh=row.meter_start_wh,
                cp_id=row.cp_id,
                parent_id_tag=row.parent_id_tag,
                deauthorized=bool(row.id_tag_status) and row.id_tag_status != "Accepted",
                last_sample=time.monotonic(),
            )
            if self.vehicle_at(row.cp_id) and not self.active[row.connector_id].deauthorized:
                self._grant(row.cp_id)
        self._settle_scheduled()
        self.wake_outbox()

    async def service_restart(self) -> None:
        """ServiceRestart: occupied connectors without a transaction start one with ServiceUID."""
        if not self._flag("ServiceRestart"):
            return
        uid = self.values.get("ServiceUID") or "SERVICE"
        for connector_id, cp_id in sorted(self.connectors.items()):
            if connector_id not in self.active and self.vehicle_at(cp_id) and not self.inoperative(connector_id):
                await self.start_transaction(connector_id, uid)

    def _grant(self, cp_id: int) -> None:
        with contextlib.suppress(Exception):
            self.ctx.claims.grant(cp_id, Source.OCPP, key=TX, until_unplug=True)

    # --- starting and stopping -----------------------------------------------------------------
    async def start_transaction(
        self, connector_id: int, id_tag: str, *, parent_id_tag: str = "", reservation_id: int | None = None
    ) -> None:
        if not self.startable(connector_id):
            log.info("ocpp: no transaction at connector %s: it is busy, faulted or unavailable", connector_id)
            return
        cp_id = self.connectors[connector_id]
        now = system_time()
        meter = self._energy(cp_id)
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": id_tag[:20],
            "meterStart": meter,
            "timestamp": ocpp_time(now),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        self.pending.pop(connector_id, None)
        row = await self.ctx.db(
            outbox.start_transaction,
            connector_id=connector_id,
            cp_id=cp_id,
            id_tag=id_tag[:20],
            parent_id_tag=parent_id_tag[:20],
            reservation_id=reservation_id,
            meter_start_wh=meter,
            started_at=datetime.fromtimestamp(now, UTC),
            payload=payload,
        )
        self.active[connector_id] = ActiveTx(
            local_id=row.local_id,
            transaction_id=None,
            started_at=row.started_at,
            id_tag=row.id_tag,
            meter_start_wh=meter,
            cp_id=cp_id,
            parent_id_tag=row.parent_id_tag,
            last_sample=time.monotonic(),
        )
        self._grant(cp_id)
        if reservation_id is not None:
            used = getattr(self.reservations, "used", None)
            if callable(used):
                used(reservation_id)
        self.wake_outbox()
        self.publish()

    async def stop_transaction(self, connector_id: int, reason: str, *, id_tag: str = "") -> bool:
        tx = self.active.pop(connector_id, None)
        if tx is None:
            return False
        now = system_time()
        payload: dict[str, Any] = {"meterStop": self._energy(tx.cp_id), "timestamp": ocpp_time(now), "reason": reason}
        if id_tag:
            payload["idTag"] = id_tag[:20]
        data = self._transaction_data(connector_id, now)
        if data:
            payload["transactionData"] = data
        with contextlib.suppress(Exception):
            self.ctx.claims.withdraw(tx.cp_id, Source.OCPP, Kind.GRANT, TX)
        try:
            await self.ctx.db(
                outbox.stop_transaction,
                local_id=tx.local_id,
                meter_stop_wh=payload["meterStop"],
                stopped_at=datetime.fromtimestamp(now, UTC),
                reason=reason,
                stop_id_tag=id_tag[:20],
                payload=payload,
            )
        except DatabaseError:
            log.error("ocpp: the stop of transaction %s could not be stored", tx.local_id)
        for callback in list(self._end_callbacks):
            try:
                callback(connector_id, tx)
            except Exception:
                log.exception("ocpp: a transaction-end callback failed")
        await self._settle_scheduled_db()
        self.wake_outbox()
        self.publish()
        return True

    def _transaction_data(self, connector_id: int, now: float) -> list[dict[str, Any]]:
        state = self.state_of(connector_id)
        data = []
        for key, context in (("StopTxnSampledData", "Transaction.End"), ("StopTxnAlignedData", "Sample.Clock")):
            measurands = measurand_list(self.values.get(key, ""))
            value = meter_value(state, measurands, context, now, self._energy(self.connectors[connector_id]))
            if measurands and value:
                data.append(value)
        return data

    # --- meter values ----------------------------------------------------------------------
    async def _meter_values(self, connector_id: int, context: str, measurands: list[str], at: float = 0.0) -> None:
        """One MeterValues: a transaction's goes through the outbox, any other is sent now."""
        cp_id = self.connectors.get(connector_id)
        if cp_id is None or not measurands:
            return
        value = meter_value(self.state_of(connector_id), measurands, context, at or system_time(), self._energy(cp_id))
        if value is None:
            return
        tx = self.active.get(connector_id)
        payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": [value]}
        if tx is not None and context != "Trigger":
            await self.ctx.db(outbox.enqueue, "MeterValues", payload, tx.local_id)
            self.wake_outbox()
            return
        if tx is not None and tx.transaction_id is not None:
            payload["transactionId"] = tx.transaction_id
        await self.send(("MeterValues", payload))

    async def tick_transactions(self) -> None:
        mono, now = time.monotonic(), system_time()  # clock-aligned data: on the system clock
        for connector_id, pending in list(self.pending.items()):
            if pending.deadline <= mono:
                self.pending.pop(connector_id, None)
                log.info("ocpp: the authorization at connector %s timed out", connector_id)
            elif self.vehicle_at(self.connectors.get(connector_id, -1)):
                await self.on_plugged(self.connectors[connector_id])
        interval = self._seconds("MeterValueSampleInterval", 0)
        sampled = measurand_list(self.values.get("MeterValuesSampledData", ""))
        for connector_id, tx in list(self.active.items()):
            if interval > 0 and mono - tx.last_sample >= interval:
                tx.last_sample = mono
                await self._meter_values(connector_id, "Sample.Periodic", sampled)
        aligned = self._seconds("ClockAlignedDataInterval", 0)
        if aligned <= 0:
            self._next_aligned = None
        elif self._next_aligned is None:
            self._next_aligned = math.floor(now / aligned) * aligned + aligned
        elif now >= self._next_aligned:
            at, self._next_aligned = self._next_aligned, math.floor(now / aligned) * aligned + aligned
            measurands = measurand_list(self.values.get("MeterValuesAlignedData", ""))
            if self.accepted or self.active:
                for connector_id in sorted(self.connectors):
                    await self._meter_values(connector_id, "Sample.Clock", measurands, at)
