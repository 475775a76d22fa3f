"""Log bundle and support bundle, with every secret redacted.

``logs_bundle_write`` is DOWNLOAD LOGS: every log file of the controller, one file per service,
compressed into one zip. ``support_bundle_write`` adds what support asks for (manual M:3100:
log files, an error description, details of the controllers): the configuration without
secrets, the OCPP message log, the status of every service, the versions and recent faults.
OCPP GetDiagnostics uploads the same support bundle (``diagnostics_write``).

Redaction, in two passes over every text that goes into a bundle:

1. by value: every secret stored in the database (any field whose name says password, PIN,
   PSK, token, key, certificate or PEM, the pasted OpenVPN configuration, and OCPP configuration
   values whose key says Key/Password/Secret) is replaced wherever it appears, also inside
   log lines and JSON; long multi-line secrets (certificates, VPN files) line by line too;
2. by pattern: ``password=…``, ``"AuthorizationKey": "…"``, ``Authorization: Basic …``,
   bearer and ``wbm_`` API tokens, ``user:password@`` in URLs, PEM blocks and OpenVPN inline
   ``<key>``/``<ca>``/``<tls-auth>`` blocks, whatever stored them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from wbm.runtime.bus import read_snapshot
from wbm.system import applications

log = logging.getLogger(__name__)

REDACTED = "[REDACTED]"
SUPPORT_NOTE = (
    "WBM support bundle\n"
    "==================\n"
    "Phoenix Contact Support: automation-service@phoenixcontact.de\n"
    "Have ready: these log files, a description of the error, details of the charging controllers used.\n"
    "Every password, key, token and certificate in this bundle has been replaced by [REDACTED].\n"
)
SECRET_FIELD = re.compile(
    r"password|passphrase|secret|token|digest|psk|(^|_)pin$|_key$|^key_|private|certificate|_pem$|^pasted$", re.I
)
SECRET_CONFIG_KEY = re.compile(r"key|password|secret|token|pin$", re.I)
SKIP_MODELS = {"sessions.Session", "admin.LogEntry", "contenttypes.ContentType", "auth.Permission"}
ROWS_PER_MODEL = 2000
MIN_SECRET_LEN = 3  # shorter values ("1", "ab") would redact half of every file
_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|\Z)", re.S), "[REDACTED PEM]"),
    (
        re.compile(
            r"<(ca|cert|key|tls-auth|tls-crypt|tls-crypt-v2|secret|pkcs12|auth-user-pass)>.*?(</\1>|\Z)", re.S | re.I
        ),
        lambda m: f"<{m.group(1)}>{REDACTED}</{m.group(1)}>",
    ),
    (
        re.compile(
            r"(\"(?:[A-Za-z_]*(?:password|passphrase|secret|token|psk|pin|authorizationkey|authorization_key|"
            r"private_key|key_pem|ca_pem|certificate)[A-Za-z_]*)\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"",
            re.I,
        ),
        lambda m: f'{m.group(1)}"{REDACTED}"',
    ),
    (
        re.compile(
            r"\b((?:[A-Za-z_]*(?:password|passwd|passphrase|secret|token|psk|authorizationkey|authorization_key)"
            r"[A-Za-z_]*|pin|pwd)\s*[=:]\s*)(['\"]?)[^\s'\",;&]+\2",
            re.I,
        ),
        lambda m: f"{m.group(1)}{REDACTED}",
    ),
    (re.compile(r"\b(Authorization:\s*(?:Basic|Bearer|Token)\s+)\S+", re.I), lambda m: f"{m.group(1)}{REDACTED}"),
    (re.compile(r"\b(Bearer|Token)\s+[A-Za-z0-9._~+/=-]{8,}"), lambda m: f"{m.group(1)} {REDACTED}"),
    (re.compile(r"\bwbm_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", re.I), lambda m: f"{m.group(1)}{REDACTED}@"),
)


# --- finding secrets ------------------------------------------------------------------------------
def _secret_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.BinaryField) and SECRET_FIELD.search(f.name)
    ]


def _is_config_pair(model: type[models.Model]) -> bool:
    names = {f.name for f in model._meta.concrete_fields}
    return {"key", "value"} <= names


def stored_secrets() -> set[str]:
    """Every secret value stored in the database, found by field name (see module docstring)."""
    found: set[str] = set()
    for model in apps.get_models():
        if model._meta.label in SKIP_MODELS:
            continue
        fields = _secret_fields(model)
        try:
            if fields:
                for row in model._default_manager.values_list(*fields):
                    found.update(str(v) for v in row if v)
            if _is_config_pair(model):
                for key, value in model._default_manager.values_list("key", "value"):
                    if value and SECRET_CONFIG_KEY.search(str(key)):
                        found.add(str(value))
        except Exception:  # a table not migrated yet: nothing stored there
            log.debug("no secrets read from %s", model._meta.label, exc_info=True)
    secrets: set[str] = set()
    for value in found:
        value = value.strip()
        if len(value) >= MIN_SECRET_LEN:
            secrets.add(value)
        if "\n" in value:  # a certificate or VPN file: each of its long lines on its own too
            secrets.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
    return secrets


@dataclass(frozen=True)
class Redactor:
    """Replaces known secret values and secret-looking patterns in text."""

    values: re.Pattern[str] | None

    @classmethod
    def from_database(cls, extra: Iterable[str] = ()) -> Redactor:
        secrets = sorted(stored_secrets() | {s for s in extra if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        if not secrets:
            return cls(None)
        variants: set[str] = set()
        for secret in secrets:
            variants.add(secret)
            variants.add(json.dumps(secret)[1:-1])  # as it appears inside JSON (escaped quotes, \n)
        ordered = sorted(variants, key=len, reverse=True)
        return cls(re.compile("|".join(re.escape(s) for s in ordered)))

    def __call__(self, text: str) -> str:
        if self.values is not None:
            text = self.values.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)  # type: ignore[arg-type]
        return text


# --- the pieces of a bundle -------------------------------------------------------------------
def log_files() -> list[Path]:
    """Every log file of the controller (``LOG_DIR``, rotated ones included), oldest first."""
    found = [p for p in Path(settings.LOG_DIR).glob("*.log*") if p.is_file()]
    return sorted(found, key=lambda p: (p.name.split(".log")[0], -_rotation(p)))


def _rotation(path: Path) -> int:
    suffix = path.name.rsplit(".log", 1)[-1].lstrip(".")
    return int(suffix) if suffix.isdigit() else 0


_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ([\w.]+): ")
SERVICE_OF_LOGGER = {
    "ocppcfg": "ocpp",
    "ocpp": "ocpp",
    "chargepoints": "controller",
    "modbus": "modbus",
    "pymodbus": "modbus",
    "loadmgmt": "load-management",
    "mqttbridge": "jupicore-mqtt",
    "network": "network",
    "vpn": "openvpn",
    "ledger": "controller",
    "django": "web-server",
    "daphne": "web-server",
    "wbm": "system",
}


def service_of(logger: str) -> str:
    parts = logger.split(".")
    if parts[:2] == ["wbm", "runtime"]:
        return "runtime"
    return SERVICE_OF_LOGGER.get(parts[0], "other")


def split_by_service(lines: Iterable[str]) -> dict[str, list[str]]:
    """One list of lines per service; a line without a header (a traceback) stays with the
    line before it."""
    services: dict[str, list[str]] = {}
    current = "other"
    for line in lines:
        match = _LINE.match(line)
        if match:
            current = service_of(match.group(1))
        services.setdefault(current, []).append(line)
    return services


def _read_text(path: Path, start: dt.datetime | None = None, stop: dt.datetime | None = None) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    if start is None and stop is None:
        return text
    kept, keep = [], True
    for line in text.splitlines(keepends=True):
        match = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", line)
        if match:
            when = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
            keep = (start is None or when >= start.replace(microsecond=0)) and (stop is None or when <= stop)
        if keep:
            kept.append(line)
    return "".join(kept)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, ensure_ascii=False)


def status_document() -> dict[str, Any]:
    snapshot = read_snapshot()
    now = time.time()
    document: dict[str, Any] = {
        "generated_at": dt.datetime.now(tz=dt.UTC).isoformat(),
        "applications": [applications.as_dict(r, now) for r in applications.application_rows(snapshot)],
        "other_services": [
            {"name": a.name, "state": a.state, "restarts": a.restarts, "last_error": a.last_error}
            for a in applications.other_agents(snapshot)
        ],
    }
    if snapshot is not None and snapshot.system is not None:
        document["system"] = {f: getattr(snapshot.system, f) for f in snapshot.system.__dataclass_fields__}
        document["agent_states"] = dict(snapshot.agent_states)
    return document


def faults_document(log_text: str) -> dict[str, Any]:
    snapshot = read_snapshot()
    faulted = []
    if snapshot is not None:
        for cp in snapshot.chargepoints:
            code = getattr(cp, "error_code", "") or ""
            if code:
                faulted.append({"chargepoint": cp.id, "error_code": code, "info": getattr(cp, "error_info", "")})
    problems = [
        line for line in log_text.splitlines() if " WARNING " in line or " ERROR " in line or " CRITICAL " in line
    ]
    return {"chargepoints": faulted, "recent_log_problems": problems[-300:]}


def configuration_document() -> dict[str, Any]:
    """Every configuration table, secrets left out (``"[REDACTED]"`` where one is set)."""
    skip_apps = {"sessions", "auth", "contenttypes", "axes", "admin"}
    history = {"ChangeRecord", "MessageLog", "ChargingSession", "SessionSample", "OutboxMessage", "ConnectionEvent"}
    document: dict[str, Any] = {}
    for model in apps.get_models():
        if model._meta.app_label in skip_apps or model.__name__ in history:
            continue
        secret = set(_secret_fields(model))
        config_pair = _is_config_pair(model)
        names = [f.attname for f in model._meta.concrete_fields]
        try:
            rows = list(model._default_manager.values(*names)[:ROWS_PER_MODEL])
        except Exception:
            continue
        for row in rows:
            for name in secret:
                if row.get(name):
                    row[name] = REDACTED
            if config_pair and SECRET_CONFIG_KEY.search(str(row.get("key", ""))) and row.get("value"):
                row["value"] = REDACTED
        document[model._meta.label] = rows
    return document


def ocpp_messages() -> list[dict[str, Any]]:
    try:
        model = apps.get_model("ocppcfg", "MessageLog")
    except LookupError:
        return []
    return [
        dict(row)
        for row in model._default_manager.order_by("-id").values(
            "at", "direction", "message_type", "action", "payload"
        )[:500]
    ]


# --- writing bundles ------------------------------------------------------------------------------
def _entries_logs(redact: Redactor, start: dt.datetime | None, stop: dt.datetime | None) -> Iterator[tuple[str, str]]:
    everything: list[str] = []
    for path in log_files():
        text = redact(_read_text(path, start, stop))
        everything.extend(text.splitlines(keepends=True))
        yield f"logs/{path.name}", text
    for service, lines in sorted(split_by_service(everything).items()):
        yield f"services/{service}.log", "".join(lines)


def _write_zip(target: Any, entries: Iterable[tuple[str, str]], progress: Callable[[int], None] | None) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in entries:
            archive.writestr(name, text)
            if progress is not None:
                progress(len(text))


def logs_bundle_write(target: Any, *, progress: Callable[[int], None] | None = None) -> None:
    """DOWNLOAD LOGS: every log file (redacted) plus one file per service."""
    redact = Redactor.from_database()
    _write_zip(target, _entries_logs(redact, None, None), progress)


def support_bundle_write(
    target: Any,
    *,
    start: dt.datetime | None = None,
    stop: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """The support bundle: logs (limited to ``start``..``stop`` when given), configuration,
    OCPP message log, status, versions, recent faults; every entry redacted."""
    redact = Redactor.from_database()

    def entries() -> Iterator[tuple[str, str]]:
        yield "README.txt", SUPPORT_NOTE
        all_logs: list[str] = []
        for name, text in _entries_logs(redact, start, stop):
            if name.startswith("logs/"):
                all_logs.append(text)
            yield name, text
        yield "status.json", redact(_json(status_document()))
        yield "versions.json", _json(applications.versions())
        yield "configuration.json", redact(_json(configuration_document()))
        yield "ocpp-messages.json", redact(_json(ocpp_messages()))
        yield "faults.json", redact(_json(faults_document("".join(all_logs))))

    _write_zip(target, entries(), progress)


def diagnostics_write(dest: Path, *, start: dt.datetime | None = None, stop: dt.datetime | None = None) -> Path:
    """OCPP GetDiagnostics: write the support bundle (logs from ``start`` to ``stop``) to ``dest``
    (a zip, written to a temporary file and renamed, so a half-written one is never uploaded)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            support_bundle_write(out, start=start, stop=stop)
        Path(tmp).replace(dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def bundle_to_tempfile(kind: str) -> tuple[io.BufferedRandom, int]:
    """Write a bundle into an anonymous temporary file; returns it (at position 0) and its size,
    so the response can send a Content-Length (the browser shows the download's progress)."""
    spool = tempfile.TemporaryFile(dir=settings.STATE_DIR)  # noqa: SIM115 - handed to the response
    if kind == "support":
        support_bundle_write(spool)
    else:
        logs_bundle_write(spool)
    size = spool.tell()
    spool.seek(0)
    return spool, size
