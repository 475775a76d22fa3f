"""Fan-out figures of the live dashboard: N browsers follow one embedded server (issue 13).

For every publish (identified by the snapshot time each frame carries) it records when each
browser received it: the spread (last browser minus first), the latency of the last browser
(snapshot time to arrival), the bytes on the wire per browser and second (after
permessage-deflate, when the server accepts it), and the server's CPU meanwhile.

Prints figures only; nothing here is a pass/fail test. Used by ``manage.py benchmark``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

if TYPE_CHECKING:
    from benchmarks.live import Server

GENERATED_RE = re.compile(r'data-generated-at="([0-9.]+)"')
JSON_GENERATED_RE = re.compile(r'"g":\s*([0-9.]+)')


class CountingConnection(ClientConnection):
    """A WebSocket client connection that counts the bytes on the wire and when they arrived."""

    wire_bytes = 0
    rx_at = 0.0

    def data_received(self, data: bytes) -> None:
        self.rx_at = time.time()
        self.wire_bytes += len(data)
        super().data_received(data)


def generated_at(frame: str) -> float | None:
    """The snapshot time a dashboard frame carries (HTML heartbeat or compact JSON update)."""
    match = (JSON_GENERATED_RE if frame.startswith("{") else GENERATED_RE).search(frame)
    if match is None:
        return None
    with contextlib.suppress(ValueError):
        value = float(match.group(1))
        return value if value > 0 else None
    return None


@dataclass
class Browser:
    """One dashboard WebSocket: arrival time per snapshot time, bytes on the wire."""

    ws: CountingConnection
    arrivals: dict[float, float] = field(default_factory=dict)
    frames: int = 0
    task: asyncio.Task[None] | None = None
    compressed: bool = False

    async def read(self) -> None:
        async for frame in self.ws:
            arrived = self.ws.rx_at or time.time()
            text = frame if isinstance(frame, str) else frame.decode()
            self.frames += 1
            g = generated_at(text)
            if g is not None and g not in self.arrivals:
                self.arrivals[g] = arrived


@dataclass
class FanoutFigures:
    browsers: int
    seconds: float
    publishes: int
    spread_ms: list[float]
    last_latency_ms: list[float]
    first_latency_ms: list[float]
    kib_s: list[float]
    cpu_percent: float
    compressed: bool


async def open_browsers(server: Server, n: int, ports: list[int] | None = None) -> list[Browser]:
    """``n`` dashboard WebSockets, to ``server.port`` or in turn to each of ``ports``."""
    browsers = []
    for i in range(n):
        port = ports[i % len(ports)] if ports else server.port
        ws = await ws_connect(
            f"ws://127.0.0.1:{port}/ws/dashboard/",
            origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
            max_size=None,
            open_timeout=20,
            create_connection=CountingConnection,
        )
        browser = Browser(ws=ws)  # type: ignore[arg-type]
        extensions = getattr(ws.protocol, "extensions", [])
        browser.compressed = any("deflate" in type(e).__name__.lower() for e in extensions)
        browser.task = asyncio.get_running_loop().create_task(browser.read())
        browsers.append(browser)
    return browsers


async def close_browsers(browsers: list[Browser]) -> None:
    for browser in browsers:
        if browser.task is not None:
            browser.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await browser.task
        with contextlib.suppress(Exception):
            await browser.ws.close()


async def follow(server: Server, browsers: list[Browser], seconds: float) -> FanoutFigures:
    """Let every browser follow the server for ``seconds`` (after they received the full picture)."""
    await asyncio.sleep(2.0)  # the full pictures and the first updates settle
    for browser in browsers:
        browser.arrivals.clear()
        browser.ws.wire_bytes = 0
    started, cpu_started = time.monotonic(), server.cpu_s()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    cpu = (server.cpu_s() - cpu_started) / elapsed * 100
    kib_s = [b.ws.wire_bytes / 1024 / elapsed for b in browsers]
    by_publish: dict[float, list[float]] = defaultdict(list)
    for browser in browsers:
        for g, arrived in browser.arrivals.items():
            by_publish[g].append(arrived)
    spread, last, first = [], [], []
    for g, times in by_publish.items():
        if len(times) < len(browsers):
            continue  # at the edges of the window: not every browser counted it
        spread.append((max(times) - min(times)) * 1000)
        last.append((max(times) - g) * 1000)
        first.append((min(times) - g) * 1000)
    return FanoutFigures(
        browsers=len(browsers),
        seconds=elapsed,
        publishes=len(spread),
        spread_ms=spread,
        last_latency_ms=last,
        first_latency_ms=first,
        kib_s=kib_s,
        cpu_percent=cpu,
        compressed=all(b.compressed for b in browsers),
    )


def summary_json(figures: FanoutFigures) -> str:
    return json.dumps({k: v for k, v in figures.__dict__.items() if not isinstance(v, list)})
