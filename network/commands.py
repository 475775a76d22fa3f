"""Commands the network agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkReload(Command):
    """A network setting changed: look at the changes waiting for confirmation again (a new
    deadline, or one confirmed) and publish the status."""

    name = "network.reload"
