"""The OCPP agent on loopback: CALL round trip (p50/p95 of Heartbeat) and the time to flush
10,000 queued messages in order after an outage (budget <= 10 s).

    .venv/bin/python -m benchmarks.ocpp [--calls 500] [--queued 10000]

The agent runs in a runtime (controller + OCPP agent) on this process's loop against the test
CSMS of ``tests/ocpp/csms.py`` (the ``ocpp`` library's central side, schema checks on both sides).
Prints figures only; nothing here is a pass/fail test.
"""

# ruff: noqa: ASYNC110 - polling the agent's and the CSMS's state is the measurement here
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_FLUSH_S = 10.0


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


async def run(calls: int, queued: int) -> None:
    import logging

    from asgiref.sync import sync_to_async
    from django.conf import settings

    from chargepoints.controller.agent import ControllerAgent
    from ocppcfg.agent import OcppAgent
    from ocppcfg.models import OcppSettings, OutboxMessage
    from tests.ocpp.csms import Csms
    from wbm.runtime.backends.simulated import SimulatedBackend
    from wbm.runtime.core import Runtime

    logging.getLogger("ocppcfg").setLevel(logging.WARNING)
    settings.WBM_OCPP_OUTBOX_MAX = queued + 100
    settings.WBM_OCPP_BACKOFF_MIN_S, settings.WBM_OCPP_BACKOFF_MAX_S = 0.1, 0.5  # the flush, not the back-off
    csms = Csms()
    await csms.start()
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

        await csms.stop()
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
        seen = len(csms.calls("MeterValues"))
        t0 = time.perf_counter()
        await csms.start()
        while len(csms.calls("MeterValues")) == seen:
            await asyncio.sleep(0.005)
        t_first = time.perf_counter()
        while await sync_to_async(OutboxMessage.objects.count)():
            await asyncio.sleep(0.1)
            if time.perf_counter() - t0 > 120:
                break
        flushed = time.perf_counter() - t_first
        print(f"reconnect until the first queued message arrived: {t_first - t0:.2f} s")
        got = [int(p["meterValue"][0]["sampledValue"][0]["value"]) for p in csms.calls("MeterValues")[seen:]]
        in_order = got == list(range(queued))
        print(
            f"flush of {queued} queued messages (reconnect included): {flushed:.2f} s "
            f"(budget {BUDGET_FLUSH_S:.0f} s), in order: {in_order}, violations: {len(csms.violations)}"
        )
    finally:
        await runtime.stop()
        await csms.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--queued", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wbm-ocpp-bench-") as state:
        setup_django(state)
        asyncio.run(run(args.calls, args.queued))


if __name__ == "__main__":
    main()
