from __future__ import annotations

import socket

import psutil
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.roles import Perm


def _interfaces() -> list[dict[str, object]]:
    """Status of this machine's network interfaces, as the system reports it."""
    counters = psutil.net_io_counters(pernic=True)
    rows = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        if name == "lo":
            continue
        row: dict[str, object] = {"name": name, "ipv4": "", "broadcast": "", "netmask": "", "ipv6": "", "mac": ""}
        for a in addrs:
            if a.family == socket.AF_INET and not row["ipv4"]:
                row.update(ipv4=a.address, broadcast=a.broadcast or "", netmask=a.netmask or "")
            elif a.family == socket.AF_INET6 and not row["ipv6"]:
                row["ipv6"] = a.address.split("%")[0]
            elif a.family == psutil.AF_LINK:
                row["mac"] = a.address
        io = counters.get(name)
        row["rx"] = io.bytes_recv if io else None
        row["tx"] = io.bytes_sent if io else None
        rows.append(row)
    return rows


class EthernetView(RoleRequiredMixin, View):
    required = Perm.NETWORK_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "network/ethernet.html", {"interfaces": _interfaces(), "hostname": socket.gethostname()})
