"""What the OS interface renders is valid for the real tools: ``nft -c -f`` for the ruleset,
``ip -batch`` inside a network namespace for the routes; SSIDs, keys and keyfile strings
cannot break their files."""

from __future__ import annotations

import configparser
import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from network import osbackend
from network.osbackend import EthernetConfig, ModemConfig, PortSpec, RouteSpec, WlanConfig

ETH = EthernetConfig(
    dhcp=False,
    no_gateway=False,
    ip="10.9.0.2",
    netmask="255.255.255.0",
    gateway="10.9.0.1",
    hostname="ev3000",
    dns=("1.1.1.1",),
)
WLAN = WlanConfig(
    enabled=True, mode="ap", ap_ssid='my "AP"\\x', ap_password="pa$$ word;`x`", ap_encryption="wpa2",
    ap_network="192.168.10.1/24", ap_ip="192.168.10.1", dhcp_from="192.168.10.100", dhcp_to="192.168.10.200",
    band="2.4", country="DE", timeout_s=0, infra_ssid="Café Corner", infra_password="sec ret=\"x", infra_country="AT",
)  # fmt: skip


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert path, f"{name} is not installed: scripts/lib.sh installs it (apt-get install nftables / iproute2)"
    return path


def test_the_nftables_ruleset_passes_nft_check(tmp_path: Path):
    ports = [
        PortSpec(port=80, protocol="tcp", direction="in", open=True),
        PortSpec(port=22, protocol="tcp", direction="in", open=False),
        PortSpec(port=5353, protocol="udp", direction="in", open=True),
        PortSpec(port=8883, protocol="tcp", direction="out", open=False),
        PortSpec(port=4000, protocol="udp", direction="out", open=True),
    ]
    text = osbackend.render_nftables(ports)
    assert "tcp dport { 80 } accept" in text and " 22" not in text.split("chain output")[0].split("dhcp")[-1]
    assert "tcp dport { 8883 } drop" in text
    path = tmp_path / "nftables.conf"
    path.write_text(text)
    done = subprocess.run([_tool("nft"), "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_empty_port_list_still_renders_a_valid_ruleset(tmp_path: Path):
    path = tmp_path / "empty.conf"
    path.write_text(osbackend.render_nftables([]))
    done = subprocess.run([_tool("nft"), "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_routes_apply_inside_a_network_namespace_and_read_back(tmp_path: Path):
    ip = _tool("ip")
    ns = f"wbm-{secrets.token_hex(4)}"
    routes = [
        RouteSpec(
            destination="10.50.0.0",
            prefix=16,
            gateway="10.9.0.1",
            interface="eth0",
            metric=5,
            persistent=True,
            active=True,
        ),
        RouteSpec(
            destination="10.9.0.77", prefix=32, gateway="", interface="eth0", metric=3, persistent=False, active=True
        ),
        RouteSpec(
            destination="0.0.0.0",
            prefix=0,
            gateway="10.9.0.1",
            interface="eth0",
            metric=100,
            persistent=True,
            active=True,
        ),
        RouteSpec(
            destination="10.60.0.0",
            prefix=16,
            gateway="10.9.0.1",
            interface="eth0",
            metric=0,
            persistent=False,
            active=False,
        ),
        RouteSpec(
            destination="10.9.0.0",
            prefix=24,
            gateway="",
            interface="eth0",
            metric=0,
            persistent=True,
            active=True,
            system=True,
        ),
    ]
    batch = tmp_path / "routes.batch"
    batch.write_text(osbackend.render_routes(routes))
    subprocess.run([ip, "netns", "add", ns], check=True)
    try:
        run = lambda *args: subprocess.run([ip, "-n", ns, *args], capture_output=True, text=True, check=True)  # noqa: E731
        run("link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer")
        run("link", "set", "eth0", "up")
        run("link", "set", "eth0peer", "up")
        run("addr", "add", "10.9.0.2/24", "dev", "eth0")
        run("route", "add", "10.60.0.0/16", "via", "10.9.0.1", "dev", "eth0", "metric", "0")  # removed: must go
        run("-batch", str(batch))
        table = {(r["dst"], r.get("gateway", ""), r.get("metric", 0)) for r in json.loads(run("-j", "route").stdout)}
    finally:
        subprocess.run([ip, "netns", "del", ns], check=False)
    assert ("10.50.0.0/16", "10.9.0.1", 5) in table
    assert ("10.9.0.77", "", 3) in table
    assert ("default", "10.9.0.1", 100) in table
    assert not any(dst == "10.60.0.0/16" for dst, _gw, _m in table)


def test_interface_files_parse_and_encode_what_they_cannot_quote(tmp_path: Path):
    system = osbackend.RenderingBackend(root=tmp_path)
    route = RouteSpec(
        destination="10.50.0.0", prefix=16, gateway="10.9.0.1", interface="eth0", metric=5, persistent=True, active=True
    )
    system.apply_interfaces(ETH, WLAN, [route])
    eth0 = configparser.ConfigParser(strict=False)
    eth0.read_string((tmp_path / "network/10-eth0.network").read_text())
    assert eth0["Network"]["Address"] == "10.9.0.2/24" and eth0["Route"]["Destination"] == "10.50.0.0/16"
    hostapd = (tmp_path / "hostapd.conf").read_text()
    assert f"ssid2={WLAN.ap_ssid.encode().hex()}" in hostapd
    assert all(line.count("=") >= 1 for line in hostapd.splitlines() if not line.startswith("#"))
    wlan0 = configparser.ConfigParser()
    wlan0.read_string((tmp_path / "network/20-wlan0.network").read_text())
    assert wlan0["DHCPServer"]["PoolOffset"] == "100" and wlan0["DHCPServer"]["PoolSize"] == "101"


def _infra() -> WlanConfig:
    from dataclasses import replace

    return replace(WLAN, mode="infra")


def test_wpa_supplicant_gets_a_hex_ssid_and_a_derived_key(tmp_path: Path):
    text = osbackend.render_wpa_supplicant(_infra())
    assert "ssid=" + "Café Corner".encode().hex() in text
    assert 'sec ret="x' not in text
    # the IEEE 802.11i test vector (wpa_passphrase "IEEE" "password")
    assert osbackend.wpa_psk("password", "IEEE") == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"


def test_the_modem_keyfile_escapes_its_strings():
    text = osbackend.render_modem(
        ModemConfig(
            service_active=True,
            sim_pin="1234",
            apn="internet.t-d1.de",
            use_credentials=True,
            user="u@x",
            password=" a\\b",
            default_route=True,
            prefer_modem=True,
        )
    )
    keyfile = configparser.ConfigParser(interpolation=None)
    keyfile.read_string(text)
    assert keyfile["gsm"]["password"] == "\\sa\\\\b"
    assert keyfile["ipv4"]["never-default"] == "false" and keyfile["ipv4"]["route-metric"] == "50"


@pytest.mark.parametrize("mode", ["ap", "infra"])
def test_switching_the_wlan_mode_leaves_one_daemon_file(tmp_path: Path, mode: str):
    from dataclasses import replace

    system = osbackend.RenderingBackend(root=tmp_path)
    system.apply_interfaces(ETH, replace(WLAN, mode="infra" if mode == "ap" else "ap"), [])
    system.apply_interfaces(ETH, replace(WLAN, mode=mode), [])
    assert (tmp_path / "hostapd.conf").exists() == (mode == "ap")
    assert (tmp_path / "wpa_supplicant-wlan0.conf").exists() == (mode == "infra")
