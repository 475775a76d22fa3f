"""Commands the load management agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class LmReload(Command):
    """Re-read the load circuit (fuses, meter, assigned charge points) after a save."""

    name = "loadmgmt.reload"
