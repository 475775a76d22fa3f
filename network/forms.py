"""The Network pages' forms. They only read the values; the rules are ``network.validation``
(the services check them), whose errors ``add_rule_errors`` puts at the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from network.models import Direction, Protocol, WlanBand, WlanEncryption, WlanMode
from network.validation import COUNTRIES, INTERFACES

TEXT_MAX = 300  # longer than any field allows: the rule's own message says the limit
COUNTRY_CHOICES = [(c, c) for c in sorted(COUNTRIES)]
NUMBER = {"inputmode": "numeric", "class": "num-input"}


def _text(label: Any, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=TEXT_MAX, **kwargs)


def _secret(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class RuleErrorsMixin:
    def add_rule_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]


class EthernetForm(RuleErrorsMixin, forms.Form):
    dhcp = forms.BooleanField(label=_("Automatic Assignment (DHCP)"), required=False)
    no_gateway = forms.BooleanField(
        label=_("No Gateway"),
        required=False,
        help_text=_("With DHCP: use no gateway, so software on the controller cannot reach the Internet via ETH0."),
    )
    ip = _text(_("IP Address"))
    netmask = _text(_("Subnet Mask"))
    gateway = _text(_("Gateway"))
    hostname = _text(
        _("Host Name"), help_text=_("Default: ev3000. Several controllers on one network get ev3000-2, ev3000-3 …")
    )
    dns1 = _text(_("DNS Name Server 1"))
    dns2 = _text(_("DNS Name Server 2"))
    dns3 = _text(_("DNS Name Server 3"))

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["dns"] = [d for d in (data.pop("dns1"), data.pop("dns2"), data.pop("dns3")) if d]
        return data

    def add_rule_errors(self, errors: dict[str, list[str]]) -> None:
        super().add_rule_errors({("dns1" if k == "dns" else k): v for k, v in errors.items()})


class WlanForm(RuleErrorsMixin, forms.Form):
    enabled = forms.BooleanField(label=_("Enable Wireless Connection"), required=False)
    mode = forms.ChoiceField(label=_("Operation Mode"), choices=WlanMode.choices, widget=forms.RadioSelect)
    ap_ssid = _text(_("Network Name"))
    ap_password = _secret(_("Password"), _("8 to 63 printable characters (WPA2). Leave empty to keep the stored one."))
    ap_encryption = forms.ChoiceField(label=_("Encryption"), choices=WlanEncryption.choices)
    ap_network = _text(_("Network"), help_text=_("IP address/prefix, e.g. 192.168.0.1/24"))
    ap_ip = _text(_("Access Point IP Address"))
    dhcp_from = _text(_("DHCP Range From"))
    dhcp_to = _text(_("DHCP Range To"))
    band = forms.ChoiceField(label=_("Band"), choices=WlanBand.choices)
    country = forms.ChoiceField(label=_("Country Code"), choices=COUNTRY_CHOICES)
    timeout_s = forms.IntegerField(
        label=_("Timeout in seconds"), widget=forms.NumberInput(attrs=NUMBER), help_text=_("0 = no deactivation")
    )
    infra_ssid = _text(_("Network"))
    infra_password = _secret(_("Password"), _("Leave empty to keep the stored one (or for an open network)."))
    infra_country = forms.ChoiceField(label=_("Country Code"), choices=COUNTRY_CHOICES)

    def __init__(self, *args: Any, ssids: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *[(s, s) for s in ssids or []]]
        current = self.initial.get("infra_ssid") or (self.data.get("infra_ssid") if self.is_bound else "")
        if current and current not in (ssids or []):
            choices.append((current, current))
        self.fields["infra_ssid"].widget = forms.Select(choices=choices)

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PortAddForm(RuleErrorsMixin, forms.Form):
    port = forms.IntegerField(label=_("New Port"), widget=forms.NumberInput(attrs=NUMBER))
    protocol = forms.ChoiceField(label=_("Protocol"), choices=Protocol.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)


class ModemForm(RuleErrorsMixin, forms.Form):
    service_active = forms.BooleanField(label=_("Service active"), required=False)
    sim_pin = _secret(_("SIM Pin"), _("4 to 8 digits. Leave empty to keep the stored one."))
    apn = _text(_("APN"))
    use_credentials = forms.BooleanField(label=_("Use credentials"), required=False)
    user = _text(_("User"))
    password = _secret(_("Password"), _("Leave empty to keep the stored one."))
    default_route = forms.BooleanField(
        label=_("Default Route"), required=False, help_text=_("Use the cellular connection as the default route.")
    )
    prefer_modem = forms.BooleanField(
        label=_("Prefer Modem over ETH0"), required=False, help_text=_("A smaller metric for the cellular interface.")
    )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class SimUnlockForm(RuleErrorsMixin, forms.Form):
    pin = _secret(_("SIM Pin"))
    puk = _secret(_("PUK"), _("Only when the SIM asks for its PUK: 8 digits; the PIN above becomes the new PIN."))


class ModemTestForm(RuleErrorsMixin, forms.Form):
    host = _text(_("Network address"), help_text=_("An IPv4 address or a host name to ping over the modem."))


class RouteAddForm(RuleErrorsMixin, forms.Form):
    network = _text(_("Network (IPv4/Netmask)"), help_text=_("e.g. 10.10.0.0/16; /32 for one host"))
    gateway = _text(_("Gateway"))
    interface = forms.ChoiceField(label=_("Interface"), choices=[(i, i) for i in INTERFACES])
    metric = forms.IntegerField(
        label=_("Metric"), initial=0, widget=forms.NumberInput(attrs=NUMBER), help_text=_("0 = highest preference")
    )
    persistent = forms.BooleanField(label=_("Persist"), required=False, help_text=_("Kept after a restart."))
