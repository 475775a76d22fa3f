"""The runtime's lease in Redis: one holder, a standby that takes over when it dies, a holder
that steps down when it cannot confirm its lease. Against a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wbm.runtime.lease import Lease

TTL_S = 0.6
RETRY_S = 0.1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test.sh installs it)"
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*argv, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def lease(server: RedisServer) -> Lease:
    return Lease(server.url, ttl_s=TTL_S, retry_s=RETRY_S)


def test_a_second_runtime_waits_while_the_first_holds_the_lease_and_takes_over_when_it_dies(redis_server):
    async def scenario() -> float:
        first, second = lease(redis_server), lease(redis_server)
        stop = asyncio.Event()
        assert await first.acquire(stop)
        holding = asyncio.create_task(first.hold())
        standby = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(3 * TTL_S)  # several lease periods: the holder renews, the standby waits
        assert not standby.done()
        assert await second.holder() == first.owner
        holding.cancel()  # the holder dies: no release, its lease runs out
        died = time.monotonic()
        assert await asyncio.wait_for(standby, timeout=5 * TTL_S)
        took = time.monotonic() - died
        assert not await first.renew()  # the old holder, were it only paused, finds it taken
        for each in (first, second):
            await each.close()
        return took

    took = asyncio.run(scenario())
    assert took <= TTL_S + 2 * RETRY_S + 0.2


def test_a_clean_stop_hands_the_lease_over_at_once(redis_server):
    async def scenario() -> float:
        first, second = lease(redis_server), lease(redis_server)
        stop = asyncio.Event()
        assert await first.acquire(stop)
        standby = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(TTL_S / 2)
        await first.release()
        released = time.monotonic()
        assert await asyncio.wait_for(standby, timeout=5 * TTL_S)
        for each in (first, second):
            await each.close()
        return time.monotonic() - released

    assert asyncio.run(scenario()) <= 2 * RETRY_S + 0.1


def test_a_holder_that_cannot_reach_redis_steps_down_after_the_lease_time(redis_server):
    async def scenario() -> tuple[str, float]:
        holder = lease(redis_server)
        assert await holder.acquire(asyncio.Event())
        holding = asyncio.create_task(holder.hold())
        await asyncio.sleep(TTL_S)
        redis_server.stop()
        gone = time.monotonic()
        why = await asyncio.wait_for(holding, timeout=10 * TTL_S)
        await holder.close()
        return why, time.monotonic() - gone

    why, after = asyncio.run(scenario())
    assert "could not be confirmed" in why
    assert TTL_S * 0.4 <= after <= TTL_S + 1.0


def test_a_holder_keeps_its_lease_across_a_short_redis_restart_that_lost_the_key(redis_server):
    async def scenario() -> bool:
        holder = lease(redis_server)
        assert await holder.acquire(asyncio.Event())
        redis_server.stop()  # no persistence: the key is gone with it
        redis_server.start()
        kept = await holder.renew()
        await holder.close()
        return kept

    assert asyncio.run(scenario()) is True


def test_a_holder_whose_lease_someone_else_took_steps_down(redis_server):
    async def scenario() -> str:
        first, second = lease(redis_server), lease(redis_server)
        assert await first.acquire(asyncio.Event())
        holding = asyncio.create_task(first.hold())
        await second._redis.set(second.key, second.token)  # e.g. after the first was paused too long
        why = await asyncio.wait_for(holding, timeout=5 * TTL_S)
        for each in (first, second):
            await each.close()
        return why

    assert "another runtime" in asyncio.run(scenario())


def test_the_standby_waits_without_redis_and_takes_the_lease_once_it_is_back(redis_server):
    async def scenario() -> bool:
        redis_server.stop()
        standby = lease(redis_server)
        stop = asyncio.Event()
        waiting = asyncio.create_task(standby.acquire(stop))
        await asyncio.sleep(3 * RETRY_S)
        assert not waiting.done()
        redis_server.start()
        got = await asyncio.wait_for(waiting, timeout=10 * TTL_S)
        await standby.close()
        return got

    assert asyncio.run(scenario()) is True


def test_a_lease_needs_positive_times():
    with pytest.raises(ValueError):
        Lease("redis://127.0.0.1:1/0", ttl_s=0)
