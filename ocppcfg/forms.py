"""Forms of the OCPP pages: the settings (manual "OCPP settings") and the server variables. The
forms read and check the input; the rules that span fields and the writing are the service's
(``ocppcfg.services``), whose errors the views put back at the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ocppcfg import variables
from ocppcfg.certificates import MAX_CERTIFICATE_BYTES
from ocppcfg.models import NetworkInterface, OcppSettings, ProtocolVersion
from ocppcfg.services import validate_backend_url


class OcppSettingsForm(forms.Form):
    """The backend connection. The AuthorizationKey is write-only: never pre-filled; left empty
    it keeps the stored one. The certificate field is only used with a wss:// URL."""

    protocol = forms.ChoiceField(label=_("Protocol version"), choices=ProtocolVersion.choices)
    network_interface = forms.ChoiceField(
        label=_("Network interface"),
        choices=NetworkInterface.choices,
        help_text=_("How the backend is reached: cellular (ppp0), WLAN (wlan0) or Ethernet (eth0)."),
    )
    backend_url = forms.CharField(
        label=_("Backend URL"),
        max_length=512,
        required=False,
        validators=[validate_backend_url],
        help_text=_(
            "ws:// or wss:// with the charge box ID as the last part, e.g. ws://testserver.net:8080/chargeboxid"
        ),
        widget=forms.TextInput(
            attrs={"placeholder": "wss://backend.example:443/ocpp/CB-0001", "spellcheck": "false", "class": "mono"}
        ),
    )
    authorization_user = forms.CharField(
        label=_("AuthorizationUser"),
        max_length=64,
        required=False,
        help_text=_(
            "User name of the Basic authentication; usually the charge box ID. Also a configuration key the "
            "backend can change."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    authorization_key = forms.CharField(
        label=_("AuthorizationKey"),
        max_length=40,
        required=False,
        strip=False,
        help_text=_(
            "Password of the Basic authentication; also a configuration key the backend can change. It is never "
            "shown; leave the field empty to keep it."
        ),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_key = forms.BooleanField(label=_("Remove the stored AuthorizationKey"), required=False)
    certificate = forms.FileField(
        label=_("Upload certificate"),
        required=False,
        help_text=_("The CA certificate (PEM) that verifies a wss:// backend; stored when you save."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pem,.crt,.cer"}),
    )
    model = forms.CharField(label=_("Charging station model"), max_length=20, required=False)
    vendor = forms.CharField(label=_("Charging station manufacturer"), max_length=20, required=False)
    serial_number = forms.CharField(
        label=_("Charging station serial number"), max_length=25, required=False, help_text=_("Optional.")
    )

    @classmethod
    def for_settings(cls, settings: OcppSettings) -> OcppSettingsForm:
        """The form with the stored values, the key left out."""
        return cls(
            initial={
                "protocol": settings.protocol,
                "network_interface": settings.network_interface,
                "backend_url": settings.backend_url,
                "authorization_user": settings.authorization_user,
                "model": settings.model,
                "vendor": settings.vendor,
                "serial_number": settings.serial_number,
            }
        )

    def clean_certificate(self) -> bytes | None:
        upload = self.cleaned_data.get("certificate")
        if not upload:
            return None
        if upload.size is not None and upload.size > MAX_CERTIFICATE_BYTES:
            raise forms.ValidationError(
                _("The file is too large for a certificate (at most %(kb)d KB).") % {"kb": 64}, code="too_large"
            )
        data: bytes = upload.read(MAX_CERTIFICATE_BYTES + 1)
        return data

    def data_for_service(self) -> dict[str, Any]:
        """The fields the service takes in ``data`` (after ``is_valid()``)."""
        fields = (
            "network_interface",
            "backend_url",
            "authorization_user",
            "authorization_key",
            "model",
            "vendor",
            "serial_number",
        )
        return {f: self.cleaned_data[f] for f in fields}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def variable_field_name(key: str) -> str:
    return f"v_{key}"


class VariablesForm(forms.Form):
    """One field per writable configuration key, pre-filled with its current value (the
    AuthorizationKey never: empty keeps it). ``changes()`` gives only what differs."""

    def __init__(self, current: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        for key, variable in variables.VARIABLES.items():
            if variable.readonly or key == "NumberOfConnectors":
                continue
            self.fields[variable_field_name(key)] = _field(variable, "" if variable.secret else current.get(key, ""))

    def changes(self) -> dict[str, str]:
        """Key → the value entered, for the keys whose value differs (after ``is_valid()``)."""
        out: dict[str, str] = {}
        for key, variable in variables.VARIABLES.items():
            name = variable_field_name(key)
            if name not in self.fields:
                continue
            value = self.cleaned_data.get(name)
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if variable.secret:
                if text:
                    out[key] = text
                continue
            if text != self.current.get(key, ""):
                out[key] = text
        return out

    def add_variable_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = variable_field_name(key)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def _field(variable: variables.Variable, value: str) -> forms.Field:
    label = variable.key
    attrs: dict[str, Any] = {"data-key": variable.key, "aria-describedby": f"meaning-{variable.key}"}
    if variable.kind is variables.Kind.BOOL:
        return forms.TypedChoiceField(
            label=label,
            choices=(("true", _("true")), ("false", _("false"))),
            initial=value,
            widget=forms.Select(attrs=attrs),
        )
    if variable.kind is variables.Kind.INT:
        if variable.minimum is not None:
            attrs["min"] = variable.minimum
        if variable.maximum is not None:
            attrs["max"] = variable.maximum
        return forms.CharField(
            label=label, initial=value, required=True, widget=forms.NumberInput(attrs={**attrs, "step": 1})
        )
    if variable.choices and variable.kind is variables.Kind.STRING:
        return forms.ChoiceField(
            label=label, choices=[(c, c) for c in variable.choices], initial=value, widget=forms.Select(attrs=attrs)
        )
    if variable.secret:
        return forms.CharField(
            label=label,
            required=False,
            strip=False,
            widget=forms.PasswordInput(render_value=False, attrs={**attrs, "autocomplete": "new-password"}),
        )
    return forms.CharField(
        label=label,
        initial=value,
        required=False,
        widget=forms.TextInput(attrs={**attrs, "spellcheck": "false"}),
    )
