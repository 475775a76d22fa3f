"""Commands of System Control, handled by the System Monitor agent."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemReboot(Command):
    """Restart the whole controller: the runtime stops cleanly (open transactions are stopped
    with the reason Reboot when it is back), then the process starts again."""

    name = "system.reboot"
    reason: str = "reboot"
