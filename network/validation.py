"""The Network pages' rules, as pure functions: a dict of values in, translated messages per
field out. Forms, the API and the services all use these (the services are the one gate).

Text that reaches a rendered file or a command is refused when it holds a control character
(newline, NUL …), a lone surrogate, a shell metacharacter or is too long; passwords may hold
any printable ASCII character (the WPA2 rule) and are rendered only in derived or escaped form.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from wbm.validation import is_valid_unicode

# USB-C (192.168.5.1) and the internal server–client link (192.168.4.x): reserved (M:2318)
RESERVED_NETS = (ipaddress.IPv4Network("192.168.4.0/24"), ipaddress.IPv4Network("192.168.5.0/24"))
INTERFACES = ("eth0", "wlan0", "ppp0", "usb0")  # eth1 belongs to the server–client link
MAX_DNS = 3
# ISO 3166-1 alpha-2 (the zone database's list, /usr/share/zoneinfo/iso3166.tab)
COUNTRIES = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)
SHELL_META = frozenset(";&|`$<>\\\"'(){}[]*?!~#\n\r\t\0")
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_FQDN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_APN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,98}[A-Za-z0-9])?$")
_USER = re.compile(r"^[A-Za-z0-9@._+-]{1,64}$")

Errors = dict[str, list[str]]


class Invalid(Exception):
    """Values broke a rule; nothing was written. ``errors``: translated messages per field."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def text_problem(value: Any, *, max_len: int, allow_meta: bool = False, ascii_only: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text (None: it can)."""
    if not isinstance(value, str):
        return _("Enter text.")
    if not is_valid_unicode(value):
        return _("The text is not valid Unicode.")
    if len(value) > max_len:
        return _("At most %(n)s characters.") % {"n": max_len}
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return _("Control characters (such as a line break) are not allowed.")
    if ascii_only and any(ord(c) > 0x7E for c in value):
        return _("Only printable ASCII characters are allowed.")
    if not allow_meta and (bad := sorted({c for c in value if c in SHELL_META})):
        return _("These characters are not allowed here: %(chars)s") % {"chars": " ".join(bad)}
    return None


def parse_ipv4(value: Any) -> ipaddress.IPv4Address | None:
    if not isinstance(value, str) or len(value) > 15:
        return None
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        return None


def parse_netmask(value: Any) -> int | None:
    """The prefix length of a dotted subnet mask (1–30), or None."""
    if parse_ipv4(value) is None:
        return None
    try:
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{value}").prefixlen
    except ValueError:
        return None
    return prefix if 1 <= prefix <= 30 else None


def _unicast_problem(ip: ipaddress.IPv4Address) -> str | None:
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved:
        return _("This is not an address a device can have.")
    if any(ip in net for net in RESERVED_NETS):
        return _("192.168.4.x and 192.168.5.x are reserved for the internal server–client link and USB-C.")
    return None


def _address(errors: Errors, field: str, value: Any, *, required: bool = True) -> ipaddress.IPv4Address | None:
    if value in (None, ""):
        if required:
            _add(errors, field, _("This field is required."))
        return None
    ip = parse_ipv4(value)
    if ip is None:
        _add(errors, field, _("Enter an IPv4 address such as 192.168.1.10."))
        return None
    if problem := _unicast_problem(ip):
        _add(errors, field, problem)
        return None
    return ip


def hostname_problem(value: Any) -> str | None:
    if problem := text_problem(value, max_len=63):
        return problem
    if not _HOSTNAME.match(value):
        return _("A host name has 1 to 63 letters, digits and hyphens, not at the start or end (RFC 1123).")
    return None


