"""System Control / Software: only a signed, newer bundle for this device is installed, into the
inactive slot; it takes effect after a restart, on trial, and rolls back by itself when it never
confirms its health; ForceUpdate and PreUnavailabilityForUpdate as the OCPP variables say;
``kill -9`` during an install leaves the old version."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import make_user
from wbm.audit import Actor
from wbm.management.commands.buildbundle import development_key, development_public_key
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.system import update, update_services
from wbm.system.update import BundleRefused, build_bundle, verify_bundle

DEVICE = "CHARX SEC-3100"


@pytest.fixture
def updates(db, tmp_path, settings, monkeypatch):
    """A fresh update folder, the development key trusted, no PreUnavailabilityForUpdate wait."""
    settings.STATE_DIR = tmp_path
    settings.WBM_UPDATE_PUBLIC_KEYS = development_public_key()
    settings.WBM_DEVICE_TYPE = DEVICE
    values = {"ForceUpdate": "false", "PreUnavailabilityForUpdate": "0"}
    monkeypatch.setattr(update_services, "server_variable", lambda key: values[key])
    monkeypatch.setattr(update_services, "_charging_points", lambda: [])
    return values


def _bundle(
    tmp_path: Path, version: str = "1.1.0", *, key=None, device: str = DEVICE, payload: bytes = b"new software"
) -> Path:
    path = tmp_path / f"b-{version}-{os.urandom(3).hex()}.wbmb"
    path.write_bytes(
        build_bundle(payload=payload, version=version, device_type=device, private_key=key or development_key())
    )
    return path


def _actor() -> Actor:
    return Actor(username=make_user(Role.OPERATOR).username, role=Role.OPERATOR, source="web")


def test_a_signed_newer_bundle_goes_into_the_inactive_slot_and_takes_effect_after_a_restart(updates, tmp_path):
    store = update.store()
    bundle = _bundle(tmp_path, "1.1.0")
    accepted = update_services.software_update(bundle=bundle, actor=_actor())
    assert accepted.manifest.version == "1.1.0" and not bundle.exists()
    state = store.state()
    assert state["active"] == "a" and state["pending"]["slot"] == "b"
    assert (tmp_path / "update/slots/b/payload.bin").read_bytes() == b"new software"
    assert store.installed_version() == "1.0.0"  # the manual: restart manually first
    store.boot()  # the restart
    assert store.installed_version() == "1.1.0" and store.state()["trial"]["slot"] == "b"
    assert store.confirm() and store.state()["trial"] is None
    store.boot()  # later restarts keep it
    assert store.installed_version() == "1.1.0"
    assert ChangeRecord.objects.filter(action="system.software.install").exists()


def test_a_new_version_that_never_confirms_its_health_is_rolled_back(updates, tmp_path):
    store = update.store()
    update_services.software_update(bundle=_bundle(tmp_path, "1.1.0"), actor=_actor())
    store.boot()
    assert store.installed_version() == "1.1.0"
    for _ in range(update.MAX_TRIAL_BOOTS - 1):
        store.boot()  # it started again without confirming (crashed, hung)
        assert store.installed_version() == "1.1.0"
    store.boot()
    assert store.installed_version() == "1.0.0" and store.state()["active"] == "a"
    assert store.state()["history"][-1]["event"] == "rolled_back"


def _tampered_payload(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["payload.bin"] = b"evil software"
    return _write(path, members)


def _tampered_manifest(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    doc = json.loads(members["manifest.json"])
    doc["version"] = "9.9.9"
    members["manifest.json"] = json.dumps(doc, indent=1, sort_keys=True).encode()
    return _write(path, members)


def _unsigned(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "manifest.sig"}
    return _write(path, members)


def _write(path: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    ("label", "make", "code"),
    [
        ("tampered payload", lambda tmp: _tampered_payload(_bundle(tmp)), "payload"),
        ("tampered manifest", lambda tmp: _tampered_manifest(_bundle(tmp)), "signature"),
        ("unsigned", lambda tmp: _unsigned(_bundle(tmp)), "members"),
        ("other key", lambda tmp: _bundle(tmp, key=Ed25519PrivateKey.generate()), "signature"),
        ("older", lambda tmp: _bundle(tmp, "0.9.0"), "older"),
        ("same version", lambda tmp: _bundle(tmp, "1.0.0"), "older"),
        ("foreign device", lambda tmp: _bundle(tmp, device="Wallbox 9000"), "device"),
        ("not a bundle", lambda tmp: _write(tmp / "x.wbmb", {"readme.txt": b"hi"}), "members"),
        ("truncated", lambda tmp: (lambda p: (p.write_bytes(p.read_bytes()[:200]), p)[1])(_bundle(tmp)), "format"),
    ],
)
def test_a_bad_bundle_is_refused_deleted_and_changes_nothing(updates, tmp_path, label, make, code):
    before = update.store().state()
    bundle = make(tmp_path)
    with pytest.raises(BundleRefused) as refused:
        update_services.software_update(bundle=bundle, actor=_actor())
    assert refused.value.code == code, (label, refused.value.message)
    assert not bundle.exists()
    assert update.store().state() == before and not (tmp_path / "update/slots/b").exists()
    assert ChangeRecord.objects.filter(action="system.software.refused", after={"reason": code}).exists()


def test_without_a_trusted_key_nothing_is_installed(updates, tmp_path, settings):
    settings.WBM_UPDATE_PUBLIC_KEYS = ""
    with pytest.raises(BundleRefused) as refused:
        update_services.software_update(bundle=_bundle(tmp_path), actor=_actor())
    assert refused.value.code == "no_key"


def test_a_key_file_in_the_state_folder_is_trusted(updates, tmp_path, settings):
    settings.WBM_UPDATE_PUBLIC_KEYS = ""
    key = Ed25519PrivateKey.generate()
    folder = tmp_path / "update/trusted_keys"
    folder.mkdir(parents=True)
    (folder / "release.pub").write_text(base64.b64encode(update.raw_public(key.public_key())).decode())
    assert (
        update_services.software_update(bundle=_bundle(tmp_path, key=key), actor=_actor()).manifest.version == "1.1.0"
    )


def test_without_force_update_no_install_while_a_vehicle_charges(updates, tmp_path, monkeypatch):
    monkeypatch.setattr(update_services, "_charging_points", lambda: [1])
    with pytest.raises(BundleRefused) as refused:
        update_services.software_update(bundle=_bundle(tmp_path), actor=_actor())
    assert refused.value.code == "charging"
    updates["ForceUpdate"] = "true"
    assert update_services.software_update(bundle=_bundle(tmp_path), actor=_actor()).manifest.version == "1.1.0"


def test_pre_unavailability_shows_status_f_before_the_install_and_gives_the_points_back(updates, tmp_path, monkeypatch):
    updates["PreUnavailabilityForUpdate"] = "2"
    calls: list[tuple[list[int], bool]] = []
    monkeypatch.setattr(update_services, "_enabled_points", lambda: [1, 2])
    monkeypatch.setattr(update_services, "_availability", lambda ids, enabled: calls.append((list(ids), enabled)))
    slept: list[float] = []
    monkeypatch.setattr(update_services.time, "sleep", slept.append)
    accepted = update_services.software_update(bundle=_bundle(tmp_path), actor=_actor(), background=False)
    assert accepted.wait_s == 2 and slept == [2]
    assert calls == [([1, 2], False), ([1, 2], True)]
    assert update.store().state()["pending"]["version"] == "1.1.0"


def test_the_client_modules_follow_one_after_the_other(updates, tmp_path, monkeypatch, settings):
    from types import SimpleNamespace

    settings.WBM_UPDATE_CLIENT_S = 10
    cps = [SimpleNamespace(station_id=s) for s in (1, 2, 3)]
    monkeypatch.setattr(update_services, "read_snapshot", lambda: SimpleNamespace(chargepoints=cps))
    store = update.store()
    update_services.software_update(bundle=_bundle(tmp_path), actor=_actor())
    store.boot()
    store.confirm()
    started = store.state()["clients_started_at"]
    rows = update_services.client_progress(now=started + 15)
    assert [(r["station"], r["progress"], r["done"]) for r in rows] == [(2, 100, True), (3, 50, False)]


def test_the_page_installs_an_uploaded_bundle(updates, tmp_path, client_as):
    upload = io.BytesIO(_bundle(tmp_path, "1.2.0").read_bytes())
    upload.name = "wbm-1.2.0.wbmb"
    response = client_as(Role.OPERATOR).post("/system/software/", {"bundle": upload})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="update-accepted"' in body and 'id="update-pending"' in body
    bad = io.BytesIO(_bundle(tmp_path, "0.1.0").read_bytes())
    bad.name = "old.wbmb"
    response = client_as(Role.OPERATOR).post("/system/software/", {"bundle": bad})
    assert 'id="update-refused"' in response.content.decode()
    assert list((tmp_path / "update/incoming").iterdir()) == []


def test_the_api_installs_and_refuses_like_the_page(updates, tmp_path, client_as):
    client = client_as(Role.OPERATOR)
    upload = io.BytesIO(_unsigned(_bundle(tmp_path)).read_bytes())
    upload.name = "x.wbmb"
    refused = client.post("/api/v1/system/software/", {"bundle": upload})
    assert refused.status_code == 400 and refused.json()["code"] == "members"
    upload = io.BytesIO(_bundle(tmp_path, "2.0.0").read_bytes())
    upload.name = "x.wbmb"
    accepted = client.post("/api/v1/system/software/", {"bundle": upload})
    assert accepted.status_code == 202 and accepted.json()["status"]["pending"]["version"] == "2.0.0"
    assert client.get("/api/v1/system/software/").json()["installed_version"] == "1.0.0"


def test_buildbundle_builds_a_bundle_the_controller_accepts(updates, tmp_path):
    out = tmp_path / "cmd.wbmb"
    call_command("buildbundle", "--bundle-version", "3.0.1", "--dev-key", "--out", str(out), stdout=io.StringIO())
    manifest = verify_bundle(out, trusted=update.trusted_keys(), device_type=DEVICE, installed="1.0.0")
    assert manifest.version == "3.0.1" and manifest.components == ("system",)
    key_file = tmp_path / "release.pem"
    printed = io.StringIO()
    call_command("buildbundle", "--genkey", str(key_file), stdout=printed)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    with override_settings(WBM_UPDATE_PUBLIC_KEYS=printed.getvalue().strip()):
        call_command(
            "buildbundle", "--bundle-version", "3.0.2", "--key", str(key_file), "--out", str(out), stdout=io.StringIO()
        )
        assert (
            verify_bundle(out, trusted=update.trusted_keys(), device_type=DEVICE, installed="1.0.0").version == "3.0.2"
        )


KILLER = r"""
import json, os, random, shutil, signal, sys, time
from pathlib import Path
from wbm.system.update import UpdateStore, verify_bundle, load_public_key
base, bundle, key, device = Path(sys.argv[1]), Path(sys.argv[2]), load_public_key(sys.argv[3]), sys.argv[4]
payload = None
manifest = verify_bundle(bundle, trusted=[key], device_type=device, installed="1.0.0")
random.seed(11)
# how long one whole install takes here (a loaded machine: much longer): the kills fall within it
probe = base / "probe"
UpdateStore(probe).save(UpdateStore(probe).state())
started = time.monotonic()
pid = os.fork()
if pid == 0:
    UpdateStore(probe).install(bundle, manifest)
    os._exit(0)
