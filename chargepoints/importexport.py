"""Charge point configuration files: export, parse, validate, preview.

A file is a versioned JSON envelope::

    {"kind": "wbm.chargepoint-config", "version": 1, "exported_at": "2026-01-31T12:00:00Z",
     "source": {"station": "ev3000", "position": 1, "device_uid": "…", "device_name": "…"},
     "config": {"name": "P1-01", "location": "…", "controller_uid": "self", …every field…}}

``kind``, ``version`` and ``config`` are required; ``exported_at`` and ``source`` are
informational. ``config`` holds every configuration field (values as the API shows them: choice
keys, integers, booleans). Two fields refer to hardware and are written so that a file fits any
charge point:

- ``controller_uid``: ``"self"`` when the charge point's own controller is assigned (the normal
  case); on import it becomes the target's own UID. Any other value is a literal UID.
- ``rfid_reader``: ``null`` (none), ``"self"`` (the reader terminal of this charge point),
  ``{"position": n}`` (the charge point at backplane position n of the *same station*), or
  ``{"station": "<host name>", "position": n}`` (a charge point of another station).

Every record is validated with the configuration form itself (``ChargePointConfigForm``), so a
file is accepted exactly when the page would accept the same values. Errors name the field (its
label, with the path ``config.current_max_a`` as a hint). Nothing is written here: see
``services.chargepoint_config_import``.

"The same file for several charging points" (manual) works because the plan adapts what cannot
hold on a target, and says so per target (``TargetPlan.notes``):

- a target without ISO 15118 gets High level communication "Disabled" (and the ISO 15118 fields
  their defaults), whatever the file says;
- a target with ISO 15118 takes the file's "Disabled" like any other value (an import
  overwrites), but the preview warns when that switches its ISO 15118 off;
- an OCPP connector ID already used in the park (or by an earlier target of the same import)
  becomes the next free one above it;
- values earlier versions wrote that the manual does not list (``RETIRED_VALUES``) become the
  manual's first choice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from chargepoints import choices as c
from chargepoints.forms import (
    CONFIG_FIELDS,
    CONTROLLING_FIELDS,
    SECTIONS,
    ChargePointConfigForm,
    Peers,
    chargepoint_label,
    config_validate,
    field_default,
    not_applicable,
)
from chargepoints.models import OCPP_CONNECTOR_ID_MAX, ChargePoint, ChargePointConfig
from wbm.validation import InvalidInput, InvalidUnicode, load_json

KIND = "wbm.chargepoint-config"
VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_BYTES = 64 * 1024  # a configuration is about 1.5 KiB; anything this large is not one
SELF = "self"
UNRESOLVED = "-1"  # a form value no charge point has: the form refuses it where a reader applies
ENVELOPE_KEYS = ("kind", "version", "exported_at", "source", "config")

# Values files of earlier versions hold that the manual does not list: field -> old value ->
# (what the old value was called, the manual's choice it becomes).
RETIRED_VALUES: dict[str, dict[str, tuple[Any, c.PlugRejection | c.OverCurrentDetection]]] = {
    "plug_rejection": {"none": (_lazy("No rejection"), c.PlugRejection.REJECT_13A)},
    "overcurrent_detection": {"": (_lazy("Disabled"), c.OverCurrentDetection.EV_ZE_READY)},
}

_SECTION_OF = {name: section.title for section in SECTIONS for group in section.groups for name in group.fields}


def field_label(name: str) -> str:
    """How a configuration field is called on the page: "Charge current maximum (A)"."""
    return str(ChargePointConfigForm.base_fields[name].label)


def path_label(path: str) -> str:
    """ "ISO 15118 › High level communication" for ``config.hlc_mode`` (or ``hlc_mode``); "" for a
    path that is no configuration field."""
    prefix, _dot, name = path.rpartition(".")
    if prefix not in ("", "config") or name not in CONFIG_FIELDS:
        return ""
    return f"{_SECTION_OF[name]} › {field_label(name)}"


@dataclass(frozen=True)
class FieldError:
    path: str  # "config.current_max_a", "version", "file"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    @property
    def label(self) -> str:
        """The field's section and label as the page names it ("" when the path is no field)."""
        return path_label(self.path)


