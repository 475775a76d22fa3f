"""The issue's budgets, measured against a real embedded server (``manage.py runwbm``) holding a
park of 120 configured charge points, in a temporary state directory of its own:

1. dashboard server time p50/p95, and its ratio to a bare view in the same server;
2. state change in the runtime → WebSocket message at a client, p95;
3. RSS of the server process idle, and after a while with every charge point changing each second;
4. the fan-out to N dashboard browsers (issue 13): spread and latency of the last browser per
   publish, bytes on the wire per browser and second (idle and busy park), server CPU;
5. a big park (600 configured charge points in 50 stations): dashboard server time, the fan-out's
   CPU with N browsers, RSS.

Prints figures only; nothing here is a pass/fail test.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import connect as ws_connect

from benchmarks import fanout

ROOT = Path(__file__).resolve().parent.parent
DEMO_CHARGEPOINTS = 4  # configured ones in the demo park (plus one unconfigured)

BUDGET_DASHBOARD_P95_MS = 30.0
BUDGET_DASHBOARD_RATIO = 3.0
BUDGET_WS_P95_MS = 10.0  # one browser, loopback (issue 13)
BUDGET_RSS_IDLE_MB = 120.0
BUDGET_SPREAD_P95_MS = 20.0  # first to last of N browsers, per publish
BUDGET_LAST_P95_MS = 30.0  # runtime change -> frame at the last of N browsers
BUDGET_BUSY_KIB_S = 8.0  # per dashboard browser, every charge point charging
BUDGET_IDLE_KIB_S = 2.0  # per dashboard browser, idle park
BUDGET_BIG_DASHBOARD_P95_MS = 30.0
BUDGET_BIG_CPU_PERCENT = 50.0  # of one core, N browsers following the big park
BUDGET_BIG_RSS_MB = 200.0

CARD_RE = re.compile(r'<article id="cp-(\d+)" class="card st-(\w+)"')
GENERATED_RE = re.compile(r'data-generated-at="([0-9.]+)"')


@dataclass
class Options:
    chargepoints: int = 120
    requests: int = 200
    samples: int = 100
    duration_s: int = 300
    keep: bool = False
    browsers: int = 50
    fanout_s: int = 20
    big: int = 600  # 0: no big park


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "OVER"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``manage.py runwbm`` in its own state directory: one process, embedded mode."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    token: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "DATABASE_URL", "WBM_RUNTIME_TRANSPORT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        }
        env.update(
            {
                "WBM_STATE_DIR": str(self.state_dir),
                "WBM_SERVER_TIMING": "1",
                "WBM_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def prepare(self, chargepoints: int) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("loaddemo", "--extra-chargepoints", str(chargepoints - DEMO_CHARGEPOINTS))
        self.token = self.manage("apitoken", "benchmark", "--role", "manufacturer")

    def start(self) -> None:
        log = (self.state_dir / "runwbm.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runwbm", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runwbm ended with {self.proc.returncode}; see {self.state_dir / 'runwbm.log'}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, body, _ = self.get("/")
                if status == 200 and "data-status=" in body:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("runwbm did not serve the dashboard within 120 s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def rss_mb(self) -> float:
        assert self.proc is not None
        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def cpu_s(self) -> float:
        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    # --- HTTP ------------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, conn: http.client.HTTPConnection | None = None
    ) -> tuple[int, str, dict[str, str]]:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept": "text/html,application/json"}
        payload = None
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            received: dict[str, str] = {}
            for key, value in response.getheaders():  # repeated headers joined, as HTTP allows
                name = key.lower()
                received[name] = f"{received[name]}, {value}" if name in received else value
            return response.status, text, received
        finally:
            if own:
                conn.close()

    def get(self, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path, conn=conn)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, text, _ = self.request(method, "/api/v1" + path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path}: {status} {text[:300]}")
        return json.loads(text)


# --- 1. dashboard server time ------------------------------------------------------------------


def server_ms(headers: dict[str, str], metric: str) -> float:
    match = re.search(rf"\b{metric};dur=([0-9.]+)", headers.get("server-timing", ""))
    if not match:
        raise RuntimeError(f"no Server-Timing {metric}: is WBM_SERVER_TIMING honoured?")
    return float(match.group(1))


def measure_pages(server: Server, requests: int) -> dict[str, dict[str, list[float]]]:
    """Alternate dashboard and bare view on one keep-alive connection, so background work of the
    runtime (a tick every second) falls on both alike."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    results: dict[str, dict[str, list[float]]] = {
        p: {"server": [], "django": [], "client": []} for p in ("/", "/livez")
    }
    try:
        for i in range(requests + 20):
            for path in ("/", "/livez"):
                started = time.perf_counter()
                status, body, headers = server.get(path, conn)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise RuntimeError(f"GET {path}: {status}")
                if i < 20:  # warm-up: templates compiled, connections open
                    continue
                results[path]["server"].append(server_ms(headers, "asgi"))
                results[path]["django"].append(server_ms(headers, "app"))
                results[path]["client"].append(elapsed)
                if path == "/" and i == 20:
                    cards = body.count('<article id="cp-')
                    results[path]["cards"] = [float(cards)]
                    results[path]["bytes"] = [float(len(body))]
    finally:
        conn.close()
    return results


