"""The names and addresses the controller itself has: the default of ``ALLOWED_HOSTS``.

Read once at start (settings), without DNS: ``socket.getfqdn()`` would ask a name server, which
an offline controller may not reach for many seconds.
"""

from __future__ import annotations

import ipaddress
import socket

import psutil

LOOPBACK = ("127.0.0.1", "[::1]", "localhost")
USB_C_ADDRESS = "192.168.5.1"  # the service interface of the controller (manual, USB-C)


def _host_entry(address: str) -> str | None:
    """An interface address as Django's host validation compares it (IPv6 in brackets, no
    zone); None for what is not an IP address (MAC addresses of AF_PACKET entries)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed


def own_hosts() -> list[str]:
    """Loopback, the USB-C address, the host name (with its short form and ``.local`` for
    mDNS) and every interface address, without duplicates, in that order."""
    hosts: list[str] = [*LOOPBACK, USB_C_ADDRESS]
    name = socket.gethostname().lower().rstrip(".")
    if name:
        short = name.split(".", 1)[0]
        hosts += [name, short, f"{short}.local"]
    try:
        interfaces = psutil.net_if_addrs()
    except OSError:  # no /proc (unusual containers): the names above still work
        interfaces = {}
    for addresses in interfaces.values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6) and (entry := _host_entry(address.address)):
                hosts.append(entry)
    return list(dict.fromkeys(hosts))


def allowed_hosts(extra: str) -> list[str]:
    """``ALLOWED_HOSTS``: the controller's own names and addresses plus the comma-separated
    ``extra`` (``WBM_ALLOWED_HOSTS``: ``ev3000.example.com``, ``.example.com`` for a domain with
    its subdomains, or ``*`` for any host, which start-up warns about)."""
    added = [h.strip().lower() for h in extra.split(",") if h.strip()]
    return list(dict.fromkeys([*own_hosts(), *added]))
