"""How long System Control / Import/Export takes for a full configuration: 500 whitelist entries
and 120 configured charge points (every sub-register), on the test database. Prints figures;
nothing is asserted.

    .venv/bin/python -m pytest benchmarks/portability.py -s -p no:cacheprovider
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from chargepoints.demo import load_demo_park
from chargepoints.models import ChargePointConfig
from wbm.audit import Actor
from wbm.roles import Role
from wbm.system import portability
from whitelist import csvio, services
from whitelist.models import MAX_ENTRIES, WhitelistEntry

ACTOR = Actor(username="bench", role=Role.MANUFACTURER, source="web")


def _whitelist(offset: int) -> bytes:
    expiry = (datetime.now(tz=UTC) + timedelta(days=365)).replace(microsecond=0).isoformat()
    lines = ["type,tag,name,allow_charging,expires_at"]
    lines += [f"rfid,{i + offset:08X},Card {i},yes,{expiry}" for i in range(MAX_ENTRIES)]
    return ("\n".join(lines) + "\n").encode()


def _changed(raw: bytes) -> bytes:
    """The same file with every charge point's location and half the whitelist changed."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    park = json.loads(members["sections/park.json"])
    for n, cfg in enumerate(park["chargepoints"].values()):
        cfg["location"] = f"Level {n % 4}, bay {n}"
    members["sections/park.json"] = json.dumps(park).encode()
    members["sections/whitelist.json"] = json.dumps({"csv": _whitelist(250).decode()}).encode()
    manifest = json.loads(members["manifest.json"])
    for key in ("park", "whitelist"):
        manifest["sections"][key]["sha256"] = hashlib.sha256(members[f"sections/{key}.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.django_db
def test_print_full_configuration_export_and_import_timing() -> None:
    total = load_demo_park(extra_chargepoints=120)
    configured = ChargePointConfig.objects.count()
    services.whitelist_import(raw=_whitelist(0), mode=csvio.REPLACE, actor=ACTOR)
    keys = list(portability.sections())
    figures: dict[str, float] = {}
    start = time.perf_counter()
    raw = portability.configuration_export(keys=keys, actor=ACTOR)
    figures["export, every sub-register, no secrets"] = time.perf_counter() - start
    start = time.perf_counter()
    portability.configuration_export(keys=keys, passphrase="benchmark passphrase", actor=ACTOR)
    figures["export with encrypted secrets (scrypt + AES-GCM)"] = time.perf_counter() - start
    changed = _changed(raw)
    start = time.perf_counter()
    file = portability.read_file(changed)
    plans = portability.import_plan(file, role=Role.MANUFACTURER)
    figures["read, validate and diff (preview)"] = time.perf_counter() - start
    assert all(not p.errors for p in plans), [(p.key, p.errors[:3]) for p in plans if p.errors]
    start = time.perf_counter()
    portability.configuration_import(file=file, keys=keys, actor=ACTOR)
    figures["import (validate again, apply in one transaction)"] = time.perf_counter() - start
    assert WhitelistEntry.objects.count() == MAX_ENTRIES
    print(
        f"\nfull configuration: {configured} configured charge points of {total}, {MAX_ENTRIES} whitelist entries, {len(raw)} bytes"
    )
    for what, seconds in figures.items():
        print(f"import/export, {what}: {seconds:.2f} s")
