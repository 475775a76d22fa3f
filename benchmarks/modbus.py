"""The Modbus server under polling: 10 clients each reading X232–X308 (77 registers) of one charge
point every second, as Home Assistant and energy managers do.

Prints the read latency p50/p95 (budget p95 ≤ 5 ms) and the controller's tick (its ``step()``)
p50/p95 without and with the polling. A runtime with the demo park runs in this process, on a
real clock (``WBM_TICK_S``), with a temporary state directory and database.

    .venv/bin/python -m benchmarks.modbus [--clients 10] [--duration 30]

Prints figures only; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET_READ_P95_MS = 5.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def setup_django(state: str) -> None:
    os.environ["WBM_STATE_DIR"] = state
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
    os.environ["WBM_MODBUS_HOST"] = "127.0.0.1"
    os.environ["WBM_MODBUS_PORT"] = "0"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chargepoints.demo import load_demo_park

    load_demo_park()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=int, default=30, help="seconds per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wbm-modbus-bench-") as state:
        setup_django(state)
        run(args.clients, args.duration)


def run(clients: int, duration: int) -> None:
    from pymodbus.client import AsyncModbusTcpClient

    from modbus.agent import ModbusAgent
    from wbm import registry
    from wbm.runtime.backends.simulated import SimulatedBackend
    from wbm.runtime.core import Runtime

    agents = [a for a in registry.agent_classes() if a.name != "modbus"]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    runtime = Runtime(SimulatedBackend(seed=1, state_file=None), agents=[*agents, ModbusAgent])

    def on_loop(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    on_loop(runtime.start())
    controller: Any = runtime.agent("controller")
    ticks: list[float] = []
    step = controller.step

    async def timed_step() -> None:
        started = time.perf_counter()
        await step()
        ticks.append((time.perf_counter() - started) * 1000)

    controller.step = timed_step
    while not (runtime.snapshot and runtime.snapshot.agent_state("modbus")):
        time.sleep(0.05)
    port = runtime.snapshot.agent_state("modbus")["port"]  # type: ignore[index]
    print(f"Modbus server on 127.0.0.1:{port}; {len(runtime.snapshot.chargepoints)} charge points")  # type: ignore[union-attr]

    time.sleep(duration)
    idle = list(ticks)[1:]  # the first tick warms caches up
    ticks.clear()

    latencies: list[float] = []
    errors = 0

    async def poll(index: int, until: float) -> None:
        nonlocal errors
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3)
        await client.connect()
        await asyncio.sleep(index / clients)  # spread over the second
        while time.monotonic() < until:
            started = time.perf_counter()
            result = await client.read_holding_registers(1232, count=77, device_id=1)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += int(result.isError())
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
        client.close()

    async def polling() -> None:
        until = time.monotonic() + duration
        await asyncio.gather(*(poll(i, until) for i in range(clients)))

    asyncio.run(polling())  # the clients on a loop of their own, as separate programs would be
    polled = list(ticks)
    on_loop(runtime.stop())
    loop.call_soon_threadsafe(loop.stop)

    p95 = percentile(latencies, 95)
    verdict = "within" if p95 <= BUDGET_READ_P95_MS else "OVER"
    print(f"reads: {len(latencies)} by {clients} clients, {errors} errors")
    print(
        f"read latency X232-X308: p50 {percentile(latencies, 50):.2f} ms, p95 {p95:.2f} ms "
        f"(budget p95 <= {BUDGET_READ_P95_MS:.0f} ms: {verdict})"
    )
    print(
        f"controller tick without polling: p50 {percentile(idle, 50):.2f} ms, p95 {percentile(idle, 95):.2f} ms "
        f"({len(idle)} ticks)"
    )
    print(
        f"controller tick with polling:    p50 {percentile(polled, 50):.2f} ms, p95 {percentile(polled, 95):.2f} ms "
        f"({len(polled)} ticks)"
    )


if __name__ == "__main__":
    main()
