"""Scaled mode: the controller runtime in its own process, commands over the channel layer."""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wbm import statedir


class Command(BaseCommand):
    help = "Run the controller runtime (agents, hardware backend) as its own process (scaled mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        statedir.check_private(settings.STATE_DIR)  # loosened by someone since: say so, tighten
        if settings.WBM_RUNTIME_TRANSPORT != "channels":
            raise CommandError("runcontroller needs scaled mode: set REDIS_URL (see README).")
        asyncio.run(self._main())

    async def _main(self) -> None:
        from wbm.runtime.core import Runtime

        runtime = Runtime(serve_commands=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runtime.start()
        # as runwbm: the startup heap stays out of the cyclic GC's full (loop-pausing) passes
        gc.collect()
        gc.freeze()
        self.stdout.write("controller runtime running", ending="\n")
        self.stdout.flush()
        await stop.wait()
        await runtime.stop()
