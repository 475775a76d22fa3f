"""Reads of the MQTT bridge page, the API and the agents."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mqttbridge import topics
from mqttbridge.models import BridgeSettings, ForwardRow
from wbm.runtime.bus import read_snapshot

BRIDGE_AGENT = "mqtt_bridge"
PUBLISHER_AGENT = "mqtt_publisher"


def bridge_settings_get() -> BridgeSettings:
    """The stored settings, or the defaults (unsaved) when nothing was ever stored."""
    return BridgeSettings.objects.filter(pk=BridgeSettings.SINGLETON_PK).first() or BridgeSettings(
        pk=BridgeSettings.SINGLETON_PK
    )


def forward_rows() -> list[ForwardRow]:
    return list(ForwardRow.objects.all())


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeConfig:
    """Everything the bridge agent and the Mosquitto renderer need, read once."""

    host: str
    port: int
    username: str
    password: str
    prefix: str
    device_id: str
    station_name: str
    location: str
    ca_pem: str
    mappings: tuple[topics.Mapping, ...]

    @property
    def base(self) -> str:
        return topics.base(self.prefix, self.device_id)

    def config_payload(self) -> bytes:
        """The ``config`` topic's payload (MQ-6)."""
        return json.dumps(
            {
                "device-type": topics.DEVICE_TYPE,
                "id": self.device_id,
                "name": self.station_name,
                "location": self.location,
            },
            ensure_ascii=False,
        ).encode()


def bridge_config() -> BridgeConfig:
    """The stored configuration with its rows resolved (a row that no longer resolves is left out)."""
    s = bridge_settings_get()
    mappings = []
    for row in forward_rows():
        try:
            mappings.append(
                topics.resolve(
                    local=row.local_topic,
                    remote=row.remote_topic,
                    direction=row.direction,
                    prefix=s.prefix,
                    device_id=s.device_id,
                )
            )
        except topics.TopicInvalid:
            continue
    return BridgeConfig(
        host=s.host,
        port=s.port,
        username=s.username,
        password=s.password,
        prefix=s.prefix,
        device_id=s.device_id,
        station_name=s.station_name,
        location=s.location,
        ca_pem=s.ca_pem,
        mappings=tuple(mappings),
    )


def agent_status(name: str) -> dict[str, Any]:
    snapshot = read_snapshot()
    state = (snapshot.agent_state(name) if snapshot is not None else None) or {}
    return {"runtime_up": snapshot is not None, **state}
