"""Switching calibration law on and off: a mode of the OS (state directory), taking effect at
the restart that follows at once (the Calibration Law Agent starts with it)."""

from __future__ import annotations

from wbm.audit import Actor, record_change
from wbm.system import osbackend
from wbm.system import services as system_services

MODE = "calibration_law"


def calibration_law_active() -> bool:
    return osbackend.mode_get(MODE, "off") == "on"


def calibration_law_switch(*, on: bool, actor: Actor) -> None:
    """SWITCH ON (or off) CALIBRATION LAW: store the mode, then restart the controller so that
    the Calibration Law Agent starts (or no longer does). Raises what ``system_reboot`` raises
    when the process cannot restart; the mode is stored then and takes effect at the next start."""
    before = calibration_law_active()
    osbackend.mode_set(MODE, "on" if on else "off")
    record_change(actor=actor, action="system.calibrationlaw", before={"on": before}, after={"on": on})
    system_services.system_reboot(actor=actor, reason="calibration law on" if on else "calibration law off")
