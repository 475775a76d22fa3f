"""Checking an OpenVPN client configuration before it is stored or used: a parser of our own
(``openvpn`` is not installed here), following OpenVPN 2.6's config-file rules.

What it refuses, each with the line number:

- directives that run programs, load code, write or read files of the controller, or open a
  management port (``REFUSED``: the man page's script hooks, ``plugin``, ``script-security``,
  ``setenv``, ``config``, ``management``, ``log``, ``status``, ``writepid``, ``chroot``, ...);
- directives OpenVPN does not know (OpenVPN refuses them too unless told to ignore them);
- certificates and keys given as file names: a pasted or imported configuration brings no
  files along, so they must be inline blocks (``<ca>…</ca>``), which are allowed;
- lines longer than OpenVPN's 256 characters, NUL and other control characters, unclosed
  quotes and blocks, unknown blocks;
- a configuration without ``remote`` or ``dev``.

What it changes: ``dev tap``/``dev-type tap`` become ``tun`` (the manual's "changed
automatically in the background"); the caller tells the user so (``Checked.notes``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_BYTES = 64 * 1024  # a client configuration with inline certificates is a few KiB
MAX_LINE = 256  # OpenVPN's OPTION_LINE_SIZE
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Run a program, load code, touch the controller's files or open a port (OpenVPN man page,
# "Script hooks" and the options naming files or commands).
REFUSED = frozenset(
    {
        "up",
        "down",
        "down-pre",
        "route-up",
        "route-pre-down",
        "ipchange",
        "tls-verify",
        "tls-export-cert",
        "auth-user-pass-verify",
        "client-connect",
        "client-disconnect",
        "learn-address",
        "iproute",
        "setenv",
        "setenv-safe",
        "script-security",
        "plugin",
        "config",
        "cd",
        "chroot",
        "daemon",
        "log",
        "log-append",
        "status",
        "writepid",
        "management",
        "management-client",
        "management-external-key",
        "management-external-cert",
        "management-hold",
        "management-query-passwords",
        "askpass",
        "tmp-dir",
        "tls-crypt-v2-verify",
        "dns-updown",
        "ifconfig-pool-persist",
        "client-config-dir",
        "replay-persist",
        "dev-node",
        "lladdr",
        "ignore-unknown-option",
        "push-peer-info",
    }
)

# Certificates and keys: only as inline blocks (``ca [inline]`` is fine too).
FILE_OPTIONS = frozenset(
    {
        "ca",
        "cert",
        "key",
        "tls-auth",
        "tls-crypt",
        "tls-crypt-v2",
        "dh",
        "extra-certs",
        "pkcs12",
        "secret",
        "crl-verify",
        "http-proxy-user-pass",
        "auth-user-pass",
    }
)
INLINE_BLOCKS = FILE_OPTIONS | {"connection"}
# options auth-user-pass / http-proxy-user-pass without an argument ask interactively: fine

# Client options of OpenVPN 2.6 that are safe in a configuration file.
KNOWN = frozenset(
    {
        "client",
        "pull",
        "tls-client",
        "nobind",
        "bind",
        "persist-key",
        "persist-tun",
        "persist-remote-ip",
        "persist-local-ip",
        "remote",
        "remote-random",
        "remote-random-hostname",
        "resolv-retry",
        "proto",
        "proto-force",
        "port",
        "lport",
        "rport",
        "local",
        "dev",
        "dev-type",
        "topology",
        "tun-mtu",
        "tun-mtu-extra",
        "link-mtu",
        "mtu-disc",
        "mtu-test",
        "fragment",
        "mssfix",
        "cipher",
        "ciphers",
        "data-ciphers",
        "data-ciphers-fallback",
        "ncp-ciphers",
        "ncp-disable",
        "auth",
        "auth-nocache",
        "auth-retry",
        "auth-token",
        "auth-token-user",
        "remote-cert-tls",
        "remote-cert-ku",
        "remote-cert-eku",
        "ns-cert-type",
        "verify-x509-name",
        "verify-hash",
        "tls-version-min",
        "tls-version-max",
        "tls-cipher",
        "tls-ciphersuites",
        "tls-groups",
        "tls-cert-profile",
        "tls-timeout",
        "key-direction",
        "reneg-sec",
        "reneg-bytes",
        "reneg-pkts",
        "hand-window",
        "tran-window",
        "comp-lzo",
        "compress",
        "allow-compression",
        "verb",
        "mute",
        "mute-replay-warnings",
        "keepalive",
        "ping",
        "ping-restart",
        "ping-exit",
        "ping-timer-rem",
        "inactive",
        "explicit-exit-notify",
        "connect-retry",
        "connect-retry-max",
        "connect-timeout",
        "server-poll-timeout",
        "float",
        "route",
        "route-ipv6",
        "route-gateway",
        "route-ipv6-gateway",
        "route-metric",
        "route-delay",
        "route-noexec",
        "route-nopull",
        "redirect-gateway",
        "redirect-private",
        "block-ipv6",
        "pull-filter",
        "ifconfig",
        "ifconfig-ipv6",
        "ifconfig-noexec",
        "ifconfig-nowarn",
        "up-delay",
        "up-restart",
        "sndbuf",
        "rcvbuf",
        "fast-io",
        "txqueuelen",
        "shaper",
        "socks-proxy",
        "socks-proxy-retry",
        "http-proxy",
        "http-proxy-option",
        "http-proxy-retry",
        "http-proxy-timeout",
        "single-session",
        "tls-exit",
        "tcp-nodelay",
        "replay-window",
        "no-replay",
        "mark",
        "bind-dev",
        "dhcp-option",
        "dns",
        "setenv-opt",
        "static-challenge",
        "machine-readable-output",
        "suppress-timestamps",
        "opt-verify",
        "disable-occ",
        "remap-usr1",
        "nice",
        "engine",
        "providers",
        "auth-gen-token",
        "key-method",
        "tls-auth",
        "tls-crypt",
        "tls-crypt-v2",
        "ca",
        "cert",
        "key",
        "dh",
        "extra-certs",
        "pkcs12",
        "secret",
        "crl-verify",
        "auth-user-pass",
        "http-proxy-user-pass",
        "x509-username-field",
        "x509-track",
        "capath",
        "ecdh-curve",
        "allow-recursive-routing",
        "disable-dco",
        "session-timeout",
        "vlan-tagging",
        "peer-fingerprint",
        "user",
        "group",
        "mlock",
        "echo",
        "syslog",
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 1-based; 0: the configuration as a whole
    message: str

    def __str__(self) -> str:
        if self.line:
            return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


@dataclass(slots=True)
class Checked:
    """The outcome of ``check``: the configuration to store (tap changed to tun), what is wrong,
    what was changed, and what the status page shows of it."""

    text: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remotes: list[tuple[str, int | None, str]] = field(default_factory=list)  # host, port, proto
    directives: int = 0
    blocks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def server_ip(self) -> str:
        """The first ``remote`` if it is an IP address (the manual: no DNS resolution)."""
        for host, _port, _proto in self.remotes:
            try:
                return str(ipaddress.ip_address(host))
            except ValueError:
                continue
        return ""


def decode(raw: bytes) -> str:
    """An uploaded file as text; ``ValueError`` (translated) when it is too large or not UTF-8."""
    if len(raw) > MAX_BYTES:
        raise ValueError(_("The file is larger than %(max)s KiB.") % {"max": MAX_BYTES // 1024})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            _("The file is not UTF-8 text (byte %(pos)s). Import the OpenVPN configuration as a text file.")
            % {"pos": exc.start + 1}
        ) from None
    return text.removeprefix("\ufeff")


def _tokens(line: str) -> list[str] | None:
    """OpenVPN's splitting of one option line: whitespace, double or single quotes, backslash
    escapes inside double quotes. None: a quote is not closed."""
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] in "\"'":
            quote = line[i]
            i += 1
            buf = []
            while i < n and line[i] != quote:
                if quote == '"' and line[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(line[i])
                i += 1
            if i >= n:
                return None
            i += 1
            tokens.append("".join(buf))
            continue
        start = i
        while i < n and not line[i].isspace():
            i += 1
        tokens.append(line[start:i])
    return tokens


def check(text: str) -> Checked:
    """Check a client configuration; see the module docstring."""
    result = Checked(text="")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        result.problems.append(
            Problem(0, _("The configuration is larger than %(max)s KiB.") % {"max": MAX_BYTES // 1024})
        )
        result.text = text
        return result
    out: list[str] = []
    block: tuple[str, int] | None = None
    seen: set[str] = set()
    changed_tap = False
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = raw
        if any(0xD800 <= ord(c) <= 0xDFFF for c in line):
            result.problems.append(Problem(number, _("The line is not valid Unicode text.")))
            out.append(line)
            continue
        if _CONTROL.search(line):
            result.problems.append(Problem(number, _("The line holds a control character (e.g. NUL).")))
            out.append(line)
            continue
        stripped = line.strip()
        if block is not None:
            if stripped == f"</{block[0]}>":
                block = None
            elif stripped.startswith("<"):
                result.problems.append(
                    Problem(number, _("A block is opened inside the block <%(name)s>.") % {"name": block[0]})
                )
            out.append(line)
            continue
        if not stripped or stripped[0] in "#;":
            out.append(line)
            continue
        if len(line) > MAX_LINE:
            result.problems.append(
                Problem(number, _("The line is longer than %(max)s characters.") % {"max": MAX_LINE})
            )
            out.append(line)
            continue
        tag = re.fullmatch(r"<([a-z0-9-]+)>", stripped)
        if tag:
            name = tag.group(1)
            if name not in INLINE_BLOCKS:
                result.problems.append(Problem(number, _("The block <%(name)s> is not allowed.") % {"name": name}))
            result.blocks.append(name)
            block = (name, number)
            out.append(line)
            continue
        if stripped.startswith("<"):
            result.problems.append(Problem(number, _("This is not a valid block tag.")))
            out.append(line)
            continue
        tokens = _tokens(stripped)
        if tokens is None:
            result.problems.append(Problem(number, _("A quote is not closed.")))
            out.append(line)
            continue
        name = tokens[0].removeprefix("--").lower()
        args = tokens[1:]
        result.directives += 1
        if not _NAME.match(name):
            result.problems.append(
                Problem(number, _("“%(name)s” is not an OpenVPN directive.") % {"name": tokens[0][:40]})
            )
        elif name in REFUSED:
            result.problems.append(
                Problem(
                    number,
                    _(
                        "The directive “%(name)s” is not allowed: it runs programs, loads code or uses files of the controller."
                    )
                    % {"name": name},
                )
            )
        elif name not in KNOWN:
            result.problems.append(
                Problem(number, _("OpenVPN does not know the directive “%(name)s”.") % {"name": name[:40]})
            )
        elif name in FILE_OPTIONS and args and args[0] != "[inline]":
            result.problems.append(
                Problem(
                    number,
                    _("“%(name)s” names a file; put its content inline as <%(name)s>…</%(name)s>.") % {"name": name},
                )
            )
        elif name == "dev" and args and args[0].startswith("tap"):
            line = raw.replace(args[0], "tun", 1)
            changed_tap = True
        elif name == "dev-type" and args and args[0] == "tap":
            line = re.sub(r"\btap\b", "tun", raw, count=1)
            changed_tap = True
        elif name == "dev-type" and args and args[0] not in ("tun", "tap"):
            result.problems.append(Problem(number, _("dev-type must be tun.")))
        elif name == "remote":
            _remote(result, number, args)
        seen.add(name)
        out.append(line)
    if block is not None:
        result.problems.append(Problem(block[1], _("The block <%(name)s> is not closed.") % {"name": block[0]}))
    if "remote" not in seen and not any(p.line for p in result.problems):
        result.problems.append(Problem(0, _("The configuration names no server (a “remote” line).")))
    if "dev" not in seen and not any(p.line for p in result.problems):
        result.problems.append(Problem(0, _("The configuration names no device (a “dev tun” line).")))
    if changed_tap:
        result.notes.append(_("The device type “tap” was changed to “tun”: the controller supports tun only."))
    result.text = "\n".join(out)
    return result


def _remote(result: Checked, number: int, args: list[str]) -> None:
    if not args:
        result.problems.append(Problem(number, _("“remote” needs a server address.")))
        return
    host = args[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            result.problems.append(
                Problem(number, _("“%(host)s” is not a host name or IP address.") % {"host": host[:60]})
            )
            return
    port: int | None = None
    if len(args) > 1:
        if not args[1].isdigit() or not 1 <= int(args[1]) <= 65535:
            result.problems.append(Problem(number, _("The port must be a number from 1 to 65535.")))
            return
        port = int(args[1])
    proto = args[2] if len(args) > 2 else ""
    if proto and proto not in ("udp", "tcp", "udp4", "udp6", "tcp4", "tcp6", "tcp-client"):
        result.problems.append(Problem(number, _("The protocol must be udp or tcp.")))
        return
    result.remotes.append((host, port, proto))
