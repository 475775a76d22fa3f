"""OpenVPN as a section of System Control / Import/Export. The configuration itself holds keys,
so it travels only in the file's encrypted part (with a passphrase); without one the file
carries the activation mode and where the configuration came from, and an import keeps the
stored configuration. Checked with ``vpn.config.check``, written by the VPN services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vpn import config, osbackend, services
from vpn.choices import Activation, Source
from vpn.models import VpnSettings
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section


def _stored() -> VpnSettings:
    return VpnSettings.objects.get_or_create(pk=VpnSettings.SINGLETON_PK)[0]


def export() -> dict[str, Any]:
    s = _stored()
    return {"activation": s.activation, "source": s.source, "import_name": s.import_name}


def secrets() -> dict[str, Any]:
    s = _stored()
    text = s.pasted if s.source == Source.PASTE else (osbackend.backend().read_config() or "")
    return {"config": text if s.source else ""}


def validate(data: dict[str, Any], secret: dict[str, Any] | None) -> list[str]:
    errors: list[str] = []
    if data.get("activation") not in Activation.values:
        errors.append(_("Choose a valid activation mode."))
    if data.get("source") not in Source.values:
        errors.append(_("Unknown configuration source."))
    text = (secret or {}).get("config") or ""
    if text:
        checked = config.check(str(text))
        errors += [str(p) for p in checked.problems] if not checked.ok else []
    return errors


def apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    activation = str(data["activation"])
    if secret is None:  # no passphrase: the stored configuration stays
        services.vpn_settings_update(activation=activation, text=None, actor=actor)
        return
    text = str(secret.get("config") or "")
    stored = _stored()
    if stored.source:
        services.vpn_config_delete(actor=actor)
    if not text:
        services.vpn_settings_update(activation=activation, text=None, actor=actor)
    elif data.get("source") == Source.IMPORT:
        name = str(data.get("import_name") or "client.ovpn")
        services.vpn_config_import(name=name, raw=text.encode(), activation=activation, actor=actor)
    else:
        services.vpn_settings_update(activation=activation, text=text, actor=actor)


SECTIONS = [
    Section(
        key="vpn",
        title=gettext_lazy("OpenVPN"),
        schema=1,
        edit_perm=Perm.NETWORK_EDIT,
        export=export,
        secrets=secrets,
        validate=validate,
        apply=apply,
        audit_prefixes=("vpn.",),
        order=90,
    )
]
