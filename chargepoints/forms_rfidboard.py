"""Validation of CHARX RFID/NFC board settings, once for the page and the API.

The page validates on the server only, like every other form: no ``required``/``min``/``max``
attributes for the browser's bubbles; the errors come back at their field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from chargepoints.choices import BoardConnectionType, LedColor, LedMode
from chargepoints.choices import RfidBoardProfile as Profile
from chargepoints.rfidboard import BRIGHTNESS_RANGE, BUZZER_RANGE, PERIOD_MS_RANGE, BoardInfo, profiles_for

PERIODIC_MODES = (LedMode.FLASHING, LedMode.FADE)


class ServerValidatedForm(forms.Form):
    """A form whose limits the server checks: its widgets carry no browser-validation attributes."""

    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            for attr in ("min", "max", "step", "minlength", "maxlength", "pattern"):
                field.widget.attrs.pop(attr, None)


class RfidBoardForm(ServerValidatedForm):
    connection_type = forms.ChoiceField(label=_("Connection type"), choices=BoardConnectionType.choices)
    buzzer_volume_pct = forms.IntegerField(
        label=_("Buzzer volume (%)"),
        min_value=BUZZER_RANGE[0],
        max_value=BUZZER_RANGE[1],
        help_text=_("The perceived volume is not necessarily proportional to the setting."),
    )


def _percent(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=BRIGHTNESS_RANGE[0], max_value=BRIGHTNESS_RANGE[1])


class LedProfileForm(ServerValidatedForm):
    mode = forms.ChoiceField(label=_("LED mode"), choices=LedMode.choices)
    color = forms.ChoiceField(label=_("LED colour"), choices=LedColor.choices)
    brightness_pct = _percent(_("Brightness (%)"))
    period_ms = forms.IntegerField(label=_("Period (ms)"), min_value=PERIOD_MS_RANGE[0], max_value=PERIOD_MS_RANGE[1])
    min_brightness_pct = _percent(_("Minimum brightness (%)"))
    max_brightness_pct = _percent(_("Maximum brightness (%)"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        low, high = data.get("min_brightness_pct"), data.get("max_brightness_pct")
        # in every mode, as the model refuses it: otherwise it passed here and failed on saving
        if low is not None and high is not None and low > high:
            self.add_error("min_brightness_pct", _("The minimum brightness must not be above the maximum brightness."))
        return data


class BoardSettingsForm:
    """The board form of the page: connection type, buzzer and one LED row per profile the chosen
    connection type uses. ``preview``: re-render for another connection type without validating."""

    def __init__(
        self, board: BoardInfo, data: Mapping[str, Any] | None = None, *, preview: bool = False, revision: int = 0
    ) -> None:
        self.board = board
        self.revision = revision  # what the page was read at (hidden field): a stale save is refused
        self.prefix = f"b{board.pk}"
        initial = {"connection_type": board.connection_type, "buzzer_volume_pct": board.buzzer_volume_pct}
        bound = None if preview else data
        self.main = RfidBoardForm(bound, prefix=self.prefix, initial=self._submitted(data, initial, self.prefix))
        chosen = self._submitted(data, initial, self.prefix)["connection_type"]
        if chosen not in BoardConnectionType.values:
            chosen = board.connection_type
        self.connection_type = chosen
        self.rows: list[tuple[Profile, LedProfileForm]] = []
        for profile in profiles_for(chosen):
            prefix = f"{self.prefix}-{profile.value}"
            led = dataclasses.asdict(board.led(profile))
            form = LedProfileForm(bound, prefix=prefix, initial=self._submitted(data, led, prefix))
            for field in form.fields.values():  # the table's cells have no label of their own
                field.widget.attrs["aria-label"] = f"{profile.label}: {field.label}"
            self.rows.append((profile, form))

    @staticmethod
    def _submitted(data: Mapping[str, Any] | None, initial: dict[str, Any], prefix: str) -> dict[str, Any]:
        """Initial values, overridden by what was submitted (a preview keeps the person's input)."""
        if data is None:
            return dict(initial)
        return {key: data.get(f"{prefix}-{key}", value) for key, value in initial.items()}

    def is_valid(self) -> bool:
        return all([self.main.is_valid(), *(form.is_valid() for _profile, form in self.rows)])

    @property
    def has_errors(self) -> bool:
        return bool(self.main.errors) or any(form.errors for _profile, form in self.rows)

    def add_service_errors(self, exc: ValidationError) -> list[str]:
        """Put the service's field errors (``connection_type``, ``profiles.<profile>.<field>``) at
        their fields; returns the messages that name no field of this form (shown for the board)."""
        if not hasattr(exc, "error_dict"):
            return list(exc.messages)
        rows = {profile.value: form for profile, form in self.rows}
        rest: list[str] = []
        for key, errors in exc.error_dict.items():
            parts = key.split(".")
            form: forms.Form | None = self.main
            field = key
            if parts[0] == "profiles" and len(parts) == 3:
                form, field = rows.get(parts[1]), parts[2]
            if form is None or (field not in form.fields and field != NON_FIELD_ERRORS):
                rest.extend(message for error in errors for message in error.messages)
                continue
            form.add_error(None if field == NON_FIELD_ERRORS else field, errors)
        return rest

    def cleaned(self) -> dict[str, Any]:
        return {
            **self.main.cleaned_data,
            "profiles": {profile.value: form.cleaned_data for profile, form in self.rows},
        }


def board_data_from_api(board: BoardInfo, payload: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Validate an API body ``{connection_type, buzzer_volume_pct, profiles: {profile: {...}}}``;
    omitted values keep the board's current ones. Returns (cleaned data, errors)."""
    errors: dict[str, Any] = {}
    main = RfidBoardForm(
        {
            "connection_type": payload.get("connection_type", board.connection_type),
            "buzzer_volume_pct": payload.get("buzzer_volume_pct", board.buzzer_volume_pct),
        }
    )
    if not main.is_valid():
        errors.update(main.errors.get_json_data())
    profiles_in = payload.get("profiles") or {}
    profiles: dict[str, Any] = {}
    if not isinstance(profiles_in, Mapping):
        errors["profiles"] = [{"message": str(_("Give the profiles as an object by profile name.")), "code": "invalid"}]
        profiles_in = {}
    for key, values in profiles_in.items():
        if key not in Profile.values:
            errors[f"profiles.{key}"] = [{"message": str(_("There is no such profile.")), "code": "invalid"}]
            continue
        if not isinstance(values, Mapping):
            errors[f"profiles.{key}"] = [{"message": str(_("Give the LED settings as an object.")), "code": "invalid"}]
            continue
        form = LedProfileForm({**dataclasses.asdict(board.led(key)), **values})
        if form.is_valid():
            profiles[key] = form.cleaned_data
        else:
            errors.update({f"profiles.{key}.{field}": e for field, e in form.errors.get_json_data().items()})
    if errors:
        return None, errors
    return {**main.cleaned_data, "profiles": profiles}, {}


def board_change_label(key: str) -> str:
    """How the page calls a board setting named as the service keys it: "Buzzer volume (%)",
    "RFID accepted: LED colour" for ``profiles.<profile>.<field>``."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "profiles" and parts[1] in Profile.values:
        return f"{Profile(parts[1]).label}: {LedProfileForm.base_fields[parts[2]].label}"
    field = RfidBoardForm.base_fields.get(key)
    return str(field.label) if field is not None else key