# --- 2. runtime → WebSocket latency --------------------------------------------------------------


class Frames:
    """A dashboard WebSocket client that timestamps every frame on arrival."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.queue: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.frames = 0
        self.cards = 0
        self._task: asyncio.Task[None] | None = None
        self._ws: Any = None

    async def __aenter__(self) -> Frames:
        url = f"ws://127.0.0.1:{self.server.port}/ws/dashboard/"
        self._ws = await ws_connect(
            url,
            origin=f"http://127.0.0.1:{self.server.port}",  # type: ignore[arg-type]
            max_size=None,
            open_timeout=10,
        )
        self._task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._ws.close()

    async def _read(self) -> None:
        async for frame in self._ws:
            arrived = time.time()
            self.frames += 1
            self.cards += frame.count('<article id="cp-')
            self.queue.put_nowait((arrived, str(frame)))

    def drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    async def wait_for_card(self, cp: int, status: str, timeout_s: float = 10.0) -> tuple[float, float]:
        """(arrival time, the runtime's snapshot time) of the first frame showing ``cp`` in ``status``."""
        async with asyncio.timeout(timeout_s):
            while True:
                arrived, frame = await self.queue.get()
                for match in CARD_RE.finditer(frame):
                    if int(match.group(1)) == cp and match.group(2) == status:
                        generated = GENERATED_RE.search(frame)
                        return arrived, float(generated.group(1)) if generated else float("nan")


@dataclass
class Latency:
    from_runtime_ms: list[float] = field(default_factory=list)  # snapshot time → frame arrival
    from_request_ms: list[float] = field(default_factory=list)  # API request sent → frame arrival


async def sample_changes(
    server: Server, frames: Frames, changes: list[tuple[int, str, dict[str, Any], str]]
) -> Latency:
    """Apply each simulator change through the API and time until its card arrives."""
    result = Latency()
    for cp, op, body, expected in changes:
        frames.drain()
        sent = time.time()
        call = asyncio.get_running_loop().run_in_executor(
            None, server.api, "POST", f"/simulator/chargepoints/{cp}/{op}/", body
        )
        arrived, generated = await frames.wait_for_card(cp, expected)
        await call
        result.from_runtime_ms.append((arrived - generated) * 1000)
        result.from_request_ms.append((arrived - sent) * 1000)
    return result


# --- the whole run -------------------------------------------------------------------------------


def measure_decisions(chargepoints: int, ticks: int = 2000) -> list[float]:
    """Milliseconds per tick for the one decision (``claims.decide``) of every charge point, each
    with a realistic set of claims: the configured maximum, a load-management cap that must be
    renewed, an OCPP cap, a grant, and on every tenth charge point a derating cap and a block."""
    from wbm.runtime.claims import Claim, Kind, Limits, Offer, Source, decide

    limits = Limits(min_a=6.0, fallback_a=6.0, grant_sources=frozenset({Source.USER, Source.WHITELIST}))
    park: list[tuple[Claim, ...]] = []
    for cp in range(chargepoints):
        claims = [
            Claim(cp_id=cp, kind=Kind.CAP, source=Source.CONFIG, key="max_current", amps=32.0),
            Claim(
                cp_id=cp,
                kind=Kind.CAP,
                source=Source.LOAD_MANAGEMENT,
                amps=10.0 + cp % 7,
                expires_at=1e12,
                lapse_to_fallback=True,
            ),
            Claim(cp_id=cp, kind=Kind.CAP, source=Source.OCPP, amps=16.0),
            Claim(cp_id=cp, kind=Kind.GRANT, source=Source.USER, until_unplug=True),
        ]
        if cp % 10 == 0:
            claims.append(Claim(cp_id=cp, kind=Kind.CAP, source=Source.SAFETY, key="derating", amps=11.0))
            claims.append(Claim(cp_id=cp, kind=Kind.BLOCK, source=Source.EVENT_ACTION, key="ea1"))
        park.append(tuple(claims))
    previous = Offer(amps=10.0, changed_at=0.0)
    timings = []
    for tick in range(ticks):
        now = 1000.0 + tick
        began = time.perf_counter()
        for standing in park:
            decide(limits=limits, claims=standing, vehicle=True, previous=previous, now=now)
        timings.append((time.perf_counter() - began) * 1000)
    return timings


@contextlib.contextmanager
def embedded_server(chargepoints: int, prefix: str, options: Options, out: Callable[[str], None]) -> Iterator[Server]:
    """A prepared and started ``runwbm`` with ``chargepoints`` configured charge points in a
    temporary state directory (kept with ``options.keep``); stopped afterwards."""
    state_dir = Path(tempfile.mkdtemp(prefix=prefix))
    server = Server(state_dir=state_dir)
    try:
        out(f"state directory: {state_dir}")
        server.prepare(chargepoints)
        out(f"starting runwbm on 127.0.0.1:{server.port} (embedded mode, {os.cpu_count()} CPUs) …")
        server.start()
        yield server
    finally:
        server.stop()
        if options.keep:
            out(f"kept {state_dir}")
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


def run(options: Options, out: Callable[[str], None]) -> None:
    timings = measure_decisions(options.chargepoints)
    out(
        f"the one decision (claims.decide) for {options.chargepoints} charge points per tick: "
        f"p50 {percentile(timings, 50):.3f} ms, p95 {percentile(timings, 95):.3f} ms (in this process)"
    )
    with embedded_server(options.chargepoints, "wbm-bench-", options, out) as server:
        asyncio.run(_measure(server, options, out))
    if options.big:
        run_big(options, out)


def run_big(options: Options, out: Callable[[str], None]) -> None:
    """5. The big park: its own server with ``options.big`` configured charge points."""
    out("")
    out(f"big park: {options.big} configured charge points …")
    with embedded_server(options.big, "wbm-bench-big-", options, out) as server:
        asyncio.run(_measure_big(server, options, out))


def _plug_all(server: Server, ids: list[int]) -> None:
    for cp in ids:
        server.api("POST", f"/simulator/chargepoints/{cp}/plug_in/", {"phases": 3, "max_current_a": 16})


def _fanout_rows(out: Callable[[str], None], label: str, f: fanout.FanoutFigures, kib_budget: float) -> None:
    deflate = "permessage-deflate" if f.compressed else "uncompressed"
    out(f"   {label}: {f.browsers} browsers, {f.seconds:.0f} s, {f.publishes} publishes seen by all, {deflate}")
    if f.spread_ms:
        _row(out, "  spread first→last browser p50", f"{percentile(f.spread_ms, 50):.1f} ms")
        s95 = percentile(f.spread_ms, 95)
        _row(
            out,
            "  spread first→last browser p95",
            f"{s95:.1f} ms",
            f"<= {BUDGET_SPREAD_P95_MS:.0f} ms",
            verdict(s95, BUDGET_SPREAD_P95_MS),
        )
        _row(
            out,
            "  runtime → frame, first browser p50 / p95",
            f"{percentile(f.first_latency_ms, 50):.1f} / {percentile(f.first_latency_ms, 95):.1f} ms",
        )
        l95 = percentile(f.last_latency_ms, 95)
        _row(
            out, f"  runtime → frame, last ({f.browsers}th) browser p50", f"{percentile(f.last_latency_ms, 50):.1f} ms"
        )
        _row(
            out,
            f"  runtime → frame, last ({f.browsers}th) browser p95",
            f"{l95:.1f} ms",
            f"<= {BUDGET_LAST_P95_MS:.0f} ms",
            verdict(l95, BUDGET_LAST_P95_MS),
        )
    kib = max(f.kib_s) if f.kib_s else 0.0
    _row(
        out,
        "  KiB/s per browser on the wire (the most of any)",
        f"{kib:.2f} KiB/s",
        f"<= {kib_budget:.0f} KiB/s",
        verdict(kib, kib_budget),
    )
    _row(out, "  server CPU (of one core)", f"{f.cpu_percent:.0f} %")


async def _measure_big(server: Server, options: Options, out: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    park = server.api("GET", "/park/")
    configured = [cp["id"] for cp in park["chargepoints"] if cp["configured"]]
    stations = {cp["station_id"] for cp in park["chargepoints"] if cp["configured"]}
    await asyncio.sleep(3)
    rss_idle = server.rss_mb()
    await loop.run_in_executor(None, _plug_all, server, configured)
    await asyncio.sleep(2)
    pages = await loop.run_in_executor(None, measure_pages, server, options.requests)
    dash = pages["/"]
    browsers = await fanout.open_browsers(server, options.browsers)
    try:
        figures = await fanout.follow(server, browsers, options.fanout_s)
    finally:
        await fanout.close_browsers(browsers)
    rss = server.rss_mb()
    out("")
    out(f"5. Big park: {len(configured)} configured charge points in {len(stations)} stations, every vehicle charging")
    dashboard_rows(out, dash["server"], BUDGET_BIG_DASHBOARD_P95_MS)
    _row(out, "dashboard page size", f"{dash['bytes'][0] / 1024:.0f} KiB")
    _fanout_rows(out, "fan-out", figures, BUDGET_BUSY_KIB_S)
    _row(
        out,
        f"server CPU with {figures.browsers} browsers",
        f"{figures.cpu_percent:.0f} %",
        f"< {BUDGET_BIG_CPU_PERCENT:.0f} %",
        verdict(figures.cpu_percent, BUDGET_BIG_CPU_PERCENT - 0.001),
    )
    _row(out, "RSS idle (started, no vehicles, no client)", f"{rss_idle:.1f} MB")
    _row(
        out,
        f"RSS after the fan-out ({figures.browsers} browsers)",
        f"{rss:.1f} MB",
        f"<= {BUDGET_BIG_RSS_MB:.0f} MB",
        verdict(rss, BUDGET_BIG_RSS_MB),
    )


def dashboard_rows(out: Callable[[str], None], server_ms: list[float], budget_ms: float) -> None:
    """The dashboard's server time p50 and p95 (against ``budget_ms``)."""
    d95 = percentile(server_ms, 95)
    _row(out, "dashboard server time p50", f"{percentile(server_ms, 50):.2f} ms")
    _row(out, "dashboard server time p95", f"{d95:.2f} ms", f"<= {budget_ms:.0f} ms", verdict(d95, budget_ms))


def _row(out: Callable[[str], None], label: str, value: str, budget: str = "", result: str = "") -> None:
    out(f"  {label:<58} {value:>14}  {budget:<12} {result}")


async def _measure(server: Server, options: Options, out: Callable[[str], None]) -> None:
    load_start = os.getloadavg()[0]
    park = server.api("GET", "/park/")
    configured = [cp for cp in park["chargepoints"] if cp["configured"]]
    permanent = [cp["id"] for cp in configured if cp["release_mode"] == "permanent"]
    out(f"park: {len(park['chargepoints'])} charge points, {len(configured)} configured (dashboard cards)")

    await asyncio.sleep(3)
    rss_idle = server.rss_mb()

    # 1. pages
    loop = asyncio.get_running_loop()
    pages = await loop.run_in_executor(None, measure_pages, server, options.requests)
    dash, bare = pages["/"], pages["/livez"]
    d50, d95 = percentile(dash["server"], 50), percentile(dash["server"], 95)
    b50, b95 = percentile(bare["server"], 50), percentile(bare["server"], 95)
    ratio = max(d95 / b95, d50 / b50)

    # 4a. fan-out on the idle park (no vehicle yet)
    browsers = await fanout.open_browsers(server, options.browsers)
    try:
        fan_idle = await fanout.follow(server, browsers, max(5, options.fanout_s // 2))
    finally:
        await fanout.close_browsers(browsers)

    # 2. latency: an idle park (each sample plugs a vehicle in), then a busy one (pause/resume)
    async with Frames(server) as frames:
        await frames.queue.get()  # the full picture on connect
        targets = permanent[: options.samples]
        idle = await sample_changes(
            server, frames, [(cp, "plug_in", {"phases": 3, "max_current_a": 16}, "charging") for cp in targets]
        )
        for cp in configured:  # vehicles at every charge point: every card changes each tick
            if cp["id"] not in targets:
                await loop.run_in_executor(
                    None,
                    server.api,
                    "POST",
                    f"/simulator/chargepoints/{cp['id']}/plug_in/",
                    {"phases": 3, "max_current_a": 16},
                )
        changes: list[tuple[int, str, dict[str, Any], str]] = []
        for i in range(options.samples):
            cp = targets[(i // 2) % len(targets)]
            changes.append(
                (cp, "vehicle", {"action": "pause"}, "occupied")
                if i % 2 == 0
                else (cp, "vehicle", {"action": "start"}, "charging")
            )
        busy = await sample_changes(server, frames, changes)

        # 4b. fan-out with every vehicle charging (the one browser above stays connected)
        browsers = await fanout.open_browsers(server, options.browsers)
        try:
            fan_busy = await fanout.follow(server, browsers, options.fanout_s)
        finally:
            await fanout.close_browsers(browsers)

        # 3. memory under load, with one dashboard following live
        frames.frames = frames.cards = 0
        started, cpu_started = time.monotonic(), server.cpu_s()
        rss_max = rss_now = server.rss_mb()
        trend: list[tuple[float, float]] = [(0.0, rss_now)]
        out(
            f"load: {len(configured)} vehicles plugged in, one dashboard client connected, "
            f"running {options.duration_s} s …"
        )
        while time.monotonic() - started < options.duration_s:
            await asyncio.sleep(min(10.0, max(0.1, options.duration_s - (time.monotonic() - started))))
            frames.drain()
            rss_now = server.rss_mb()
            rss_max = max(rss_max, rss_now)
            trend.append((time.monotonic() - started, rss_now))
        elapsed = time.monotonic() - started
        cpu_share = (server.cpu_s() - cpu_started) / elapsed * 100
        frames_per_s = frames.frames / elapsed
        cards_per_frame = frames.cards / max(1, frames.frames)

    all_latency = idle.from_runtime_ms + busy.from_runtime_ms
    w95 = percentile(all_latency, 95)
    out("")
    out("WBM benchmark (embedded mode: one runwbm process with Daphne and the runtime)")
    out(
        f"  machine: {os.cpu_count()} CPUs, load average at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} "
        "(other work on the machine slows every figure)"
    )
    out(f"  {'figure':<58} {'value':>14}  {'budget':<12} result")
    out("1. Dashboard, server time = Server-Timing 'asgi' measured inside the server process, from the")
    out("   request reaching the ASGI application to the response starting (Django's ASGI handler, the")
    out("   worker thread hop, middleware, view); outside it are only Daphne's HTTP parsing and the")
    out(f"   network. {options.requests} requests each, {int(dash['cards'][0])} charge point cards on the page:")
    _row(out, "dashboard / p50", f"{d50:.2f} ms")
    _row(
        out,
        "dashboard / p95",
        f"{d95:.2f} ms",
        f"<= {BUDGET_DASHBOARD_P95_MS:.0f} ms",
        verdict(d95, BUDGET_DASHBOARD_P95_MS),
    )
    _row(out, "bare view /livez p50 / p95", f"{b50:.2f} / {b95:.2f} ms")
    _row(
        out,
        "ratio dashboard / bare view, p50 | p95 (the larger counts)",
        f"{d50 / b50:.2f} | {d95 / b95:.2f}",
        f"<= {BUDGET_DASHBOARD_RATIO:.0f}",
        verdict(ratio, BUDGET_DASHBOARD_RATIO),
    )
    _row(
        out,
        "Django middleware + view only ('app'): dashboard p50 / p95",
        f"{percentile(dash['django'], 50):.2f} / {percentile(dash['django'], 95):.2f} ms",
    )
    _row(
        out,
        "Django middleware + view only ('app'): bare view p50 / p95",
        f"{percentile(bare['django'], 50):.2f} / {percentile(bare['django'], 95):.2f} ms",
    )
    _row(
        out,
        "client time for reference: dashboard p50 / p95",
        f"{percentile(dash['client'], 50):.1f} / {percentile(dash['client'], 95):.1f} ms",
    )
    _row(
        out,
        "client time for reference: bare view p50 / p95",
        f"{percentile(bare['client'], 50):.1f} / {percentile(bare['client'], 95):.1f} ms",
    )
    out("2. State change in the runtime → WebSocket message at a client (snapshot time of the change")
    out(f"   to arrival of the frame with that card), {len(all_latency)} samples:")
    _row(
        out,
        f"p95, all samples ({len(all_latency)})",
        f"{w95:.1f} ms",
        f"<= {BUDGET_WS_P95_MS:.0f} ms",
        verdict(w95, BUDGET_WS_P95_MS),
    )
    _row(
        out,
        f"  idle park, plug-in ({len(idle.from_runtime_ms)}) p50 / p95",
        f"{percentile(idle.from_runtime_ms, 50):.1f} / {percentile(idle.from_runtime_ms, 95):.1f} ms",
    )
    _row(
        out,
        f"  all {len(configured)} charging, pause/resume ({len(busy.from_runtime_ms)}) p50 / p95",
        f"{percentile(busy.from_runtime_ms, 50):.1f} / {percentile(busy.from_runtime_ms, 95):.1f} ms",
    )
    _row(
        out,
        "  from the API request instead, p50 / p95",
        f"{percentile(idle.from_request_ms + busy.from_request_ms, 50):.1f} / "
        f"{percentile(idle.from_request_ms + busy.from_request_ms, 95):.1f} ms",
    )
    out("3. Memory (RSS) of the runwbm process:")
    _row(
        out,
        "idle (started, no vehicles, no client)",
        f"{rss_idle:.1f} MB",
        f"<= {BUDGET_RSS_IDLE_MB:.0f} MB",
        verdict(rss_idle, BUDGET_RSS_IDLE_MB),
    )
    _row(out, f"after {elapsed:.0f} s with {len(configured)} charge points changing", f"{rss_now:.1f} MB")
    _row(out, "  highest during that time", f"{rss_max:.1f} MB")
    step = max(1, len(trend) // 6)
    out("    RSS over that time: " + ", ".join(f"{t:.0f} s {mb:.1f} MB" for t, mb in trend[::step]))
    _row(out, "  WebSocket frames per second / cards per frame", f"{frames_per_s:.2f} / {cards_per_frame:.0f}")
    _row(out, "  CPU of the process during that time", f"{cpu_share:.0f} %")
    out("4. Fan-out to many dashboard browsers (snapshot time of each publish → arrival at each browser):")
    _fanout_rows(out, "idle park", fan_idle, BUDGET_IDLE_KIB_S)
    _fanout_rows(out, f"all {len(configured)} charging", fan_busy, BUDGET_BUSY_KIB_S)
