"""The persisted side of transactions and of the outgoing queue (run through ``ctx.db``).

A transaction is written with its StartTransaction in one database transaction before anything
is sent; every CALL that must arrive (StartTransaction, StopTransaction, transaction MeterValues)
is an ``OutboxMessage`` row, deleted only after the backend's CALLRESULT. A message that refers to
a transaction gets the backend's transactionId when it is sent (a transaction started offline
has none until its StartTransaction is answered). The queue is bounded: when full, the oldest
intermediate MeterValues go first; Start/StopTransaction are never dropped.

Each payload is checked against the OCPP 1.6 schema once, when it is queued (the transactionId a
message takes at sending is an integer the schema allows): the delivery sends rows as they are.

Exactly once, honestly: a row is deleted only after the backend's CALLRESULT for it, and the
deletions are written in small batches (``acknowledge``), each in one database transaction. After
a crash (``kill -9``) between a CALLRESULT and the batch's commit, those acknowledged rows are sent
again with their same unique id: at most one batch (up to ``ACK_BATCH`` messages, or 0.2 s of
them) of MeterValues; a StartTransaction or StopTransaction is acknowledged at once, alone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction as db_transaction

log = logging.getLogger(__name__)

DROPPABLE = ("MeterValues",)
HEAD_BATCH = 200  # rows read per query by the delivery
ACK_BATCH = 200  # acknowledged MeterValues deleted per database transaction (at most re-sent after a crash)
# filled in at sending: checked with a stand-in value at queueing
SENT_WITH_TRANSACTION_ID = ("StopTransaction",)


def outbox_max() -> int:
    return int(getattr(settings, "WBM_OCPP_OUTBOX_MAX", 10_000))


@dataclass(frozen=True, slots=True, kw_only=True)
class TxRow:
    local_id: int
    connector_id: int
    cp_id: int
    id_tag: str
    parent_id_tag: str
    transaction_id: int | None
    id_tag_status: str
    started_at: datetime
    meter_start_wh: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued:
    seq: int
    action: str
    payload: dict[str, Any]
    unique_id: str
    attempts: int
    last_attempt_at: datetime | None
    tx_local_id: int | None
    transaction_id: int | None


def _tx_row(tx: Any) -> TxRow:
    return TxRow(
        local_id=tx.pk,
        connector_id=tx.connector_id,
        cp_id=tx.chargepoint_id,
        id_tag=tx.id_tag,
        parent_id_tag=tx.parent_id_tag,
        transaction_id=tx.transaction_id,
        id_tag_status=tx.id_tag_status,
        started_at=tx.started_at,
        meter_start_wh=int(tx.meter_start_wh),
    )


def open_transactions() -> list[TxRow]:
    from ocppcfg.models import Transaction, TransactionState

    return [_tx_row(tx) for tx in Transaction.objects.filter(state=TransactionState.OPEN).order_by("pk")]


def _make_room(action: str) -> None:
    """Keep the queue within ``WBM_OCPP_OUTBOX_MAX``: drop the oldest MeterValues."""
    from ocppcfg.models import OutboxMessage

    limit = outbox_max()
    excess = OutboxMessage.objects.count() + 1 - limit
    if excess <= 0:
        return
    victims = list(
        OutboxMessage.objects.filter(action__in=DROPPABLE).order_by("seq").values_list("seq", flat=True)[:excess]
    )
    if victims:
        OutboxMessage.objects.filter(seq__in=victims).delete()
        log.warning("ocpp: the queue is full (%d); dropped %d old MeterValues", limit, len(victims))
    elif action in DROPPABLE:
        raise QueueFull(action)


class QueueFull(Exception):
    """Nothing can be dropped to make room for a MeterValues (only Start/Stop are queued)."""


class InvalidPayload(ValueError):
    """A payload the OCPP 1.6 schema refuses (a bug of ours: logged, see ``checked``)."""


def check(action: str, payload: dict[str, Any]) -> None:
    """The OCPP 1.6 schema check of a CALL's payload (synchronous: run through ``ctx.db``)."""
    from ocpp.exceptions import OCPPError
    from ocpp.messages import Call, _validate_payload

    body = {**payload, "transactionId": 0} if action in SENT_WITH_TRANSACTION_ID else payload
    try:
        _validate_payload(Call(unique_id="check", action=action, payload=body), "1.6")
    except OCPPError as exc:
        raise InvalidPayload(f"{action}: {exc}") from exc


def _row(action: str, payload: dict[str, Any], tx_local_id: int | None, now: datetime) -> Any:
    from ocppcfg.models import OutboxMessage

    try:
        check(action, payload)
    except InvalidPayload as exc:  # queued anyway: transaction data is never thrown away
        log.error("ocpp: a queued payload fails the schema (the backend will refuse it): %s", exc)

    return OutboxMessage(
        action=action,
        payload=payload,
        transaction_id=tx_local_id,
        unique_id=str(uuid.uuid4()),
        created_at=now,
    )


