"""System Control forms: set the clock, the user-app password, confirmations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from wbm.system import osbackend

MAX_PASSWORD = 128


def _in_range(when: datetime) -> datetime:
    if not osbackend.EARLIEST <= when <= osbackend.LATEST:
        raise forms.ValidationError(
            _("The clock can be set from %(earliest)s to %(latest)s (UTC); %(value)s is outside."),
            code="out_of_range",
            params={
                "earliest": osbackend.EARLIEST.strftime("%Y-%m-%d"),
                "latest": osbackend.LATEST.strftime("%Y-%m-%d"),
                "value": when.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
    return when


class TimeSetForm(forms.Form):
    """Set the system time by hand (UTC)."""

    utc = forms.DateTimeField(
        label=_("New system time (UTC)"),
        input_formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )

    def clean_utc(self) -> datetime:
        value: datetime = self.cleaned_data["utc"]
        # the field is entered and shown in UTC, whatever the active time zone
        return _in_range(value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))


class BrowserTimeForm(forms.Form):
    """Take the PC's time: the browser sends its clock as epoch milliseconds."""

    browser_ms = forms.IntegerField(min_value=0, max_value=10**15, widget=forms.HiddenInput)

    def clean_browser_ms(self) -> datetime:
        value: int = self.cleaned_data["browser_ms"]
        try:
            when = datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise forms.ValidationError(_("The browser sent no valid time."), code="invalid") from None
        return _in_range(when)


class UserAppPasswordForm(forms.Form):
    """Linux User Change Password for ``user-app``."""

    current = forms.CharField(
        label=_("Current password"), max_length=MAX_PASSWORD, strip=False, widget=forms.PasswordInput
    )
    new = forms.CharField(label=_("New password"), max_length=MAX_PASSWORD, strip=False, widget=forms.PasswordInput)
    repeat = forms.CharField(
        label=_("Repeat new password"), max_length=MAX_PASSWORD, strip=False, widget=forms.PasswordInput
    )

    def clean_new(self) -> str:
        value: str = self.cleaned_data["new"]
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise forms.ValidationError(_("The password must not contain control characters."), code="control")
        validate_password(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new") and data.get("repeat") is not None and data["new"] != data["repeat"]:
            self.add_error("repeat", forms.ValidationError(_("The two passwords differ."), code="mismatch"))
        return data


class ConfirmForm(forms.Form):
    """A confirmation checkbox for an action that cannot be undone by itself."""

    confirm = forms.BooleanField(label=_("I have read the warning."), required=True)
