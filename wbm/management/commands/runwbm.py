"""Embedded mode in one process: Daphne serves HTTP and WebSockets, the controller runtime's
agents run on the same event loop. On an empty state directory it migrates and loads the demo
park first."""

from __future__ import annotations

import asyncio
import errno
import gc
import hashlib
import logging
import multiprocessing
import socket
import sys
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from wbm import statedir
from wbm.startup import require_database
from wbm.system import reboot

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


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def listen_problem(error: OSError, host: str, port: int) -> str:
    """One line that says why the server cannot listen on ``host:port`` and what to do."""
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} on {host} is already in use (another WBM?). Stop it or pass --port."
    if error.errno == errno.EACCES:
        return f"Port {port} on {host} needs more privileges (ports below 1024 do). Pass --port."
    return f"Cannot listen on port {port} on {host}: {error.strerror or error}. Check --host and --port."


def check_listen(host: str, port: int) -> None:
    """Bind and listen on ``host:port`` once, the way Twisted will (SO_REUSEADDR, so a port
    left in TIME_WAIT by the previous run counts as free); raise the OSError if that fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        probe.listen(1)


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
        host, port = options["host"], options["port"]
        # Before preparing anything: a port in use is the common failure, and it needs no minute
        # of migrating to find out.
        try:
            check_listen(host, port)
        except OSError as error:
            self._fail(listen_problem(error, host, port))
        statedir.check_private(settings.STATE_DIR)  # loosened by someone since: say so, tighten
        require_database("embedded WBM")  # one line and exit status 3 when it cannot be opened
        if not options["skip_prepare"]:
            self._say("Preparing the state directory (database, demo park, static files) …")
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
        from twisted.python.failure import Failure

        from wbm.asgi import application
        from wbm.runtime.core import Runtime

        class _Server(Server):
            """Daphne, keeping a listen failure for one clear line instead of logging it."""

            listen_failure: BaseException | None = None

            def listen_error(self, failure: Failure) -> None:
                self.listen_failure = failure.value
                self.stop()

        runtime = Runtime()

        def start_runtime() -> None:
            task = asyncio.get_event_loop().create_task(runtime.start())
            task.add_done_callback(_report_start_failure)

        def stop_runtime() -> defer.Deferred[Any]:
            return defer.Deferred.fromFuture(asyncio.ensure_future(runtime.stop()))

        def announce() -> None:
            # Daphne calls this after its listen attempts and only when none failed.
            self._say(f"WBM (embedded mode) on {_url(host, port)}  state: {settings.STATE_DIR}")

        reactor.callWhenRunning(start_runtime)
        # REBOOT SYSTEM: stop the reactor (the runtime stops cleanly before it), then run again
        reboot.install(reactor.stop)  # type: ignore[misc]
        reactor.addSystemEventTrigger("before", "shutdown", stop_runtime)  # type: ignore[arg-type]
        # The startup heap (Django, the app, the park) lives as long as the process: keep it out
        # of the cyclic garbage collector, whose full passes over it paused the event loop (and so
        # every WebSocket update) for 30-100 ms.
        gc.collect()
        gc.freeze()
        server = _Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            http_timeout=None,
            websocket_handshake_timeout=10,
            verbosity=0,
            application_close_timeout=10,
            ready_callable=announce,
        )
        server.run()
        if server.listen_failure is not None:
            # Taken between our check and Twisted's listen: Twisted wraps the socket's OSError.
            cause = getattr(server.listen_failure, "socketError", server.listen_failure)
            refused = cause if isinstance(cause, OSError) else OSError(None, str(cause))
            self._fail(listen_problem(refused, host, port))
        if reboot.requested():
            reboot.reexec()  # same arguments, same process id; the runtime stopped cleanly

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _fail(self, line: str) -> NoReturn:
        """End with one line on stderr and exit status 1: no traceback, no "CommandError:"."""
        self.stderr.write(line)
        self.stderr.flush()
        sys.exit(1)
