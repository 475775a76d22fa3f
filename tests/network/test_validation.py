"""The manual's rules for every Network field, as tables."""

from __future__ import annotations

import pytest

from network import validation as v

ETH = {
    "dhcp": False,
    "no_gateway": False,
    "ip": "10.1.2.10",
    "netmask": "255.255.255.0",
    "gateway": "10.1.2.1",
    "hostname": "ev3000",
    "dns": [],
}
AP = {
    "enabled": True, "mode": "ap", "ap_ssid": "ev3000", "ap_password": "secret-pass", "ap_encryption": "wpa2",
    "ap_network": "192.168.10.1/24", "ap_ip": "192.168.10.1", "dhcp_from": "192.168.10.100", "dhcp_to": "192.168.10.200",
    "band": "2.4", "country": "DE", "timeout_s": 0, "infra_ssid": "", "infra_password": "", "infra_country": "DE",
}  # fmt: skip


def test_valid_defaults_pass():
    assert v.validate_ethernet(ETH) == {}
    assert v.validate_ethernet({**ETH, "dhcp": True, "ip": "", "gateway": ""}) == {}
    assert v.validate_wlan(AP) == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ip": "192.168.4.20"}, "ip"),
        ({"ip": "192.168.5.1"}, "ip"),
        ({"ip": "10.1.2.300"}, "ip"),
        ({"ip": "10.1.2.0"}, "ip"),
        ({"ip": "10.1.2.255"}, "ip"),
        ({"ip": "127.0.0.1"}, "ip"),
        ({"ip": "224.0.0.1"}, "ip"),
        ({"gateway": "192.168.5.1"}, "gateway"),
        ({"gateway": "10.1.3.1"}, "gateway"),
        ({"gateway": "10.1.2.10"}, "gateway"),
        ({"netmask": "255.0.255.0"}, "netmask"),
        ({"netmask": "255.255.255.255"}, "netmask"),
        ({"ip": "192.168.6.10", "netmask": "255.255.248.0", "gateway": "192.168.6.1"}, "netmask"),
        ({"hostname": "-ev3000"}, "hostname"),
        ({"hostname": "ev_3000"}, "hostname"),
        ({"hostname": "a" * 64}, "hostname"),
        ({"hostname": ""}, "hostname"),
        ({"dns": ["1.1.1.1", "8.8.8.8", "9.9.9.9", "8.8.4.4"]}, "dns"),
        ({"dns": ["1.1.1.1", "1.1.1.1"]}, "dns"),
        ({"dns": ["dns.example"]}, "dns"),
    ],
)
def test_ethernet_rules(change, field):
    assert field in v.validate_ethernet({**ETH, **change})


def test_eth0_and_wlan_not_in_the_same_subnet():
    assert "ip" in v.validate_ethernet(
        {**ETH, "ip": "192.168.10.5", "gateway": ""}, wlan_net=v.wlan_network("192.168.10.1/24").network
    )
    assert "ap_network" in v.validate_wlan(AP, eth_net=v.eth0_network({**ETH, "ip": "192.168.10.5"}))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ap_password": "short"}, "ap_password"),
        ({"ap_password": "x" * 64}, "ap_password"),
        ({"ap_password": "pässwort-1"}, "ap_password"),
        ({"ap_password": "line\nbreak!"}, "ap_password"),
        ({"ap_ssid": ""}, "ap_ssid"),
        ({"ap_ssid": "ü" * 17}, "ap_ssid"),
        ({"ap_network": "192.168.10.1"}, "ap_network"),
        ({"ap_network": "192.168.10.1/31"}, "ap_network"),
        ({"ap_network": "192.168.4.1/24"}, "ap_network"),
        ({"ap_ip": "192.168.11.1"}, "ap_ip"),
        ({"ap_ip": "192.168.10.255"}, "ap_ip"),
        ({"dhcp_from": "192.168.11.100"}, "dhcp_from"),
        ({"dhcp_to": "192.168.10.50"}, "dhcp_to"),
        ({"ap_ip": "192.168.10.150"}, "dhcp_from"),
        ({"country": "XX"}, "country"),
        ({"country": "de"}, "country"),
        ({"timeout_s": -1}, "timeout_s"),
        ({"timeout_s": 86401}, "timeout_s"),
        ({"mode": "infra", "infra_ssid": ""}, "infra_ssid"),
        ({"mode": "infra", "infra_ssid": "Workshop", "infra_password": "1234"}, "infra_password"),
    ],
)
def test_wlan_rules(change, field):
    assert field in v.validate_wlan({**AP, **change})


