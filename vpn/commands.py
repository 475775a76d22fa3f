"""Commands the OpenVPN agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class VpnReload(Command):
    """Re-read the stored configuration and activation mode (after a save, an import, a delete)."""

    name = "vpn.reload"


@dataclass(frozen=True, slots=True, kw_only=True)
class VpnRequest(Command):
    """The "On Request" signal (the MQTT topic ``<prefix>/<device type>/<device id>/command``):
    connect (True) or disconnect (False). Ignored unless the activation mode is On Request."""

    name = "vpn.request"
    connect: bool
