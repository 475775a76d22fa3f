"""Scaled mode: the controller runtime in its own process, commands over the channel layer.

Exactly one runtime drives the park: this process first takes the lease in Redis
(``wbm.runtime.lease``); while another process holds it, this one waits as a hot standby and
builds nothing. Losing the lease (Redis unreachable for longer than the lease's time to live)
stops the runtime, and the process waits as a standby again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wbm import statedir
from wbm.startup import require_database
from wbm.system import reboot

log = logging.getLogger("wbm.runtime.lease")


class Command(BaseCommand):
    help = "Run the controller runtime (agents, hardware backend) as its own process (scaled mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        statedir.check_private(settings.STATE_DIR)  # loosened by someone since: say so, tighten
        if settings.WBM_RUNTIME_TRANSPORT != "channels":
            raise CommandError("runcontroller needs scaled mode: set REDIS_URL (see README).")
        require_database("runtime process")  # one clear line and exit 3 when it cannot be reached
        asyncio.run(self._main())
        if reboot.requested():
            # REBOOT SYSTEM: stopped cleanly; systemd (Restart=always) starts the runtime again
            sys.exit(reboot.EXIT_REBOOT)

    def say(self, text: str) -> None:
        self.stdout.write(text, ending="\n")
        self.stdout.flush()

    async def _main(self) -> None:
        from wbm.runtime.core import Runtime
        from wbm.runtime.lease import Lease

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        reboot.install(stop.set)
        lease = Lease(settings.REDIS_URL, ttl_s=settings.WBM_LEASE_TTL_S, retry_s=settings.WBM_LEASE_RETRY_S)
        frozen = False
        try:
            while not stop.is_set():
                self.say("controller runtime waiting for the lease (standby)")
                if not await lease.acquire(stop):
                    break
                runtime = Runtime(serve_commands=True)
                holding = asyncio.create_task(lease.hold(), name="runtime:lease")
                await runtime.start()
                if not frozen:
                    # as runwbm: the startup heap stays out of the cyclic GC's full (loop-pausing) passes
                    gc.collect()
                    gc.freeze()
                    frozen = True
                self.say("controller runtime running")
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({holding, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if holding.done():
                    # someone else may drive the park now: stop at once, and leave the
                    # hardware's state to whoever holds the lease
                    log.error("lease lost: %s; this runtime stops and waits as a standby", holding.result())
                    await runtime.stop(fenced=True)
                    continue
                holding.cancel()
                await runtime.stop()
                await lease.release()
        finally:
            await lease.close()