def enqueue(action: str, payload: dict[str, Any], tx_local_id: int | None = None) -> int | None:
    """Queue one CALL; returns its seq (None: a MeterValues that found the queue full)."""
    with db_transaction.atomic():
        try:
            _make_room(action)
        except QueueFull:
            log.warning("ocpp: the queue is full of transaction messages; a MeterValues was not queued")
            return None
        row = _row(action, payload, tx_local_id, datetime.now(UTC))
        row.save()
        return int(row.seq)


def start_transaction(
    *,
    connector_id: int,
    cp_id: int,
    id_tag: str,
    parent_id_tag: str,
    reservation_id: int | None,
    meter_start_wh: int,
    started_at: datetime,
    payload: dict[str, Any],
) -> TxRow:
    """The transaction row and its StartTransaction, in one database transaction."""
    from ocppcfg.models import Transaction

    with db_transaction.atomic():
        tx = Transaction.objects.create(
            connector_id=connector_id,
            chargepoint_id=cp_id,
            id_tag=id_tag,
            parent_id_tag=parent_id_tag,
            reservation_id=reservation_id,
            meter_start_wh=meter_start_wh,
            started_at=started_at,
        )
        _make_room("StartTransaction")
        _row("StartTransaction", payload, tx.pk, datetime.now(UTC)).save()
    return _tx_row(tx)


def stop_transaction(
    *, local_id: int, meter_stop_wh: int, stopped_at: datetime, reason: str, stop_id_tag: str, payload: dict[str, Any]
) -> bool:
    """Close the transaction and queue its StopTransaction (once: False when already stopped)."""
    from ocppcfg.models import Transaction, TransactionState

    with db_transaction.atomic():
        updated = Transaction.objects.filter(pk=local_id, state=TransactionState.OPEN).update(
            state=TransactionState.STOPPED,
            meter_stop_wh=meter_stop_wh,
            stopped_at=stopped_at,
            stop_reason=reason,
            stop_id_tag=stop_id_tag,
        )
        if not updated:
            return False
        _make_room("StopTransaction")
        _row("StopTransaction", payload, local_id, datetime.now(UTC)).save()
    return True


def head(limit: int = HEAD_BATCH, after: int = 0) -> list[Queued]:
    """The next messages in order of delivery (those with a seq above ``after``): plain values,
    no model instances, the transactionIds in one query."""
    from ocppcfg.models import OutboxMessage, Transaction

    rows = list(
        OutboxMessage.objects.filter(seq__gt=after)
        .order_by("seq")
        .values_list("seq", "action", "payload", "unique_id", "attempts", "last_attempt_at", "transaction_id")[:limit]
    )
    local_ids = {row[6] for row in rows if row[6] is not None}
    known = dict(Transaction.objects.filter(pk__in=local_ids).values_list("pk", "transaction_id")) if local_ids else {}
    return [
        Queued(
            seq=seq,
            action=action,
            payload=payload,
            unique_id=unique_id,
            attempts=attempts,
            last_attempt_at=last_attempt_at,
            tx_local_id=tx_local_id,
            transaction_id=known.get(tx_local_id) if tx_local_id is not None else None,
        )
        for seq, action, payload, unique_id, attempts, last_attempt_at, tx_local_id in rows
    ]


def acknowledge(seqs: list[int], tx_updates: dict[int, tuple[int, str]]) -> None:
    """The backend answered these messages: delete them; store transactionIds (and the idTag's
    status) that StartTransaction answers brought."""
    from ocppcfg.models import OutboxMessage, Transaction

    with db_transaction.atomic():
        for local_id, (transaction_id, status) in tx_updates.items():
            Transaction.objects.filter(pk=local_id).update(transaction_id=transaction_id, id_tag_status=status[:16])
        if seqs:
            OutboxMessage.objects.filter(seq__in=seqs).delete()


def failed(seq: int, error: str, *, drop: bool) -> None:
    """A CALLERROR for this message: count the attempt, or drop it after the last one."""
    from django.db.models import F

    from ocppcfg.models import OutboxMessage

    if drop:
        OutboxMessage.objects.filter(seq=seq).delete()
        return
    OutboxMessage.objects.filter(seq=seq).update(
        attempts=F("attempts") + 1, last_attempt_at=datetime.now(UTC), last_error=error[:200]
    )


def summary(limit: int = 20) -> dict[str, Any]:
    """The queue for the status page: count, oldest (epoch), the first ``limit`` items."""
    from ocppcfg.models import OutboxMessage

    now = datetime.now(UTC)
    count = OutboxMessage.objects.count()
    items = [
        {
            "seq": row["seq"],
            "action": row["action"],
            "age_s": round((now - row["created_at"]).total_seconds(), 1),
            "attempts": row["attempts"],
        }
        for row in OutboxMessage.objects.order_by("seq").values("seq", "action", "created_at", "attempts")[:limit]
    ]
    oldest = OutboxMessage.objects.order_by("seq").values_list("created_at", flat=True).first()
    return {"count": count, "oldest": oldest.timestamp() if oldest else None, "items": items}
