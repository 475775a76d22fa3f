"""The outbox's persisted side: payloads checked once when queued, read in order in batches, and
what a crash may send twice (only acknowledged rows not yet deleted, with their own unique id)."""

from __future__ import annotations

import logging

import pytest

from ocppcfg import outbox
from ocppcfg.models import OutboxMessage

METER = {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}]}


def test_the_schema_check_at_queueing_knows_the_transaction_id_comes_later() -> None:
    outbox.check("StopTransaction", {"meterStop": 1, "timestamp": "2026-01-01T00:00:00Z", "reason": "Local"})
    outbox.check("MeterValues", METER)
    with pytest.raises(outbox.InvalidPayload):
        outbox.check("MeterValues", {**METER, "connectorId": "one"})


def test_an_invalid_payload_is_logged_and_still_queued(db, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ocppcfg.outbox"):
        assert outbox.enqueue("MeterValues", {**METER, "connectorId": "one"}) is not None
    assert "fails the schema" in caplog.text
    assert OutboxMessage.objects.count() == 1


def test_head_reads_in_order_after_a_cursor_and_a_crash_resends_only_unacknowledged_rows(db) -> None:
    seqs = [outbox.enqueue("MeterValues", {**METER, "connectorId": 1}) for _ in range(5)]
    first = outbox.head(3)
    assert [row.seq for row in first] == seqs[:3]
    assert [row.seq for row in outbox.head(10, after=first[-1].seq)] == seqs[3:]
    # answered, but the process died before the batch's deletion was written: sent again, same ids
    outbox.acknowledge([first[0].seq], {})
    again = outbox.head(10)
    assert [row.unique_id for row in again[:2]] == [row.unique_id for row in first[1:]]
    assert [row.seq for row in again] == seqs[1:]
