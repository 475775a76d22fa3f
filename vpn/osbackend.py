"""The OS side of OpenVPN, behind one interface (DESIGN: "The OS only through one interface").

``RenderedVpnBackend`` (the default) writes the real artefact a Linux controller would hand to
``openvpn --config``: ``<state>/system/openvpn/client.conf``, mode 0600 (it holds private keys),
and simulates the tunnel: it "connects" when the configuration passes ``vpn.config.check`` and
assigns a private address from 10.8.0.0/24. A backend for real hardware would start
``openvpn --config <file>`` with an argument list (never a shell) and read its management state.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from vpn import config

FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class VpnLink:
    """An established tunnel."""

    server_ip: str  # the first "remote" when it is an IP address, else ""
    server: str  # the first "remote" as written (a host name, perhaps)
    private_ip: str
    connected_since: float  # epoch seconds


class VpnFailed(Exception):
    """The tunnel could not be established; ``log`` says why."""

    def __init__(self, log: list[str]) -> None:
        super().__init__("\n".join(log))
        self.log = log


def state_dir() -> Path:
    return Path(settings.STATE_DIR) / "system" / "openvpn"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600 (a temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path.parent, DIR_MODE)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class VpnBackend(ABC):
    """The only way the VPN app touches the OS."""

    @abstractmethod
    def write_config(self, text: str) -> Path:
        """Store the (checked) configuration where openvpn reads it; 0600. Returns its path."""

    @abstractmethod
    def remove_config(self) -> None:
        """Delete the stored configuration (no error when there is none)."""

    @abstractmethod
    def read_config(self) -> str | None:
        """The stored configuration for the agent (never for a page or the API); None: none."""

    @abstractmethod
    def connect(self, text: str) -> VpnLink:
        """Establish the tunnel with ``text``; ``VpnFailed`` with the log when it cannot."""

    @abstractmethod
    def test(self, text: str) -> tuple[bool, list[str]]:
        """Try ``text`` without storing it; (connected, the connection log)."""


class RenderedVpnBackend(VpnBackend):
    """Renders into the state directory and simulates the tunnel; see the module docstring."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir()

    @property
    def path(self) -> Path:
        return self.root / "client.conf"

    def write_config(self, text: str) -> Path:
        write_private(self.path, text if text.endswith("\n") else text + "\n")
        return self.path

    def remove_config(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def read_config(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def _log(self, text: str) -> tuple[config.Checked, list[str]]:
        checked = config.check(text)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        log = [f"{stamp} OpenVPN (simulated) --config client.conf --verb 3"]
        log += [f"{stamp} {note}" for note in checked.notes]
        if not checked.ok:
            log += [f"{stamp} Options error: {problem}" for problem in checked.problems]
            log.append(f"{stamp} Exiting due to fatal error")
            return checked, log
        host, port, proto = checked.remotes[0]
        log.append(f"{stamp} Options parsed: {checked.directives}, inline blocks: {', '.join(checked.blocks) or '–'}")
        log.append(f"{stamp} TCP/UDP: Preparing socket [AF_INET] {host}:{port or 1194} ({proto or 'udp'})")
        log.append(f"{stamp} TLS: Initial packet from {host}:{port or 1194}")
        log.append(f"{stamp} TUN/TAP device tun0 opened")
        log.append(f"{stamp} net_addr_v4_add: {_private_ip(checked.text)}/24 dev tun0")
        log.append(f"{stamp} Initialization Sequence Completed")
        return checked, log

    def connect(self, text: str) -> VpnLink:
        checked, log = self._log(text)
        if not checked.ok:
            raise VpnFailed(log)
        return VpnLink(
            server_ip=checked.server_ip,
            server=checked.remotes[0][0],
            private_ip=_private_ip(checked.text),
            connected_since=time.time(),
        )

    def test(self, text: str) -> tuple[bool, list[str]]:
        checked, log = self._log(text)
        return checked.ok, log


def _private_ip(text: str) -> str:
    """The address the simulated server assigns: stable per configuration, 10.8.0.2-251."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return f"10.8.0.{2 + digest[0] % 250}"


def backend() -> VpnBackend:
    """The configured backend (``WBM_VPN_BACKEND``, a dotted path; default: rendered + simulated)."""
    from django.utils.module_loading import import_string

    path = getattr(settings, "WBM_VPN_BACKEND", "vpn.osbackend.RenderedVpnBackend")
    cls: type[VpnBackend] = import_string(path)
    return cls()
