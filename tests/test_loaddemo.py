"""``manage.py loaddemo`` is safe to run again: a deployment recipe runs it on every install."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from chargepoints.models import ChargePoint, ChargePointConfig, Station
from whitelist.models import WhitelistEntry

pytestmark = pytest.mark.django_db


def loaddemo(*args: str) -> str:
    out = StringIO()
    call_command("loaddemo", *args, stdout=out)
    return out.getvalue()


def park() -> tuple[int, int, int, int]:
    return (
        Station.objects.count(),
        ChargePoint.objects.count(),
        ChargePointConfig.objects.count(),
        WhitelistEntry.objects.count(),
    )


def test_the_first_run_loads_the_demo_park():
    assert "Demo charging park loaded: 5 charge points." in loaddemo()
    assert park() == (2, 5, 4, 1)
    assert set(ChargePointConfig.objects.values_list("name", flat=True)) == {"P1-01", "P1-02", "P1-03", "Visitor-01"}


def test_a_second_run_changes_nothing_and_says_so():
    loaddemo()
    config = ChargePointConfig.objects.get(name="P1-02")
    config.location = "moved by the installer"
    config.save()
    before = park()

    out = loaddemo()

    assert "already holds a charging park; nothing loaded, nothing changed" in out
    assert park() == before
    assert ChargePointConfig.objects.get(name="P1-02").location == "moved by the installer"


def test_any_existing_park_is_left_alone_also_without_the_demo():
    Station.objects.create(kind="server", hostname="site-a", head_ip="10.0.0.2", head_mac="A8:74:1D:00:00:01")
    assert "nothing loaded" in loaddemo()
    assert park()[:3] == (1, 0, 0)


def test_if_empty_stays_silent_when_a_park_exists():
    loaddemo()
    assert loaddemo("--if-empty") == ""
    assert park() == (2, 5, 4, 1)
