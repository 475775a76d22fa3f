"""The one write path of the OCPP pages and API: validate everything first, write in one
transaction, record the change (secrets never), then tell the OCPP agent on commit
(``OcppReload``). Nothing is written half-way: an error anywhere leaves everything as it was."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ocppcfg import variables
from ocppcfg.certificates import CertificateError, check_certificate, describe
from ocppcfg.commands import OcppReload
from ocppcfg.models import NetworkInterface, OcppSettings
from wbm.audit import Actor, record_change
from wbm.runtime import commands

AGENT = "ocpp"  # the OCPP agent's name in the runtime (ocppcfg.agent.OcppAgent)
# what a page or the API may change directly (the key and the certificate have their own rules)
EDITABLE_FIELDS = ("network_interface", "backend_url", "authorization_user", "model", "vendor", "serial_number")
CHARGE_BOX_ID_MAX = 48  # OCPP-J: the identity in the URL (OCPP 2.0.1 sets 48; 1.6 sets none)
# characters a URL may hold here: letters, digits and the unreserved/path ones (no shell metacharacters)
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/%+")
SHELL_CHARACTERS = frozenset(";|&$`<>\"'\\(){}[]*?!#^=,")


class SettingsInvalid(Exception):
    """Some values cannot be saved; nothing was written. ``errors``: field → messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class VariablesInvalid(Exception):
    """Some configuration keys cannot be changed; nothing was written. ``errors``: key →
    messages; ``codes``: key → "unknown" | "readonly" | "invalid"."""

    def __init__(self, errors: dict[str, list[str]], codes: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors
        self.codes = codes


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save did: whether anything changed and whether the OCPP agent was told (False: it
    does not run now; it reads the stored values when it starts)."""

    changed: bool
    told: bool


def backend_url_problem(url: str) -> str | Promise:
    """Why ``url`` cannot be the backend URL, in the user's language; "" when it can. The
    charge box ID is the last path segment; nothing in it may reach a shell."""
    if any(c.isspace() for c in url):
        return _("The URL must not contain spaces.")
    host, _slash, path = (url.split("://", 1)[1] if "://" in url else url).partition("/")
    # an IPv6 literal is the one place brackets may stand: ws://[::1]:9000/CB
    ipv6 = host.startswith("[") and host.count("[") == host.count("]") == 1 and not {"[", "]"} & set(path)
    bad = sorted({c for c in url if c not in URL_CHARACTERS and c != "@" and not (ipv6 and c in "[]")})
    if bad:
        if any(c in SHELL_CHARACTERS for c in bad):
            return _("The URL must not contain these characters: %(chars)s") % {"chars": " ".join(bad)}
        return _("The URL may only contain letters, digits and - . _ ~ : / % +")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("The port of the URL is not valid.")
    if parts.scheme not in ("ws", "wss") or not url.lower().startswith(f"{parts.scheme}://"):
        return _("The URL must start with ws:// or wss://.")
    if "@" in parts.netloc or "@" in url:
        return _("Put the user name and password in AuthorizationUser and AuthorizationKey, not in the URL.")
    if not parts.hostname:
        return _("The URL needs the backend's host name or IP address.")
    if port == 0:
        return _("The port of the URL is not valid.")
    if parts.query or parts.fragment:
        return _("The URL must end with the charge box ID, without ? or #.")
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.path.strip("/") else ""
    if not segment:
        return _("The URL must end with the charge box ID, e.g. ws://backend.example:8080/chargeboxid")
    if len(segment) > CHARGE_BOX_ID_MAX:
        return _("The charge box ID is too long (at most %(n)d characters).") % {"n": CHARGE_BOX_ID_MAX}
    return ""


def validate_backend_url(value: str) -> None:
    """A form/serializer validator for ``backend_url`` (empty: no backend)."""
    if value and (problem := backend_url_problem(value)):
        raise ValidationError(str(problem), code="invalid")


def _settings_dict(settings: OcppSettings) -> dict[str, object]:
    """What the audit records of the settings: never the key, the certificate by subject."""
    info = describe(settings.ca_certificate)
    return {
        **{field: getattr(settings, field) for field in EDITABLE_FIELDS},
        "authorization_key_set": bool(settings.authorization_key),
        "certificate": info.subject if info else None,
    }


def ocpp_settings_update(
    *,
    data: Mapping[str, object],
    actor: Actor,
    clear_key: bool = False,
    certificate: bytes | str | None = None,
    delete_certificate: bool = False,
) -> Saved:
    """Apply the OCPP settings from a page or the API, all or nothing.

    ``data``: any of ``EDITABLE_FIELDS`` and ``authorization_key`` (write-only: empty or absent
    keeps the stored one; ``clear_key`` removes it). ``certificate``: a PEM CA certificate to
    store (only with a wss:// URL; checked: PEM, a certificate, not expired, ≤ 64 KB);
    ``delete_certificate`` removes the stored one. ``SettingsInvalid`` with the errors per field
    when anything is wrong; then nothing is written. A change is recorded and the OCPP agent
    reloads once it is committed."""
    errors: dict[str, list[str]] = {}
    settings = OcppSettings.load()
    before = _settings_dict(settings)
    for field in EDITABLE_FIELDS:
        if field in data:
            value = data[field]
            setattr(settings, field, value.strip() if isinstance(value, str) else value)
    url_problem = backend_url_problem(settings.backend_url) if settings.backend_url else ""
    if url_problem:
        errors.setdefault("backend_url", []).append(str(url_problem))
    if settings.network_interface not in NetworkInterface.values:
        errors.setdefault("network_interface", []).append(str(_("Choose ppp0, wlan0 or eth0.")))
    for key, field in variables.SETTINGS_KEYS.items():
        raw = data.get(field) if field != "authorization_key" else data.get("authorization_key") or None
        if raw is None:
            continue
        try:
            setattr(settings, field, variables.VARIABLES[key].check(raw))
        except variables.VariableError as exc:
            errors.setdefault(field, []).append(str(exc.detail))
    key_changed = bool(data.get("authorization_key"))
    if clear_key and not key_changed:
        key_changed = bool(settings.authorization_key)
        settings.authorization_key = ""
    if certificate is not None:
        if not settings.backend_url.lower().startswith("wss://"):
            errors.setdefault("certificate", []).append(str(_("A certificate is only used with a wss:// backend URL.")))
        else:
            try:
                settings.ca_certificate, _info = check_certificate(certificate)
            except CertificateError as exc:
                errors.setdefault("certificate", []).append(str(exc.message))
    elif delete_certificate:
        settings.ca_certificate = ""
    try:
        settings.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in errors:
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise SettingsInvalid(errors)
    after = _settings_dict(settings)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if key_changed:
        changed["authorization_key"] = "changed" if settings.authorization_key else "cleared"
    if not changed and OcppSettings.objects.filter(pk=1).exists():
        return Saved(changed=False, told=True)
    with transaction.atomic():
        settings.save()
        record_change(
            actor=actor,
            action="ocpp.settings.update",
            obj=settings,
            before={k: before.get(k) for k in changed if k in before},
            after=changed,
        )
        told = commands.on_commit(OcppReload())
    return Saved(changed=True, told=told.error is None)


def ocpp_variables_update(*, changes: Mapping[str, object], actor: Actor, origin: str = "web") -> dict[str, str]:
    """Change configuration keys from a page or the API, all or nothing: every key is checked
    (``VariablesInvalid`` with the errors of each bad one; nothing written), then
    ``variables.change`` writes them in one transaction and reloads the agent on commit. Secret
    values are recorded as "****". Returns the stored (canonical) values. ``origin`` "backend":
    the OCPP agent's own ChangeConfiguration (audited with the backend as actor, no reload)."""
    errors: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    for key, value in changes.items():
        try:
            variables.validate({key: value}, origin=origin)
        except variables.VariableError as exc:
            codes[str(key)[:50]] = exc.code
            errors[str(key)[:50]] = [str(_variable_message(exc))]
    if errors:
        raise VariablesInvalid(errors, codes)
    if not changes:
        return {}
    shown = variables.visible_values()
    with transaction.atomic():
        stored = variables.change(changes, origin=origin, by=actor.username or actor.source)
        masked = {
            k: (variables.SECRET_SHOWN if variables.VARIABLES[k].secret else v) for k, v in sorted(stored.items())
        }
        record_change(
            actor=actor,
            action="ocpp.variables.update",
            obj=None,
            before={k: shown.get(k) for k in masked},
            after=masked,
        )
    return stored


def _variable_message(exc: variables.VariableError) -> str | Promise:
    if exc.code == "unknown":
        return _("There is no configuration key of this name.")
    if exc.code == "readonly":
        return _("This configuration key is read-only.")
    return exc.detail or _("This value is not valid.")


def ocpp_restart(*, actor: Actor) -> None:
    """Restart the OCPP agent alone (it reconnects with the stored settings); raises
    ``CommandRejected``/``RuntimeUnavailable`` as System Control's restart does."""
    from wbm.system.services import agent_restart

    agent_restart(name=AGENT, actor=actor)