class ConfigFileInvalid(Exception):
    """The file itself cannot be read as a configuration (before any charge point is looked at)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# --- export --------------------------------------------------------------------------------------


def _reader_ref(reader: ChargePoint | None, owner: ChargePoint) -> Any:
    if reader is None:
        return None
    if reader.pk == owner.pk:
        return SELF
    if reader.station_id == owner.station_id:
        return {"position": reader.position}
    return {"station": reader.station.hostname, "position": reader.position}


def values_to_dict(values: Mapping[str, Any], *, chargepoint: ChargePoint) -> dict[str, Any]:
    """The ``config`` part of a file for configuration values (model attributes or cleaned form
    data) of ``chargepoint``: JSON-safe and independent of the station it came from."""
    out: dict[str, Any] = {}
    for name in CONFIG_FIELDS:
        value = values.get(name, field_default(name))
        if name == "controller_uid":
            value = SELF if value == chargepoint.device_uid else value
        elif name == "rfid_reader":
            value = _reader_ref(value, chargepoint)
        out[name] = value
    return out


def config_to_dict(config: ChargePointConfig) -> dict[str, Any]:
    """The ``config`` part of a file for a stored configuration."""
    values = {name: getattr(config, name) for name in CONFIG_FIELDS}
    return values_to_dict(values, chargepoint=config.chargepoint)


def config_export(config: ChargePointConfig, *, now: datetime | None = None) -> dict[str, Any]:
    """The whole file for one charge point's configuration."""
    cp = config.chargepoint
    stamp = (now or datetime.now(tz=UTC)).astimezone(UTC).replace(microsecond=0)
    return {
        "kind": KIND,
        "version": VERSION,
        "exported_at": stamp.isoformat().replace("+00:00", "Z"),
        "source": {
            "station": cp.station.hostname,
            "position": cp.position,
            "device_uid": cp.device_uid,
            "device_name": cp.device_name,
        },
        "config": config_to_dict(config),
    }


def export_bytes(config: ChargePointConfig) -> bytes:
    return (json.dumps(config_export(config), indent=2, ensure_ascii=False) + "\n").encode()


def export_filename(config: ChargePointConfig) -> str:
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in config.name)
    return f"chargepoint-{safe.strip('._') or config.pk}.json"


# --- parse ---------------------------------------------------------------------------------------


def _kind_of(name: str) -> str:
    """The JSON type a config field has in a file."""
    if name in ("rfid_reader", "controller_uid"):
        return name
    form_field = ChargePointConfigForm.base_fields[name]
    if isinstance(form_field, forms.BooleanField):
        return "boolean"
    if isinstance(form_field, forms.IntegerField):
        return "integer"
    if isinstance(form_field, forms.TypedChoiceField) and form_field.coerce is int:
        return "integer"
    return "string"


def _type_error(name: str, value: Any) -> str | None:
    kind = _kind_of(name)
    if kind == "boolean":
        return None if isinstance(value, bool) else _("Expected true or false.")
    if kind == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else _("Expected a whole number.")
    if kind == "rfid_reader":
        if value is None or value == SELF:
            return None
        if isinstance(value, dict) and set(value) <= {"station", "position"} and "position" in value:
            position, station = value.get("position"), value.get("station", "")
            if isinstance(position, int) and not isinstance(position, bool) and isinstance(station, str):
                return None
        return _('Expected null, "self", {"position": n} or {"station": "host name", "position": n}.')
    return None if isinstance(value, str) else _("Expected a text.")


