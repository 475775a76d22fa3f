"""The event stream: typed subscriptions, bounded queues, publishing that never waits."""

from __future__ import annotations

import asyncio
import inspect
import logging

import pytest

from wbm.runtime.events import (
    ChargePointEvent,
    ConfigReloaded,
    Event,
    EventBus,
    FaultRaised,
    Plugged,
    RfidRead,
    Unplugged,
)


def test_only_subscribed_types_are_delivered_and_subclasses_match() -> None:
    bus = EventBus()
    plugs = bus.subscribe(Plugged, name="plugs")
    chargepoint = bus.subscribe(ChargePointEvent, name="chargepoint")
    faults_and_config = bus.subscribe(FaultRaised, ConfigReloaded, name="faults+config")
    everything = bus.subscribe(name="everything")

    events: list[Event] = [
        Plugged(at=1.0, cp_id=1),
        RfidRead(at=2.0, cp_id=1, tag="04A1B2C3"),
        ConfigReloaded(at=3.0, cp_ids=(1, 2)),
        FaultRaised(at=4.0, cp_id=2, code="GroundFailure"),
        Unplugged(at=5.0, cp_id=1),
    ]
    for event in events:
        bus.emit(event)

    assert plugs.pending() == [events[0]]
    assert chargepoint.pending() == [events[0], events[1], events[3], events[4]]
    assert faults_and_config.pending() == [events[2], events[3]]
    assert everything.pending() == events
    assert (plugs.dropped, chargepoint.dropped, faults_and_config.dropped, everything.dropped) == (0, 0, 0, 0)


def test_a_subscriber_that_never_reads_keeps_the_newest_and_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    slow = bus.subscribe(Plugged, name="slow-agent", maxsize=3)
    with caplog.at_level(logging.WARNING, logger="wbm.runtime.events"):
        for second in range(10):
            bus.emit(Plugged(at=float(second), cp_id=1))
    assert [event.at for event in slow.pending()] == [7.0, 8.0, 9.0]
    assert slow.dropped == 7
    warnings = [r for r in caplog.records if r.name == "wbm.runtime.events" and r.levelno == logging.WARNING]
    assert warnings, "dropping events must be logged"
    assert "slow-agent" in warnings[0].getMessage()
    assert "not keeping up" in warnings[0].getMessage()


def test_emit_never_waits_even_on_a_full_queue(caplog: pytest.LogCaptureFixture) -> None:
    assert not inspect.iscoroutinefunction(EventBus.emit)
    bus = EventBus()
    full = bus.subscribe(name="full", maxsize=3)
    keeping_up = bus.subscribe(Unplugged, name="other")
    with caplog.at_level(logging.WARNING, logger="wbm.runtime.events"):
        for n in range(10_000):  # a plain loop, no event loop running: nothing here could wait
            assert bus.emit(Plugged(at=float(n), cp_id=1)) is None
    assert full.dropped == 10_000 - 3
    assert [event.at for event in full.pending()] == [9997.0, 9998.0, 9999.0]
    assert keeping_up.pending() == []
    # logged at the first drop and every 100th, not 9997 times
    warnings = [r for r in caplog.records if r.name == "wbm.runtime.events"]
    assert 1 < len(warnings) <= 101


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    gone = bus.subscribe(Plugged, name="gone")
    stays = bus.subscribe(Plugged, name="stays")
    assert bus.subscriber_count == 2
    bus.emit(Plugged(at=1.0, cp_id=1))
    bus.unsubscribe(gone)
    bus.emit(Plugged(at=2.0, cp_id=1))
    assert [e.at for e in gone.pending()] == [1.0]
    assert [e.at for e in stays.pending()] == [1.0, 2.0]
    assert bus.subscriber_count == 1
    bus.unsubscribe(gone)  # twice is harmless
    assert bus.subscriber_count == 1


@pytest.mark.asyncio
async def test_a_waiting_subscriber_wakes_on_emit() -> None:
    bus = EventBus()
    subscription = bus.subscribe(RfidRead, name="rfid")
    waiting = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    bus.emit(Plugged(at=1.0, cp_id=1))  # not subscribed: does not wake it
    await asyncio.sleep(0)
    assert not waiting.done()
    read = RfidRead(at=2.0, cp_id=1, tag="04A1B2C3")
    bus.emit(read)
    async with asyncio.timeout(5):
        assert await waiting == read


@pytest.mark.asyncio
async def test_a_subscription_is_iterated_in_order() -> None:
    bus = EventBus()
    subscription = bus.subscribe(ChargePointEvent, name="iterate")
    for n in range(3):
        bus.emit(Plugged(at=float(n), cp_id=n))
    seen: list[float] = []
    async with asyncio.timeout(5):
        async for event in subscription:
            seen.append(event.at)
            if len(seen) == 3:
                break
    assert seen == [0.0, 1.0, 2.0]


@pytest.mark.asyncio
async def test_emit_in_a_running_loop_on_a_full_queue_returns_at_once() -> None:
    bus = EventBus()
    full = bus.subscribe(name="full", maxsize=1)
    for n in range(1_000):
        bus.emit(Plugged(at=float(n), cp_id=1))
    assert full.dropped == 999
    assert [e.at for e in full.pending()] == [999.0]
