"""System Control / Import/Export: one versioned file for every sub-register, secrets only
encrypted, crafted files refused before anything is read, all or nothing, roles per section."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from loadmgmt.models import LoadCircuit
from mqttbridge.models import BridgeSettings
from network.models import ModemSettings
from ocppcfg.models import OcppSettings
from tests.conftest import make_user
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.system import portability
from whitelist import services as whitelist_services
from whitelist.models import WhitelistEntry

PASS = "correct horse battery"
SECRETS = {"mqtt": "Mq77-secret-pw", "ocpp": "AuthKey-0123456789", "modem": "ApnPw-secret-42"}
ALL = ["park", "rfid", "whitelist", "loadmgmt", "ocpp", "modbus", "system", "wlan", "routing", "mqttbridge", "vpn"]


@pytest.fixture
def actor(db) -> Actor:
    return Actor(username=make_user(Role.MANUFACTURER).username, role=Role.MANUFACTURER, source="web")


@pytest.fixture
def configured(park, actor):
    """A park with a whitelist, a load circuit and planted secrets."""
    expiry = (datetime.now(tz=UTC) + timedelta(days=30)).replace(microsecond=0)  # the CSV keeps seconds
    for n in range(3):
        whitelist_services.whitelist_entry_create(
            data={"type": "rfid", "tag": f"04A1B2C3D4E5{n:02d}", "name": f"Card {n}", "expires_at": expiry}, actor=actor
        )
    OcppSettings.objects.update_or_create(
        pk=1, defaults={"authorization_key": SECRETS["ocpp"], "backend_url": "ws://csms.example:9000/ocpp"}
    )
    BridgeSettings.objects.update_or_create(
        pk=BridgeSettings.SINGLETON_PK, defaults={"password": SECRETS["mqtt"], "username": "bridge"}
    )
    ModemSettings.objects.update_or_create(pk=ModemSettings.SINGLETON_PK, defaults={"password": SECRETS["modem"]})


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_export_holds_every_chosen_section_with_a_manifest_and_no_secret(configured, actor):
    raw = portability.configuration_export(keys=ALL, actor=actor)
    members = _members(raw)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "wbm-configuration" and manifest["format_version"] == 1
    assert manifest["device_type"] == portability.device_type() and manifest["software_version"]
    assert set(manifest["sections"]) == set(ALL) and manifest["secrets"] is None
    assert all(manifest["sections"][k]["schema"] == 1 for k in ALL)
    blob = b"".join(members.values())
    for secret in SECRETS.values():
        assert secret.encode() not in blob
    assert "secrets.bin" not in members
    assert b"04A1B2C3D4E500" in members["sections/whitelist.json"]


def test_only_the_chosen_sections_are_exported(configured, actor):
    manifest = json.loads(
        _members(portability.configuration_export(keys=["whitelist", "ocpp"], actor=actor))["manifest.json"]
    )
    assert set(manifest["sections"]) == {"whitelist", "ocpp"}


def test_an_import_of_the_same_file_changes_nothing_and_an_old_file_restores_the_configuration(configured, actor):
    raw = portability.configuration_export(keys=ALL, actor=actor)
    file = portability.read_file(raw)
    assert all(not p.errors and not p.changes for p in portability.import_plan(file, role=Role.MANUFACTURER))
    # change things afterwards
    entry = WhitelistEntry.objects.get(tag="04A1B2C3D4E500")
    whitelist_services.whitelist_entry_delete(entry=entry, actor=actor)
    LoadCircuit.objects.update_or_create(pk=LoadCircuit.SINGLETON_PK, defaults={"fuse_a": 40})
    plans = {p.key: p for p in portability.import_plan(portability.read_file(raw), role=Role.MANUFACTURER)}
    assert [c.path for c in plans["whitelist"].changes] == ["rfid:04A1B2C3D4E500"]
    assert [(c.path, c.before, c.after) for c in plans["loadmgmt"].changes] == [("circuit.fuse_a", 40, 32)]
    applied = portability.configuration_import(
        file=portability.read_file(raw), keys=["whitelist", "loadmgmt"], actor=actor
    )
    assert applied == ["whitelist", "loadmgmt"]
    assert WhitelistEntry.objects.filter(tag="04A1B2C3D4E500").exists()
    assert LoadCircuit.objects.get().fuse_a == 32
    record = ChangeRecord.objects.filter(action="system.config.import").get()
    assert record.source == "import" and (record.after or {})["sections"] == ["whitelist", "loadmgmt"]


def test_secrets_travel_only_encrypted_and_come_back_with_the_passphrase(configured, actor):
    raw = portability.configuration_export(keys=["ocpp", "mqttbridge", "system"], passphrase=PASS, actor=actor)
    members = _members(raw)
    assert "secrets.bin" in members
    manifest = json.loads(members["manifest.json"])
    assert manifest["secrets"]["cipher"] == "AES-256-GCM" and manifest["secrets"]["kdf"] == "scrypt"
    for secret in SECRETS.values():
        assert secret.encode() not in b"".join(members.values())
    OcppSettings.objects.filter(pk=1).update(authorization_key="other-key-000")
    BridgeSettings.objects.update(password="other")
    file = portability.read_file(raw, passphrase=PASS)
    assert file.secrets is not None and file.secrets["ocpp"]["authorization_key"] == SECRETS["ocpp"]
    portability.configuration_import(file=file, keys=["ocpp", "mqttbridge"], actor=actor)
    assert OcppSettings.objects.get(pk=1).authorization_key == SECRETS["ocpp"]
    assert BridgeSettings.objects.get().password == SECRETS["mqtt"]


def test_a_wrong_passphrase_is_a_clear_error_and_changes_nothing(configured, actor):
    raw = portability.configuration_export(keys=["ocpp"], passphrase=PASS, actor=actor)
    OcppSettings.objects.filter(pk=1).update(authorization_key="kept-key-123")
    with pytest.raises(portability.WrongPassphrase, match="passphrase is wrong"):
        portability.read_file(raw, passphrase="not the passphrase")
    assert OcppSettings.objects.get(pk=1).authorization_key == "kept-key-123"


def test_without_the_passphrase_the_stored_secrets_stay(configured, actor):
    raw = portability.configuration_export(keys=["ocpp"], passphrase=PASS, actor=actor)
    OcppSettings.objects.filter(pk=1).update(authorization_key="kept-key-123", backend_url="ws://other:9000/")
    file = portability.read_file(raw)
    assert file.has_secrets and file.secrets is None
    portability.configuration_import(file=file, keys=["ocpp"], actor=actor)
    stored = OcppSettings.objects.get(pk=1)
    assert stored.authorization_key == "kept-key-123" and stored.backend_url == "ws://csms.example:9000/ocpp"


def test_one_invalid_section_writes_nothing_at_all(configured, actor):
    raw = portability.configuration_export(keys=["whitelist", "loadmgmt"], actor=actor)
    members = _members(raw)
    doc = json.loads(members["sections/loadmgmt.json"])
    doc["circuit"]["fuse_a"] = 100000
    WhitelistEntry.objects.filter(tag="04A1B2C3D4E501").delete()
    forged = _rezip(members, {"sections/loadmgmt.json": json.dumps(doc).encode()}, rehash=True)
    file = portability.read_file(forged)
    plans = {p.key: p for p in portability.import_plan(file, role=Role.MANUFACTURER)}
    assert plans["loadmgmt"].errors and not plans["whitelist"].errors
    with pytest.raises(portability.ImportInvalid) as refused:
        portability.configuration_import(file=file, keys=["whitelist", "loadmgmt"], actor=actor)
    assert "loadmgmt" in refused.value.errors
    assert not WhitelistEntry.objects.filter(tag="04A1B2C3D4E501").exists()


def test_an_operator_may_export_everything_but_import_only_what_the_role_may_edit(configured, actor):
    operator = Actor(username="op", role=Role.OPERATOR, source="web")
    file = portability.read_file(portability.configuration_export(keys=ALL, actor=operator))
    allowed = {p.key: p.allowed for p in portability.import_plan(file, role=Role.OPERATOR)}
    assert allowed["park"] is False and allowed["rfid"] is False
    assert allowed["whitelist"] and allowed["ocpp"] and allowed["loadmgmt"] and allowed["system"]
    with pytest.raises(portability.ImportInvalid) as refused:
        portability.configuration_import(file=file, keys=["park", "whitelist"], actor=operator)
    assert list(refused.value.errors) == ["park"]


# --- crafted files: refused before anything is read --------------------------------------------------
def _rezip(members: dict[str, bytes], replace: dict[str, bytes], *, rehash: bool = False) -> bytes:
    members = {**members, **replace}
    if rehash:
        import hashlib

        manifest = json.loads(members["manifest.json"])
        for key, entry in manifest["sections"].items():
            entry["sha256"] = hashlib.sha256(members[f"sections/{key}.json"]).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _crafted(kind: str, good: bytes) -> bytes:
    members = _members(good)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if kind == "traversal":
            archive.writestr("../../etc/cron.d/evil", b"x")
        elif kind == "absolute":
            archive.writestr("/etc/passwd", b"x")
        elif kind == "symlink":
            info = zipfile.ZipInfo("sections/link.json")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, b"/etc/shadow")
        elif kind == "many":
            for n in range(portability.MAX_MEMBERS):
                archive.writestr(f"sections/x{n}.json", b"{}")
        elif kind == "bomb":
            archive.writestr("sections/bomb.json", b"0" * (portability.MAX_MEMBER_BYTES - 1))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "many", "bomb"])
def test_a_crafted_archive_is_refused_before_any_member_is_read(configured, actor, monkeypatch, kind):
    good = portability.configuration_export(keys=["whitelist"], actor=actor)
    crafted = _crafted(kind, good)

    def never(*args, **kwargs):
        raise AssertionError("a member was read")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(portability.FileRefused):
        portability.read_file(crafted)


def _manifest_edit(good: bytes, **changes) -> bytes:
    members = _members(good)
    manifest = json.loads(members["manifest.json"])
    manifest.update(changes)
    return _rezip(members, {"manifest.json": json.dumps(manifest).encode()})


@pytest.mark.parametrize(
    ("label", "make", "message"),
    [
        ("not a zip", lambda good: b"type,tag\nrfid,1\n", "not a configuration file"),
        ("truncated", lambda good: good[: len(good) // 2], "not a configuration file"),
        ("wrong version", lambda good: _manifest_edit(good, format_version=2), "format version 2"),
        ("foreign device", lambda good: _manifest_edit(good, device_type="Wallbox 9000"), "Wallbox 9000"),
        ("foreign format", lambda good: _manifest_edit(good, format="something-else"), "not a configuration file"),
        ("unknown section", lambda good: _manifest_edit(good, sections={"x": {}}), "unknown section"),
        (
            "changed section",
            lambda good: _rezip(_members(good), {"sections/whitelist.json": b'{"csv": ""}'}),
            "changed after the export",
        ),
        ("no manifest", lambda good: _rezip({}, {"sections/whitelist.json": b"{}"}), "no manifest"),
    ],
)
def test_a_foreign_or_damaged_file_is_refused_with_a_clear_message(configured, actor, label, make, message):
    good = portability.configuration_export(keys=["whitelist"], actor=actor)
    with pytest.raises(portability.FileRefused, match=message):
        portability.read_file(make(good))


# --- page and API ---------------------------------------------------------------------------------
def test_the_page_exports_checks_shows_the_changes_and_imports(configured, client_as):
    client = client_as(Role.MANUFACTURER)
    page = client.get("/system/importexport/")
    assert page.status_code == 200 and "Charging park" in page.content.decode()
    exported = client.post("/system/importexport/", {"action": "export", "sections": ["whitelist", "loadmgmt"]})
    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"
    LoadCircuit.objects.update_or_create(pk=LoadCircuit.SINGLETON_PK, defaults={"fuse_a": 50})
    upload = io.BytesIO(exported.content)
    upload.name = "config.zip"
    preview = client.post("/system/importexport/", {"action": "preview", "file": upload})
    body = preview.content.decode()
    assert preview.status_code == 200 and 'id="section-loadmgmt"' in body and "circuit.fuse_a" in body
    assert LoadCircuit.objects.get().fuse_a == 50  # nothing written by the preview
    done = client.post("/system/importexport/", {"action": "import", "sections": ["loadmgmt"]})
    assert done.status_code == 302
    assert LoadCircuit.objects.get().fuse_a == 32


def test_the_page_names_a_refused_file(configured, client_as):
    upload = io.BytesIO(b"not a zip")
    upload.name = "x.zip"
    response = client_as(Role.OPERATOR).post("/system/importexport/", {"action": "preview", "file": upload})
    assert response.status_code == 200 and 'id="import-file-error"' in response.content.decode()


def test_the_api_does_what_the_page_does(configured, client_as):
    client = client_as(Role.OPERATOR)
    sections = client.get("/api/v1/system/config/sections/").json()["sections"]
    assert {s["key"]: s["may_import"] for s in sections}["park"] is False
    exported = client.post(
        "/api/v1/system/config/export/",
        {"sections": ["whitelist", "ocpp"], "passphrase": PASS},
        content_type="application/json",
    )
    assert exported.status_code == 200
    upload = io.BytesIO(exported.content)
    upload.name = "c.zip"
    wrong = client.post("/api/v1/system/config/import/", {"file": upload, "passphrase": "wrong passphrase"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_passphrase"
    upload.seek(0)
    dry = client.post("/api/v1/system/config/import/", {"file": upload, "passphrase": PASS, "dry_run": "true"})
    assert dry.status_code == 200 and dry.json()["secrets_unlocked"] is True
    assert {s["key"] for s in dry.json()["sections"]} == {"whitelist", "ocpp"}
    upload.seek(0)
    applied = client.post(
        "/api/v1/system/config/import/", {"file": upload, "passphrase": PASS, "sections": "whitelist"}
    )
    assert applied.status_code == 200 and applied.json()["applied"] == ["whitelist"]
