"""The forms of the whitelist pages: one entry, and the CSV import (file and mode)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whitelist import csvio, tags
from whitelist.models import NAME_MAX, PERMANENT_EXPIRY, EntryType

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M"


class ExpiryWidget(forms.SplitDateTimeWidget):
    """Expiry Date and Expiry Time as the browser's date and time inputs."""

    template_name = "whitelist/expiry_widget.html"

    def __init__(self) -> None:
        super().__init__(
            date_attrs={"type": "date", "class": "expiry-date"},
            time_attrs={"type": "time", "class": "expiry-time"},
            date_format=DATE_FORMAT,
            time_format=TIME_FORMAT,
        )


class EntryForm(forms.Form):
    """Type, RFID tag/EVCC ID, name, allow charging, expiry date and time (all but the name required)."""

    type = forms.ChoiceField(label=_("Type"), choices=EntryType.choices, initial=EntryType.RFID)
    tag = forms.CharField(
        label=_("RFID tag / EVCC ID"),
        max_length=64,
        help_text=_(
            "Hexadecimal, as the reader shows it; case and separators (“:”, “-”, spaces) do not matter. "
            "An EVCC ID is the vehicle's 12-digit MAC address."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX, required=False, help_text=_("Optional."))
    allow_charging = forms.BooleanField(
        label=_("Allow charging"),
        required=False,
        initial=True,
        help_text=_("Clear it to block this card or vehicle without deleting the entry."),
    )
    expires_at = forms.SplitDateTimeField(
        label=_("Expiry date and time (UTC)"),
        widget=ExpiryWidget(),
        input_date_formats=[DATE_FORMAT],
        input_time_formats=[TIME_FORMAT, "%H:%M:%S"],
        help_text=_("From this moment on the card or vehicle can no longer charge."),
        error_messages={
            "required": _("Enter an expiry date and time (or choose “Permanent”)."),
            "incomplete": _("Enter an expiry date and time (or choose “Permanent”)."),
        },
    )

    def clean_tag(self) -> str:
        return tags.normalize(self.cleaned_data["tag"])


def permanent_initial(data: Any) -> dict[str, Any]:
    """The submitted values as the form's initial values, with the expiry set to the permanent
    date ("Permanent": one click fills it in, nothing is saved yet)."""
    return {
        "type": data.get("type", EntryType.RFID),
        "tag": data.get("tag", ""),
        "name": data.get("name", ""),
        "allow_charging": bool(data.get("allow_charging")),
        "expires_at": PERMANENT_EXPIRY,
    }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, with the header row type,tag,name,allow_charging,expires_at (as the export writes it)."),
    )
    mode = forms.ChoiceField(
        label=_("Import"),
        choices=[
            (csvio.ADD, _("Add from import")),
            (csvio.REPLACE, _("Replace with import")),
        ],
        initial=csvio.ADD,
        widget=forms.RadioSelect,
        help_text=_(
            "Add: new tags are added, tags already listed take the file's values. "
            "Replace: the whitelist becomes the file; entries not in it are deleted."
        ),
    )
