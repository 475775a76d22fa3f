"""The MQTT agents' connection loops end when their task is cancelled, even when aiomqtt turns
the cancellation into a broker error (a failing disconnection on the way out of ``async with``).
Before, such a loop connected again beside its successor: the same client id on one broker, the
two connections closing each other many times a second (seen as a flaky bridge test)."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from mqttbridge import client


class DisconnectFails:
    """Stands for ``aiomqtt.Client``: leaving it raises what a failed disconnection raises."""

    def __init__(self) -> None:
        self.connects = 0

    async def __aenter__(self) -> DisconnectFails:
        self.connects += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        raise aiomqtt.MqttError("Unexpected disconnection")


async def reconnecting_loop(connection: DisconnectFails) -> None:
    """The agents' pattern: a broker error means connect again after a pause."""
    while True:
        try:
            async with connection:
                await asyncio.sleep(30)
        except aiomqtt.MqttError:
            client.raise_if_cancelled()
            await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_a_cancelled_loop_ends_although_its_disconnection_fails() -> None:
    connection = DisconnectFails()
    task = asyncio.create_task(reconnecting_loop(connection))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert connection.connects == 1


@pytest.mark.asyncio
async def test_a_broker_error_without_cancellation_still_reconnects() -> None:
    connection = DisconnectFails()

    async def fail_soon() -> None:
        async with connection:
            pass

    with pytest.raises(aiomqtt.MqttError):
        await fail_soon()
    client.raise_if_cancelled()  # not cancelled: returns, the loop goes on
    assert connection.connects == 1
