"""``kill -9`` of the process in the middle of an import leaves the old configuration whole: 20
trials, each a forked process importing a file that changes 100 whitelist entries and the load
circuit, killed with SIGKILL at a random instant; after each, the configuration is the old one
or the new one, never a mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from loadmgmt.models import LoadCircuit
from wbm.audit import Actor
from wbm.roles import Role
from wbm.system import portability
from whitelist.models import WhitelistEntry

TRIALS = 20

HELPER = r"""
import json, os, random, signal, sys, time
import django
django.setup()
from django.db import connection, connections
from loadmgmt.models import LoadCircuit
from wbm.audit import Actor
from wbm.roles import Role
from wbm.system import portability
from whitelist.models import WhitelistEntry

new_raw, old_raw, trials = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), int(sys.argv[3])
old_tags, new_tags = set(json.loads(sys.argv[4])), set(json.loads(sys.argv[5]))
actor = Actor(username="kill-test", role=Role.MANUFACTURER, source="import")

def state():
    tags = set(WhitelistEntry.objects.values_list("tag", flat=True))
    fuse = LoadCircuit.objects.get().fuse_a
    if tags == old_tags and fuse == 32:
        return "old"
    if tags == new_tags and fuse == 40:
        return "new"
    return f"mixed ({len(tags & old_tags)} old tags, {len(tags & new_tags)} new, fuse {fuse})"

def run_child(raw):
    connections.close_all()
    pid = os.fork()
    if pid == 0:
        try:
            portability.configuration_import(file=portability.read_file(raw), keys=["whitelist", "loadmgmt"], actor=actor)
            os._exit(0)
        except BaseException:
            os._exit(3)
    return pid

# how long an import takes here
start = time.monotonic()
os.waitpid(run_child(new_raw), 0)
duration = time.monotonic() - start
os.waitpid(run_child(old_raw), 0)
results = []
random.seed(7)
for n in range(trials):
    assert state() == "old", state()
    pid = run_child(new_raw)
    time.sleep(random.uniform(0.05, 1.1) * duration)
    os.kill(pid, signal.SIGKILL)
    _pid, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    connections.close_all()
    found = state()
    results.append({"killed": killed, "state": found})
    if found == "new":
        os.waitpid(run_child(old_raw), 0)  # back to the old configuration for the next trial
print(json.dumps({"duration": duration, "results": results}))
"""


def _whitelist_csv(tags: list[str]) -> dict[str, str]:
    expiry = (datetime.now(tz=UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    rows = "".join(f"rfid,{tag},Card {tag[-4:]},yes,{expiry}\r\n" for tag in tags)
    return {"csv": "type,tag,name,allow_charging,expires_at\r\n" + rows}


def _file(tags: list[str], fuse_a: int, base: bytes) -> bytes:
    """An export file with other whitelist and load circuit contents (re-hashed)."""
    import hashlib
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["sections/whitelist.json"] = json.dumps(_whitelist_csv(tags)).encode()
    circuit = json.loads(members["sections/loadmgmt.json"])
    circuit["circuit"]["fuse_a"] = fuse_a
    members["sections/loadmgmt.json"] = json.dumps(circuit).encode()
    manifest = json.loads(members["manifest.json"])
    for key in ("whitelist", "loadmgmt"):
        manifest["sections"][key]["sha256"] = hashlib.sha256(members[f"sections/{key}.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trial opens the test database file directly")
def test_kill_9_during_an_import_leaves_the_old_configuration_whole(transactional_db, park, tmp_path: Path):
    actor = Actor(username="t", role=Role.MANUFACTURER, source="web")
    LoadCircuit.objects.get_or_create(pk=LoadCircuit.SINGLETON_PK)
    base = portability.configuration_export(keys=["whitelist", "loadmgmt"], actor=actor)
    old_tags = [f"0400{n:010X}" for n in range(100)]
    new_tags = [f"0500{n:010X}" for n in range(100)]
    old, new = _file(old_tags, 32, base), _file(new_tags, 40, base)
    portability.configuration_import(file=portability.read_file(old), keys=["whitelist", "loadmgmt"], actor=actor)
    assert WhitelistEntry.objects.count() == 100
    (tmp_path / "new.zip").write_bytes(new)
    (tmp_path / "old.zip").write_bytes(old)
    db = connection.settings_dict["NAME"]
    connection.close()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wbm.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "WBM_STATE_DIR": str(settings.STATE_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", HELPER, str(tmp_path / "new.zip"), str(tmp_path / "old.zip"), str(TRIALS),
         json.dumps(old_tags), json.dumps(new_tags)],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    results = report["results"]
    assert len(results) == TRIALS
    assert all(r["state"] in ("old", "new") for r in results), results
    killed_mid_way = [r for r in results if r["killed"] and r["state"] == "old"]
    assert len(killed_mid_way) >= TRIALS // 4, report  # most kills land inside the transaction