def test_wlan_off_checks_only_the_common_fields():
    assert v.validate_wlan({**AP, "enabled": False, "ap_password": ""}) == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"port": 0, "protocol": "tcp", "direction": "in"}, "port"),
        ({"port": 65536, "protocol": "tcp", "direction": "in"}, "port"),
        ({"port": 8080, "protocol": "sctp", "direction": "in"}, "protocol"),
        ({"port": 8080, "protocol": "tcp", "direction": "both"}, "direction"),
    ],
)
def test_port_rules(values, field):
    assert field in v.validate_port(values)
    assert v.validate_port({"port": 65535, "protocol": "udp", "direction": "out"}) == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sim_pin": "12"}, "sim_pin"),
        ({"sim_pin": "123456789"}, "sim_pin"),
        ({"sim_pin": "12a4"}, "sim_pin"),
        ({"apn": "internet;reboot"}, "apn"),
        ({"apn": "-internet"}, "apn"),
        ({"apn": "a" * 101}, "apn"),
        ({"service_active": True, "apn": ""}, "apn"),
        ({"use_credentials": True, "user": ""}, "user"),
        ({"use_credentials": True, "user": "a b"}, "user"),
        ({"use_credentials": True, "user": "u", "password": "x\0y"}, "password"),
    ],
)
def test_modem_rules(change, field):
    base = {
        "service_active": False,
        "sim_pin": "",
        "apn": "internet.telekom",
        "use_credentials": False,
        "user": "",
        "password": "",
    }
    assert v.validate_modem(base) == {}
    assert field in v.validate_modem({**base, **change})


def test_sim_codes():
    assert v.validate_sim_code("1234") == {}
    assert "pin" in v.validate_sim_code("12")
    assert "puk" in v.validate_sim_code("1234", "1234567")
    assert v.validate_sim_code("4321", "12345678") == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"network": "10.10.0.1/16"}, "network"),
        ({"network": "10.10.0.0/33"}, "network"),
        ({"network": "ten"}, "network"),
        ({"gateway": "10.0.0"}, "gateway"),
        ({"interface": "eth1"}, "interface"),
        ({"interface": "eth0; rm -rf /"}, "interface"),
        ({"metric": -1}, "metric"),
        ({"metric": 65536}, "metric"),
    ],
)
def test_route_rules(values, field):
    base = {"network": "10.10.0.0/16", "gateway": "10.1.2.1", "interface": "eth0", "metric": 0}
    assert v.validate_route(base) == {}
    assert field in v.validate_route({**base, **values})


def test_route_with_host_bits_suggests_the_network():
    assert (
        "10.10.0.0/16" in v.validate_route({"network": "10.10.0.1/16", "interface": "eth0", "metric": 0})["network"][0]
    )


@pytest.mark.parametrize("host", ["8.8.8.8", "example.com", "ev3000.local"])
def test_ping_targets(host):
    assert v.host_problem(host) is None


@pytest.mark.parametrize("host", ["", "-c 100 x", "a;b", "$(reboot)", "x" * 254, "1.2.3.4\n", "a..b", "1.2.3"])
def test_bad_ping_targets(host):
    assert v.host_problem(host) is not None


BAD_TEXT = ["a;reboot", "a`id`", "a$(id)", "a|b", "line\nbreak", "nul\0", "bad\ud800", "x" * 400]


@pytest.mark.parametrize("bad", BAD_TEXT, ids=range(len(BAD_TEXT)))
def test_bad_text_is_refused_in_every_text_field(bad):
    assert "hostname" in v.validate_ethernet({**ETH, "hostname": bad})
    for field in ("ip", "gateway"):
        assert field in v.validate_ethernet({**ETH, field: bad})
    assert "dns" in v.validate_ethernet({**ETH, "dns": [bad]})
    for field in ("ap_ssid", "ap_network", "ap_ip", "dhcp_from", "dhcp_to"):
        assert field in v.validate_wlan({**AP, field: bad}), field
    assert "infra_ssid" in v.validate_wlan({**AP, "mode": "infra", "infra_ssid": bad})
    base = {
        "service_active": True,
        "sim_pin": "",
        "apn": "internet",
        "use_credentials": True,
        "user": "u",
        "password": "",
    }
    for field in ("apn", "sim_pin", "user"):
        assert field in v.validate_modem({**base, field: bad}), field
    assert "pin" in v.validate_sim_code(bad)
    assert "network" in v.validate_route({"network": bad, "interface": "eth0", "metric": 0})


@pytest.mark.parametrize("bad", ["line\nbreak-12", "nul\0-123456", "bad\ud800-12345", "x" * 64])
def test_bad_passwords_are_refused(bad):
    assert "ap_password" in v.validate_wlan({**AP, "ap_password": bad})
    assert "infra_password" in v.validate_wlan({**AP, "mode": "infra", "infra_ssid": "W", "infra_password": bad})
    assert "password" in v.validate_modem({"use_credentials": True, "user": "u", "password": bad + "x" * 64})