def host_problem(value: Any) -> str | None:
    """A ping target: an IPv4 address or a DNS name (RFC 1123)."""
    if problem := text_problem(value, max_len=253):
        return problem
    if parse_ipv4(value) is not None:
        return None
    labels = value.rstrip(".").split(".")
    if value.startswith("-") or not all(_FQDN_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return _("Enter an IPv4 address or a host name such as example.com.")
    return None


def wlan_network(value: Any) -> ipaddress.IPv4Interface | None:
    """``a.b.c.d/n`` (the AP network as the manual writes it) or None."""
    if not isinstance(value, str) or len(value) > 18 or "/" not in value:
        return None
    try:
        iface = ipaddress.IPv4Interface(value)
    except ValueError:
        return None
    return iface if 8 <= iface.network.prefixlen <= 30 else None


def eth0_network(values: Mapping[str, Any]) -> ipaddress.IPv4Network | None:
    """The ETH0 subnet of static settings (None with DHCP or invalid values)."""
    if values.get("dhcp"):
        return None
    ip, prefix = parse_ipv4(values.get("ip")), parse_netmask(values.get("netmask"))
    if ip is None or prefix is None:
        return None
    return ipaddress.IPv4Interface(f"{ip}/{prefix}").network


def validate_ethernet(values: Mapping[str, Any], *, wlan_net: ipaddress.IPv4Network | None = None) -> Errors:
    """ETH0: DHCP or IP/mask/gateway; host name; up to 3 DNS servers; never 192.168.4/5.x; not in
    the WLAN's subnet (``wlan_net``: the access point's network when the WLAN is on)."""
    errors: Errors = {}
    if problem := hostname_problem(values.get("hostname", "")):
        _add(errors, "hostname", problem)
    dns = values.get("dns") or []
    if not isinstance(dns, list | tuple):
        _add(errors, "dns", _("Enter a list of addresses."))
        dns = []
    if len(dns) > MAX_DNS:
        _add(errors, "dns", _("At most 3 DNS name servers."))
    for entry in dns:
        ip = parse_ipv4(entry)
        if ip is None or ip.is_unspecified or ip.is_multicast:
            _add(errors, "dns", _("“%(value)s” is not an IPv4 address.") % {"value": str(entry)[:40]})
    if len(set(dns)) != len(dns):
        _add(errors, "dns", _("A DNS server is listed twice."))
    if values.get("dhcp"):
        return errors
    ip = _address(errors, "ip", values.get("ip"))
    prefix = parse_netmask(values.get("netmask"))
    if prefix is None:
        _add(errors, "netmask", _("Enter a subnet mask such as 255.255.255.0."))
    gateway = _address(errors, "gateway", values.get("gateway"), required=False)
    if ip is None or prefix is None:
        return errors
    net = ipaddress.IPv4Interface(f"{ip}/{prefix}").network
    if ip in (net.network_address, net.broadcast_address):
        _add(errors, "ip", _("This is the network or broadcast address of the subnet."))
    if any(net.overlaps(r) for r in RESERVED_NETS):
        _add(errors, "netmask", _("The subnet must not include 192.168.4.x or 192.168.5.x."))
    if gateway is not None:
        if gateway not in net:
            _add(errors, "gateway", _("The gateway must be in the subnet of the IP address."))
        elif gateway == ip:
            _add(errors, "gateway", _("The gateway cannot be the controller's own address."))
    if wlan_net is not None and net.overlaps(wlan_net):
        _add(errors, "ip", _("eth0 and the WLAN must not be in the same subnet (WLAN: %(net)s).") % {"net": wlan_net})
    return errors


def _password(errors: Errors, field: str, value: Any, *, required: bool) -> None:
    if value in (None, "") and not required:
        return
    if problem := text_problem(value or "", max_len=63, allow_meta=True, ascii_only=True):
        _add(errors, field, problem)
    elif not 8 <= len(value) <= 63:
        _add(errors, field, _("A WPA2 password has 8 to 63 printable characters."))


def _ssid(errors: Errors, field: str, value: Any) -> None:
    if not value:
        _add(errors, field, _("This field is required."))
    elif problem := text_problem(value, max_len=32):
        _add(errors, field, problem)
    elif len(value.encode()) > 32:
        _add(errors, field, _("A network name has at most 32 bytes."))


def validate_wlan(values: Mapping[str, Any], *, eth_net: ipaddress.IPv4Network | None = None) -> Errors:
    """WLAN: the fields of the chosen mode only (the other mode keeps its stored values)."""
    errors: Errors = {}
    for field in ("country", "infra_country"):
        if values.get(field) not in COUNTRIES:
            _add(errors, field, _("Choose a country (ISO 3166 code)."))
    timeout = values.get("timeout_s")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= 86400:
        _add(errors, "timeout_s", _("Enter 0 (never) to 86400 seconds."))
    if not values.get("enabled"):
        return errors
    if values.get("mode") == "infra":
        _ssid(errors, "infra_ssid", values.get("infra_ssid"))
        _password(errors, "infra_password", values.get("infra_password"), required=False)
        return errors
    _ssid(errors, "ap_ssid", values.get("ap_ssid"))
    _password(errors, "ap_password", values.get("ap_password"), required=True)
    iface = wlan_network(values.get("ap_network"))
    if iface is None:
        _add(errors, "ap_network", _("Enter the network as address/prefix, e.g. 192.168.0.1/24 (prefix 8 to 30)."))
        return errors
    net = iface.network
    if any(net.overlaps(r) for r in RESERVED_NETS):
        _add(errors, "ap_network", _("The network must not include 192.168.4.x or 192.168.5.x."))
    if eth_net is not None and net.overlaps(eth_net):
        _add(
            errors,
            "ap_network",
            _("eth0 and the WLAN must not be in the same subnet (eth0: %(net)s).") % {"net": eth_net},
        )
    inside = {}
    for field in ("ap_ip", "dhcp_from", "dhcp_to"):
        ip = _address(errors, field, values.get(field))
        if ip is None:
            continue
        if ip not in net or ip in (net.network_address, net.broadcast_address):
            _add(errors, field, _("The address must be a host address inside the network %(net)s.") % {"net": net})
            continue
        inside[field] = ip
    if "dhcp_from" in inside and "dhcp_to" in inside:
        low, high = inside["dhcp_from"], inside["dhcp_to"]
        if low > high:
            _add(errors, "dhcp_to", _("“To” must not be below “From”."))
        elif "ap_ip" in inside and low <= inside["ap_ip"] <= high:
            _add(errors, "dhcp_from", _("The DHCP range must not contain the access point's address."))
    return errors


def validate_port(values: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    port = values.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        _add(errors, "port", _("Enter a port number from 1 to 65535."))
    if values.get("protocol") not in ("tcp", "udp"):
        _add(errors, "protocol", _("Choose TCP or UDP."))
    if values.get("direction") not in ("in", "out"):
        _add(errors, "direction", _("Choose incoming or outgoing."))
    return errors


def validate_modem(values: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    pin = values.get("sim_pin") or ""
    if problem := text_problem(pin, max_len=8):
        _add(errors, "sim_pin", problem)
    elif pin and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        _add(errors, "sim_pin", _("A SIM PIN has 4 to 8 digits."))
    apn = values.get("apn") or ""
    if problem := text_problem(apn, max_len=100):
        _add(errors, "apn", problem)
    elif apn and not _APN.match(apn):
        _add(errors, "apn", _("An APN has letters, digits, dots and hyphens, such as internet.provider.de."))
    elif values.get("service_active") and not apn:
        _add(errors, "apn", _("Enter the APN your provider gave you."))
    if values.get("use_credentials"):
        user = values.get("user") or ""
        if not user:
            _add(errors, "user", _("This field is required."))
        elif problem := text_problem(user, max_len=64):
            _add(errors, "user", problem)
        elif not _USER.match(user):
            _add(errors, "user", _("Letters, digits and @ . _ + - only."))
        password = values.get("password") or ""
        if problem := text_problem(password, max_len=64, allow_meta=True, ascii_only=True):
            _add(errors, "password", problem)
    return errors


def validate_sim_code(pin: Any, puk: Any = None) -> Errors:
    errors: Errors = {}
    if puk not in (None, "") and (
        text_problem(puk, max_len=8) or not (puk.isascii() and puk.isdigit() and len(puk) == 8)
    ):
        _add(errors, "puk", _("A PUK has 8 digits."))
    if text_problem(pin, max_len=8) or not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        _add(errors, "pin", _("A SIM PIN has 4 to 8 digits."))
    return errors


def parse_cidr(value: Any) -> ipaddress.IPv4Network | None:
    if not isinstance(value, str) or len(value) > 18:
        return None
    if "/" not in value:
        value += "/32"
    try:
        return ipaddress.IPv4Network(value)
    except ValueError:
        return None


def validate_route(values: Mapping[str, Any], interfaces: Iterable[str] = INTERFACES) -> Errors:
    errors: Errors = {}
    network = values.get("network")
    if parse_cidr(network) is None:
        hint = None
        if isinstance(network, str) and len(network) <= 18:
            try:
                hint = ipaddress.IPv4Network(network, strict=False)
            except ValueError:
                hint = None
        if hint is not None:
            _add(
                errors,
                "network",
                _("The address has bits set beyond the netmask; did you mean %(net)s?") % {"net": hint},
            )
        else:
            _add(errors, "network", _("Enter a network as address/prefix, e.g. 10.10.0.0/16 or 10.10.0.5/32."))
    gateway = values.get("gateway") or ""
    if gateway:
        ip = parse_ipv4(gateway)
        if ip is None or ip.is_unspecified or ip.is_multicast or ip.is_loopback:
            _add(errors, "gateway", _("Enter the gateway's IPv4 address."))
    if values.get("interface") not in tuple(interfaces):
        _add(errors, "interface", _("Choose an interface."))
    metric = values.get("metric")
    if not isinstance(metric, int) or isinstance(metric, bool) or not 0 <= metric <= 65535:
        _add(errors, "metric", _("Enter a metric from 0 to 65535."))
    return errors
