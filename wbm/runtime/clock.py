"""The runtime's clock: one object agents ask for the time, so tests can let minutes pass at once."""

from __future__ import annotations

import json
import os
import time
from typing import Protocol

OFFSET_FILE = "clock-offset.json"  # in STATE_DIR/os: the simulated system clock (wbm.system.osbackend)
_OFFSET_RECHECK_S = 1.0
_offset: tuple[float, float, int] | None = None  # (checked at, offset seconds, file mtime)


def _offset_path() -> str:
    from django.conf import settings

    return os.path.join(str(settings.STATE_DIR), "os", OFFSET_FILE)


def system_offset_s() -> float:
    """The system clock minus the host clock (seconds): System Control / Time sets the system
    clock as an offset in the state directory, never the host's clock. Re-read at most once a
    second, and only when the file changed."""
    global _offset
    now = time.monotonic()
    if _offset is not None and now - _offset[0] < _OFFSET_RECHECK_S:
        return _offset[1]
    path = _offset_path()
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        _offset = (now, 0.0, 0)
        return 0.0
    if _offset is not None and _offset[2] == mtime:
        _offset = (now, _offset[1], mtime)
        return _offset[1]
    try:
        with open(path, encoding="utf-8") as stored:
            value = float(json.load(stored).get("offset_s", 0.0))
    except (OSError, ValueError, AttributeError, TypeError):
        value = 0.0
    _offset = (now, value, mtime)
    return value


def forget_offset() -> None:
    """Read the offset again at the next call (after this process changed it)."""
    global _offset
    _offset = None


def system_time() -> float:
    """The system clock (epoch seconds, UTC): the host clock plus the offset set by hand."""
    return time.time() + system_offset_s()


class Clock(Protocol):
    """Wall-clock time (epoch seconds, for what users see and the database stores) and a
    monotonic time (for intervals)."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock: the host's, plus the offset System Control / Time set (if any)."""

    def time(self) -> float:
        return system_time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told (tests, simulations)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._mono = 1000.0

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds
        self._mono += seconds
