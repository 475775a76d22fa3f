"""Simulator operations (System Control → Simulator, the simulated hardware of the charge points): what a person does at a charge point, validated once for page and API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chargepoints.choices import INJECTABLE_ERROR_CODES, Iso15118Error
from chargepoints.controller import commands as c
from wbm.runtime.backends.controller import ANALOG_INPUTS, DIGITAL_INPUTS
from wbm.runtime.commands import Command


class NoArgsForm(forms.Form):
    pass


class PlugInForm(forms.Form):
    phases = forms.TypedChoiceField(
        label=_("Phases"), choices=[(1, _("1-phase")), (3, _("3-phase"))], coerce=int, initial=3
    )
    max_current_a = forms.IntegerField(label=_("Vehicle maximum current (A)"), min_value=6, max_value=80, initial=16)
    ventilation = forms.BooleanField(label=_("Requests ventilation (status D)"), required=False)
    hlc = forms.BooleanField(label=_("Communicates via ISO 15118 (HLC)"), required=False, initial=True)
    evcc_id = forms.CharField(
        label=_("EVCC ID (hex)"),
        max_length=17,
        required=False,
        help_text=_("12 hexadecimal digits; empty: the vehicle makes one up."),
        validators=[
            RegexValidator(
                r"^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$", _("Use 12 hexadecimal digits, e.g. 00A0C9142A3F.")
            )
        ],
    )

    cable_a = forms.TypedChoiceField(
        label=_("Charging cable (PP rating)"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", _("Fixed cable (no PP rating)")), *[(a, f"{a} A") for a in (13, 20, 32, 63)]],
        help_text=_("At a socket outlet the plug rejection refuses cables rated too low."),
    )

    def clean_evcc_id(self) -> str:
        return self.cleaned_data["evcc_id"].upper().replace(":", "").replace("-", "")


class VehicleForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Vehicle"),
        choices=[
            ("start", _("Start charging")),
            ("pause", _("Pause charging")),
            ("finish", _("Finish charging")),
        ],
    )


class RfidForm(forms.Form):
    tag = forms.CharField(
        label=_("RFID tag (hex)"),
        max_length=32,
        min_length=4,
        validators=[RegexValidator(r"^[0-9A-Fa-f]+$", _("Use hexadecimal digits only (0–9, A–F)."))],
    )

    def clean_tag(self) -> str:
        return self.cleaned_data["tag"].upper()


class DigitalInputForm(forms.Form):
    index = forms.TypedChoiceField(
        label=_("Digital input"), coerce=int, choices=[(i, str(i)) for i in range(1, DIGITAL_INPUTS + 1)]
    )
    value = forms.TypedChoiceField(
        label=_("Level"),
        coerce=lambda v: v == "high",
        choices=[
            ("high", pgettext_lazy("digital input level", "High")),
            ("low", pgettext_lazy("digital input level", "Low")),
        ],
    )


class AnalogInputForm(forms.Form):
    index = forms.TypedChoiceField(
        label=_("Analog input"), coerce=int, choices=[(i, str(i)) for i in range(1, ANALOG_INPUTS + 1)]
    )
    volts = forms.FloatField(label=_("Voltage (V)"), min_value=0, max_value=10)


class FaultForm(forms.Form):
    code = forms.ChoiceField(label=_("OCPP error code"), choices=[(c.value, c.value) for c in INJECTABLE_ERROR_CODES])
    info = forms.CharField(label=_("Info"), max_length=50, required=False)


class ContactorForm(forms.Form):
    welded = forms.TypedChoiceField(
        label=_("Charging contactor"),
        coerce=lambda v: v == "welded",
        choices=[("ok", _("Opens and closes")), ("welded", _("Welded (does not open)"))],
        help_text=_("Detected when contactor monitoring is configured (an auxiliary contact on a digital input)."),
    )


class ResidualForm(forms.Form):
    milliamps = forms.FloatField(
        label=_("DC residual current (mA)"),
        min_value=0,
        max_value=300,
        help_text=_("6 mA or more trips DC residual current monitoring; 0 clears the leak."),
    )


class OverdrawForm(forms.Form):
    factor = forms.TypedChoiceField(
        label=_("Vehicle draws"),
        coerce=float,
        choices=[
            ("1.0", _("What it is offered")),
            ("1.15", _("115 % of the offered current")),
            ("1.25", _("125 % of the offered current")),
        ],
        help_text=_("With a meter, overcurrent detection acts on a vehicle that draws too much."),
    )


class BusForm(forms.Form):
    connected = forms.TypedChoiceField(
        label=_("Connection to the head module"),
        coerce=lambda v: v == "connected",
        choices=[("connected", _("Connected")), ("lost", _("Lost"))],
        help_text=_("After the fallback time without it, the charging point uses its fallback current."),
    )


class IsoErrorForm(forms.Form):
    error = forms.ChoiceField(
        label=_("ISO 15118 error"),
        required=False,
        choices=[("", _("No error (clear)")), *[(e.value, e.value) for e in Iso15118Error]],
    )


class TemperatureForm(forms.Form):
    celsius = forms.FloatField(
        label=_("Temperature (°C)"),
        min_value=-40,
        max_value=150,
        required=False,
        help_text=_("Leave empty to follow the simulated load again."),
    )


@dataclass(frozen=True)
class SimOp:
    """One operation: the command it becomes, the form that validates it, its title."""

    command: Callable[..., Command]  # a Command class, called with the charge point and the form's values
    form: type[forms.Form]
    title: Any


OPS: dict[str, SimOp] = {
    "plug_in": SimOp(c.SimPlugIn, PlugInForm, _("Plug in vehicle")),
    "unplug": SimOp(c.SimUnplug, NoArgsForm, _("Unplug vehicle")),
    "vehicle": SimOp(c.SimVehicle, VehicleForm, _("Vehicle")),
    "rfid": SimOp(c.SimRfid, RfidForm, _("Present RFID tag at this reader")),
    "input": SimOp(c.SimInput, DigitalInputForm, _("Set digital input")),
    "analog": SimOp(c.SimAnalog, AnalogInputForm, _("Set analog input")),
    "fault": SimOp(c.SimFault, FaultForm, _("Inject fault")),
    "clear_fault": SimOp(c.SimClearFault, NoArgsForm, _("Clear fault")),
    "temperature": SimOp(c.SimTemperature, TemperatureForm, _("Set temperature")),
    "iso_error": SimOp(c.SimIsoError, IsoErrorForm, _("Set ISO 15118 error")),
    "bus": SimOp(c.SimBus, BusForm, _("Set head module connection")),
    "contactor": SimOp(c.SimContactor, ContactorForm, _("Set charging contactor")),
    "residual": SimOp(c.SimResidual, ResidualForm, _("Set DC residual current")),
    "overdraw": SimOp(c.SimOverdraw, OverdrawForm, _("Set vehicle overdraw")),
}
