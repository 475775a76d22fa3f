"""Forms of the OpenVPN page: the pasted configuration with the activation mode, the file import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vpn import config
from vpn.choices import Activation


class VpnPasteForm(forms.Form):
    """Copy/paste configuration and activation mode (Save, Test VPN connection). The text is
    checked by the service (``vpn.config.check``); the form only bounds its size."""

    config = forms.CharField(
        label=_("Configuration"),
        required=False,
        strip=False,
        max_length=config.MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono", "autocomplete": "off"}),
        help_text=_(
            "Paste the client configuration the OpenVPN server created, certificates included as inline "
            "blocks (<ca>…</ca>). It stays visible and editable: recommended for test purposes only. "
            "Add “route-noexec” to keep the routing table unchanged."
        ),
    )
    activation = forms.ChoiceField(label=_("Activation mode"), choices=Activation.choices)


class VpnImportForm(forms.Form):
    """Import a configuration file: UTF-8 text, at most ``config.MAX_BYTES``. Its fields are
    prefixed ``import-`` (the page has an activation select in both forms)."""

    prefix = "import"

    file = forms.FileField(label=_("Configuration file"), help_text=_("UTF-8 text, at most 64 KiB (.ovpn, .conf)."))
    activation = forms.ChoiceField(label=_("Activation mode"), choices=Activation.choices)

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > config.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)s KiB."), params={"max": config.MAX_BYTES // 1024}
            )
        return upload