def config_json_schema(*, partial: bool = False) -> dict[str, Any]:
    """The JSON schema (OpenAPI 3.0) of a ``config`` object as ``check_config_dict`` takes it, for
    the API's documentation; ``partial``: no field required (PATCH)."""
    reader = {
        "nullable": True,
        "oneOf": [
            {"type": "string", "enum": [SELF]},
            {
                "type": "object",
                "properties": {"station": {"type": "string"}, "position": {"type": "integer"}},
                "required": ["position"],
                "additionalProperties": False,
            },
        ],
        "description": 'null, "self", {"position": n} (same station) or {"station": "host name", "position": n}',
    }
    by_kind: dict[str, dict[str, Any]] = {
        "boolean": {"type": "boolean"},
        "integer": {"type": "integer"},
        "rfid_reader": reader,
        "controller_uid": {"type": "string", "description": '"self": the charging point\'s own controller'},
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: by_kind.get(_kind_of(name), {"type": "string"}) for name in CONFIG_FIELDS},
        "additionalProperties": False,
    }
    if not partial:
        schema["required"] = list(CONFIG_FIELDS)
    return schema


def check_config_dict(config: Any, *, path: str = "config") -> list[FieldError]:
    """Shape and types of a ``config`` object: every field present, none unknown, right types."""
    prefix = f"{path}." if path else ""
    if not isinstance(config, dict):
        return [FieldError(path, _("Expected an object with the configuration fields."))]
    errors = [
        FieldError(f"{prefix}{name}", _("This field is required.")) for name in CONFIG_FIELDS if name not in config
    ]
    errors += [FieldError(f"{prefix}{name}", _("Unknown field.")) for name in config if name not in CONFIG_FIELDS]
    for name in CONFIG_FIELDS:
        if name in config and (problem := _type_error(name, config[name])) is not None:
            errors.append(FieldError(f"{prefix}{name}", problem))
    return errors


def parse_document(raw: bytes) -> dict[str, Any]:
    """Read a file: size, JSON, kind, version and the shape of ``config``. Raises
    ``ConfigFileInvalid`` with every problem found, each naming its field path."""
    if len(raw) > MAX_BYTES:
        raise ConfigFileInvalid(
            [
                FieldError(
                    "file",
                    _("The file is larger than %(kib)s KiB; a charging point configuration is much smaller.")
                    % {"kib": MAX_BYTES // 1024},
                )
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigFileInvalid([FieldError("file", _("The file is not UTF-8 text."))]) from None
    try:
        document = load_json(text)  # at most MAX_JSON_DEPTH levels, valid Unicode only
    except InvalidUnicode:
        raise ConfigFileInvalid([FieldError("file", _("The file contains text that is not valid Unicode."))]) from None
    except InvalidInput as exc:
        raise ConfigFileInvalid([FieldError("file", exc.message)]) from None
    except json.JSONDecodeError as exc:
        raise ConfigFileInvalid(
            [
                FieldError(
                    "file",
                    _("The file is not JSON (line %(line)s, column %(col)s: %(msg)s).")
                    % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg},
                )
            ]
        ) from None
    return check_document(document)


def check_document(document: Any) -> dict[str, Any]:
    """The envelope checks of ``parse_document`` for an already decoded JSON value."""
    if not isinstance(document, dict):
        raise ConfigFileInvalid([FieldError("file", _("The file must contain a JSON object."))])
    errors: list[FieldError] = []
    kind = document.get("kind")
    if "kind" not in document:
        errors.append(FieldError("kind", _("This field is required.")))
    elif kind != KIND:
        errors.append(
            FieldError(
                "kind",
                _("Unknown kind “%(kind)s”: this is not a charging point configuration (expected “%(expected)s”).")
                % {"kind": kind, "expected": KIND},
            )
        )
    version = document.get("version")
    if "version" not in document:
        errors.append(FieldError("version", _("This field is required.")))
    elif not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        errors.append(
            FieldError(
                "version",
                _("Unknown version %(version)s; this software reads version %(supported)s.")
                % {"version": json.dumps(version), "supported": ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))},
            )
        )
    errors += [FieldError(key, _("Unknown field.")) for key in document if key not in ENVELOPE_KEYS]
    if "source" in document and not isinstance(document["source"], dict | None):
        errors.append(FieldError("source", _("Expected an object.")))
    if "exported_at" in document and not isinstance(document["exported_at"], str | None):
        errors.append(FieldError("exported_at", _("Expected a text.")))
    if "config" not in document:
        errors.append(FieldError("config", _("This field is required.")))
    elif not errors:
        errors += check_config_dict(document["config"])
    if errors:
        raise ConfigFileInvalid(errors)
    return document


