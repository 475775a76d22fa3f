"""The filter of the Sessions page, the API and the CSV export (one form for all three)."""

from __future__ import annotations

import html
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from ledger import selectors


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class FastSelect(forms.Select):
    """A select whose options are joined in Python: Django's widget renders a template per
    option, which took ~10 ms for the 120 charge points of a large park on every page view."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        selected = "" if value is None else str(value)
        # html.escape: what format_html does to each value, without its lazy-argument wrapper
        options = mark_safe(
            "".join(
                f'<option value="{html.escape(str(key))}"{" selected" if str(key) == selected else ""}>'
                f"{html.escape(str(label))}</option>"
                for key, label in self.choices
            )
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class SessionFilterForm(forms.Form):
    """Charge point, tag (idTag, EVCC ID or part of a whitelist name), period (UTC days)."""

    chargepoint = forms.TypedChoiceField(
        label=_("Charging point"), required=False, coerce=int, empty_value=None, widget=FastSelect()
    )
    tag = forms.CharField(
        label=_("Tag or name"),
        required=False,
        max_length=60,
        help_text=_("RFID tag, EVCC ID or part of a whitelist name"),
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])
    until = forms.DateField(label=_("To"), required=False, widget=DateInput(), input_formats=["%Y-%m-%d"])
    running = forms.BooleanField(label=_("Running only"), required=False)

    def __init__(self, *args: Any, chargepoints: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = chargepoints if chargepoints is not None else selectors.chargepoint_choices()
        self.fields["chargepoint"].choices = [("", _("All charging points")), *choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period lies before its start."))
        return data

    def session_filter(self) -> selectors.SessionFilter:
        """The filter (call after ``is_valid()``; an invalid form filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.SessionFilter(
            chargepoint_id=data.get("chargepoint"),
            tag=(data.get("tag") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            running=bool(data.get("running")),
        )
