"""Embedded mode in one process: Daphne serves HTTP and WebSockets, the controller runtime's
agents run on the same event loop. On an empty state directory it migrates and loads the demo
park first."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import multiprocessing
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

log = logging.getLogger("wbm")


def _static_fingerprint() -> str:
    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            stat = storage.path(path) if hasattr(storage, "path") else path
            try:
                import os

                st = os.stat(stat)
                digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                digest.update(path.encode())
    return digest.hexdigest()


def prepare_state(stdout: Any = None) -> None:
    """Migrate, load the demo park into an empty database, collect static files if changed."""
    call_command("migrate", interactive=False, verbosity=0)
    call_command("loaddemo", "--if-empty", stdout=stdout)
    stamp = settings.STATIC_ROOT / ".fingerprint"
    fingerprint = _static_fingerprint()
    if not stamp.exists() or stamp.read_text() != fingerprint:
        call_command("collectstatic", interactive=False, verbosity=0, clear=True)
        stamp.write_text(fingerprint)


def _report_start_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("runtime failed to start: %r", task.exception())


class Command(BaseCommand):
    help = "Run the WBM in embedded mode (one process: web, WebSockets and the controller runtime)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--skip-prepare", action="store_true", help="do not migrate or collect static files")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["skip_prepare"]:
            # In a child process: migrating and collecting static files leave ~25 MB behind
            # that the long-running server would otherwise keep for its whole life.
            child = multiprocessing.get_context("fork").Process(target=prepare_state, name="prepare-state")
            child.start()
            child.join()
            if child.exitcode != 0:
                raise CommandError("Preparing the state directory failed (see the messages above).")
        # daphne.server installs Twisted's asyncio reactor; import it before the reactor.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import defer, reactor

        from wbm.asgi import application
        from wbm.runtime.core import Runtime

        runtime = Runtime()

        def start_runtime() -> None:
            task = asyncio.get_event_loop().create_task(runtime.start())
            task.add_done_callback(_report_start_failure)

        def stop_runtime() -> defer.Deferred[Any]:
            return defer.Deferred.fromFuture(asyncio.ensure_future(runtime.stop()))

        reactor.callWhenRunning(start_runtime)
        reactor.addSystemEventTrigger("before", "shutdown", stop_runtime)  # type: ignore[arg-type]
        host, port = options["host"], options["port"]
        self.stdout.write(f"WBM (embedded mode) on http://{host}:{port}/  state: {settings.STATE_DIR}")
        # The startup heap (Django, the app, the park) lives as long as the process: keep it out
        # of the cyclic garbage collector, whose full passes over it paused the event loop (and so
        # every WebSocket update) for 30-100 ms.
        gc.collect()
        gc.freeze()
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            http_timeout=None,
            websocket_handshake_timeout=10,
            verbosity=0,
            application_close_timeout=10,
        ).run()
