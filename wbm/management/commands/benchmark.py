"""``manage.py benchmark``: the issue's performance budgets against a real embedded server."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from benchmarks.live import Options, run


class Command(BaseCommand):
    help = (
        "Start runwbm with a park of 120 charge points in a temporary state directory and print "
        "dashboard server time, runtime→WebSocket latency, memory and the fan-out to many browsers, "
        "then the same for a park of 600 charge points, each with its budget. "
        "Not part of the test run."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--duration",
            type=int,
            default=300,
            help="seconds of load (every charge point changing) before the last RSS reading",
        )
        parser.add_argument("--requests", type=int, default=200, help="requests per page for the server time")
        parser.add_argument("--samples", type=int, default=100, help="WebSocket latency samples per park state")
        parser.add_argument("--chargepoints", type=int, default=120, help="configured charge points in the park")
        parser.add_argument("--keep", action="store_true", help="keep the temporary state directory (logs)")
        parser.add_argument("--browsers", type=int, default=50, help="dashboard WebSockets for the fan-out figures")
        parser.add_argument("--fanout", type=int, default=20, help="seconds each fan-out measurement runs")
        parser.add_argument(
            "--big", type=int, default=600, help="configured charge points of the big park (0: skip it)"
        )
        parser.add_argument(
            "--scaled",
            action="store_true",
            help="then scaled mode: two Daphne processes and runcontroller behind Redis and PostgreSQL",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def out(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        chosen = Options(
            chargepoints=options["chargepoints"],
            requests=options["requests"],
            samples=options["samples"],
            duration_s=options["duration"],
            keep=options["keep"],
            browsers=options["browsers"],
            fanout_s=options["fanout"],
            big=options["big"],
        )
        run(chosen, out)
        if options["scaled"]:
            from benchmarks.scaled import run_scaled

            run_scaled(chosen, out)
