"""System Control / Import/Export: one versioned, self-describing configuration file.

The file is a zip archive:

- ``manifest.json``: format name and version, device type, software version, created at, and
  per section its schema version, member name and SHA-256;
- ``sections/<key>.json``: one sub-register each, never a secret;
- ``secrets.bin`` (only when the user set a passphrase): the secrets of every exported section,
  as JSON encrypted with AES-256-GCM under a key derived with scrypt from the passphrase; the
  manifest's digest of the sections is the associated data, so secrets cannot be moved to
  another file.

Apps contribute sections from ``<app>/portability.py`` (``SECTIONS``, see ``Section``); the
shell finds them through ``wbm.registry.portability_sections`` and never imports an app.

Reading never extracts anything to disk. The zip's central directory is checked before a
single member is read: member count, names (no paths outside ``sections/``, no links, no
directories, no duplicates), sizes, total and compression ratio; then the members are read
with a bound that holds even when a header lies.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from wbm import audit
from wbm.audit import Actor
from wbm.roles import Perm, Role

FORMAT = "wbm-configuration"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 16 * 1024 * 1024  # the upload itself
MAX_MEMBERS = 40
MAX_MEMBER_BYTES = 16 * 1024 * 1024  # one section, uncompressed
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # all members, uncompressed
MAX_RATIO = 100  # uncompressed / compressed of one member: JSON compresses ~10x, a bomb ~1000x
MEMBER_NAME = re.compile(r"\A(?:manifest\.json|secrets\.bin|sections/[a-z][a-z0-9_]{0,39}\.json)\Z")
SECRETS_AAD_PREFIX = b"wbm-configuration-secrets-v1:"
# scrypt: 2^15 x 8 x 1 takes ~0.1 s and 32 MiB here; the passphrase is offline-attackable
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


def device_type() -> str:
    return str(getattr(settings, "WBM_DEVICE_TYPE", "CHARX SEC-3100"))


# --- the contract between the shell and an app -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Change:
    """One difference between what is stored and what a file holds."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One sub-register an app exports and imports.

    ``export()``: the stored configuration as JSON values, without secrets; ``secrets()``: the
    secret values only ({} when none); ``validate(data, secrets)``: every problem as a message
    (nothing written); ``apply(data, secrets, actor)``: write through the app's own services
    (the one write path) inside the caller's transaction; ``secrets`` None keeps the stored
    ones. ``diff(data)`` defaults to comparing ``export()`` with ``data``.
    ``audit_prefixes``: the audit actions that change this section (its revisions).
    """

    key: str
    title: str | Promise
    schema: int
    edit_perm: Perm
    export: Callable[[], dict[str, Any]]
    validate: Callable[[dict[str, Any], dict[str, Any] | None], list[str]]
    apply: Callable[[dict[str, Any], dict[str, Any] | None, Actor], None]
    secrets: Callable[[], dict[str, Any]] = dict
    diff: Callable[[dict[str, Any]], list[Change]] | None = None
    audit_prefixes: tuple[str, ...] = ()
    order: int = 100
    # the services ``apply`` calls check everything themselves (a refusal rolls the whole import
    # back): the import does not validate such a section a second time before applying it
    validated_by_apply: bool = False

    def changes(self, data: dict[str, Any]) -> list[Change]:
        if self.diff is not None:
            return self.diff(data)
        return flat_diff(self.export(), data)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for key in sorted(value, key=str):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value


def flat_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Changes between two JSON documents, by dotted path (lists compared whole)."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _flatten(before, "", old)
    _flatten(after, "", new)
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def sections() -> dict[str, Section]:
    from wbm.registry import portability_sections

    return {s.key: s for s in sorted(portability_sections(), key=lambda s: (s.order, s.key))}


def may_import(role: Role, section: Section) -> bool:
    from wbm.roles import MIN_ROLE

    return role >= MIN_ROLE[Perm.SYSTEM_IMPORT_EXPORT] and role >= MIN_ROLE[section.edit_perm]


# --- errors ------------------------------------------------------------------------------------------
class FileRefused(Exception):
    """The file cannot be read as a configuration file of this device; nothing was extracted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongPassphrase(FileRefused):
    pass


