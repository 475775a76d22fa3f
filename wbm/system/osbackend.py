"""System Control's OS interface: the system clock, the ``user-app`` Linux user, the operating
mode of the module, calibration law and the reboot.

The default implementation simulates the OS in the state directory (``settings.STATE_DIR /
"os"``) and never touches the host: the clock is an offset that the runtime's clock applies
(``wbm.runtime.clock``), the ``user-app`` password is a salted hash in a 0600 file, never a
shell command. A backend for real hardware would implement the same functions with
``timedatectl``/``chpasswd`` through argument lists (no shell).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password

from wbm.runtime import clock

DELIVERY_PASSWORD = "user"  # manual M:3085: "delivery state (password: user)"
USER_APP = "user-app"
# The clock may be set within these bounds: before 2020 no certificate is valid yet (TLS to the
# backend fails) and signed meter data carries wrong times; after 2099 is a typo.
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
LATEST = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


def os_dir() -> Path:
    path = Path(settings.STATE_DIR) / "os"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _read(name: str) -> dict[str, Any]:
    try:
        data = json.loads((os_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(name: str, data: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over the old one), readable by the owner only."""
    path = os_dir() / name
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    tmp.replace(path)


# --- time --------------------------------------------------------------------------------------
class ClockOutOfRange(ValueError):
    """The time asked for is before ``EARLIEST`` or after ``LATEST``."""


@dataclass(frozen=True, slots=True)
class TimeStatus:
    """What ``timedatectl status`` would say, for the simulated clock."""

    utc: datetime
    offset_s: float  # system clock minus the host clock
    source: str  # "" (never set), "manual", "browser", "ntp"
    set_at: float | None  # host epoch seconds of the last setting
    synchronized: bool  # NTP synchronized (simulated: never set by hand since the last sync)
    ntp_enabled: bool


def time_status() -> TimeStatus:
    data = _read(clock.OFFSET_FILE)
    source = str(data.get("source", ""))
    ntp = bool(data.get("ntp", True))
    return TimeStatus(
        utc=datetime.fromtimestamp(clock.system_time(), tz=UTC),
        offset_s=float(data.get("offset_s", 0.0)),
        source=source,
        set_at=data.get("set_at"),
        # simulated NTP: with NTP on and the clock never set by hand, the host's (synchronized)
        # clock is the system clock; a time set by hand or from the browser is not synchronized
        synchronized=ntp and source in ("", "ntp"),
        ntp_enabled=ntp,
    )


def time_set(*, when: datetime, source: str) -> TimeStatus:
    """Set the system clock (simulated: store its offset to the host clock). Refuses a time
    outside ``EARLIEST``..``LATEST`` and changes nothing then. Setting it by hand turns NTP off,
    as ``timedatectl set-time`` requires."""
    if when.tzinfo is None:
        raise ValueError("an aware time is needed")
    if not EARLIEST <= when <= LATEST:
        raise ClockOutOfRange(when.isoformat())
    _write(
        clock.OFFSET_FILE,
        {"offset_s": when.timestamp() - time.time(), "source": source, "set_at": time.time(), "ntp": False},
    )
    clock.forget_offset()
    return time_status()


def time_sync_enable() -> TimeStatus:
    """Back to NTP: the offset is dropped (simulated: the host's clock is the synchronized one)."""
    _write(clock.OFFSET_FILE, {"offset_s": 0.0, "source": "ntp", "set_at": time.time(), "ntp": True})
    clock.forget_offset()
    return time_status()


def time_synchronized() -> bool:
    """Is the system clock synchronized? Runtime-neutral (no Django models, no runtime): the OCPP
    agent reads it for AvailabilityOnlyWhenTimeSynchronized and AllowTimeSyncDuringSession."""
    return time_status().synchronized


# --- the user-app Linux user ---------------------------------------------------------------------
class WrongPassword(ValueError):
    """The current password given is not the user's."""


def _password_hash() -> str:
    return str(_read("user-app.json").get("hash") or "")


def user_app_check(password: str) -> bool:
    stored = _password_hash()
    if not stored:  # never changed: the delivery state
        return password == DELIVERY_PASSWORD
    return check_password(password, stored)


def user_app_password_change(*, current: str, new: str) -> None:
    """``chpasswd`` for ``user-app`` (simulated: a salted hash in a 0600 file). The password is
    only ever hashed: no character of it reaches a shell or a command line."""
    if not user_app_check(current):
        raise WrongPassword
    _write("user-app.json", {"hash": make_password(new), "changed_at": time.time()})


def user_app_password_reset() -> None:
    """Back to the delivery state (password ``user``)."""
    with contextlib.suppress(FileNotFoundError):
        (os_dir() / "user-app.json").unlink()


def user_app_changed_at() -> float | None:
    value = _read("user-app.json").get("changed_at")
    return float(value) if value is not None else None


# --- modes that take effect at the next start -------------------------------------------------------
def mode_get(name: str, default: str) -> str:
    return str(_read("modes.json").get(name, default))


def mode_set(name: str, value: str) -> None:
    modes = _read("modes.json")
    modes[name] = value
    _write("modes.json", modes)
