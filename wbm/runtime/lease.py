"""Scaled mode: exactly one runtime drives the park.

``runcontroller`` takes a lease in Redis before it builds its runtime: a key with a random
token and a time to live, renewed every third of it. A second ``runcontroller`` finds the key
taken and waits as a hot standby, trying every ``retry_s``; when the holder dies (``kill -9``,
power, network) the key expires and the standby takes it within ``ttl_s + retry_s``. Nothing of
the standby's touches the hardware or the database before it holds the lease.

A holder that cannot confirm its lease for ``ttl_s`` (Redis unreachable, or the key taken over
while it was paused) can no longer be sure it is the only one: ``hold()`` returns and the
runtime stops driving the hardware; the process waits as a standby again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LEASE_KEY = "wbm:runtime:lease"

# renew only while the key still holds our token (another holder's lease is never touched)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def owner_name() -> str:
    """Who holds the lease, for the log and the standby's message: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    def __init__(
        self,
        redis_url: str,
        *,
        ttl_s: float = 3.0,
        retry_s: float = 0.5,
        key: str = LEASE_KEY,
        client: Any = None,
    ) -> None:
        if ttl_s <= 0 or retry_s <= 0:
            raise ValueError("the lease's time to live and retry interval must be positive")
        self.key = key
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self.owner = owner_name()
        self.token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
        self.confirmed_at: float | None = None  # monotonic time of the last confirmation
        self._redis = client or aioredis.Redis.from_url(
            redis_url,
            socket_timeout=max(0.5, ttl_s / 3),
            socket_connect_timeout=max(0.5, ttl_s / 3),
            # a pooled connection that a restarted Redis closed is replaced at the first try
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
            decode_responses=True,
        )

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl_s * 1000)

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; raises ``RedisError``/``OSError`` without Redis."""
        taken = await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        if taken:
            self.confirmed_at = time.monotonic()
        return bool(taken)

    async def holder(self) -> str:
        """Who holds the lease now ("" when nobody does or Redis cannot be reached)."""
        try:
            value = await self._redis.get(self.key)
        except (RedisError, OSError):
            return ""
        return str(value or "").rsplit(":", 1)[0]

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until the lease is ours (True) or ``stop`` is set (False)."""
        said = ""
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    log.warning("lease: this runtime (%s) now drives the park", self.owner)
                    return True
                holder = await self.holder()
                if holder and holder != said:
                    log.warning("lease: standby; the park is driven by %s", holder)
                    said = holder
            except (RedisError, OSError) as exc:
                if said != "!":
                    log.warning("lease: standby; Redis cannot be reached (%s)", exc)
                    said = "!"
            try:
                async with asyncio.timeout(self.retry_s):
                    await stop.wait()
            except TimeoutError:
                pass
        return False

    async def renew(self) -> bool:
        """Confirm the lease once. True: still ours. False: someone else holds it now.
        Raises ``RedisError``/``OSError`` when Redis cannot be reached."""
        kept = await self._redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms)
        if not kept:
            # expired or lost with a restarted Redis: ours again only if nobody took it since
            kept = await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
        if kept:
            self.confirmed_at = time.monotonic()
        return bool(kept)

    async def hold(self) -> str:
        """Renew the lease until it is lost; returns why (for the log)."""
        every = self.ttl_s / 3
        while True:
            try:
                async with asyncio.timeout(every):
                    if not await self.renew():
                        return f"another runtime ({await self.holder() or 'unknown'}) holds the lease"
            except (RedisError, OSError, TimeoutError) as exc:
                unconfirmed = time.monotonic() - (self.confirmed_at or 0.0)
                if unconfirmed >= self.ttl_s:
                    return f"the lease could not be confirmed for {unconfirmed:.1f} s ({exc or type(exc).__name__})"
                await asyncio.sleep(min(self.retry_s, every))
                continue
            await asyncio.sleep(every)

    async def release(self) -> None:
        """Give the lease up (a clean stop: the standby need not wait for it to expire)."""
        with contextlib.suppress(RedisError, OSError):  # else it expires by itself
            await self._redis.eval(_RELEASE, 1, self.key, self.token)
        self.confirmed_at = None

    async def close(self) -> None:
        await self._redis.aclose()
