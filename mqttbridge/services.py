"""The one write path of the MQTT bridge page (web, API): validate, write in one transaction,
render the Mosquitto bridge configuration (0600), record who changed what (never the
password), then tell the bridge agent on commit (``MqttBridgeReload``)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography import x509
from django.conf import settings as django_settings
from django.db import transaction
from django.utils.translation import gettext as _

from mqttbridge import render, topics
from mqttbridge.commands import MqttBridgeReload
from mqttbridge.models import BridgeSettings, ForwardRow
from mqttbridge.selectors import bridge_config
from vpn.osbackend import write_private
from wbm.audit import Actor, record_change
from wbm.runtime import commands

MAX_CA_BYTES = 64 * 1024
MAX_ROWS = 50
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?\Z")
_CREDENTIAL = re.compile(r"^[\x21-\x7e\u00a0-\U0010ffff]*\Z")  # printable, no whitespace


class BridgeRefused(Exception):
    """Nothing was written; ``errors``: field → translated messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def rendered_dir() -> Path:
    return Path(django_settings.STATE_DIR) / "system" / "mosquitto"


def _render() -> None:
    """Write ``bridge.conf`` (and ``bridge-ca.pem``) for the stored configuration, 0600."""
    cfg = bridge_config()
    ca_file = rendered_dir() / "bridge-ca.pem"
    if cfg.ca_pem:
        write_private(ca_file, cfg.ca_pem)
    else:
        ca_file.unlink(missing_ok=True)
    write_private(rendered_dir() / "bridge.conf", render.bridge_conf(cfg, ca_file=ca_file if cfg.ca_pem else None))


def _text(value: object, *, field: str, max_length: int, errors: dict[str, list[str]]) -> str:
    text = str(value if value is not None else "")
    if len(text) > max_length:
        errors.setdefault(field, []).append(_("At most %(max)s characters.") % {"max": max_length})
    elif any(unicodedata.category(c) in ("Cc", "Cs", "Cf", "Co", "Cn") for c in text):
        errors.setdefault(field, []).append(_("Control characters (new lines, NUL …) are not allowed."))
    return text


