"""The charge point configuration form: every field of the manual, one ``clean()`` with every
cross-field rule, and the rule of which fields apply (the others are reset to their defaults).

The same form validates the configuration page, the API and imported files, so a value is
accepted or refused the same way wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chargepoints import choices as c
from chargepoints.models import (
    DERATING_TEMP_MAX_C,
    DERATING_TEMP_MIN_C,
    FALLBACK_TIME_MAX_S,
    HARDWARE_MAX_CURRENT_A,
    MIN_CHARGE_CURRENT_A,
    OCPP_CONNECTOR_ID_MAX,
    RFID_TIMEOUT_MAX_S,
    ChargePoint,
    ChargePointConfig,
)
from wbm.runtime.backends.controller import DIGITAL_INPUTS

# "Certificates cannot be loaded via the web page at present. The TLS policy is for display
# purposes only."
TLS_POLICY_DISPLAY = _("TCP only – certificates cannot be loaded via the web page at present")

# The fields whose value decides which other fields apply: the page re-renders on their change.
CONTROLLING_FIELDS = (
    "connection_type",
    "meter_type",
    "contactor_monitoring_input",
    "derating_sensor",
    "release_mode",
    "rfid_reader",
    "hlc_mode",
)

RELEASE_MODE_HELP: dict[str, Any] = {
    c.ReleaseMode.DASHBOARD: _(
        "The release is only issued manually, on the dashboard and on the status page of the charging point."
    ),
    c.ReleaseMode.WHITELIST: _(
        "The local whitelist is checked when an RFID card or EVCC ID is presented. Manage the cards under “Whitelist”."
    ),
    c.ReleaseMode.REMOTE: _(
        "The release is issued and withdrawn by an external system, e.g. the REST API or Event Actions."
    ),
    c.ReleaseMode.PERMANENT: _(
        "The release is permanent and cannot be withdrawn on the web page; lock or unlock the charging point instead."
    ),
    c.ReleaseMode.OCPP: _(
        "The release is issued and withdrawn by the OCPP backend; the OCPP backend "
        "connection is only possible with this setting. Restart the OCPP agent after "
        "changing it."
    ),
    c.ReleaseMode.MODBUS: _("The release is issued and withdrawn via the Modbus registers."),
}


@dataclass(frozen=True)
class Group:
    title: Promise | None
    fields: tuple[str, ...]
    note: Promise | None = None  # shown instead of the fields when none of them applies


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    intro: Promise | None
    groups: tuple[Group, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "general",
        _("Charging point"),
        _("Name and location are required. The name identifies the charging point and its configuration."),
        (Group(None, ("name", "location", "controller_uid")),),
    ),
    Section(
        "connection",
        _("Charging Connection"),
        _("The area between the charging controller and the vehicle."),
        (
            Group(
                None,
                (
                    "connection_type",
                    "standard",
                    "socket_outlet_type",
                    "locking_mode",
                    "plug_rejection",
                    "status_d_rejection",
                ),
            ),
        ),
    ),
    Section(
        "energy",
        _("Energy"),
        _("Charging current settings are also valid without an energy measuring device."),
        (
            Group(_("Charge Currents"), ("current_min_a", "current_max_a", "fallback_current_a", "fallback_time_s")),
            Group(_("Energy measuring device settings"), ("meter_type", "phase_rotation")),
        ),
    ),
    Section(
        "calibration",
        _("Calibration Law"),
        _("Only relevant if the calibration function is used."),
        (Group(None, ("calibration_abbreviation", "calibration_selection")),),
    ),
    Section(
        "monitoring",
        _("Monitoring"),
        _("Safety equipment detects errors at the charging point and switches it to the error state."),
        (
            Group(_("Protection"), ("contactor_monitoring_input", "aux_contact_type", "dc_residual_monitoring")),
            Group(
                _("Charge Current Monitoring"),
                ("overcurrent_detection", "out_of_balance_suppression"),
                note=_("Charge current monitoring needs a configured energy measuring device (Energy)."),
            ),
            Group(
                _("Derating"),
                (
                    "derating_sensor",
                    "derating_start_temp_c",
                    "derating_stop_temp_c",
                    "derating_start_current_a",
                    "derating_stop_current_a",
                    "ptc_terminating_resistor",
                ),
            ),
        ),
    ),
    Section(
        "release",
        _("Allow Charging"),
        _(
            "The charging release determines when a vehicle may charge. "
            "Without a release the vehicle stays in status B."
        ),
        (Group(None, ("release_mode", "rfid_reader", "rfid_reader_type", "rfid_timeout_s", "ocpp_connector_id")),),
    ),
    Section(
        "iso15118",
        _("ISO 15118"),
        _("High level communication with the vehicle (CHARX SEC-3050 and SEC-3150)."),
        (Group(None, ("hlc_mode", "evse_id", "free_charge_service", "payment_options")),),
    ),
)

CONFIG_FIELDS: tuple[str, ...] = tuple(n for s in SECTIONS for g in s.groups for n in g.fields)


def field_default(name: str) -> Any:
    """The factory default of a configuration field."""
    if name == "rfid_reader":
        return None
    model_field = cast("models.Field[Any, Any]", ChargePointConfig._meta.get_field(name))
    return model_field.get_default()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, ChargePoint):
        return str(value.pk)
    return str(value)


def not_applicable(values: Mapping[str, Any], *, supports_hlc: bool) -> set[str]:
    """The fields that do not apply to these values of the controlling fields (manual: "only
    available in conjunction with ...")."""
    out: set[str] = set()
    if _text(values.get("connection_type")) != c.ConnectionType.SOCKET_OUTLET:
        out |= {"standard", "socket_outlet_type", "locking_mode", "plug_rejection"}
    if not _text(values.get("meter_type")):
        out |= {"phase_rotation", "overcurrent_detection", "out_of_balance_suppression"}
    if _text(values.get("contactor_monitoring_input")) in ("", "0"):
        out.add("aux_contact_type")
    sensor = _text(values.get("derating_sensor"))
    if sensor != c.DeratingSensor.PT1000:
        out |= {"derating_start_temp_c", "derating_stop_temp_c", "derating_start_current_a", "derating_stop_current_a"}
    if sensor != c.DeratingSensor.PTC:
        out.add("ptc_terminating_resistor")
    # The reader applies in every release mode (the manual sets no condition; its board shows
    # "card read" in any mode); whether a card releases charging is the release mode's rule.
    if not _text(values.get("rfid_reader")):
        out |= {"rfid_reader_type", "rfid_timeout_s"}
    if _text(values.get("release_mode")) != c.ReleaseMode.OCPP:
        out.add("ocpp_connector_id")
    if not supports_hlc:
        out |= {"hlc_mode", "evse_id", "free_charge_service", "payment_options"}
    elif _text(values.get("hlc_mode")) in ("", c.HlcMode.DISABLED):
        out |= {"evse_id", "free_charge_service", "payment_options"}
    return out


def chargepoint_where(cp: ChargePoint) -> str:
    """ "ev3000, position 1" – where a charge point sits."""
    return str(_("%(station)s, position %(position)s") % {"station": cp.station.hostname, "position": cp.position})


def _digital_input_label(n: int) -> str:
    return gettext("Digital input %(n)s") % {"n": n}


# A choice label built at import time must stay lazy, or it is frozen in the default language.
digital_input_label = lazy(_digital_input_label, str)


def chargepoint_label(cp: ChargePoint) -> str:
    """ "P1-01 (ev3000, position 1)" – how a charge point is named in choice lists."""
    config = getattr(cp, "config", None)
    where = chargepoint_where(cp)
    if config is not None:
        return f"{config.name} ({where})"
    return str(_("Not configured (%(where)s)") % {"where": where})


@dataclass(frozen=True)
class Peers:
    """What the *other* charge points of the park hold that must stay unique: names, assigned
    controller UIDs and OCPP connector IDs (of those released by OCPP), each with a label of
    the holder. An import passes the state after the import; the default is the database."""

    names: dict[str, str] = field(default_factory=dict)
    controller_uids: dict[str, str] = field(default_factory=dict)
    ocpp_connector_ids: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_db(cls, *, exclude: Iterable[int]) -> Peers:
        names: dict[str, str] = {}
        uids: dict[str, str] = {}
        connector_ids: dict[int, str] = {}
        configs = ChargePointConfig.objects.select_related("chargepoint__station").exclude(
            chargepoint_id__in=list(exclude)
        )
        for cfg in configs:
            label = chargepoint_label(cfg.chargepoint)
            names[cfg.name] = label
            uids[cfg.controller_uid] = label
            if cfg.release_mode == c.ReleaseMode.OCPP and cfg.ocpp_connector_id >= 1:
                connector_ids[cfg.ocpp_connector_id] = label
        return cls(names=names, controller_uids=uids, ocpp_connector_ids=connector_ids)


CHOICES: dict[str, type[models.TextChoices]] = {
    "connection_type": c.ConnectionType,
    "standard": c.ChargingStandard,
    "socket_outlet_type": c.SocketOutletType,
    "locking_mode": c.LockingMode,
    "plug_rejection": c.PlugRejection,
    "status_d_rejection": c.StatusDRejection,
    "meter_type": c.MeterType,
    "phase_rotation": c.PhaseRotation,
    "calibration_selection": c.CalibrationSelection,
    "aux_contact_type": c.AuxContactType,
    "overcurrent_detection": c.OverCurrentDetection,
    "derating_sensor": c.DeratingSensor,
    "release_mode": c.ReleaseMode,
    "rfid_reader_type": c.RfidReaderType,
    "hlc_mode": c.HlcMode,
    "payment_options": c.PaymentOption,
}


class SelectWithUnavailable(forms.Select):
    """A select that lists some choices without letting them be chosen (``disabled`` options):
    the manual offers them, but they cannot work yet; the field's help text says why. The form
    still refuses them, since a disabled option is only a hint to the browser."""

    def __init__(self, *args: Any, unavailable: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable = frozenset(str(v) for v in unavailable)

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.unavailable:
            option["attrs"]["disabled"] = True
        return option


class ChargePointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ChargePoint) -> str:  # type: ignore[override]
        return chargepoint_label(obj)


def _hardware_range_message() -> str:
    return gettext("The hardware allows %(min)s A to %(max)s A.") % {
        "min": MIN_CHARGE_CURRENT_A,
        "max": HARDWARE_MAX_CURRENT_A,
    }


# an error message built at import time must stay lazy too
hardware_range_message = lazy(_hardware_range_message, str)


def _current_field(label: Any, help_text: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=MIN_CHARGE_CURRENT_A,
        max_value=HARDWARE_MAX_CURRENT_A,
        error_messages={"min_value": hardware_range_message(), "max_value": hardware_range_message()},
    )


class ChargePointConfigForm(forms.ModelForm):
    """The configuration of one charge point (create or edit).

    ``chargepoint`` is the charge point being configured; ``peers`` what the other charge points
    hold (default: the database). Fields that do not apply are not validated and are reset to
    their factory defaults, so a stale hidden value is never stored.
    """

    use_required_attribute = False  # the server validates and shows the error at the field
    _errors: Any  # Django's, not in the type stubs
    _bound_fields_cache: dict[str, Any]

    current_min_a = _current_field(
        _("Charge current minimum (A)"), _("The configured minimum set current of the charging point, in amps.")
    )
    current_max_a = _current_field(
        _("Charge current maximum (A)"),
        _("The configured maximum set current, in amps. The set current always stays between minimum and maximum."),
    )
    # 0 A is allowed (the manual sets no lower bound): charging pauses while the fallback applies
    fallback_current_a = forms.IntegerField(
        label=_("Fallback charging current (A)"),
        help_text=_(
            "Set automatically when the fallback time has elapsed after the connection to the head module was "
            "lost. 0 A pauses charging until the connection is back."
        ),
        min_value=0,
        max_value=HARDWARE_MAX_CURRENT_A,
    )
    fallback_time_s = forms.IntegerField(
        label=_("Fallback time (s)"),
        min_value=0,
        max_value=FALLBACK_TIME_MAX_S,
        help_text=_(
            "How long the charging controller waits after losing the connection to its head module "
            "before it switches to the fallback charging current."
        ),
    )
    contactor_monitoring_input = forms.TypedChoiceField(
        label=_("Contactor monitoring"),
        coerce=int,
        empty_value=0,  # type: ignore[arg-type]
        choices=[(0, _("No contactor monitoring"))]
        + [(i, digital_input_label(i)) for i in range(1, DIGITAL_INPUTS + 1)],
        help_text=_("The digital input that detects a contactor that does not open."),
    )
    derating_start_temp_c = forms.IntegerField(
        label=_("Start temperature (°C)"),
        min_value=DERATING_TEMP_MIN_C,
        max_value=DERATING_TEMP_MAX_C,
        help_text=_("Temperature at which derating begins; must be below the stop temperature."),
    )
    derating_stop_temp_c = forms.IntegerField(
        label=_("Stop temperature (°C)"),
        min_value=DERATING_TEMP_MIN_C,
        max_value=DERATING_TEMP_MAX_C,
        help_text=_("Temperature at which derating stops the charging process."),
    )
    derating_start_current_a = forms.IntegerField(
        label=_("Start current (A)"),
        min_value=0,
        max_value=HARDWARE_MAX_CURRENT_A,
        help_text=_("Charging current at the start temperature; must be greater than the stop current."),
    )
    derating_stop_current_a = forms.IntegerField(
        label=_("Stop current (A)"),
        min_value=0,
        max_value=HARDWARE_MAX_CURRENT_A,
        help_text=_("Charging current at the stop temperature."),
    )
    rfid_timeout_s = forms.IntegerField(
        label=_("RFID timeout (s)"),
        min_value=1,
        max_value=RFID_TIMEOUT_MAX_S,
        help_text=_("Time after which a charging release via RFID is discarded if no vehicle is connected."),
    )
    ocpp_connector_id = forms.IntegerField(
        label=_("OCPP connector ID"),
        min_value=1,
        max_value=OCPP_CONNECTOR_ID_MAX,
        error_messages={
            "min_value": _("Enter an ID from 1 upwards: the ID of this charging point in the OCPP backend.")
        },
        help_text=_(
            "The ID in the OCPP backend: from 1 upwards and unique in the charging park. Restart the "
            "OCPP agent after changing it."
        ),
    )
    controller_uid = forms.ChoiceField(
        label=_("Assigned controller UID"),
        help_text=_("The charging controller assigned to this charging point, identified by its UID."),
    )

    class Meta:
        model = ChargePointConfig
        fields = CONFIG_FIELDS
        help_texts = {
            "name": _("Identifies the charging point and its configuration; unique in the charging park."),
            "location": _("Where the charging point is, e.g. car park, level and bay."),
            "connection_type": _(
                "Socket Outlet: a charging socket, the vehicle is connected by a mobile "
                "charging cable. Connector: a permanently attached cable with connector."
            ),
            "standard": _("Standard of the charging socket to be connected."),
            "socket_outlet_type": _("Abbreviated in accordance with the actuator selection in the item designation."),
            "locking_mode": _(
                "On EV connected – disconnected: locked as soon as a vehicle is connected, unlocked "
                "after disconnection on the vehicle side. Remote control: locking is controlled "
                "externally (OCPP, Modbus, REST API)."
            ),
            "plug_rejection": _(
                "Charging cables with a low current carrying capacity are rejected; the charging "
                "point then switches to the error state."
            ),
            "status_d_rejection": _("Reject or accept vehicles that require additional ventilation (status D)."),
            "meter_type": _("The energy measuring device of this charging point."),
            "phase_rotation": _(
                "Phase rotation at the measuring device connection. Not required, but improves "
                "load management and makes it possible to limit out-of-balance loads."
            ),
            "calibration_abbreviation": _("Shown on the display."),
            "calibration_selection": _(
                "Via RFID reader: an RFID card is assigned to the charging point "
                "automatically. Via screen: the charging point must be selected on the "
                "CHARX display when an RFID card is read."
            ),
            "aux_contact_type": _(
                "N/C contact: when the contactor is stuck, the contact is open (no voltage). "
                "N/O contact: when it is stuck, the contact is closed (12 V)."
            ),
            "dc_residual_monitoring": _("The DC residual current sensor must be connected."),
            "overcurrent_detection": _(
                "EV/ZE Ready: derating in defined stages. Overcurrent shutdown: after "
                "100 s above 110 % or 10 s above 120 % of the set current. Charging "
                "restarts after one minute; a second overcurrent sets the error state."
            ),
            "out_of_balance_suppression": _("Limits out-of-balance loads to at most 20 A."),
            "derating_sensor": _(
                "Pt 1000: linear derating between start and stop temperature. PTC: a PTC chain "
                "switches charging off when it trips."
            ),
            "ptc_terminating_resistor": _("The PTC chain ends in a terminating resistor."),
            "rfid_reader": _(
                "The charging point whose RFID reader terminal is used; all charging points of the park are "
                "listed. Cards are read in every release mode; only “By Local Whitelist” and “By OCPP” "
                "release charging by card."
            ),
            "rfid_reader_type": _("The type of the RFID reader at that terminal."),
            "hlc_mode": _(
                "Required: only vehicles with HLC can charge. Optional: vehicles with and without HLC "
                "can charge. Disabled: no ISO 15118 communication."
            ),
            "evse_id": _("Country code + operator ID + “E” + charging station ID, e.g. DE123E4567."),
            "free_charge_service": _("Informs the vehicle via HLC that charging is free."),
            "payment_options": _(
                "Vehicle identification needs certificates, which cannot be loaded via the web "
                "page at present: only Allow External Payment is possible."
            ),
        }
        field_classes = {"rfid_reader": ChargePointChoiceField}
        # "If certificates cannot be loaded via the web page, customers can only select the
        # following option: Allow External Payment." – vehicle identification is listed, not choosable
        widgets = {"payment_options": SelectWithUnavailable(unavailable=[c.PaymentOption.CONTRACT])}

    def __init__(self, *args: Any, chargepoint: ChargePoint, peers: Peers | None = None, **kwargs: Any) -> None:
        self.chargepoint = chargepoint
        if kwargs.get("instance") is None:
            # A copy of its own, never ``chargepoint.config``: validation writes the values into the
            # instance, and a refused or previewed configuration must not show up as the current one.
            kwargs["instance"] = ChargePointConfig.objects.filter(pk=chargepoint.pk).first() or ChargePointConfig(
                chargepoint_id=chargepoint.pk, controller_uid=chargepoint.device_uid
            )
        super().__init__(*args, **kwargs)
        self.peers = peers if peers is not None else Peers.from_db(exclude=[chargepoint.pk])
        park = list(ChargePoint.objects.select_related("station", "config").order_by("station_id", "position"))
        cast(forms.ChoiceField, self.fields["controller_uid"]).choices = [
            (cp.device_uid, f"{cp.device_uid} – {cp.device_name} ({chargepoint_where(cp)})") for cp in park
        ]
        reader = cast(forms.ModelChoiceField, self.fields["rfid_reader"])
        reader.queryset = ChargePoint.objects.select_related("station", "config").order_by("station_id", "position")
        reader.empty_label = _("No RFID reader")
        for name, choices in CHOICES.items():
            # the manual's lists exactly: no "---------"; "" is a real choice where it is listed
            cast(forms.ChoiceField, self.fields[name]).choices = choices.choices
            self.fields[name].required = "" not in choices.values
        for name in CONTROLLING_FIELDS:
            # a change of these re-renders the form (the page listens on a container around it)
            self.fields[name].widget.attrs["data-controls"] = "1"
        release = _text(self["release_mode"].value())
        if release in RELEASE_MODE_HELP:
            self.fields["release_mode"].help_text = RELEASE_MODE_HELP[release]
            self._bound_fields_cache.pop("release_mode", None)  # it copied the help text

    # --- which fields apply ------------------------------------------------------------------
    @property
    def supports_hlc(self) -> bool:
        return bool(self.chargepoint.supports_hlc)

    def hidden_fields_now(self) -> set[str]:
        """The fields not to show for the values currently in the form (posted or initial)."""
        values = {name: self[name].value() for name in CONTROLLING_FIELDS}
        return not_applicable(values, supports_hlc=self.supports_hlc)

    # --- validation --------------------------------------------------------------------------
    def clean_name(self) -> str:
        return (self.cleaned_data.get("name") or "").strip()

    def clean_location(self) -> str:
        return (self.cleaned_data.get("location") or "").strip()

    def clean_evse_id(self) -> str:
        return (self.cleaned_data.get("evse_id") or "").strip().upper()

    def clean_calibration_abbreviation(self) -> str:
        return (self.cleaned_data.get("calibration_abbreviation") or "").strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # An explicit HLC mode (import, API) for a charge point without ISO 15118 is refused, not
        # silently dropped; the page does not show the section for such a charge point at all.
        hlc_refused = (
            not self.supports_hlc and self.is_bound and _text(self.data.get("hlc_mode")) not in ("", c.HlcMode.DISABLED)
        )
        controlling = {name: data.get(name, field_default(name)) for name in CONTROLLING_FIELDS}
        for name in not_applicable(controlling, supports_hlc=self.supports_hlc):
            self._errors.pop(name, None)
            data[name] = field_default(name)
        if hlc_refused:
            self.add_error(
                "hlc_mode",
                _("This charging point (%(device)s) does not support ISO 15118; use “Disabled”.")
                % {"device": self.chargepoint.device_name},
            )
        self._check_unique(data)
        self._check_currents(data)
        self._check_derating(data)
        self._check_release(data)
        self._check_iso15118(data)
        return data

    def _has(self, data: Mapping[str, Any], *names: str) -> bool:
        return all(data.get(n) is not None and n not in self._errors for n in names)

    def _check_unique(self, data: dict[str, Any]) -> None:
        name = data.get("name")
        if name and name in self.peers.names:
            self.add_error(
                "name",
                _("The name “%(name)s” is already used by %(holder)s; names must be unique in the charging park.")
                % {"name": name, "holder": self.peers.names[name]},
            )
        uid = data.get("controller_uid")
        if uid and uid in self.peers.controller_uids:
            self.add_error(
                "controller_uid",
                _("The controller %(uid)s is already assigned to %(holder)s.")
                % {"uid": uid, "holder": self.peers.controller_uids[uid]},
            )

    def _check_currents(self, data: dict[str, Any]) -> None:
        if self._has(data, "current_min_a", "current_max_a") and data["current_max_a"] < data["current_min_a"]:
            self.add_error(
                "current_max_a",
                _("The maximum must not be below the minimum (%(min)s A).") % {"min": data["current_min_a"]},
            )
        if self._has(data, "current_min_a", "current_max_a", "fallback_current_a") and not (
            data["fallback_current_a"] == 0
            or data["current_min_a"] <= data["fallback_current_a"] <= data["current_max_a"]
        ):
            self.add_error(
                "fallback_current_a",
                _(
                    "The fallback current must be 0 A (pause) or between the minimum (%(min)s A) and the maximum "
                    "(%(max)s A)."
                )
                % {"min": data["current_min_a"], "max": data["current_max_a"]},
            )

    def _check_derating(self, data: dict[str, Any]) -> None:
        if data.get("derating_sensor") != c.DeratingSensor.PT1000:
            return
        if (
            self._has(data, "derating_start_temp_c", "derating_stop_temp_c")
            and data["derating_start_temp_c"] >= data["derating_stop_temp_c"]
        ):
            self.add_error(
                "derating_start_temp_c",
                _("The start temperature must be below the stop temperature (%(stop)s °C).")
                % {"stop": data["derating_stop_temp_c"]},
            )
        if (
            self._has(data, "derating_start_current_a", "derating_stop_current_a")
            and data["derating_start_current_a"] <= data["derating_stop_current_a"]
        ):
            self.add_error(
                "derating_start_current_a",
                _("The start current must be greater than the stop current (%(stop)s A).")
                % {"stop": data["derating_stop_current_a"]},
            )

    def _check_release(self, data: dict[str, Any]) -> None:
        if data.get("release_mode") != c.ReleaseMode.OCPP or not self._has(data, "ocpp_connector_id"):
            return
        connector_id = data["ocpp_connector_id"]
        if connector_id in self.peers.ocpp_connector_ids:
            self.add_error(
                "ocpp_connector_id",
                _("The OCPP connector ID %(id)s is already used by %(holder)s; it must be unique in the charging park.")
                % {"id": connector_id, "holder": self.peers.ocpp_connector_ids[connector_id]},
            )

    def _check_iso15118(self, data: dict[str, Any]) -> None:
        if not self.supports_hlc or data.get("hlc_mode") in (None, c.HlcMode.DISABLED):
            return
        if data.get("payment_options") == c.PaymentOption.CONTRACT:
            self.add_error(
                "payment_options",
                _(
                    "Vehicle identification needs certificates, which cannot be loaded via the web page at present. "
                    "Choose “Allow External Payment”."
                ),
            )

    def validate_unique(self) -> None:
        """Names and controller UIDs are checked against ``peers`` in ``clean()`` (an import checks
        them against the park as it will be afterwards); the database constraint stays the backstop."""


def config_validate(
    *, chargepoint: ChargePoint, data: Mapping[str, Any], peers: Peers | None = None
) -> ChargePointConfigForm:
    """The one validation of a charge point configuration, whatever it comes from (the page, the
    API, an import file, later OCPP ChangeConfiguration and Event Actions): field limits from the
    model, choices, and every cross-field rule of the manual. Returns the bound form, validated;
    ``form.errors`` say what is wrong at which field."""
    form = ChargePointConfigForm(data=data, chargepoint=chargepoint, peers=peers)
    form.is_valid()
    return form


def form_data_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form data (what a browser would post) for configuration values, e.g. cleaned data."""
    out: dict[str, Any] = {}
    for name in CONFIG_FIELDS:
        value = values.get(name, field_default(name))
        if isinstance(value, ChargePoint):
            value = value.pk
        if value is None:
            value = ""
        out[name] = value
    return out
