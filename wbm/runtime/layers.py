"""The channel layer of embedded mode: Channels' in-memory layer without its deep copy.

``InMemoryChannelLayer.send`` deep-copies every message for every receiving channel, as a guard
against a receiver that changes what it got. The runtime's park update carries every changed
charge point (all of them when the meters tick): copying that took 4-7 ms on a 2-core machine,
the largest part of the way from a change to the dashboard's frame. Every message here is built
fresh by its sender and only read by its receivers (the park update's charge point states are
frozen dataclasses), so it is handed over as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer


class LocalChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    local = True  # messages may carry Python objects (never leave the process)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
        try:
            queue.put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """To every member at once (the base class starts a task per member and awaits each)."""
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):  # a receiver that stopped reading: as Channels
                await self.send(channel, message)
