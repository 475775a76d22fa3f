"""The OCPP agent on loopback: CALL round trip (p50/p95 of Heartbeat) and the time to flush
10,000 queued messages in order after an outage (budget <= 10 s).

    .venv/bin/python -m benchmarks.ocpp [--calls 500] [--queued 10000] [--backend process|strict|in-process]

The agent runs in a runtime (controller + OCPP agent) on this process's loop; the backend is the
test CSMS of ``tests/ocpp/csms.py`` (the ``ocpp`` library's central side, schema checks on both
sides) in a process of its own (``--serve``, driven over stdin/stdout), as a real backend would
be: in this process it would share the GIL and its cost would count as the agent's.
``--backend strict`` uses ocpp-rpc's strict peer (Node) instead, a faster third-party backend;
``--backend in-process`` puts the test CSMS on this loop again (the older, pessimistic figure).
Prints figures only; nothing here is a pass/fail test.
"""

# ruff: noqa: ASYNC110 - polling the agent's and the CSMS's state is the measurement here
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET_FLUSH_S = 10.0
DESCRIPTIONS = {
    "process": "the test CSMS (ocpp library) in a process of its own",
    "strict": "ocpp-rpc's strict central system (Node) in a process of its own",
    "in-process": "the test CSMS on this process's loop (shares the GIL: pessimistic)",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def setup_django(state: str) -> None:
    os.environ["WBM_STATE_DIR"] = state
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class RemoteCsms:
    """The test CSMS in a child process (``python -m benchmarks.ocpp --serve``): start/stop on the
    same port, and a report of what arrived (count of MeterValues, in order, violations)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.ocpp", "--serve"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.port = int(self._ask("start")["port"])

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def url(self, charge_box_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{charge_box_id}"

    async def call(self, command: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._ask, command)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


class StrictBackend:
    """ocpp-rpc's strict central system (Node, ``tests/ocpp/node``) as the backend: a third-party
    implementation that checks every frame too, at a fraction of the test CSMS's cost per CALL.
    Its event lines go to a file, so no thread of this process reads them during the flush."""

    def __init__(self, folder: str) -> None:
        self.events = Path(folder) / "strict-events.jsonl"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, charge_box_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{charge_box_id}"

    async def call(self, command: str) -> dict[str, Any]:
        if command == "start":
            first = await asyncio.to_thread(self._spawn)
            while not (port := self._listening(first)):
                await asyncio.sleep(0.05)
            self.port = port
            return {"port": port}
        if command == "stop":
            process, self.process = self.process, None
            if process is not None and process.stdin is not None:
                process.stdin.close()
                await asyncio.to_thread(process.wait, 10)
            return {}
        events = [json.loads(line) for line in self.events.read_text().splitlines() if line.startswith("{")]
        values = [
            int(e["params"]["meterValue"][0]["sampledValue"][0]["value"])
            for e in events
            if e["event"] == "call" and e["method"] == "MeterValues"
        ]
        bad = [e for e in events if e["event"] in ("strictValidationFailure", "badMessage")]
        return {"count": len(values), "in_order": values == sorted(values), "violations": len(bad), "cpu_s": 0.0}

    def _spawn(self) -> int:
        with self.events.open("ab") as out:
            first = self.events.stat().st_size
            self.process = subprocess.Popen(
                ["node", "strict_cs.js", str(self.port)],
                cwd=ROOT / "tests" / "ocpp" / "node",
                stdin=subprocess.PIPE,
                stdout=out,
            )
        return first

    def _listening(self, first: int) -> int:
        with self.events.open("rb") as events:
            events.seek(first)
            for line in events:
                if b'"listening"' in line:
                    return int(json.loads(line)["port"])
        return 0

    def close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
            self.process.wait(10)


class LocalCsms:
    """The same interface with the CSMS on this process's loop."""

    def __init__(self) -> None:
        from tests.ocpp.csms import Csms

        self.csms = Csms()
        self.port = 0

    def url(self, charge_box_id: str) -> str:
        return self.csms.url(charge_box_id)

    async def call(self, command: str) -> dict[str, Any]:
        return await _serve_command(self.csms, command)

    def close(self) -> None:
        return None


async def _serve_command(csms: Any, command: str) -> dict[str, Any]:
    if command == "start":
        await csms.start()
        return {"port": csms.port}
    if command == "stop":
        await csms.stop()
        return {}
    values = [int(p["meterValue"][0]["sampledValue"][0]["value"]) for p in csms.calls("MeterValues")]
    return {
        "count": len(values),
        "in_order": values == sorted(values),
        "violations": len(csms.violations),
        "cpu_s": time.process_time(),
    }


async def serve() -> None:
    """The child: a CSMS answering commands on stdin (start, stop, report), one JSON line each."""
    sys.path.insert(0, str(ROOT))
    from tests.ocpp.csms import Csms

    csms = Csms()
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        answer = await _serve_command(csms, line.strip())
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    await csms.stop()


async def run(calls: int, queued: int, backend: str, folder: str) -> None:
    import logging

    from asgiref.sync import sync_to_async
    from django.conf import settings

    from chargepoints.controller.agent import ControllerAgent
    from ocppcfg.agent import OcppAgent
    from ocppcfg.models import OcppSettings, OutboxMessage
    from wbm.runtime.backends.simulated import SimulatedBackend
    from wbm.runtime.core import Runtime

    logging.getLogger("ocppcfg").setLevel(logging.WARNING)
    settings.WBM_OCPP_OUTBOX_MAX = queued + 100
    settings.WBM_OCPP_BACKOFF_MIN_S, settings.WBM_OCPP_BACKOFF_MAX_S = 0.1, 0.5  # the flush, not the back-off
    csms: RemoteCsms | LocalCsms | StrictBackend
    if backend == "in-process":
        csms = LocalCsms()
        await csms.call("start")
    elif backend == "strict":
        csms = StrictBackend(folder)
        await csms.call("start")
    else:
        csms = RemoteCsms()
    print(f"backend: {DESCRIPTIONS[backend]}")
    await sync_to_async(OcppSettings.objects.update_or_create)(pk=1, defaults={"backend_url": csms.url("BENCH")})
    runtime = Runtime(SimulatedBackend(seed=1), tick_s=1.0, serve_commands=False, agents=[ControllerAgent, OcppAgent])
    await runtime.start()
    try:
        agent = runtime.agent("ocpp")
        assert isinstance(agent, OcppAgent)
        deadline = time.monotonic() + 10
        while not agent.accepted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        rtts = []
        for _ in range(calls):
            t0 = time.perf_counter()
            assert await agent.send(("Heartbeat", {})) is not None
            rtts.append((time.perf_counter() - t0) * 1000)
        print(
            f"CALL round trip (Heartbeat, {calls} calls): p50 {percentile(rtts, 50):.2f} ms, "
            f"p95 {percentile(rtts, 95):.2f} ms"
        )

        await csms.call("stop")
        while agent.connected:
            await asyncio.sleep(0.05)
        value = {"timestamp": "2026-01-01T00:00:00.000Z", "sampledValue": [{"value": "1"}]}

        def fill() -> None:
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            OutboxMessage.objects.bulk_create(
                OutboxMessage(
                    action="MeterValues",
                    payload={"connectorId": 1, "meterValue": [{**value, "sampledValue": [{"value": str(i)}]}]},
                    unique_id=f"bench-{i}",
                    created_at=now,
                )
                for i in range(queued)
            )

        await sync_to_async(fill)()
        csms_cpu0 = (await csms.call("report"))["cpu_s"]
        t0, cpu0 = time.perf_counter(), time.process_time()
        await csms.call("start")
        while await sync_to_async(OutboxMessage.objects.count)():
            await asyncio.sleep(0.05)
            if time.perf_counter() - t0 > 120:
                break
        flushed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        report = await csms.call("report")
        print(
            f"flush of {queued} queued messages (reconnect and boot included): {flushed:.2f} s "
            f"(budget {BUDGET_FLUSH_S:.0f} s), arrived: {report['count']}, in order: {report['in_order']}, "
            f"violations: {report['violations']}"
        )
        print(
            f"CPU during the flush: agent process {cpu:.2f} s ({cpu / queued * 1e3:.3f} ms per message), "
            f"CSMS {report['cpu_s'] - csms_cpu0:.2f} s; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores (wall times depend on it, CPU times hardly)"
        )
    finally:
        await runtime.stop()
        await csms.call("stop")
        csms.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--backend", choices=sorted(DESCRIPTIONS), default="process")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    with tempfile.TemporaryDirectory(prefix="wbm-ocpp-bench-") as state:
        setup_django(state)
        asyncio.run(run(args.calls, args.queued, args.backend, state))


if __name__ == "__main__":
    main()
