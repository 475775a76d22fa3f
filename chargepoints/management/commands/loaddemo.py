from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chargepoints.demo import load_demo_park
from chargepoints.models import Station


class Command(BaseCommand):
    help = "Load the demo charging park into an empty database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--extra-chargepoints",
            type=int,
            default=0,
            help="add this many configured charge points (12 a station), for benchmarks",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (and succeed) when the database already holds a park (first start)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Station.objects.exists():
            if options["if_empty"]:
                return
            raise CommandError("The database already holds a charging park.")
        count = load_demo_park(extra_chargepoints=options["extra_chargepoints"])
        self.stdout.write(f"Demo charging park loaded: {count} charge points.")
