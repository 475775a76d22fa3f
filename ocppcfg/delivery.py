"""Delivery of the outbox (a mixin of ``OcppAgent``): in order, one CALL at a time, each row
deleted only after the backend's CALLRESULT (MeterValues acknowledgements are written in batches
of up to 200 or 0.2 s; Start/StopTransaction at once). Rows are read 200 at a time and sent as
they were checked when queued (no second schema check; the answers are checked). A CALL whose
answer was lost with the connection is sent again after the reconnect with its same unique id,
so the backend can recognise it; see ``outbox`` for what a crash may send twice. A CALLERROR counts an attempt
(TransactionMessageAttempts, TransactionMessageRetryInterval × attempt); a lost connection or
a timeout counts nothing and waits for the next connection. A transaction started offline gets
its transactionId when its StartTransaction is answered; the messages behind it take it then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError

from ocppcfg import outbox
from ocppcfg.authorization import IdTagInfo
from wbm.runtime.agent import DatabaseError

if TYPE_CHECKING:
    from ocppcfg.transactions import ActiveTx

log = logging.getLogger("ocppcfg.agent")


class Delivery:
    if TYPE_CHECKING:  # provided by OcppAgent / TransactionFlow
        ctx: Any
        connected: bool
        accepted: bool
        station: Any
        queue_summary: dict[str, Any]
        active: dict[int, ActiveTx]
        _outbox_wake: asyncio.Event
        _tx_ids: dict[int, int]
        _last_call: float

        def publish(self) -> None: ...
        def spawn(self, coro: Any, delay: float = 0.0) -> Any: ...
        def wake_outbox(self) -> None: ...
        def _seconds(self, key: str, default: float) -> float: ...
        def _flag(self, key: str, default: str = "false") -> bool: ...
        async def remember(self, id_tag: str, info: object) -> None: ...
        async def stop_transaction(self, connector_id: int, reason: str, *, id_tag: str = "") -> bool: ...

    # --- delivery of the outbox ----------------------------------------------------------------
    async def delivery_loop(self) -> None:
        """Deliver the outbox in order while connected and accepted; forever."""
        last_summary = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._outbox_wake.wait()
            self._outbox_wake.clear()
            with contextlib.suppress(DatabaseError):
                if time.monotonic() - last_summary > 0.5:
                    self.queue_summary = await self.ctx.db(outbox.summary)
                    last_summary = time.monotonic()
                    self.publish()
                if self.connected and self.accepted and self.station is not None:
                    await self._deliver()
                    self.queue_summary = await self.ctx.db(outbox.summary)
                    last_summary = time.monotonic()
                    self.publish()

    async def _deliver(self) -> None:
        acked: list[int] = []
        updates: dict[int, tuple[int, str]] = {}
        last_flush = time.monotonic()
        cursor = 0  # the last seq sent and acknowledged (its row may not be deleted yet)

        async def flush() -> None:
            nonlocal acked, updates, last_flush
            if acked or updates:
                await self.ctx.db(outbox.acknowledge, acked, updates)
            acked, updates, last_flush = [], {}, time.monotonic()

        try:
            while self.connected and self.accepted and self.station is not None:
                rows = await self.ctx.db(outbox.head, outbox.HEAD_BATCH, cursor)
                if not rows:
                    return
                for row in rows:
                    outcome = await self._deliver_one(row, updates)
                    if outcome == "stop":
                        return
                    acked.append(row.seq)
                    cursor = row.seq
                    if outcome == "flush" or len(acked) >= outbox.ACK_BATCH or time.monotonic() - last_flush > 0.2:
                        await flush()
        finally:
            await flush()

    async def _deliver_one(self, row: outbox.Queued, updates: dict[int, tuple[int, str]]) -> str:
        """ "ok" (delivered or dropped), "flush" (delivered, write at once), "stop" (not now)."""
        payload = dict(row.payload)
        if row.tx_local_id is not None and row.action != "StartTransaction":
            transaction_id = self._tx_ids.get(row.tx_local_id, row.transaction_id)
            if transaction_id is None:  # its StartTransaction was refused for good: nobody knows it
                log.error("ocpp: %s %s dropped: its transaction has no transactionId", row.action, row.seq)
                await self.ctx.db(outbox.failed, row.seq, "no transactionId", drop=True)
                return "ok"
            payload["transactionId"] = transaction_id
        attempts = int(self._seconds("TransactionMessageAttempts", 3))
        if row.attempts and row.last_attempt_at is not None:
            due = row.last_attempt_at.timestamp() + self._seconds("TransactionMessageRetryInterval", 60) * row.attempts
            if time.time() < due:
                self.spawn(self._wake_at(due - time.time()))
                return "stop"
        station = self.station
        if station is None:
            return "stop"
        try:
            result = await station.call_raw(row.action, payload, unique_id=row.unique_id, validate=False)
        except OCPPError as exc:
            drop = row.attempts + 1 >= attempts
            log.warning("ocpp: the backend refused %s %s (%s)%s", row.action, row.seq, exc, "; dropped" if drop else "")
            await self.ctx.db(outbox.failed, row.seq, f"{type(exc).__name__}: {exc}", drop=drop)
            return "ok" if drop else "stop"
        except Exception as exc:  # the connection went away or no answer: not an attempt
            log.info("ocpp: %s %s not delivered now (%s)", row.action, row.seq, type(exc).__name__)
            return "stop"
        finally:
            self._last_call = time.monotonic()
        if row.action == "StartTransaction":
            transaction_id = int(result.get("transactionId", 0))
            info = dict(result.get("idTagInfo") or {})
            if row.tx_local_id is not None:
                self._tx_ids[row.tx_local_id] = transaction_id
                updates[row.tx_local_id] = (transaction_id, str(info.get("status") or ""))
            await self.remember(str(payload.get("idTag") or ""), info)
            self._started(row.tx_local_id, transaction_id, info)
            return "flush"
        if row.action == "StopTransaction":
            if "idTagInfo" in result:
                await self.remember(str(payload.get("idTag") or ""), result["idTagInfo"])
            return "flush"
        return "flush" if row.action != "MeterValues" else "ok"

    def _started(self, local_id: int | None, transaction_id: int, info: IdTagInfo) -> None:
        """StartTransaction.conf: the transactionId, and whether the idTag was accepted."""
        for connector_id, tx in self.active.items():
            if tx.local_id != local_id:
                continue
            tx.transaction_id = transaction_id
            if info.get("status") != "Accepted":
                if self._flag("StopTransactionOnInvalidId", "true"):
                    self.spawn(self.stop_transaction(connector_id, "DeAuthorized"))
                else:  # TC_037_2: charging goes on, but no release after unplug
                    tx.deauthorized = True
            self.publish()
            return

    async def _wake_at(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
        self.wake_outbox()
