"""``manage.py loaddemo``: the demo charging park, once. Safe to run again (a deployment recipe,
a second web host, a retried provisioning step): a database that already holds a park is left
as it is, and the command says so and succeeds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction

from chargepoints.demo import load_demo_park
from chargepoints.models import Station

ALREADY_LOADED = "The database already holds a charging park; nothing loaded, nothing changed."


class Command(BaseCommand):
    help = "Load the demo charging park into an empty database (does nothing when a park exists)."

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
            help="say nothing when the database already holds a park (first start of runwbm)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                # all or nothing; a second loaddemo running at the same moment stops at a
                # unique constraint (device UID, name) and rolls back, instead of a second park
                if Station.objects.exists():
                    loaded = None
                else:
                    loaded = load_demo_park(extra_chargepoints=options["extra_chargepoints"])
        except IntegrityError:
            if not Station.objects.exists():
                raise
            loaded = None
        if loaded is None:
            if not options["if_empty"]:
                self.stdout.write(ALREADY_LOADED)
            return
        self.stdout.write(f"Demo charging park loaded: {loaded} charge points.")
