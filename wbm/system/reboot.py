"""REBOOT SYSTEM: a clean stop of the process, then it comes back by itself.

Embedded mode (``runwbm``): the command installs a restarter that stops Twisted's reactor; the
runtime stops cleanly on the way (its agents, the hardware's last save, the "running" mark
removed), and once ``server.run()`` returns ``runwbm`` executes itself again with the same
arguments (``os.execv``: same process id, same port). Scaled mode (``runcontroller``): the
runtime process stops cleanly and exits with ``EXIT_REBOOT``; systemd (``Restart=always`` in
``deploy/systemd``) starts it again; the web processes keep serving.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

log = logging.getLogger(__name__)

EXIT_REBOOT = 75  # EX_TEMPFAIL: "try again"; systemd restarts the unit
_restarter: Callable[[], None] | None = None
_requested = ""


def install(restarter: Callable[[], None] | None) -> None:
    """The process's way to stop cleanly (called on the runtime's loop); None removes it."""
    global _restarter, _requested
    _restarter = restarter
    _requested = ""


def available() -> bool:
    return _restarter is not None


def request(reason: str) -> bool:
    """Stop the process cleanly so that it comes back; False when this process cannot (no
    restarter installed: a test runtime, a management shell)."""
    global _requested
    if _restarter is None:
        return False
    log.warning("system restart requested (%s): stopping cleanly, then starting again", reason)
    _requested = reason or "reboot"
    _restarter()
    return True


def requested() -> str:
    """Why a restart was asked for ('' when none)."""
    return _requested


def reexec() -> NoReturn:
    """Start this program again in this process, with the same arguments."""
    log.warning("system restart: starting again")
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.argv])