class ImportInvalid(Exception):
    """Some chosen sections do not validate; nothing was written. ``errors``: key → messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- secrets: scrypt + AES-GCM -------------------------------------------------------------------
def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def encrypt_secrets(payload: dict[str, Any], *, passphrase: str, aad: bytes) -> tuple[dict[str, Any], bytes]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    blob = AESGCM(key).encrypt(nonce, json.dumps(payload, sort_keys=True).encode(), SECRETS_AAD_PREFIX + aad)
    header = {
        "cipher": "AES-256-GCM",
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
    }
    return header, blob


def decrypt_secrets(header: Mapping[str, Any], blob: bytes, *, passphrase: str, aad: bytes) -> dict[str, Any]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        n, r, p = int(header["n"]), int(header["r"]), int(header["p"])
        salt, nonce = base64.b64decode(header["salt"]), base64.b64decode(header["nonce"])
    except (KeyError, TypeError, ValueError):
        raise FileRefused(_("The encrypted secrets of this file are damaged.")) from None
    # refuse parameters that would make the key derivation a denial of service
    if (
        header.get("cipher") != "AES-256-GCM"
        or header.get("kdf") != "scrypt"
        or not (2**10 <= n <= 2**17)
        or r > 16
        or p > 4
    ):
        raise FileRefused(_("The encrypted secrets of this file use an unknown method."))
    key = _key(passphrase, salt, n, r, p)
    try:
        plain = AESGCM(key).decrypt(nonce, blob, SECRETS_AAD_PREFIX + aad)
    except InvalidTag:
        raise WrongPassphrase(_("The passphrase is wrong, or the file was changed. Nothing was imported.")) from None
    data = json.loads(plain)
    if not isinstance(data, dict):
        raise FileRefused(_("The encrypted secrets of this file are damaged."))
    return data


# --- export ----------------------------------------------------------------------------------------
def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


def _sections_digest(entries: Mapping[str, Mapping[str, Any]]) -> bytes:
    return hashlib.sha256(_dump({k: v["sha256"] for k, v in entries.items()})).hexdigest().encode()


def configuration_export(
    *, keys: Sequence[str], passphrase: str = "", actor: Actor, now: datetime | None = None
) -> bytes:
    """The chosen sections as one file. Secrets only with a passphrase, encrypted."""
    from wbm.system.update import installed_version

    known = sections()
    chosen = [known[k] for k in keys if k in known]
    if not chosen:
        raise ImportInvalid({"": [_("Choose at least one sub-register.")]})
    buffer = io.BytesIO()
    entries: dict[str, dict[str, Any]] = {}
    secrets: dict[str, Any] = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in chosen:
            raw = _dump(section.export())
            member = f"sections/{section.key}.json"
            archive.writestr(member, raw)
            entries[section.key] = {"schema": section.schema, "file": member, "sha256": hashlib.sha256(raw).hexdigest()}
            if passphrase and (values := section.secrets()):
                secrets[section.key] = values
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "device_type": device_type(),
            "software_version": installed_version(),
            "created_at": (now or datetime.now(tz=UTC)).replace(microsecond=0).isoformat(),
            "sections": entries,
            "secrets": None,
        }
        if passphrase:
            header, blob = encrypt_secrets(secrets, passphrase=passphrase, aad=_sections_digest(entries))
            archive.writestr("secrets.bin", blob)
            manifest["secrets"] = {**header, "file": "secrets.bin", "sections": sorted(secrets)}
        archive.writestr("manifest.json", _dump(manifest))
    audit.record_change(
        actor=actor,
        action="system.config.export",
        after={"sections": [s.key for s in chosen], "secrets": bool(passphrase)},
    )
    return buffer.getvalue()


def export_filename(now: datetime | None = None) -> str:
    return f"wbm-config-{(now or datetime.now(tz=UTC)):%Y%m%d-%H%M%S}.zip"


# --- reading a file safely ---------------------------------------------------------------------------
@dataclass(slots=True)
class ConfigFile:
    """A read and checked configuration file (nothing applied)."""

    manifest: dict[str, Any]
    data: dict[str, dict[str, Any]]
    secrets: dict[str, Any] | None = None  # None: none in the file or no passphrase given
    has_secrets: bool = False


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_IFMT(mode) not in (0, stat.S_IFREG)


def inspect_archive(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Check the central directory; raises ``FileRefused`` before any member is read."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise FileRefused(_("The file has too many members."))
    names: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not MEMBER_NAME.match(name) or name in names:
            raise FileRefused(
                _("The file contains a member that a configuration file never has: %(name)s") % {"name": name[:80]}
            )
        if _is_link(info) or info.is_dir():
            raise FileRefused(_("The file contains a link or a folder: %(name)s") % {"name": name[:80]})
        if info.flag_bits & 0x1:
            raise FileRefused(_("The file contains an encrypted zip member."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(_("The file uses an unsupported compression."))
        if info.file_size > MAX_MEMBER_BYTES:
            raise FileRefused(_("A member of the file is too large."))
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1024 * 1024:
            raise FileRefused(_("A member of the file is compressed suspiciously well (a zip bomb?)."))
        total += info.file_size
        names.add(name)
    if total > MAX_TOTAL_BYTES:
        raise FileRefused(_("The file is too large when unpacked."))
    if "manifest.json" not in names:
        raise FileRefused(_("The file has no manifest: it is not a configuration file of this device."))
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one member, never more than its declared size (a lying header is refused)."""
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise FileRefused(_("A member of the file is damaged."))
    return data


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FileRefused(_("%(member)s is not valid JSON.") % {"member": what}) from None
    if not isinstance(value, dict):
        raise FileRefused(_("%(member)s must contain a JSON object.") % {"member": what})
    return value


