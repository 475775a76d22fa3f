"""REBOOT SYSTEM: a clean stop of the process, then it comes back by itself.

Embedded mode (``runwbm``): the command installs a restarter that stops Twisted's reactor; the
runtime stops cleanly on the way (its agents, the hardware's last save, the "running" mark
removed), and once ``server.run()`` returns ``runwbm`` executes itself again with the same
arguments (``os.execv``: same process id, same port). Scaled mode (``runcontroller``): the
runtime process stops cleanly and exits with ``EXIT_REBOOT``; systemd (``Restart=always`` in
``deploy/systemd``) starts it again; the web processes keep serving.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from django.conf import settings

log = logging.getLogger(__name__)

EXIT_REBOOT = 75  # EX_TEMPFAIL: "try again"; systemd restarts the unit
MARKER_MAX_AGE_S = 600.0  # a marker older than this is from a restart that never came back
_restarter: Callable[[], None] | None = None
_requested = ""


def install(restarter: Callable[[], None] | None) -> None:
    """The process's way to stop cleanly (called on the runtime's loop); None removes it."""
    global _restarter, _requested
    _restarter = restarter
    _requested = ""


def available() -> bool:
    """Can this process restart itself now (a restarter installed, and restarts allowed)?"""
    return _restarter is not None and bool(getattr(settings, "WBM_SYSTEM_RESTART", True))


def request(reason: str) -> bool:
    """Stop the process cleanly so that it comes back; False when this process cannot (no
    restarter installed: a test runtime, a management shell)."""
    global _requested
    if _restarter is None or not available():
        return False
    log.warning("system restart requested (%s): stopping cleanly, then starting again", reason)
    _requested = reason or "reboot"
    try:
        _marker().write_text(json.dumps({"reason": _requested, "at": time.time()}), encoding="utf-8")
    except OSError:
        log.warning("system restart: could not leave the reboot mark", exc_info=True)
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


def _marker() -> Path:
    path = Path(settings.STATE_DIR) / "os"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path / "reboot.json"


def last_start_was_reboot(*, consume: bool = False) -> str:
    """Why this start of the process followed a REBOOT SYSTEM ('' when it did not): the
    controller and the OCPP agent may end open charging sessions with the reason Reboot.
    ``consume``: remove the mark (the first reader at start does)."""
    path = _marker()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if consume:
        path.unlink(missing_ok=True)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > MARKER_MAX_AGE_S:
        return ""
    return str(data.get("reason") or "reboot")