# --- validate against a charge point --------------------------------------------------------------


def _resolve_reader(ref: Any, target: ChargePoint) -> tuple[Any, str | None]:
    """(form value, problem) for an ``rfid_reader`` reference seen from ``target``."""
    if ref is None:
        return "", None
    if ref == SELF:
        return target.pk, None
    station = ref.get("station")
    queryset = ChargePoint.objects.filter(position=ref["position"])
    queryset = queryset.filter(station__hostname=station) if station else queryset.filter(station_id=target.station_id)
    reader = queryset.first()
    if reader is None:
        where = station or target.station.hostname
        return UNRESOLVED, _(
            "There is no charging point at position %(position)s of station %(station)s for the RFID reader."
        ) % {"position": ref["position"], "station": where}
    return reader.pk, None


def form_data_for(config: Mapping[str, Any], *, target: ChargePoint) -> tuple[dict[str, Any], dict[str, str]]:
    """Form data for a checked ``config`` object applied to ``target``, and field problems found
    while resolving hardware references."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in CONFIG_FIELDS:
        value = config[name]
        if name == "controller_uid":
            value = target.device_uid if value == SELF else value
        elif name == "rfid_reader":
            value, problem = _resolve_reader(value, target)
            if problem:
                problems[name] = problem
        elif value is None:
            value = ""
        data[name] = value
    return data, problems


def validate_for(
    config: Mapping[str, Any], *, target: ChargePoint, peers: Peers | None = None, path: str = "config"
) -> tuple[ChargePointConfigForm, list[FieldError]]:
    """Validate a checked ``config`` object for ``target`` with the configuration form."""
    data, problems = form_data_for(config, target=target)
    form = config_validate(chargepoint=target, data=data, peers=peers)
    return form, form_errors(form, problems, path=path)


def form_errors(form: ChargePointConfigForm, problems: Mapping[str, str], *, path: str = "config") -> list[FieldError]:
    """The form's errors with field paths; an unresolved hardware reference explains itself."""
    prefix = f"{path}." if path else ""
    errors: list[FieldError] = []
    for name, found in form.errors.items():
        messages = [problems[name]] if name in problems else [str(m) for m in found]
        for message in messages:
            errors.append(FieldError(path if name == "__all__" else f"{prefix}{name}", str(message)))
    return errors


# --- import plan (validated, with the diff; nothing written) ---------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str

    @property
    def path(self) -> str:
        return f"config.{self.field}"


@dataclass(frozen=True)
class Note:
    """What the import sets differently from the file on one target, or a warning about it."""

    field: str
    message: str


@dataclass
class TargetPlan:
    chargepoint: ChargePoint
    name: str
    form: ChargePointConfigForm | None = None
    errors: list[FieldError] = field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def label(self) -> str:
        return chargepoint_label(self.chargepoint)

    @property
    def is_new(self) -> bool:
        return self.before is None


