"""The load-management allocator: time of one ``allocate()`` for 100, 1,000 and 10,000 charge points.

A busy park: every point has a vehicle (a mix of 1-, 2- and 3-phase, all six phase rotations and
"not set", some with a ceiling, some taking less than offered), the fuse is too small for all
minimums (the minimum rule pauses some), an upstream meter reports other loads, and the state of
the previous cycle is carried (as the agent does). Budget: 1,000 points p95 <= 5 ms. Wall time and this thread's CPU time are printed: on a busy
machine the wall time includes waiting for a CPU.

    .venv/bin/python -m benchmarks.allocator [--runs 200]

Prints figures only; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_P95_MS = 5.0
ROTATIONS = ["", "L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
    from loadmgmt.allocator import AllocatorState, CircuitInput, PointInput, Upstream, allocate

    rng = random.Random(12)
    for n in (100, 1_000, 10_000):
        points = []
        for cp_id in range(n):
            phases = rng.choice([1, 1, 2, 3, 3, 3])
            draw = rng.choice([0.0, 5.0, 9.0, 15.5])
            points.append(
                PointInput(
                    cp_id=cp_id,
                    min_a=6.0,
                    max_a=rng.choice([16.0, 20.0, 32.0]),
                    ceiling_a=rng.choice([None, None, None, 10.0, 25.0]),
                    phase_rotation=rng.choice(ROTATIONS),
                    vehicle_phases=phases,
                    drawn_a=(draw, draw if phases > 1 else 0.0, draw if phases > 2 else 0.0),
                    wants_current=rng.random() < 0.9,
                    offered_a=None,
                    charging_since=rng.uniform(-3600.0, 0.0),
                )
            )
        fuse = 3.0 * n  # half a minimum per point: the minimum rule pauses many
        circuit = CircuitInput(
            fuse_a=fuse,
            threshold_a=2.0,
            now=0.0,
            upstream=Upstream(higher_fuse_a=fuse * 1.2, measured_a=(fuse * 0.5, fuse * 0.4, fuse * 0.3)),
        )
        state: AllocatorState | None = None
        runs = max(10, args.runs if n <= 1_000 else args.runs // 10)
        times: list[float] = []
        cpu: list[float] = []
        for k in range(runs + 3):
            now_circuit = replace(circuit, now=10.0 * k)
            started, started_cpu = time.perf_counter(), time.thread_time()
            allocation, state = allocate(now_circuit, points, state)
            elapsed = (time.perf_counter() - started) * 1000
            elapsed_cpu = (time.thread_time() - started_cpu) * 1000
            if k >= 3:  # the first cycles build the state
                times.append(elapsed)
                cpu.append(elapsed_cpu)
        served = sum(1 for a in allocation.points if a.amps > 0)
        note = ""
        if n == 1_000:
            note = f"  (budget p95 <= {BUDGET_P95_MS:.0f} ms: {'ok' if percentile(times, 95) <= BUDGET_P95_MS else 'OVER'})"
        print(
            f"{n:>6} points: p50 {percentile(times, 50):7.2f} ms  p95 {percentile(times, 95):7.2f} ms"
            f"  (CPU p50 {percentile(cpu, 50):7.2f} ms p95 {percentile(cpu, 95):7.2f} ms; {runs} runs, {served} served){note}"
        )


if __name__ == "__main__":
    main()