os.waitpid(pid, 0)
window = 0.9 * (time.monotonic() - started)
outcomes = []
for trial in range(20):
    root = base / f"t{trial}"
    UpdateStore(root).save(UpdateStore(root).state())
    pid = os.fork()
    if pid == 0:
        UpdateStore(root).install(bundle, manifest)
        os._exit(0)
    time.sleep(random.uniform(0.0, window))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    store = UpdateStore(root)
    state = store.state()
    ok = state["active"] == "a" and store.installed_version() == "1.0.0"
    pending = bool(state.get("pending"))
    whole = (root / "slots/b/manifest.json").is_file() if pending else True
    store.boot()  # a start after the kill: the old version, or the complete new one on trial
    ok = ok and whole and store.installed_version() in ("1.0.0", "1.1.0")
    if store.installed_version() == "1.1.0":
        import hashlib
        ok = ok and hashlib.sha256((root / "slots/b/payload.bin").read_bytes()).hexdigest() == manifest.payload_sha256
    outcomes.append({"ok": ok, "installed": pending})
print(json.dumps(outcomes))
"""


def test_kill_9_during_an_install_leaves_the_old_version(tmp_path):
    """20 trials: a process installing a 6 MB bundle is killed at a random instant; the state is
    whole every time (the old version active, the new one at most pending and complete)."""
    bundle = tmp_path / "big.wbmb"
    payload = os.urandom(6 * 1024 * 1024)
    bundle.write_bytes(
        build_bundle(payload=payload, version="1.1.0", device_type=DEVICE, private_key=development_key())
    )
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path), str(bundle), development_public_key(), DEVICE],
        capture_output=True, text=True, timeout=120, check=False, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(outcomes) == 20 and all(o["ok"] for o in outcomes), outcomes
    assert sum(not o["installed"] for o in outcomes) >= 5, outcomes  # most kills land mid-install


@pytest.mark.asyncio
async def test_the_update_agent_confirms_a_trial_once_every_service_runs(tmp_path, settings, monkeypatch):
    """The runtime's agent keeps a new version when all other services run for the healthy time."""
    import asyncio
    from types import SimpleNamespace

    from wbm.system import update_agent

    settings.STATE_DIR = tmp_path
    settings.WBM_UPDATE_HEALTHY_AFTER_S = 0
    store = update.store()
    state = store.state()
    state["slots"]["b"] = {"version": "1.1.0"}
    state["pending"] = {"slot": "b", "version": "1.1.0", "from": "a"}
    store.save(state)
    monkeypatch.setattr(update_agent, "_booted", __import__("threading").Event())  # a fresh process
    agents = (
        SimpleNamespace(name="controller", state="running"),
        SimpleNamespace(name="software-update", state="running"),
    )
    clock = SimpleNamespace(monotonic=asyncio.get_running_loop().time)
    ctx = SimpleNamespace(snapshot=lambda: SimpleNamespace(agents=agents), clock=clock)
    task = asyncio.create_task(update_agent.UpdateAgent(ctx).run())  # type: ignore[arg-type]
    for _ in range(50):
        await asyncio.sleep(0.1)
        if store.state().get("trial") is None and store.installed_version() == "1.1.0":
            break
    task.cancel()
    assert store.installed_version() == "1.1.0" and store.state()["trial"] is None
    assert store.state()["history"][-1]["event"] == "confirmed"