@dataclass
class ImportPlan:
    document: dict[str, Any]
    suffix: bool
    targets: list[TargetPlan]

    @property
    def ok(self) -> bool:
        return bool(self.targets) and not any(t.errors for t in self.targets)

    @property
    def fingerprint(self) -> str:
        """Identifies what the preview showed: the file and every target's state before and after."""
        payload = [self.document, self.suffix, [(t.chargepoint.pk, t.before, t.after) for t in self.targets]]
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def errors_by_path(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for t in self.targets:
            for e in t.errors:
                out.setdefault(f"chargepoints.{t.chargepoint.pk}.{e.path}", []).append(e.message)
        return out


def display_value(form: ChargePointConfigForm, name: str, value: Any) -> str:
    """How a value reads in the preview: choice labels, Yes/No, charge point names."""
    if name == "ocpp_connector_id" and value == -1:
        return _("not set")  # the model's "-1": only released by OCPP it has an ID
    if value is None or value == "":
        if name == "rfid_reader":
            return _("No RFID reader")
        empty = dict(getattr(form.fields[name], "choices", []) or [])
        return str(empty.get("", "–")) if "" in empty else "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, ChargePoint):
        return chargepoint_label(value)
    choices = getattr(form.fields[name], "choices", None)
    if choices is not None and not isinstance(form.fields[name], forms.ModelChoiceField):
        labels = {str(k): str(v) for k, v in choices}
        return labels.get(str(value), str(value))
    return str(value)


def _changes(
    form: ChargePointConfigForm, existing: ChargePointConfig | None, new_values: Mapping[str, Any]
) -> list[Change]:
    out = []
    for name in CONFIG_FIELDS:
        before = getattr(existing, name) if existing is not None else None
        after = new_values.get(name)
        if existing is not None and before == after:
            continue
        label = field_label(name)
        out.append(
            Change(
                name,
                label,
                "" if existing is None else display_value(form, name, before),
                display_value(form, name, after),
            )
        )
    return out


def _final_values(config: Mapping[str, Any], name: str, target: ChargePoint) -> tuple[str, str, int | None]:
    """(name, controller UID, OCPP connector ID or None) a target will hold after the import."""
    uid = target.device_uid if config["controller_uid"] == SELF else str(config["controller_uid"])
    connector = config["ocpp_connector_id"] if config["release_mode"] == c.ReleaseMode.OCPP else None
    return name, uid, connector


def _connector_ids(
    config: Mapping[str, Any], plans: Sequence[TargetPlan], taken: Mapping[int, str]
) -> list[tuple[int, Note | None]] | None:
    """The OCPP connector ID of each target: the file's where it is free, else the next free one
    above it (IDs must be unique in the park). None when the file is not released by OCPP or its
    ID is not valid (the form says why)."""
    wanted = config["ocpp_connector_id"]
    if config["release_mode"] != c.ReleaseMode.OCPP or not 1 <= wanted <= OCPP_CONNECTOR_ID_MAX:
        return None
    holders = dict(taken)
    out: list[tuple[int, Note | None]] = []
    for plan in plans:
        connector = wanted
        while connector in holders and connector < OCPP_CONNECTOR_ID_MAX:
            connector += 1
        if connector in holders:  # none free: keep the file's, the form names the holder
            out.append((wanted, None))
            continue
        note = None
        if connector != wanted:
            note = Note(
                "ocpp_connector_id",
                _("OCPP connector ID: %(id)s (next free; %(wanted)s is already used by %(holder)s)")
                % {"id": connector, "wanted": wanted, "holder": holders[wanted]},
            )
        holders[connector] = plan.name
        out.append((connector, note))
    return out


def _adapt(
    config: Mapping[str, Any], plan: TargetPlan, existing: ChargePointConfig | None
) -> tuple[dict[str, Any], list[Note]]:
    """The file's values as they can hold on this target, and what was set differently."""
    target = plan.chargepoint
    adapted = {**config, "name": plan.name}
    notes: list[Note] = []
    disabled = str(c.HlcMode.DISABLED.label)
    file_hlc = config["hlc_mode"] or c.HlcMode.DISABLED
    if not target.supports_hlc and file_hlc in c.HlcMode.values and file_hlc != c.HlcMode.DISABLED:
        adapted["hlc_mode"] = c.HlcMode.DISABLED  # the other ISO 15118 fields then do not apply
        notes.append(
            Note(
                "hlc_mode",
                _(
                    "ISO 15118 set to “%(mode)s”: %(device)s has no ISO 15118, so the file's ISO 15118 "
                    "settings are not taken over."
                )
                % {"mode": disabled, "device": target.device_name},
            )
        )
    elif (
        target.supports_hlc
        and file_hlc == c.HlcMode.DISABLED
        and existing is not None
        and existing.hlc_mode != c.HlcMode.DISABLED
    ):
        notes.append(
            Note(
                "hlc_mode",
                _(
                    "ISO 15118 will be switched off (now “%(current)s”): the file has “%(mode)s”, e.g. because it "
                    "was exported from a module without ISO 15118. Set ISO 15118 again after the import to keep it."
                )
                % {"current": existing.get_hlc_mode_display(), "mode": disabled},
            )
        )
    controlling = {name: adapted[name] for name in CONTROLLING_FIELDS}
    applies = set(CONFIG_FIELDS) - not_applicable(controlling, supports_hlc=target.supports_hlc)
    for name, retired in RETIRED_VALUES.items():
        if adapted[name] not in retired:
            continue
        old_label, new = retired[adapted[name]]
        adapted[name] = new.value
        if name in applies:
            notes.append(
                Note(
                    name,
                    _("%(field)s: the file has “%(old)s”, which the manual does not offer; set to “%(new)s”.")
                    % {"field": field_label(name), "old": old_label, "new": new.label},
                )
            )
    return adapted, notes


def import_plan(*, document: dict[str, Any], targets: Sequence[ChargePoint], suffix: bool) -> ImportPlan:
    """Validate a parsed document for each target (in the given order: the order of selection
    decides the suffixes "-1", "-2", …) against the park as it will be after the import, with
    the file adapted to each target where it cannot hold there (see the module's docstring)."""
    config = document["config"]
    names = [f"{config['name']}-{i}" if suffix else config["name"] for i in range(1, len(targets) + 1)]
    plans = [TargetPlan(chargepoint=cp, name=n) for cp, n in zip(targets, names, strict=True)]
    base = Peers.from_db(exclude=[cp.pk for cp in targets])
    existing_by_pk = ChargePointConfig.objects.select_related("chargepoint__station", "rfid_reader__station").in_bulk(
        [cp.pk for cp in targets]
    )
    connectors = _connector_ids(config, plans, base.ocpp_connector_ids)
    configs: list[dict[str, Any]] = []
    for i, plan in enumerate(plans):
        adapted, notes = _adapt(config, plan, existing_by_pk.get(plan.chargepoint.pk))
        if connectors is not None:
            adapted["ocpp_connector_id"], connector_note = connectors[i]
            notes += [connector_note] if connector_note else []
        plan.notes = notes
        configs.append(adapted)
    finals = [_final_values(cfg, p.name, p.chargepoint) for cfg, p in zip(configs, plans, strict=True)]
    for i, plan in enumerate(plans):
        peers = Peers(
            names=dict(base.names),
            controller_uids=dict(base.controller_uids),
            ocpp_connector_ids=dict(base.ocpp_connector_ids),
        )
        for j, other in enumerate(plans):
            if j == i:
                continue
            holder = _("%(cp)s (also selected for this import)") % {"cp": other.label}
            name, uid, connector = finals[j]
            peers.names.setdefault(name, holder)
            peers.controller_uids.setdefault(uid, holder)
            if isinstance(connector, int) and connector >= 1:
                peers.ocpp_connector_ids.setdefault(connector, holder)
        form, errors = validate_for(configs[i], target=plan.chargepoint, peers=peers)
        plan.form, plan.errors = form, errors
        existing = existing_by_pk.get(plan.chargepoint.pk)
        plan.before = config_to_dict(existing) if existing else None
        if not errors:
            plan.after = values_to_dict(form.cleaned_data, chargepoint=plan.chargepoint)
            plan.changes = _changes(form, existing, form.cleaned_data)
    return ImportPlan(document=document, suffix=suffix, targets=plans)
