"""Forms of the MQTT bridge page: the remote broker, the certificate upload. The forwarding rows
are repeated inputs (``local_topic``, ``remote_topic``, ``direction``) read by the view; the rules
are the service's (``services``, ``topics``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mqttbridge import services


class BrokerForm(forms.Form):
    host = forms.CharField(
        label=_("Broker"),
        required=False,
        max_length=253,
        help_text=_("Host name or IP address of the remote MQTT broker."),
    )
    port = forms.IntegerField(
        label=_("Broker Port"),
        min_value=1,
        max_value=65535,
        initial=1883,
        help_text=_("Usually 1883, or 8883 with TLS."),
    )
    username = forms.CharField(
        label=_("User"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: leave empty to keep the stored password."),
    )
    clear_password = forms.BooleanField(label=_("Remove the stored password"), required=False)
    added_prefix = forms.CharField(
        label=_("Added Prefix"),
        required=False,
        max_length=64,
        help_text=_("Put in front of every remote topic, e.g. for a station type."),
    )
    station_name = forms.CharField(label=_("Station Name"), required=False, max_length=64)
    location = forms.CharField(label=_("Location"), required=False, max_length=64)


class CertificateForm(forms.Form):
    certificate = forms.FileField(
        label=_("Certificate"),
        help_text=_("The CA certificate (PEM) that verifies the remote broker; TLS is used from then on."),
    )

    def clean_certificate(self) -> object:
        upload = self.cleaned_data["certificate"]
        if upload.size is not None and upload.size > services.MAX_CA_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)s KiB."), params={"max": services.MAX_CA_BYTES // 1024}
            )
        return upload
