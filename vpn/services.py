"""The one write path of the OpenVPN page (web, API): validate, write in one transaction (the
settings row and the 0600 file), record who changed what (never the content), then tell the
OpenVPN agent on commit (``VpnReload``)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.db import transaction
from django.utils.translation import gettext as _

from vpn import config, osbackend
from vpn.choices import Activation, Source
from vpn.commands import VpnReload
from vpn.models import VpnSettings
from wbm.audit import Actor, record_change
from wbm.runtime import commands

MAX_NAME = 255


class VpnRefused(Exception):
    """Nothing was written; ``problems`` say why (translated, with line numbers where known)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _locked() -> VpnSettings:
    settings, _created = VpnSettings.objects.select_for_update().get_or_create(pk=VpnSettings.SINGLETON_PK)
    return settings


def _activation(value: str) -> str:
    if value not in Activation.values:
        raise VpnRefused([_("Choose a valid activation mode.")])
    return value


def _store(settings: VpnSettings, *, action: str, before: dict[str, object], actor: Actor) -> VpnSettings:
    settings.revision += 1
    settings.save()
    record_change(actor=actor, action=action, obj=settings, before=before, after=settings.as_dict())
    commands.on_commit(VpnReload())
    return settings


def vpn_settings_update(*, activation: str, text: str | None = None, actor: Actor) -> tuple[VpnSettings, list[str]]:
    """Save the activation mode and, when ``text`` is given, the pasted configuration (checked
    with ``vpn.config.check``; tap becomes tun). Empty text with a pasted configuration stored
    removes it. Returns the settings and the notes for the user (e.g. "tap was changed to tun").
    ``VpnRefused`` when the text is refused or an imported configuration is stored (delete it first)."""
    activation = _activation(activation)
    notes: list[str] = []
    with transaction.atomic():
        settings = _locked()
        before = settings.as_dict()
        if text is not None and text.strip():
            if settings.source == Source.IMPORT:
                raise VpnRefused([_("An imported configuration is stored. Delete it before you paste one.")])
            checked = config.check(text)
            if not checked.ok:
                raise VpnRefused([str(p) for p in checked.problems])
            notes = checked.notes
            settings.source, settings.pasted, settings.server_ip = Source.PASTE, checked.text, checked.server_ip
            osbackend.backend().write_config(checked.text)
        elif text is not None and settings.source == Source.PASTE:
            settings.source, settings.pasted, settings.server_ip = Source.NONE, "", ""
            osbackend.backend().remove_config()
        settings.activation = activation
        return _store(settings, action="vpn.settings.update", before=before, actor=actor), notes


def clean_file_name(name: str) -> str:
    """The name an imported file is shown with: its last path part, refused when it holds control
    characters or is overlong (shown escaped anyway)."""
    base = re.split(r"[\\/]", name)[-1].strip()
    if not base or len(base) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in base):
        raise VpnRefused([_("The file name is empty, too long or holds control characters.")])
    return base


def vpn_config_import(*, name: str, raw: bytes, activation: str, actor: Actor) -> tuple[VpnSettings, list[str]]:
    """Import a configuration file (UTF-8 text, at most ``config.MAX_BYTES``): checked like a
    pasted one, stored only as the 0600 file; the page shows its name from now on, never its
    content. Refused while a pasted configuration is stored (the manual: delete it first)."""
    activation = _activation(activation)
    name = clean_file_name(name)
    try:
        text = config.decode(raw)
    except ValueError as exc:
        raise VpnRefused([str(exc)]) from None
    with transaction.atomic():
        settings = _locked()
        if settings.source == Source.PASTE or settings.pasted:
            raise VpnRefused([_("Delete the pasted configuration before you import a file.")])
        checked = config.check(text)
        if not checked.ok:
            raise VpnRefused([str(p) for p in checked.problems])
        before = settings.as_dict()
        settings.source, settings.pasted, settings.server_ip = Source.IMPORT, "", checked.server_ip
        settings.import_name = name
        settings.import_sha256 = hashlib.sha256(checked.text.encode()).hexdigest()
        settings.activation = activation
        osbackend.backend().write_config(checked.text)
        return _store(settings, action="vpn.config.import", before=before, actor=actor), checked.notes


def vpn_config_delete(*, actor: Actor) -> VpnSettings:
    """Delete the configuration (pasted or imported) and its file; the activation mode stays."""
    with transaction.atomic():
        settings = _locked()
        before = settings.as_dict()
        settings.source, settings.pasted, settings.import_name, settings.import_sha256 = Source.NONE, "", "", ""
        settings.server_ip = ""
        osbackend.backend().remove_config()
        return _store(settings, action="vpn.config.delete", before=before, actor=actor)


def vpn_connection_test(*, text: str | None) -> tuple[bool, list[str]]:
    """Try the given (unsaved) configuration, or the stored one when ``text`` is None; nothing is
    written. (connected, the connection log)."""
    if text is None:
        text = osbackend.backend().read_config()
        if text is None:
            return False, [_("There is no configuration to test.")]
    return osbackend.backend().test(text)
