"""The OS interface of the Network pages: the only way code touches interfaces, the firewall,
routes and the modem.

``SystemBackend`` says what the WBM needs from the operating system; ``RenderingBackend`` (the
default, ``settings.WBM_NETWORK_BACKEND``) writes the real artefacts a Linux controller applies
into ``<state>/system/`` and simulates the status faithfully: ETH0 and its DHCP lease, a WLAN
scan with a few networks, and a modem whose SIM has a PIN/PUK state machine. A backend for a
real controller would be a second implementation (``networkctl reload``, ``nft -f``,
``ip -batch``, ModemManager), with the same argument lists and never a shell.

Every value reaches a file only after ``network.validation`` accepted it; on top of that the
renderers encode what a file format could misread (SSIDs as hex, WPA keys derived, keyfile
strings escaped).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

SIM_PIN = "1234"  # the simulated SIM card's codes
SIM_PUK = "12345678"
PIN_ATTEMPTS = 3
PUK_ATTEMPTS = 10
CONNECT_S = 3.0  # the simulated modem needs this long from start to "Connected"
MAC = "00:a0:45:3c:7e:19"  # the simulated controller's factory MAC (Phoenix Contact OUI)


# --- what the services hand over (plain, frozen: never a model) ------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class EthernetConfig:
    dhcp: bool
    no_gateway: bool
    ip: str
    netmask: str
    gateway: str
    hostname: str
    dns: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WlanConfig:
    enabled: bool
    mode: str  # ap | infra
    ap_ssid: str
    ap_password: str
    ap_encryption: str
    ap_network: str
    ap_ip: str
    dhcp_from: str
    dhcp_to: str
    band: str
    country: str
    timeout_s: int
    infra_ssid: str
    infra_password: str
    infra_country: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PortSpec:
    port: int
    protocol: str  # tcp | udp
    direction: str  # in | out
    open: bool
    purpose: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSpec:
    destination: str  # network address
    prefix: int
    gateway: str  # "" = directly connected
    interface: str
    metric: int
    persistent: bool
    active: bool  # False: removed (deleted when applied)
    system: bool = False  # derived from an interface's address (its connected route is the kernel's)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModemConfig:
    service_active: bool
    sim_pin: str
    apn: str
    use_credentials: bool
    user: str
    password: str
    default_route: bool
    prefer_modem: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockResult:
    """What entering a PIN (or PUK) did: ``ok``; the SIM state now; attempts left."""

    ok: bool
    sim: str
    pin_attempts: int
    puk_attempts: int
    skipped: bool = False  # an automatic attempt with a PIN the SIM refused before: not sent


@dataclass(frozen=True, slots=True, kw_only=True)
class PingResult:
    ok: bool
    output: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScannedNetwork:
    ssid: str
    signal_dbm: int
    security: str
    channel: int


# --- the interface -----------------------------------------------------------------------------------
class SystemBackend(Protocol):
    """What the WBM asks of the operating system. Methods that apply return the files they wrote."""

    def apply_interfaces(self, eth: EthernetConfig, wlan: WlanConfig, routes: Sequence[RouteSpec]) -> list[Path]:
        """Write the interface configuration (eth0, wlan0, the host name, persistent routes)."""

    def apply_firewall(self, ports: Sequence[PortSpec]) -> list[Path]:
        """Write the packet filter for the port list (closed incoming ports are dropped)."""

    def apply_routes(self, routes: Sequence[RouteSpec]) -> list[Path]:
        """Write the route commands that bring the live table to ``routes``."""

    def apply_modem(self, modem: ModemConfig) -> list[Path]:
        """Write the modem connection and tell the modem whether its service runs."""

    def modem_unlock(self, pin: str, puk: str = "", *, automatic: bool = False) -> UnlockResult:
        """Enter the SIM PIN (with a PUK: unblock and set ``pin``). ``automatic``: a retry nobody
        asked for, which is never sent with a PIN the SIM refused before."""

    def modem_restart(self) -> None:
        """Restart the modem service: it deregisters and connects again."""

    def modem_ping(self, host: str) -> PingResult:
        """Send one ping to ``host`` (validated) over the cellular connection."""

    def modem_status(self) -> dict[str, Any]:
        """The modem's status, connection and device information (the manual's values)."""

    def ethernet_status(self) -> dict[str, Any]:
        """ETH0 now: IPv4, broadcast, netmask, IPv6, MAC, Rx/Tx bytes since start, gateway, DNS."""

    def wlan_status(self) -> dict[str, Any]:
        """wlan0 now: mode, SSID, status, current IP, signal, gateway, DNS."""

    def wlan_scan(self, *, refresh: bool = False) -> list[ScannedNetwork]:
        """The networks in reach (``refresh``: scan again, which may drop the WLAN connection)."""


def backend() -> SystemBackend:
    """The configured backend (``settings.WBM_NETWORK_BACKEND``), never chosen by a request."""
    cls = import_string(getattr(settings, "WBM_NETWORK_BACKEND", "network.osbackend.RenderingBackend"))
    return cls()  # type: ignore[no-any-return]


def system_dir() -> Path:
    return Path(getattr(settings, "WBM_SYSTEM_DIR", Path(settings.STATE_DIR) / "system"))


# --- renderers (pure: config in, text out) ----------------------------------------------------------
def _prefix(mask: str) -> int:
    return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def _route_section(r: RouteSpec) -> str:
    lines = ["", "[Route]", f"Destination={r.destination}/{r.prefix}"]
    if r.gateway:
        lines.append(f"Gateway={r.gateway}")
    lines.append(f"Metric={r.metric}")
    return "\n".join(lines) + "\n"


def render_eth0(eth: EthernetConfig, routes: Sequence[RouteSpec] = ()) -> str:
    """systemd-networkd ``.network`` for eth0."""
    out = [
        "# Written by the WBM (Network / Ethernet); changes here are overwritten.",
        "[Match]",
        "Name=eth0",
        "",
        "[Network]",
    ]
    if eth.dhcp:
        out.append("DHCP=ipv4")
    else:
        out.append(f"Address={eth.ip}/{_prefix(eth.netmask)}")
        if eth.gateway:
            out.append(f"Gateway={eth.gateway}")
    out += [f"DNS={d}" for d in eth.dns]
    out.append("LinkLocalAddressing=ipv6")
    if eth.dhcp:
        out += ["", "[DHCPv4]", "SendHostname=yes", f"Hostname={eth.hostname}"]
        out.append(f"UseGateway={'no' if eth.no_gateway else 'yes'}")
        if eth.dns:
            out.append("UseDNS=no")
    text = "\n".join(out) + "\n"
    return text + "".join(_route_section(r) for r in routes if r.interface == "eth0" and r.persistent and r.active)


def render_wlan0(wlan: WlanConfig, routes: Sequence[RouteSpec] = ()) -> str:
    """systemd-networkd ``.network`` for wlan0 (AP: a static address and a DHCP server)."""
    out = [
        "# Written by the WBM (Network / WLAN); changes here are overwritten.",
        "[Match]",
        "Name=wlan0",
        "",
        "[Network]",
    ]
    if wlan.mode == "ap":
        iface = ipaddress.IPv4Interface(wlan.ap_network)
        net = iface.network
        low, high = ipaddress.IPv4Address(wlan.dhcp_from), ipaddress.IPv4Address(wlan.dhcp_to)
        out += [f"Address={wlan.ap_ip}/{net.prefixlen}", "DHCPServer=yes", "", "[DHCPServer]"]
        out += [
            f"PoolOffset={int(low) - int(net.network_address)}",
            f"PoolSize={int(high) - int(low) + 1}",
            "EmitDNS=no",
        ]
    else:
        out += ["DHCP=ipv4"]
    text = "\n".join(out) + "\n"
    return text + "".join(_route_section(r) for r in routes if r.interface == "wlan0" and r.persistent and r.active)


def render_hostapd(wlan: WlanConfig) -> str:
    """hostapd.conf: the SSID as hex (``ssid2``), so no byte of it is read as syntax."""
    five = wlan.band == "5"
    lines = [
        "# Written by the WBM (Network / WLAN, access point); changes here are overwritten.",
        "interface=wlan0",
        "driver=nl80211",
        f"ssid2={wlan.ap_ssid.encode().hex()}",
        "utf8_ssid=1",
        f"country_code={wlan.country}",
        "ieee80211d=1",
        f"hw_mode={'a' if five else 'g'}",
        f"channel={36 if five else 6}",
        "auth_algs=1",
        "wpa=2",
        "rsn_pairwise=CCMP",
    ]
    if wlan.ap_encryption == "wpa2-wpa3":
        lines += ["wpa_key_mgmt=WPA-PSK SAE", "ieee80211w=1"]
    else:
        lines += ["wpa_key_mgmt=WPA-PSK"]
    # printable ASCII only (validation): hostapd takes the rest of the line as it is
    lines.append(f"wpa_passphrase={wlan.ap_password}")
    lines.append(f"# WBM: access point off {wlan.timeout_s} s after start when no device connects (0 = never)")
    return "\n".join(lines) + "\n"


def wpa_psk(password: str, ssid: str) -> str:
    """The 256-bit key WPA2 derives from a passphrase (what ``wpa_passphrase`` prints)."""
    return hashlib.pbkdf2_hmac("sha1", password.encode(), ssid.encode(), 4096, 32).hex()


def render_wpa_supplicant(wlan: WlanConfig) -> str:
    """wpa_supplicant.conf: the SSID as hex and the key derived, so no quoting is needed."""
    lines = [
        "# Written by the WBM (Network / WLAN, infrastructure); changes here are overwritten.",
        "ctrl_interface=DIR=/run/wpa_supplicant",
        "update_config=0",
        f"country={wlan.infra_country}",
        "",
        "network={",
        f"\tssid={wlan.infra_ssid.encode().hex()}",
    ]
    if wlan.infra_password:
        lines += ["\tkey_mgmt=WPA-PSK", f"\tpsk={wpa_psk(wlan.infra_password, wlan.infra_ssid)}"]
    else:
        lines += ["\tkey_mgmt=NONE"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ports(items: Sequence[PortSpec]) -> str:
    return ", ".join(str(p.port) for p in sorted(items, key=lambda p: p.port))


def render_nftables(ports: Sequence[PortSpec]) -> str:
    """An nftables ruleset: incoming traffic is dropped except answers, loopback, USB-C, the
    server–client link (eth1), ICMP, DHCP and the open incoming ports; closed outgoing ports of
    the list are dropped, everything else goes out."""
    lines = [
        "#!/usr/sbin/nft -f",
        "# Written by the WBM (Network / Port Sharing); changes here are overwritten.",
        "flush ruleset",
        "",
        "table inet wbm {",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        '\t\tiifname "lo" accept',
        '\t\tiifname "usb0" accept comment "USB-C: the installer\'s way in, never closed"',
        '\t\tiifname "eth1" accept comment "server-client link of the charging park"',
        "\t\tip protocol icmp accept",
        "\t\tmeta l4proto ipv6-icmp accept",
        '\t\tudp dport 68 accept comment "DHCP client"',
    ]
    for proto in ("tcp", "udp"):
        chosen = [p for p in ports if p.direction == "in" and p.open and p.protocol == proto]
        if chosen:
            lines.append(f"\t\t{proto} dport {{ {_ports(chosen)} }} accept")
    lines += ["\t}", "", "\tchain output {", "\t\ttype filter hook output priority filter; policy accept;"]
    for proto in ("tcp", "udp"):
        closed = [p for p in ports if p.direction == "out" and not p.open and p.protocol == proto]
        if closed:
            lines.append(f"\t\t{proto} dport {{ {_ports(closed)} }} drop")
        opened = [p for p in ports if p.direction == "out" and p.open and p.protocol == proto]
        if opened:
            lines.append(f"\t\t{proto} dport {{ {_ports(opened)} }} accept")
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def render_routes(routes: Sequence[RouteSpec]) -> str:
    """Commands for ``ip -batch``: every active route replaced (idempotent), every removed one
    flushed (no error when it is gone already). Directly connected routes come from the
    addresses and are left to the kernel."""
    out: list[str] = []
    for r in routes:
        target = "default" if r.prefix == 0 else f"{r.destination}/{r.prefix}"
        via = f" via {r.gateway}" if r.gateway else ""
        if r.active:
            if r.system and not r.gateway and r.prefix:
                continue  # a connected route: the kernel makes it from the address
            out.append(f"route replace {target}{via} dev {r.interface} metric {r.metric} proto static")
        else:
            out.append(f"route flush exact {target}{via} dev {r.interface} metric {r.metric}")
    return "\n".join(out) + ("\n" if out else "")


def _keyfile_escape(value: str) -> str:
    """A GLib keyfile string value (NetworkManager): backslash, leading space, line breaks."""
    text = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return "\\s" + text[1:] if text.startswith(" ") else text


def render_modem(modem: ModemConfig) -> str:
    """A NetworkManager keyfile for the cellular connection (gsm)."""
    lines = [
        "# Written by the WBM (Network / Modem); changes here are overwritten.",
        "[connection]",
        "id=wbm-modem",
        "type=gsm",
        "interface-name=cdc-wdm0",
        f"autoconnect={'true' if modem.service_active else 'false'}",
        "",
        "[gsm]",
        f"apn={_keyfile_escape(modem.apn)}",
    ]
    if modem.sim_pin:
        lines.append(f"pin={_keyfile_escape(modem.sim_pin)}")
    if modem.use_credentials:
        lines += [f"username={_keyfile_escape(modem.user)}", f"password={_keyfile_escape(modem.password)}"]
    metric = 50 if modem.prefer_modem else 700  # below eth0's 100: preferred
    lines += [
        "",
        "[ipv4]",
        "method=auto",
        f"never-default={'false' if modem.default_route else 'true'}",
        f"route-metric={metric}",
        "",
        "[ipv6]",
        "method=ignore",
    ]
    return "\n".join(lines) + "\n"


# --- the default backend ------------------------------------------------------------------------------
SCAN = (
    ScannedNetwork(ssid="Workshop", signal_dbm=-48, security="WPA2", channel=6),
    ScannedNetwork(ssid="Parking-Garage-Guest", signal_dbm=-67, security="WPA2", channel=11),
    ScannedNetwork(ssid="Facility IoT 5G", signal_dbm=-72, security="WPA2/WPA3", channel=36),
    ScannedNetwork(ssid="Café Corner", signal_dbm=-83, security="Open", channel=1),
)
_SCAN_NETS = {  # the simulated network each scanned SSID hands out by DHCP
    "Workshop": "10.20.0.0/24",
    "Parking-Garage-Guest": "172.20.16.0/22",
    "Facility IoT 5G": "10.77.4.0/24",
    "Café Corner": "192.168.178.0/24",
}


def _signal_label(dbm: int) -> str:
    return "Excellent" if dbm >= -55 else "Good" if dbm >= -67 else "OK" if dbm >= -75 else "Marginal"


class RenderingBackend:
    """Renders the artefacts into ``<state>/system/`` and simulates the status (see the module)."""

    def __init__(self, root: Path | None = None, clock: Any = time.time) -> None:
        self.root = root or system_dir()
        self.clock = clock

    # files
    def _write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        return path

    def _remove(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / relative).unlink()

    @contextlib.contextmanager
    def _device(self) -> Iterator[dict[str, Any]]:
        """The simulated devices' state (``devices.json``), locked while it changes: the web
        workers and the runtime share it as they would share one modem."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "devices.json"
        with open(self.root / ".devices.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
            except ValueError:
                state = {}
            state.setdefault(
                "sim",
                {
                    "state": "pin_required",
                    "pin_attempts": PIN_ATTEMPTS,
                    "puk_attempts": PUK_ATTEMPTS,
                    "pin": SIM_PIN,
                    "puk": SIM_PUK,
                    "refused": [],
                    "last": "",
                },
            )
            state.setdefault("modem", {"active": False, "apn": "", "started_at": self.clock(), "boot_at": self.clock()})
            state.setdefault("wlan", {"scan_at": 0.0, "disconnected_until": 0.0})
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                self._write("devices.json", json.dumps(state, indent=1, sort_keys=True))

    # applying
    def apply_interfaces(self, eth: EthernetConfig, wlan: WlanConfig, routes: Sequence[RouteSpec]) -> list[Path]:
        written = [
            self._write("hostname", eth.hostname + "\n"),
            self._write("network/10-eth0.network", render_eth0(eth, routes)),
        ]
        self._remove("hostapd.conf")
        self._remove("wpa_supplicant-wlan0.conf")
        if wlan.enabled:
            written.append(self._write("network/20-wlan0.network", render_wlan0(wlan, routes)))
            if wlan.mode == "ap":
                written.append(self._write("hostapd.conf", render_hostapd(wlan)))
            else:
                written.append(self._write("wpa_supplicant-wlan0.conf", render_wpa_supplicant(wlan)))
        else:
            self._remove("network/20-wlan0.network")
        self._write("state/ethernet.json", json.dumps(asdict(eth)))
        self._write("state/wlan.json", json.dumps(asdict(wlan)))
        return written

    def apply_firewall(self, ports: Sequence[PortSpec]) -> list[Path]:
        return [self._write("nftables.conf", render_nftables(ports))]

    def apply_routes(self, routes: Sequence[RouteSpec]) -> list[Path]:
        self._write("state/routes.json", json.dumps([asdict(r) for r in routes]))
        return [self._write("routes.batch", render_routes(routes))]

    def apply_modem(self, modem: ModemConfig) -> list[Path]:
        path = self._write("NetworkManager/system-connections/wbm-modem.nmconnection", render_modem(modem))
        with self._device() as dev:
            m = dev["modem"]
            if m["active"] != modem.service_active:
                m["started_at"] = self.clock()
            m.update(active=modem.service_active, apn=modem.apn, default_route=modem.default_route)
        if modem.service_active and modem.sim_pin:
            self.modem_unlock(modem.sim_pin, automatic=True)
        return [path]

    # the modem
    def modem_unlock(self, pin: str, puk: str = "", *, automatic: bool = False) -> UnlockResult:
        with self._device() as dev:
            sim = dev["sim"]
            tried = hashlib.sha256(f"{puk}:{pin}".encode()).hexdigest()
            if sim["state"] in ("ready", "blocked") or (sim["state"] == "puk_required" and not puk):
                return self._unlock_result(sim, ok=sim["state"] == "ready", skipped=True)
            if automatic and tried in sim["refused"]:
                return self._unlock_result(sim, ok=False, skipped=True)
            if sim["state"] == "puk_required":
                if puk == sim["puk"]:
                    sim.update(
                        state="ready",
                        pin=pin,
                        pin_attempts=PIN_ATTEMPTS,
                        puk_attempts=PUK_ATTEMPTS,
                        refused=[],
                        last="",
                    )
                    dev["modem"]["started_at"] = self.clock()
                    return self._unlock_result(sim, ok=True)
                sim["puk_attempts"] -= 1
                sim["refused"].append(tried)
                sim["last"] = "wrong_puk"
                if sim["puk_attempts"] <= 0:
                    sim["state"] = "blocked"
                return self._unlock_result(sim, ok=False)
            if pin == sim["pin"]:
                sim.update(state="ready", pin_attempts=PIN_ATTEMPTS, refused=[], last="")
                dev["modem"]["started_at"] = self.clock()
                return self._unlock_result(sim, ok=True)
            sim["pin_attempts"] -= 1
            sim["refused"].append(tried)
            sim["last"] = "wrong_pin"
            if sim["pin_attempts"] <= 0:
                sim["state"] = "puk_required"
            return self._unlock_result(sim, ok=False)

    @staticmethod
    def _unlock_result(sim: dict[str, Any], *, ok: bool, skipped: bool = False) -> UnlockResult:
        return UnlockResult(
            ok=ok, sim=sim["state"], pin_attempts=sim["pin_attempts"], puk_attempts=sim["puk_attempts"], skipped=skipped
        )

    def modem_restart(self) -> None:
        with self._device() as dev:
            dev["modem"]["started_at"] = self.clock()

    def modem_ping(self, host: str) -> PingResult:
        status = self.modem_status()
        if status["connection"]["status"] != "Connected":
            return PingResult(ok=False, output="modem not connected")
        ping = shutil.which("ping")
        if ping is None:
            return PingResult(ok=False, output="ping is not installed")
        try:
            done = subprocess.run(
                [ping, "-c", "1", "-W", "2", "-n", "--", host], capture_output=True, text=True, timeout=6, check=False
            )
        except subprocess.TimeoutExpired:
            return PingResult(ok=False, output="no answer within 6 s")
        return PingResult(ok=done.returncode == 0, output=(done.stdout + done.stderr).strip()[-2000:])

    def modem_status(self) -> dict[str, Any]:
        now = self.clock()
        with self._device() as dev:
            sim, m = dict(dev["sim"]), dict(dev["modem"])
        sim_label = {
            "ready": "READY",
            "pin_required": "Incorrect password" if sim["last"] == "wrong_pin" else "SIM PIN required",
            "puk_required": "SIM PUK required",
            "blocked": "SIM failure",
        }[sim["state"]]
        ready = sim["state"] == "ready"
        up_s = now - m["started_at"]
        connected = m["active"] and ready and up_s >= CONNECT_S
        connecting = m["active"] and ready and not connected
        if not m["active"] or not ready:
            registration = "Not registered/Not searching"
        else:
            registration = "Registered" if connected else "Searching"
        online_s = max(0.0, up_s - CONNECT_S) if connected else 0.0
        return {
            "status": {
                "provider": "Telekom.de" if connected else "",
                "apn": m["apn"] if connected else "",
                "registration": registration,
                "roaming": "HOME" if connected else "",
                "signal_quality": "Good" if ready and m["active"] else "Unknown",
                "rssi_dbm": -71 if ready and m["active"] else None,
                "cqi": 11 if connected else None,
                "technology": "LTE" if connected else "",
                "imsi": "262011234567890" if ready else "",
                "iccid": "89490200001234567890",
                "msisdn": "+4915112345678" if ready else "",
                "sim": sim_label,
                "pin_attempts": sim["pin_attempts"],
                "puk_attempts": sim["puk_attempts"],
            },
            "connection": {
                "status": "Connected" if connected else "Connecting" if connecting else "Disconnected",
                "ip": "100.74.23.9" if connected else "",
                "dns1": "10.74.210.210" if connected else "",
                "dns2": "10.74.210.211" if connected else "",
                # RX = received, TX = transmitted (the manual has the descriptions swapped)
                "rx_bytes": int(online_s * 1450),
                "tx_bytes": int(online_s * 380),
            },
            "device": {
                "imei": "356938035643809",
                "manufacturer": "Quectel",
                "model": "EC25-E",
                "revision": "EC25EFAR06A08M4G",
            },
        }

    # status
    def _stored(self, name: str) -> dict[str, Any] | None:
        path = self.root / "state" / f"{name}.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None

    def ethernet_status(self) -> dict[str, Any]:
        eth = self._stored("ethernet") or {"dhcp": True, "no_gateway": False, "dns": [], "hostname": "ev3000"}
        if eth["dhcp"]:  # the simulated DHCP server of the site network
            ip, prefix, gateway, dns = (
                "192.168.1.57",
                24,
                "" if eth["no_gateway"] else "192.168.1.1",
                eth["dns"] or ["192.168.1.1"],
            )
        else:
            ip, prefix, gateway, dns = eth["ip"], _prefix(eth["netmask"]), eth["gateway"], eth["dns"]
        net = ipaddress.IPv4Interface(f"{ip}/{prefix}").network
        rx, tx = _host_counters()
        return {
            "interface": "eth0",
            "ipv4": ip,
            "netmask": str(net.netmask),
            "broadcast": str(net.broadcast_address),
            "ipv6": _link_local(MAC),
            "mac": MAC,
            "rx_bytes": rx,
            "tx_bytes": tx,
            "gateway": gateway,
            "dns": list(dns),
            "dhcp": bool(eth["dhcp"]),
            "hostname": eth["hostname"],
        }

    def wlan_status(self) -> dict[str, Any]:
        wlan = self._stored("wlan")
        now = self.clock()
        with self._device() as dev:
            disconnected = now < dev["wlan"]["disconnected_until"]
        if not wlan or not wlan["enabled"]:
            return {
                "enabled": False,
                "mode": "",
                "ssid": "",
                "status": "Disabled",
                "ip": "",
                "signal_dbm": None,
                "signal": "",
                "gateway": "",
                "dns": "",
            }
        if wlan["mode"] == "ap":
            return {
                "enabled": True,
                "mode": "ap",
                "ssid": wlan["ap_ssid"],
                "status": "Access point active",
                "ip": wlan["ap_ip"],
                "signal_dbm": None,
                "signal": "",
                "gateway": "",
                "dns": "",
                "clients": 0,
            }
        found = next((n for n in SCAN if n.ssid == wlan["infra_ssid"]), None)
        usable = found is not None and (found.security == "Open" or len(wlan["infra_password"]) >= 8)
        if not usable or disconnected or found is None:
            status = "Scanning" if disconnected else "Network not found" if found is None else "Authentication failed"
            return {
                "enabled": True,
                "mode": "infra",
                "ssid": wlan["infra_ssid"],
                "status": status,
                "ip": "",
                "signal_dbm": None,
                "signal": "",
                "gateway": "",
                "dns": "",
            }
        net = ipaddress.IPv4Network(_SCAN_NETS[found.ssid])
        return {
            "enabled": True,
            "mode": "infra",
            "ssid": found.ssid,
            "status": "Connected",
            "ip": str(net.network_address + 57),
            "signal_dbm": found.signal_dbm,
            "signal": _signal_label(found.signal_dbm),
            "gateway": str(net.network_address + 1),
            "dns": str(net.network_address + 1),
        }

    def wlan_scan(self, *, refresh: bool = False) -> list[ScannedNetwork]:
        if refresh:
            with self._device() as dev:
                now = self.clock()
                dev["wlan"].update(scan_at=now, disconnected_until=now + 2.0)
        return list(SCAN)


def _link_local(mac: str) -> str:
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return str(ipaddress.IPv6Address("fe80::" + ":".join(groups)))


def _host_counters() -> tuple[int, int]:
    """Bytes received and sent since start by this machine's interfaces (loopback excepted):
    the simulated eth0 carries the WBM's own traffic."""
    try:
        import psutil

        counters = psutil.net_io_counters(pernic=True)
    except Exception:  # pragma: no cover - psutil missing or /proc unreadable
        return 0, 0
    rx = sum(c.bytes_recv for n, c in counters.items() if n != "lo")
    tx = sum(c.bytes_sent for n, c in counters.items() if n != "lo")
    return rx, tx
