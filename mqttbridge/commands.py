"""Commands the MQTT bridge agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttBridgeReload(Command):
    """Re-read the remote broker and the forwarding rows (after a save or a clear)."""

    name = "mqttbridge.reload"
