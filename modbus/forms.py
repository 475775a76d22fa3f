"""Forms of the Modbus page: the start address of every charge point, "allow restart registers"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from modbus.selectors import AddressRow


def field_name(chargepoint: int) -> str:
    return f"address_{chargepoint}"


class StartAddressesForm(forms.Form):
    """One integer field per charge point of the park (the rows of the page, in their order).
    The form only reads numbers; the manual's rules are the service's
    (``modbus.addressing.validate``), whose errors ``add_rule_errors`` puts at the fields."""

    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, rows: Sequence[AddressRow], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        for row in self.rows:
            self.fields[field_name(row.chargepoint)] = forms.IntegerField(
                label=_("Start address of %(name)s") % {"name": row.name},
                initial=row.start_address,
                widget=forms.NumberInput(attrs={"class": "addr-input"}),
            )

    def table(self) -> list[tuple[AddressRow, forms.BoundField]]:
        """(row, its bound field) in the page's order."""
        return [(row, self[field_name(row.chargepoint)]) for row in self.rows]

    def addresses(self) -> dict[int, int]:
        """Charge point id → the start address entered (after ``is_valid()``)."""
        return {row.chargepoint: self.cleaned_data[field_name(row.chargepoint)] for row in self.rows}

    def add_rule_errors(self, errors: dict[int, list[str]]) -> None:
        for cp, messages in errors.items():
            name = field_name(cp)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class AllowRestartForm(forms.Form):
    allow_restart = forms.BooleanField(
        label=_("Allow restart registers"),
        required=False,
        help_text=_(
            "Lets a Modbus client restart the controller (register 165) or every controller of the group "
            "(register 166). Off: such writes are refused."
        ),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
