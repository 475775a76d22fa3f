"""System Control / Software: signed update bundles, A/B slots, a trial boot and a rollback.

A bundle is a zip with exactly three members:

- ``manifest.json``: format and version, device type, software version, components, created
  at, the signing key's id and the payload's name, size and SHA-256;
- ``manifest.sig``: the Ed25519 signature of ``manifest.json``'s bytes;
- ``payload.bin``: the software (for this simulated controller an archive it stores as is).

A bundle is checked completely before anything is written: sizes and members (before any member
is read), the signature against the trusted keys (``WBM_UPDATE_PUBLIC_KEYS`` and
``<state>/update/trusted_keys/*.pub``), format, device type, a version newer than the installed
one, and the payload's size and hash. A refused bundle is deleted.

Installing writes the payload into the inactive slot (``<state>/update/slots/a|b``) through a
temporary folder and a rename, then marks it pending in ``state.json`` (written through a
temporary file, fsync and ``os.replace``): a ``kill -9`` at any instant leaves either the old
state or the new one. The pending slot becomes active when the process starts next (the manual:
"the charging controller must be restarted manually"); it runs on trial until it confirms its
health. A start that finds a trial that never confirmed counts a failed boot; after
``MAX_TRIAL_BOOTS`` the previous slot is active again (rolled back by itself).

This module knows no Django model; ``UpdateStore`` takes its folder, so a test can kill a
process in the middle of an install without a database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import stat
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "wbm-update"
FORMAT_VERSION = 1
MEMBERS = frozenset({"manifest.json", "manifest.sig", "payload.bin"})
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
MAX_MANIFEST_BYTES = 64 * 1024
MAX_RATIO = 200  # a payload is already compressed; a bomb compresses a thousandfold
MAX_TRIAL_BOOTS = 2  # starts without a health confirmation before the old slot is taken back
FACTORY_VERSION = "1.0.0"
SLOTS = ("a", "b")
VERSION = re.compile(r"\A\d{1,4}(?:\.\d{1,6}){1,3}\Z")
COMPONENTS = frozenset({"system", "applications", "firmware", "rfid-board"})


class BundleRefused(Exception):
    """The bundle is not installed; ``code`` says why (for tests and the API), ``message`` is
    for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _(text: str) -> str:  # the gettext marker makemessages extracts
    """gettext when Django is set up (the page), the text itself in a bare process (tests)."""
    try:
        from django.utils.translation import gettext

        return str(gettext(text))
    except Exception:  # settings not configured: a subprocess without Django
        return text


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def key_id(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


def load_public_key(text: str) -> Any:
    """An Ed25519 public key from PEM or from the base64 of its 32 raw bytes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    device_type: str
    components: tuple[str, ...]
    created_at: str
    key_id: str
    payload_sha256: str
    payload_size: int
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "device_type": self.device_type,
            "components": list(self.components),
            "created_at": self.created_at,
            "key_id": self.key_id,
            "payload_sha256": self.payload_sha256,
            "payload_size": self.payload_size,
            "notes": self.notes,
        }


# --- building (manage.py buildbundle, tests) -----------------------------------------------------
def build_bundle(
    *,
    payload: bytes,
    version: str,
    device_type: str,
    private_key: Any,
    components: Iterable[str] = ("system",),
    notes: str = "",
    now: datetime | None = None,
) -> bytes:
    """A signed bundle. ``private_key``: an ``Ed25519PrivateKey``."""
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "device_type": device_type,
        "version": version,
        "components": sorted(components),
        "created_at": (now or datetime.now(tz=UTC)).replace(microsecond=0).isoformat(),
        "key_id": key_id(raw_public(private_key.public_key())),
        "notes": notes,
        "payload": {"file": "payload.bin", "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()},
    }
    raw = json.dumps(manifest, indent=1, sort_keys=True).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", raw)
        archive.writestr("manifest.sig", private_key.sign(raw))
        archive.writestr("payload.bin", payload, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


# --- checking ----------------------------------------------------------------------------------------
def _inspect(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    names = [i.filename for i in infos]
    if len(infos) != len(MEMBERS) or set(names) != MEMBERS:
        raise BundleRefused("members", _("The bundle is not a software package of this device (unexpected contents)."))
    total = 0
    for info in infos:
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG) or info.is_dir():
            raise BundleRefused("members", _("The bundle contains a link or a folder."))
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleRefused("members", _("The bundle uses an unsupported zip feature."))
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1024 * 1024:
            raise BundleRefused("bomb", _("The bundle is compressed suspiciously well (a zip bomb?)."))
        total += info.file_size
    by_name = {i.filename: i for i in infos}
    if by_name["manifest.json"].file_size > MAX_MANIFEST_BYTES or by_name["manifest.sig"].file_size > 1024:
        raise BundleRefused("members", _("The bundle's manifest is too large."))
    if total > MAX_BUNDLE_BYTES:
        raise BundleRefused("size", _("The bundle is too large when unpacked."))
    return by_name


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise BundleRefused("damaged", _("The bundle is damaged."))
    return data


def verify_bundle(path: Path, *, trusted: Iterable[Any], device_type: str, installed: str) -> Manifest:
    """Check a bundle on disk completely; ``BundleRefused`` with the first problem."""
    from cryptography.exceptions import InvalidSignature

    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise BundleRefused("size", _("The bundle is too large."))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleRefused(
            "format", _("The file is not a software package (not a zip archive, or truncated).")
        ) from None
    with archive:
        try:
            infos = _inspect(archive)
            raw = _read(archive, infos["manifest.json"])
            signature = _read(archive, infos["manifest.sig"])
            keys = list(trusted)
            if not keys:
                raise BundleRefused("no_key", _("No trusted key is configured for software updates."))
            for key in keys:
                try:
                    key.verify(signature, raw)
                    break
                except InvalidSignature:
                    continue
            else:
                raise BundleRefused("signature", _("The bundle's signature is not valid for any trusted key."))
            try:
                doc = json.loads(raw)
                payload = doc["payload"]
                manifest = Manifest(
                    version=str(doc["version"]),
                    device_type=str(doc["device_type"]),
                    components=tuple(str(c) for c in doc["components"]),
                    created_at=str(doc["created_at"]),
                    key_id=str(doc.get("key_id", "")),
                    payload_sha256=str(payload["sha256"]),
                    payload_size=int(payload["size"]),
                    notes=str(doc.get("notes", ""))[:500],
                )
                fmt, fmt_version = doc["format"], doc["format_version"]
            except (ValueError, KeyError, TypeError):
                raise BundleRefused("manifest", _("The bundle's manifest is malformed.")) from None
            if fmt != FORMAT or fmt_version != FORMAT_VERSION:
                raise BundleRefused("format", _("The bundle has a format this software cannot install."))
            if manifest.device_type != device_type:
                raise BundleRefused("device", _("The bundle is for another device type."))
            if not VERSION.match(manifest.version) or not set(manifest.components) <= COMPONENTS:
                raise BundleRefused("manifest", _("The bundle's manifest is malformed."))
            if version_tuple(manifest.version) <= version_tuple(installed):
                raise BundleRefused("older", _("The bundle is not newer than the installed version."))
            info = infos["payload.bin"]
            if info.file_size != manifest.payload_size:
                raise BundleRefused("payload", _("The bundle's payload does not match its manifest."))
            digest = hashlib.sha256()
            with archive.open(info) as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != manifest.payload_sha256:
                raise BundleRefused("payload", _("The bundle's payload does not match its manifest."))
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError):
            raise BundleRefused("damaged", _("The bundle is damaged.")) from None
        except Exception as exc:
            if isinstance(exc, BundleRefused):
                raise
            import zlib

            if isinstance(exc, zlib.error):
                raise BundleRefused("damaged", _("The bundle is damaged.")) from None
            raise
    return manifest


# --- the slots and their state ------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Either the old file or the new one, whatever happens to the process."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class UpdateStore:
    """The slots and ``state.json`` under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_file = root / "state.json"

    def ensure(self) -> None:
        (self.root / "slots").mkdir(parents=True, exist_ok=True)
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)
        (self.root / "trusted_keys").mkdir(parents=True, exist_ok=True)

    def state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_file.read_text())
            if isinstance(state, dict) and state.get("active") in SLOTS:
                return state
        except (OSError, ValueError):
            pass
        return {
            "active": "a",
            "slots": {"a": {"version": FACTORY_VERSION}, "b": None},
            "pending": None,
            "trial": None,
            "history": [],
        }

    def save(self, state: dict[str, Any]) -> None:
        self.ensure()
        write_atomic(self.state_file, json.dumps(state, indent=1, sort_keys=True).encode())

    def installed_version(self) -> str:
        state = self.state()
        slot = state["slots"].get(state["active"]) or {}
        return str(slot.get("version") or FACTORY_VERSION)

    def inactive(self, state: dict[str, Any] | None = None) -> str:
        state = state or self.state()
        return "b" if state["active"] == "a" else "a"

    def _note(self, state: dict[str, Any], event: str, **details: Any) -> None:
        history = list(state.get("history") or [])[-19:]
        history.append({"at": datetime.now(tz=UTC).replace(microsecond=0).isoformat(), "event": event, **details})
        state["history"] = history

    def install(self, bundle: Path, manifest: Manifest) -> str:
        """Write the verified bundle's payload into the inactive slot and mark it pending.
        Returns the slot. The active slot is never touched."""
        self.ensure()
        state = self.state()
        slot = self.inactive(state)
        target = self.root / "slots" / slot
        staging = self.root / "slots" / f".{slot}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with zipfile.ZipFile(bundle) as archive, archive.open("payload.bin") as src:
            digest = hashlib.sha256()
            with open(staging / "payload.bin", "wb") as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        if digest.hexdigest() != manifest.payload_sha256:  # the file changed since it was verified
            shutil.rmtree(staging, ignore_errors=True)
            raise BundleRefused("payload", _("The bundle's payload does not match its manifest."))
        write_atomic(staging / "manifest.json", json.dumps(manifest.as_dict(), sort_keys=True).encode())
        # the old content of the inactive slot is of no use any more: out of the way, then in
        old = self.root / "slots" / f".{slot}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        _fsync_dir(target.parent)
        state = self.state()
        state["slots"][slot] = {"version": manifest.version, "components": list(manifest.components)}
        state["pending"] = {"slot": slot, "version": manifest.version, "from": state["active"]}
        self._note(state, "installed", version=manifest.version, slot=slot)
        self.save(state)
        shutil.rmtree(old, ignore_errors=True)
        return slot

    def boot(self) -> dict[str, Any]:
        """At process start: take a pending slot on trial, count a trial that never confirmed,
        roll back after ``MAX_TRIAL_BOOTS``. Returns the state."""
        state = self.state()
        trial = state.get("trial")
        if trial:
            trial["boots"] = int(trial.get("boots", 1)) + 1
            if trial["boots"] > MAX_TRIAL_BOOTS:
                failed = state["slots"].get(trial["slot"]) or {}
                state["active"] = trial["from"]
                state["trial"] = None
                self._note(state, "rolled_back", version=failed.get("version"), to=self.installed_version_of(state))
        elif state.get("pending"):
            pending = state["pending"]
            state["trial"] = {"slot": pending["slot"], "from": pending["from"], "boots": 1, "since": time.time()}
            state["active"] = pending["slot"]
            state["pending"] = None
            self._note(state, "trial", version=pending["version"])
        else:
            return state
        self.save(state)
        return state

    @staticmethod
    def installed_version_of(state: dict[str, Any]) -> str:
        return str((state["slots"].get(state["active"]) or {}).get("version") or FACTORY_VERSION)

    def confirm(self) -> bool:
        """The running version is healthy: keep it. False when nothing was on trial."""
        state = self.state()
        if not state.get("trial"):
            return False
        state["trial"] = None
        state["clients_started_at"] = time.time()
        self._note(state, "confirmed", version=self.installed_version_of(state))
        self.save(state)
        return True

    def cancel_pending(self) -> bool:
        state = self.state()
        if not state.get("pending"):
            return False
        state["pending"] = None
        self._note(state, "cancelled")
        self.save(state)
        return True


# --- the controller's configuration (Django) -------------------------------------------------------
def store() -> UpdateStore:
    from django.conf import settings

    return UpdateStore(Path(settings.STATE_DIR) / "update")


def installed_version() -> str:
    return store().installed_version()


def device_type() -> str:
    from wbm.system.portability import device_type as portability_device_type

    return portability_device_type()


def trusted_keys() -> list[Any]:
    """``WBM_UPDATE_PUBLIC_KEYS`` (PEM or base64 raw, several separated by commas or lines)
    and ``<state>/update/trusted_keys/*.pub``."""
    from django.conf import settings

    texts: list[str] = []
    configured = getattr(settings, "WBM_UPDATE_PUBLIC_KEYS", "") or ""
    texts += re.findall(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", configured, flags=re.S)
    rest = re.sub(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", "", configured, flags=re.S)
    texts += [t for t in re.split(r"[\s,]+", rest) if t]
    folder = store().root / "trusted_keys"
    if folder.is_dir():
        texts += [p.read_text() for p in sorted(folder.glob("*.pub"))]
    keys = []
    for text in texts:
        with contextlib.suppress(ValueError, TypeError):
            keys.append(load_public_key(text))
    return keys
