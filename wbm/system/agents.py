"""The System Monitor agent: memory, CPU, disk and load of the controller."""

from __future__ import annotations

import asyncio
import os

import psutil
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wbm.runtime.agent import Agent
from wbm.runtime.snapshot import SystemStatus


class SystemMonitorAgent(Agent):
    """Provides current system data: memory, CPU, disk, uptime."""

    name = "system-monitor"
    title = _("System Monitor")
    description = _("Provides current system data such as memory and load.")
    order = 50
    PERIOD_S = 5.0

    async def run(self) -> None:
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
            self.ctx.publish()
            await asyncio.sleep(self.PERIOD_S)
