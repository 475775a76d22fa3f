"""The load management configuration form. It only reads the values; the rules are
``loadmgmt.validation`` (the service checks them), whose errors ``add_rule_errors`` puts at
the fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from loadmgmt.choices import MeterConnection, Strategy, UpstreamMeterType
from loadmgmt.validation import ParkPoint

NUMBER = {"inputmode": "numeric", "class": "num-input"}


class LoadCircuitForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    park_name = forms.CharField(label=_("Charging park name"), required=False, max_length=80)
    fuse_a = forms.IntegerField(
        label=_("Load circuit fuse (A)"),
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Fuse B: the most all assigned charging points together may draw, per phase."),
    )
    threshold_a = forms.IntegerField(
        label=_("Threshold to current reduction (A)"),
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_(
            "When a vehicle draws this much less than load management offers it, its share is reduced "
            "and the rest goes to the others."
        ),
    )
    meter_connection = forms.ChoiceField(
        label=_("Higher-level measuring device"),
        choices=MeterConnection.choices,
        widget=forms.Select(attrs={"data-controls": "1"}),
    )
    meter_ip = forms.CharField(label=_("IP address"), required=False, max_length=45)
    meter_type = forms.ChoiceField(
        label=_("Energy measuring device type"),
        required=False,
        choices=[("", "—"), *UpstreamMeterType.choices],
    )
    rs485_chargepoint = forms.TypedChoiceField(
        label=_("Configured RS-485 controller"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "The charging point whose meter interface the measuring device is connected to. It must be of "
            "the same type as that charging point's meter, with the Modbus address “default setting + 1”."
        ),
    )
    higher_fuse_a = forms.IntegerField(
        label=_("Higher-level fuse value (A)"),
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Fuse A of the feed-in: the charging points and every other load behind it, per phase."),
    )
    strategy = forms.ChoiceField(label=_("Load strategy"), choices=Strategy.choices)
    chargepoints = forms.TypedMultipleChoiceField(
        label=_("Charging management charging points"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, park: Sequence[ParkPoint], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.park = list(park)
        self.fields["rs485_chargepoint"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(p.id, p.name) for p in self.park if p.configured and p.meter_type],
        ]
        self.fields["chargepoints"].choices = [  # type: ignore[attr-defined]
            (p.id, p.name) for p in self.park if p.configured
        ]

    @property
    def connection(self) -> str:
        """The connection type the form shows fields for (as entered, else as stored)."""
        value = self.data.get("meter_connection") if self.is_bound else self.initial.get("meter_connection")
        return str(value or MeterConnection.NONE)

    def values(self) -> dict[str, Any]:
        """What the service takes (after ``is_valid()``)."""
        data = dict(self.cleaned_data)
        data.pop("revision", None)
        return data

    def add_rule_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
