"""The live path in scaled mode (issue 13, point 5): the dashboard's figures with two Daphne web
processes and one ``runcontroller`` behind Redis (channel layer and cache) and PostgreSQL, as the
README's scaled-mode recipe runs them (nginx left out: the browsers connect to both web processes
directly, half to each, so the figures are the processes' own).

Measured, each with the embedded budget: runtime change → frame at one browser; the fan-out to
N browsers (spread, last browser, KiB/s per browser, CPU of all three processes); the dashboard's
server time; and what the runtime sends to Redis per tick with no browser and with N browsers
(MONITOR: a publish is one group send per group, whatever the number of browsers).

Uses the throw-away servers of the test suite (``tests/scaledstack.py``: redis-server and a
PostgreSQL cluster of their own on free ports). Prints figures only; ``manage.py benchmark
--scaled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from benchmarks import fanout
from benchmarks.live import (
    BUDGET_BUSY_KIB_S,
    BUDGET_DASHBOARD_P95_MS,
    BUDGET_WS_P95_MS,
    DEMO_CHARGEPOINTS,
    Frames,
    Options,
    Server,
    _fanout_rows,
    _plug_all,
    _row,
    dashboard_rows,
    measure_pages,
    percentile,
    sample_changes,
    verdict,
)
from tests.scaledstack import Stack, postgres_cluster, redis_server, stack_env


class _Dirs:
    """Stands for pytest's ``tmp_path_factory`` where ``tests.scaledstack`` asks for one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


@dataclass
class ScaledServer(Server):
    """The stack seen as ``benchmarks.live`` sees a server: requests go to the first web process,
    CPU and memory are those of all WBM processes together."""

    stack: Stack | None = None
    ports: list[int] = field(default_factory=list)

    def _procs(self) -> list[psutil.Process]:
        assert self.stack is not None
        return [psutil.Process(p.pid) for p in self.stack.procs.values() if p.poll() is None]

    def cpu_s(self) -> float:
        return sum(t.user + t.system for t in (p.cpu_times() for p in self._procs()))

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self._procs()) / 2**20


@contextlib.contextmanager
def scaled_server(chargepoints: int, webs: int = 2) -> Iterator[ScaledServer]:
    root = Path(tempfile.mkdtemp(prefix="wbm-bench-scaled-"))
    dirs = _Dirs(root)
    try:
        with redis_server(dirs.mktemp("redis")) as rds, postgres_cluster() as pg:
            tmp = dirs.mktemp("stack")
            env = stack_env(tmp, redis_url=rds.url, database_url=pg.url)
            env.update({"WBM_TICK_S": "1", "WBM_SERVER_TIMING": "1", "WBM_LOG_LEVEL": "WARNING"})
            stack = Stack(env=env, tmp=tmp, redis=rds, postgres=pg)
            try:
                stack.manage("migrate", "--noinput", "-v0")
                stack.manage("loaddemo", "--extra-chargepoints", str(chargepoints - DEMO_CHARGEPOINTS))
                stack.manage("collectstatic", "--noinput", "-v0")
                token = stack.manage("apitoken", "benchmark", "--role", "manufacturer").strip()
                names = [stack.start_web() for _ in range(webs)]
                stack.start_controller()
                ports = [stack.web_ports[name] for name in names]
                yield ScaledServer(state_dir=tmp, port=ports[0], token=token, stack=stack, ports=ports)
            except BaseException:
                for name in stack.procs:  # what the processes said, before it is removed
                    print(f"--- {name} (last lines):\n{stack.log(name)[-3000:]}")
                raise
            finally:
                stack.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _count_group_sends(url: str, seconds: float) -> int:
    """Group sends seen by Redis in ``seconds`` (MONITOR): channels_redis sends to a group with
    one call of its capacity-checking Lua script, whoever sends (the runtime: park and system)."""
    client = redis.Redis.from_url(url)
    sends = 0
    deadline = time.monotonic() + seconds
    try:
        with client.monitor() as monitor:
            for command in monitor.listen():  # a running stack talks to Redis many times a second
                if command.get("command", "").startswith("EVAL") and "over_capacity" in command["command"]:
                    sends += 1
                if time.monotonic() >= deadline:
                    break
    finally:
        client.close()
    return sends


async def sends_per_second(server: ScaledServer, seconds: float) -> float:
    assert server.stack is not None
    url = server.stack.redis.url
    return await asyncio.get_running_loop().run_in_executor(None, _count_group_sends, url, seconds) / seconds


def run_scaled(options: Options, out: Callable[[str], None]) -> None:
    out("")
    out(
        f"scaled mode: 2 Daphne web processes + runcontroller, Redis and PostgreSQL of their own, "
        f"{options.chargepoints} charge points …"
    )
    with scaled_server(options.chargepoints) as server:
        asyncio.run(_measure_scaled(server, options, out))


async def _measure_scaled(server: ScaledServer, options: Options, out: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    park = server.api("GET", "/park/")
    configured = [cp["id"] for cp in park["chargepoints"] if cp["configured"]]
    permanent = [cp["id"] for cp in park["chargepoints"] if cp["configured"] and cp["release_mode"] == "permanent"]
    await asyncio.sleep(3)

    # one browser: runtime change → frame (each sample plugs a vehicle in)
    async with Frames(server) as frames:
        await frames.queue.get()
        targets = permanent[: options.samples]
        latency = await sample_changes(
            server, frames, [(cp, "plug_in", {"phases": 3, "max_current_a": 16}, "charging") for cp in targets]
        )
    await loop.run_in_executor(None, _plug_all, server, [cp for cp in configured if cp not in targets])
    await asyncio.sleep(2)

    # what the runtime sends per second with one browser (no member, no send), then with N
    async with Frames(server):
        one = await sends_per_second(server, 10)
    browsers = await fanout.open_browsers(server, options.browsers, ports=server.ports)
    try:
        figures, busy = await asyncio.gather(
            fanout.follow(server, browsers, options.fanout_s), sends_per_second(server, options.fanout_s)
        )
    finally:
        await fanout.close_browsers(browsers)
    pages = await loop.run_in_executor(None, measure_pages, server, options.requests)
    dash = pages["/"]

    out("")
    out(
        f"6. Scaled mode: {len(configured)} configured charge points, every vehicle charging, web processes on "
        f"ports {', '.join(map(str, server.ports))}, browsers split between them:"
    )
    l95 = percentile(latency.from_runtime_ms, 95)
    _row(
        out,
        f"runtime → frame, one browser, plug-in ({len(targets)}) p50",
        f"{percentile(latency.from_runtime_ms, 50):.1f} ms",
    )
    _row(
        out,
        "runtime → frame, one browser, p95",
        f"{l95:.1f} ms",
        f"<= {BUDGET_WS_P95_MS:.0f} ms",
        verdict(l95, BUDGET_WS_P95_MS),
    )
    _fanout_rows(out, "fan-out", figures, BUDGET_BUSY_KIB_S)
    dashboard_rows(out, dash["server"], BUDGET_DASHBOARD_P95_MS)
    _row(out, "group sends to Redis per second, one browser", f"{one:.2f}")
    _row(
        out,
        f"group sends to Redis per second, {figures.browsers} browsers",
        f"{busy:.2f}",
        "the same",
        "PASS" if busy <= one * 1.2 + 0.2 else "OVER",
    )
    _row(out, "RSS of the three processes", f"{server.rss_mb():.0f} MB")
