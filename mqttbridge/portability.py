"""The MQTT bridge as a section of System Control / Import/Export: the remote broker, its CA
certificate and the topic forwarding rows. The password is a secret: only in the file's
encrypted part. Checked with the bridge's own rules (``check_settings``, topic rows) and written
by its services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from mqttbridge import services
from mqttbridge.models import BridgeSettings, ForwardRow
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section

FIELDS = ("host", "port", "username", "prefix", "station_name", "location")


def _stored() -> BridgeSettings:
    return BridgeSettings.objects.get_or_create(pk=BridgeSettings.SINGLETON_PK)[0]


def export() -> dict[str, Any]:
    settings = _stored()
    return {
        "broker": {f: getattr(settings, f) for f in FIELDS},
        "ca_certificate": settings.ca_pem,
        "ca_name": settings.ca_name,
        "rows": [
            {"local_topic": r.local_topic, "remote_topic": r.remote_topic, "direction": r.direction}
            for r in ForwardRow.objects.order_by("position")
        ],
    }


def secrets() -> dict[str, Any]:
    return {"password": _stored().password}


def _parts(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    broker, rows, ca = data.get("broker"), data.get("rows", []), data.get("ca_certificate") or ""
    if not isinstance(broker, dict) or not isinstance(rows, list) or not isinstance(ca, str):
        raise ValueError("broker, rows or ca_certificate malformed")
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError("rows must be objects")
    return {k: broker.get(k) for k in FIELDS}, rows, ca


def validate(data: dict[str, Any], secret: dict[str, Any] | None) -> list[str]:
    broker, rows, ca = _parts(data)
    _clean, errors = services.check_settings({**broker, **(secret or {})})
    problems = [f"{field}: {m}" for field, messages in errors.items() for m in messages]
    if ca:
        try:
            services.check_certificate(ca.encode())
        except services.BridgeRefused as exc:
            problems += [str(m) for messages in exc.errors.values() for m in messages]
    wanted = [
        (str(r.get("local_topic", "")), str(r.get("remote_topic", "")), str(r.get("direction", ""))) for r in rows
    ]
    row_errors = services._rows_errors(wanted, str(broker.get("prefix") or ""), _stored().device_id)
    return problems + [f"{field}: {m}" for field, messages in row_errors.items() for m in messages]


def apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    broker, rows, ca = _parts(data)
    stored = _stored()
    password = (secret or {}).get("password") if secret is not None else None
    if not ca and stored.ca_pem:
        kept = stored.password
        services.bridge_clear(actor=actor)  # the only way to drop the certificate
        password = kept if password is None else password
    services.bridge_settings_update(
        data={**broker, "password": password or ""}, clear_password=password == "", actor=actor
    )
    if ca and ca != stored.ca_pem:
        services.bridge_certificate_upload(
            name=str(data.get("ca_name") or "certificate.pem"), raw=ca.encode(), actor=actor
        )
    services.bridge_rows_replace(rows=rows, actor=actor)


SECTIONS = [
    Section(
        key="mqttbridge",
        title=gettext_lazy("MQTT bridge"),
        schema=1,
        edit_perm=Perm.NETWORK_EDIT,
        export=export,
        secrets=secrets,
        validate=validate,
        apply=apply,
        audit_prefixes=("mqttbridge.",),
        order=80,
    )
]