def check_manifest(manifest: Mapping[str, Any]) -> None:
    if manifest.get("format") != FORMAT:
        raise FileRefused(_("This is not a configuration file of this device."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise FileRefused(
            _("The file has format version %(found)s; this software reads version %(wanted)s.")
            % {"found": str(manifest.get("format_version"))[:20], "wanted": FORMAT_VERSION}
        )
    if manifest.get("device_type") != device_type():
        raise FileRefused(
            _("The file was made for the device type “%(found)s”, this is a “%(wanted)s”.")
            % {"found": str(manifest.get("device_type"))[:60], "wanted": device_type()}
        )
    if not isinstance(manifest.get("sections"), dict) or not manifest["sections"]:
        raise FileRefused(_("The manifest lists no sections."))


def read_file(raw: bytes, *, passphrase: str = "") -> ConfigFile:
    """Read and check a configuration file. ``FileRefused`` (or ``WrongPassphrase``) on any
    problem; never touches the disk or the database."""
    if len(raw) > MAX_FILE_BYTES:
        raise FileRefused(_("The file is too large."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused(_("The file is not a configuration file (not a zip archive, or truncated).")) from None
    with archive:
        infos = {i.filename: i for i in inspect_archive(archive)}
        try:
            manifest = _json(_read_member(archive, infos["manifest.json"]), "manifest.json")
            check_manifest(manifest)
            known = sections()
            data: dict[str, dict[str, Any]] = {}
            for key, entry in manifest["sections"].items():
                if not isinstance(entry, dict) or key not in known:
                    raise FileRefused(_("The file has an unknown section: %(key)s") % {"key": str(key)[:40]})
                member = f"sections/{key}.json"
                if entry.get("file") != member or member not in infos:
                    raise FileRefused(_("The section %(key)s is missing from the file.") % {"key": key})
                if entry.get("schema") != known[key].schema:
                    raise FileRefused(
                        _("The section %(key)s has schema version %(found)s; this software reads %(wanted)s.")
                        % {"key": key, "found": str(entry.get("schema"))[:10], "wanted": known[key].schema}
                    )
                body = _read_member(archive, infos[member])
                if hashlib.sha256(body).hexdigest() != entry.get("sha256"):
                    raise FileRefused(_("The section %(key)s was changed after the export.") % {"key": key})
                data[key] = _json(body, member)
            secrets_header = manifest.get("secrets")
            secrets: dict[str, Any] | None = None
            if secrets_header:
                if not isinstance(secrets_header, dict) or "secrets.bin" not in infos:
                    raise FileRefused(_("The encrypted secrets of this file are missing."))
                if passphrase:
                    blob = _read_member(archive, infos["secrets.bin"])
                    secrets = decrypt_secrets(
                        secrets_header, blob, passphrase=passphrase, aad=_sections_digest(manifest["sections"])
                    )
        except (zipfile.BadZipFile, zlib_error(), EOFError, OSError, RuntimeError):
            raise FileRefused(_("The file is damaged (truncated or corrupt).")) from None
    return ConfigFile(manifest=manifest, data=data, secrets=secrets, has_secrets=bool(secrets_header))


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


# --- import ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class SectionPlan:
    key: str
    title: str
    allowed: bool
    errors: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    with_secrets: bool = False


def import_plan(file: ConfigFile, *, role: Role) -> list[SectionPlan]:
    """Every section of the file: may this role import it, its problems, its changes."""
    known = sections()
    plans = []
    for key in sorted(file.data, key=list(known).index):
        data, section = file.data[key], known[key]
        secrets = (file.secrets or {}).get(key) if file.secrets is not None else None
        plan = SectionPlan(
            key=key, title=str(section.title), allowed=may_import(role, section), with_secrets=secrets is not None
        )
        try:
            plan.errors = [str(e) for e in section.validate(data, secrets)]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            plan.errors = [_("The section is malformed: %(error)s") % {"error": str(exc)[:200]}]
        if not plan.errors:
            plan.changes = section.changes(data)
        plans.append(plan)
    return plans


def configuration_import(
    *, file: ConfigFile, keys: Sequence[str], actor: Actor, action: str = "system.config.import"
) -> list[str]:
    """Apply the chosen sections in one transaction, all or nothing. Each is validated again
    inside the transaction; ``ImportInvalid`` names what is wrong (nothing written), and a
    section the actor's role may not edit is refused. Returns the applied keys."""
    known = sections()
    chosen = [k for k in keys if k in file.data]
    if not chosen:
        raise ImportInvalid({"": [_("Choose at least one sub-register.")]})
    import dataclasses

    source = "rollback" if action == "system.revision.rollback" else "import"
    actor = dataclasses.replace(actor, source=source) if actor.source in ("web", "api") else actor
    errors: dict[str, list[str]] = {}
    for key in chosen:
        if not may_import(actor.role, known[key]):
            errors[key] = [_("Your role may not change this sub-register.")]
    if errors:
        raise ImportInvalid(errors)
    with transaction.atomic():
        for key in chosen:
            if known[key].validated_by_apply:
                continue
            secrets = (file.secrets or {}).get(key) if file.secrets is not None else None
            problems = known[key].validate(file.data[key], secrets)
            if problems:
                errors[key] = [str(p) for p in problems]
        if errors:
            raise ImportInvalid(errors)
        for key in chosen:
            secrets = (file.secrets or {}).get(key) if file.secrets is not None else None
            if secrets is None and not known[key].changes(file.data[key]):
                continue  # nothing to write: no revision, no reload
            try:
                known[key].apply(file.data[key], secrets, actor)
            except ImportInvalid:
                raise
            except Exception as exc:
                # a service refused what validate() let through: the whole import rolls back
                raise ImportInvalid({key: [_describe(exc)]}) from exc
        audit.record_change(
            actor=actor,
            action=action,
            after={
                "sections": chosen,
                "secrets": file.secrets is not None,
                "created_at": file.manifest.get("created_at"),
            },
        )
        # each service told its agent on commit (the one write path); nothing more to say here
    return chosen


class _DryRun(Exception):
    pass


def dry_run(
    apply: Callable[[dict[str, Any], dict[str, Any] | None, Actor], None],
    data: dict[str, Any],
    secrets: dict[str, Any] | None,
) -> list[str]:
    """Validate by applying in a savepoint that is always rolled back: the services' own checks,
    nothing kept (their on-commit notifications are dropped with the savepoint). Only for
    sections whose services write nothing but the database."""
    try:
        with transaction.atomic():
            apply(data, secrets, Actor.system())
            raise _DryRun
    except _DryRun:
        return []
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [_("The section is malformed: %(error)s") % {"error": str(exc)[:200]}]
    except Exception as exc:
        return [_describe(exc)]


def _describe(exc: Exception) -> str:
    for attribute in ("errors", "message", "messages", "problems"):
        value = getattr(exc, attribute, None)
        if value:
            if isinstance(value, dict):
                return "; ".join(
                    f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items()
                )
            if isinstance(value, list):
                return "; ".join(map(str, value))
            return str(value)
    return str(exc) or type(exc).__name__
