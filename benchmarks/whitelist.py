"""How long a 500-row whitelist CSV takes to check, preview and import (replace), on the test
database. Prints figures; nothing is asserted.

    .venv/bin/python -m pytest benchmarks/whitelist.py -s -p no:cacheprovider
"""

from __future__ import annotations

import time

import pytest

from wbm.audit import Actor
from wbm.roles import Role
from whitelist import csvio, services
from whitelist.models import MAX_ENTRIES, WhitelistEntry

ACTOR = Actor(username="bench", role=Role.USER, source="web")


def _file(offset: int) -> bytes:
    lines = ["type,tag,name,allow_charging,expires_at"]
    lines += [f"rfid,{i + offset:08X},Card {i},yes,2030-01-01T00:00:00+00:00" for i in range(MAX_ENTRIES)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.django_db
def test_print_500_row_import_timing() -> None:
    first, second = _file(0), _file(250)  # the second replaces half the list
    figures = {}
    start = time.perf_counter()
    parsed = csvio.parse_csv(first)
    figures["parse 500 rows"] = time.perf_counter() - start
    assert not parsed.errors
    start = time.perf_counter()
    services.whitelist_import(raw=first, mode=csvio.REPLACE, actor=ACTOR)
    figures["import into an empty list"] = time.perf_counter() - start
    start = time.perf_counter()
    plan = services.whitelist_import_preview(raw=second, mode=csvio.REPLACE)
    figures["preview of a replace (250 new, 250 removed)"] = time.perf_counter() - start
    start = time.perf_counter()
    services.whitelist_import(raw=second, mode=csvio.REPLACE, actor=ACTOR, fingerprint=plan.fingerprint)
    figures["apply that replace"] = time.perf_counter() - start
    assert WhitelistEntry.objects.count() == MAX_ENTRIES
    for what, seconds in figures.items():
        print(f"whitelist CSV, {what}: {seconds * 1000:.1f} ms")
