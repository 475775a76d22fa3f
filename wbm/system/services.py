"""System Control services: the runtime's agents, the reboot, the clock and the ``user-app``
Linux user. Every one validates, changes through the OS interface, records who did it."""

from __future__ import annotations

from datetime import datetime

from wbm.audit import Actor, record_change
from wbm.runtime import commands
from wbm.runtime.commands import AgentRestart
from wbm.system import osbackend
from wbm.system.commands import SystemReboot


def agent_restart(*, name: str, actor: Actor) -> None:
    """Restart one runtime service alone; the web keeps serving. Recorded once the runtime
    restarted it (a refusal, e.g. an unknown service, raises ``CommandRejected``)."""
    commands.call(AgentRestart(agent=name))
    record_change(actor=actor, action="system.service.restart", obj=None, after={"service": name})


def system_reboot(*, actor: Actor, reason: str = "reboot") -> None:
    """REBOOT SYSTEM: the runtime stops cleanly and the process starts again (``reboot``).
    Charging sessions end; the OCPP agent stops their transactions with the reason Reboot when
    it is back. Raises ``CommandRejected`` (``reboot_unavailable``) where the process cannot
    restart itself, ``RuntimeUnavailable`` when no runtime answers."""
    record_change(actor=actor, action="system.reboot", obj=None, after={"reason": reason})
    commands.call(SystemReboot(reason=reason))


def system_time_set(*, when: datetime, source: str, actor: Actor) -> osbackend.TimeStatus:
    """Set the system clock (UTC) by hand or from the browser's clock; refuses 1970, 2100 and
    anything else outside ``osbackend.EARLIEST``..``LATEST`` (``ClockOutOfRange``)."""
    before = osbackend.time_status()
    status = osbackend.time_set(when=when, source=source)
    record_change(
        actor=actor,
        action="system.time.set",
        before={"utc": before.utc.isoformat(), "source": before.source},
        after={"utc": when.isoformat(), "source": source},
    )
    return status


def system_time_sync(*, actor: Actor) -> osbackend.TimeStatus:
    """Synchronize the clock by NTP again (drops the time set by hand)."""
    status = osbackend.time_sync_enable()
    record_change(actor=actor, action="system.time.ntp", after={"ntp": True})
    return status


def user_app_password_change(*, current: str, new: str, actor: Actor) -> None:
    """Linux User Change Password for ``user-app``; the current password is required
    (``osbackend.WrongPassword``). The password itself is never recorded."""
    osbackend.user_app_password_change(current=current, new=new)
    record_change(actor=actor, action="system.developer.password", after={"user": osbackend.USER_APP})


def user_app_password_reset(*, actor: Actor) -> None:
    """RESET PASSWORD: ``user-app`` gets its delivery password ``user`` back."""
    osbackend.user_app_password_reset()
    record_change(actor=actor, action="system.developer.password_reset", after={"user": osbackend.USER_APP})
