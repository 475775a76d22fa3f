"""The web process itself, which System Control / Status lists as "Web Server"."""

from __future__ import annotations

import functools
import os

import psutil


def web_started_at() -> float:
    """When this web process started (epoch seconds). In embedded mode the controller runtime
    runs in the same process; in scaled mode each web process tells its own start."""
    return _started_at(os.getpid())


@functools.cache
def _started_at(pid: int) -> float:
    # keyed by the process id: a forked worker has a start of its own
    return float(psutil.Process(pid).create_time())
