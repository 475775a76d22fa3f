"""OCPP as a section of System Control / Import/Export: the OCPP settings and every writable
configuration key (server variables). The AuthorizationKey is a secret: it travels only in the
file's encrypted part. Validated by a dry run of the services, written by
``ocpp_settings_update`` and ``ocpp_variables_update``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from ocppcfg import services, variables
from ocppcfg.models import OcppSettings
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section, dry_run


def _writable() -> list[str]:
    return sorted(
        key
        for key, v in variables.VARIABLES.items()
        if not v.readonly and not v.secret and key not in variables.SETTINGS_KEYS
    )


def export() -> dict[str, Any]:
    settings = OcppSettings.load()
    current = variables.values()
    return {
        "settings": {field: getattr(settings, field) for field in services.EDITABLE_FIELDS},
        "ca_certificate": settings.ca_certificate,
        "variables": {key: current[key] for key in _writable()},
    }


def secrets() -> dict[str, Any]:
    return {"authorization_key": OcppSettings.load().authorization_key}


def apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    settings = dict(data["settings"])
    if not isinstance(settings, dict) or set(settings) - set(services.EDITABLE_FIELDS):
        raise ValueError("settings: unknown fields")
    clear_key = False
    if secret is not None:
        settings["authorization_key"] = secret.get("authorization_key", "")
        clear_key = not settings["authorization_key"]
    ca = data.get("ca_certificate") or ""
    services.ocpp_settings_update(
        data=settings, actor=actor, clear_key=clear_key, certificate=ca or None, delete_certificate=not ca
    )
    wanted = data.get("variables") or {}
    if not isinstance(wanted, dict):
        raise ValueError("variables must be an object")
    current = variables.values()
    changes = {
        key: wanted.get(key, variables.VARIABLES[key].default)
        for key in _writable()
        if str(wanted.get(key, variables.VARIABLES[key].default)) != current[key]
    }
    changes.update({k: v for k, v in wanted.items() if k not in variables.VARIABLES or k in changes})
    services.ocpp_variables_update(changes=changes, actor=actor)


SECTIONS = [
    Section(
        key="ocpp",
        title=gettext_lazy("OCPP"),
        schema=1,
        edit_perm=Perm.OCPP_SETTINGS_EDIT,
        export=export,
        secrets=secrets,
        validated_by_apply=True,
        validate=lambda data, secret: dry_run(apply, data, secret),
        apply=apply,
        audit_prefixes=("ocpp.settings.", "ocpp.variables."),
        order=50,
    )
]