def check_settings(data: Mapping[str, object]) -> tuple[dict[str, object], dict[str, list[str]]]:
    """The broker fields, cleaned, and the errors per field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    host = _text(data.get("host", ""), field="host", max_length=253, errors=errors).strip()
    if host and "host" not in errors:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not _HOST.match(host):
                errors["host"] = [_("Enter a host name or an IP address.")]
    clean["host"] = host
    port = data.get("port", 1883)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        errors["port"] = [_("The port is a number from 1 to 65535.")]
    clean["port"] = port
    for field in ("username", "password"):
        if field == "password" and data.get("password") in (None, ""):
            continue  # write-only: empty keeps the stored one
        value = _text(data.get(field, ""), field=field, max_length=128, errors=errors)
        if field not in errors and not _CREDENTIAL.match(value):
            errors[field] = [_("Spaces are not allowed here: the broker's bridge configuration cannot carry them.")]
        clean[field] = value
    try:
        clean["prefix"] = topics.check_prefix(str(data.get("prefix", "") or ""))
    except topics.TopicInvalid as exc:
        errors["prefix"] = [str(exc)]
    for field in ("station_name", "location"):
        clean[field] = _text(data.get(field, ""), field=field, max_length=64, errors=errors).strip()
    return clean, errors


def _finish(settings: BridgeSettings, *, action: str, before: object, after: object, actor: Actor) -> BridgeSettings:
    settings.revision += 1
    settings.save()
    _render()
    record_change(actor=actor, action=action, obj=settings, before=before, after=after)
    commands.on_commit(MqttBridgeReload())
    return settings


def _locked() -> BridgeSettings:
    settings, _created = BridgeSettings.objects.select_for_update().get_or_create(pk=BridgeSettings.SINGLETON_PK)
    return settings


def bridge_settings_update(*, data: Mapping[str, object], clear_password: bool = False, actor: Actor) -> BridgeSettings:
    """Save the remote broker (host, port, user, password, added prefix, station name, location).
    An empty password keeps the stored one (``clear_password`` removes it). ``BridgeRefused``."""
    clean, errors = check_settings(data)
    with transaction.atomic():
        settings = _locked()
        if "prefix" in clean and clean["prefix"] != settings.prefix:
            errors.update(
                _rows_errors(
                    [(r.local_topic, r.remote_topic, r.direction) for r in ForwardRow.objects.all()],
                    str(clean["prefix"]),
                    settings.device_id,
                    "prefix",
                )
            )
        if errors:
            raise BridgeRefused(errors)
        before = settings.as_dict()
        for field, value in clean.items():
            setattr(settings, field, value)
        if clear_password:
            settings.password = ""
        return _finish(
            settings, action="mqttbridge.settings.update", before=before, after=settings.as_dict(), actor=actor
        )


def check_certificate(raw: bytes) -> str:
    """A PEM file with one or more X.509 certificates (no private key), as text; ``BridgeRefused``."""
    if len(raw) > MAX_CA_BYTES:
        raise BridgeRefused(
            {"certificate": [_("The file is larger than %(max)s KiB.") % {"max": MAX_CA_BYTES // 1024}]}
        )
    try:
        text = raw.decode("ascii")
        certificates = x509.load_pem_x509_certificates(raw)
    except (UnicodeDecodeError, ValueError):
        raise BridgeRefused(
            {"certificate": [_("The file is not a PEM certificate (-----BEGIN CERTIFICATE-----).")]}
        ) from None
    if "PRIVATE KEY" in text:
        raise BridgeRefused({"certificate": [_("The file holds a private key; upload the CA certificate only.")]})
    return "".join(c.public_bytes(encoding=_pem()).decode() for c in certificates)


def _pem():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def bridge_certificate_upload(*, name: str, raw: bytes, actor: Actor) -> BridgeSettings:
    """Store the CA certificate that verifies the remote broker (TLS from now on)."""
    pem = check_certificate(raw)
    name = re.split(r"[\\/]", name)[-1].strip()[:255]
    if any(unicodedata.category(c).startswith("C") for c in name):
        name = "certificate.pem"
    with transaction.atomic():
        settings = _locked()
        before = settings.as_dict()
        settings.ca_pem, settings.ca_name = pem, name or "certificate.pem"
        return _finish(
            settings, action="mqttbridge.certificate.upload", before=before, after=settings.as_dict(), actor=actor
        )


def bridge_clear(*, actor: Actor) -> BridgeSettings:
    """CLEAR CONFIGURATION: broker, credentials, certificate and forwarding rows; the device ID stays."""
    with transaction.atomic():
        settings = _locked()
        before = settings.as_dict()
        for field in ("host", "username", "password", "station_name", "location", "ca_pem", "ca_name"):
            setattr(settings, field, "")
        settings.port, settings.prefix = 1883, "CHARX"
        ForwardRow.objects.all().delete()
        return _finish(settings, action="mqttbridge.clear", before=before, after=settings.as_dict(), actor=actor)


def _rows_errors(
    rows: Sequence[tuple[str, str, str]], prefix: str, device_id: str, field: str = "rows"
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str, str]] = set()
    for i, (local, remote, direction) in enumerate(rows):
        if (local, remote, direction) in seen:
            errors.setdefault(field if field != "rows" else f"rows.{i}", []).append(_("This row is listed twice."))
            continue
        seen.add((local, remote, direction))
        try:
            topics.resolve(local=local, remote=remote, direction=direction, prefix=prefix, device_id=device_id)
        except topics.TopicInvalid as exc:
            errors.setdefault(field if field != "rows" else f"rows.{i}", []).append(str(exc))
    return errors


def bridge_rows_replace(*, rows: Sequence[Mapping[str, str]], actor: Actor) -> list[ForwardRow]:
    """Replace the topic forwarding rows (the page's order), all or nothing. Empty rows are dropped."""
    wanted = [
        (str(r.get("local_topic", "")).strip(), str(r.get("remote_topic", "")).strip(), str(r.get("direction", "")))
        for r in rows
        if str(r.get("local_topic", "")).strip() or str(r.get("remote_topic", "")).strip()
    ]
    if len(wanted) > MAX_ROWS:
        raise BridgeRefused({"rows": [_("At most %(max)s rows.") % {"max": MAX_ROWS}]})
    with transaction.atomic():
        settings = _locked()
        errors = _rows_errors(wanted, settings.prefix, settings.device_id)
        if errors:
            raise BridgeRefused(errors)
        before = [(r.local_topic, r.remote_topic, r.direction) for r in ForwardRow.objects.all()]
        ForwardRow.objects.all().delete()
        created = ForwardRow.objects.bulk_create(
            ForwardRow(position=i, local_topic=local, remote_topic=remote, direction=direction)
            for i, (local, remote, direction) in enumerate(wanted)
        )
        _finish(
            settings, action="mqttbridge.rows.replace", before={"rows": before}, after={"rows": wanted}, actor=actor
        )
        return created
