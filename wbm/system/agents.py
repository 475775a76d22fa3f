"""The System Monitor agent: memory, CPU, disk, load and network of the controller; it also
carries out REBOOT SYSTEM (``SystemReboot``)."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import psutil
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wbm.runtime.agent import Agent
from wbm.runtime.commands import Rejected
from wbm.runtime.snapshot import SystemStatus
from wbm.system import reboot
from wbm.system.commands import SystemReboot

REBOOT_DELAY_S = 0.5  # the answer (and the page saying so) goes out before the process stops


def network_summary() -> list[dict[str, Any]]:
    """Every network interface but loopback: up or down, IPv4 addresses, speed (plain data)."""
    stats = psutil.net_if_stats()
    rows = []
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        stat = stats.get(name)
        if name == "lo" or stat is None:
            continue
        ipv4 = [f"{a.address}/{a.netmask}" if a.netmask else a.address for a in addresses if a.family == socket.AF_INET]
        rows.append({"name": name, "up": bool(stat.isup), "ipv4": ipv4, "speed_mbit": int(stat.speed or 0)})
    return rows[:16]


class SystemMonitorAgent(Agent):
    """Provides current system data: memory, CPU, disk, uptime and the network's interfaces."""

    name = "system-monitor"
    title = _("System Monitor")
    description = _("Provides current system data such as network status or memory capacity and modem data.")
    order = 50
    commands = (SystemReboot,)
    PERIOD_S = 5.0

    async def run(self) -> None:
        async def do_reboot(command: SystemReboot) -> dict[str, Any] | None:
            if not reboot.available():
                raise Rejected("reboot_unavailable")
            asyncio.get_running_loop().call_later(REBOOT_DELAY_S, reboot.request, command.reason)
            return {"restarting": True}

        self.ctx.handle(SystemReboot, do_reboot)
        proc = psutil.Process(os.getpid())
        proc.cpu_percent(None)
        while True:
            mem = psutil.virtual_memory()
            disk = await asyncio.to_thread(psutil.disk_usage, str(settings.STATE_DIR))
            self.ctx.set_part(
                "system",
                SystemStatus(
                    rss_bytes=proc.memory_info().rss,
                    cpu_percent=proc.cpu_percent(None),
                    memory_total_bytes=mem.total,
                    memory_available_bytes=mem.available,
                    disk_total_bytes=disk.total,
                    disk_free_bytes=disk.free,
                    load_1m=os.getloadavg()[0],
                    boot_time=psutil.boot_time(),
                    process_started_at=proc.create_time(),
                ),
            )
            self.ctx.set_status({"network": await asyncio.to_thread(network_summary)})
            self.ctx.publish()
            await asyncio.sleep(self.PERIOD_S)
