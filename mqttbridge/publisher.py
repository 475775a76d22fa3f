"""The MQTT publisher agent: puts the controller's live state on the local broker
(``WBM_MQTT_LOCAL_URL``), the topics and payloads ``docs/mqtt.md`` documents.

Every ``PERIOD_S`` it builds the messages from the snapshot (``local_messages``, a pure function)
and publishes those whose payload changed since the last publication; after a reconnect it
publishes all of them again. States are retained (a new subscriber sees them at once); the
currents, which change every tick, are not.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiomqtt
from django.utils.translation import gettext_lazy as _

from mqttbridge import client, topics
from mqttbridge.selectors import PUBLISHER_AGENT
from wbm.runtime.agent import Agent
from wbm.runtime.snapshot import ChargePointState, ParkSnapshot

log = logging.getLogger(__name__)

PERIOD_S = 1.0
ROOT = topics.LOCAL_ROOT


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


Messages = dict[str, tuple[bytes, bool]]


def local_messages(
    snapshot: ParkSnapshot, memo: dict[int, tuple[ChargePointState, Messages]] | None = None
) -> Messages:
    """Topic → (payload, retained) for the live state in ``snapshot`` (see docs/mqtt.md).
    ``memo`` keeps each charge point's messages for as long as its (frozen) state is the same
    object: a snapshot shares the states that did not change with the one before."""
    messages: Messages = {}
    summary = snapshot.summary
    messages[f"{ROOT}/park"] = (_json({**summary.as_dict(), "total_power_w": round(summary.total_power_w)}), True)
    for cp in snapshot.chargepoints:
        if not cp.configured:
            continue
        kept = memo.get(cp.id) if memo is not None else None
        if kept is not None and kept[0] is cp:
            messages.update(kept[1])
            continue
        built = _chargepoint_messages(cp)
        if memo is not None:
            memo[cp.id] = (cp, built)
        messages.update(built)
    return messages


def _chargepoint_messages(cp: ChargePointState) -> Messages:
    messages: Messages = {}
    prefix = f"{ROOT}/chargepoint/{cp.id}"
    messages[f"{prefix}/status"] = (
        _json(
            {
                "name": cp.name,
                "status": cp.dashboard_status,
                "iec_state": cp.iec_state,
                "ocpp_status": cp.ocpp_status,
                "error_code": cp.error_code,
                "enabled": cp.enabled,
            }
        ),
        True,
    )
    messages[f"{prefix}/currents"] = (
        _json({"currents_a": [round(a, 1) for a in cp.currents_a], "pwm_limit_a": round(cp.pwm_limit_a, 1)}),
        False,
    )
    messages[f"{prefix}/energy"] = (
        _json(
            {
                "energy_wh": round(cp.meter.energy_wh) if cp.meter else None,
                "session_wh": round(cp.session_energy_wh) if cp.session_energy_wh is not None else None,
                "power_w": round(cp.meter.power_w) if cp.meter else None,
            }
        ),
        True,
    )
    return messages


class MqttPublisherAgent(Agent):
    """See the module docstring."""

    name = PUBLISHER_AGENT
    title = _("MQTT Publisher")
    description = _("Publishes the charging points' status, currents and energy on the local MQTT broker.")
    order = 85

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.published = 0
        self._sent: dict[str, bytes] = {}
        self._built: dict[int, tuple[ChargePointState, Messages]] = {}

    def _status(self, *, connected: bool, error: str = "") -> None:
        address = client.local_broker()
        self.ctx.set_status(
            {
                "connected": connected,
                "broker": f"{address.host}:{address.port}",
                "published": self.published,
                "last_error": error,
            }
        )

    async def run(self) -> None:
        backoff = client.Backoff()
        self._status(connected=False)
        while True:
            try:
                async with client.local_client(f"wbm-publisher-{id(self):x}") as mqtt:
                    backoff.reset()
                    self._sent.clear()
                    self._status(connected=True)
                    while True:
                        await self._publish_changed(mqtt)
                        await asyncio.sleep(PERIOD_S)
            except aiomqtt.MqttError as exc:
                client.raise_if_cancelled()
                self._status(connected=False, error=client.explain(exc))
                await asyncio.sleep(backoff.next())

    async def _publish_changed(self, mqtt: aiomqtt.Client) -> None:
        snapshot = self.ctx.snapshot()
        if snapshot is None:
            return
        pending = [
            (topic, payload, retain)
            for topic, (payload, retain) in local_messages(snapshot, self._built).items()
            if self._sent.get(topic) != payload
        ]
        # all at once: paho queues them and writes them in one go. One after the other cost a
        # turn of the event loop and a writer registration each (600 charge points: ~1,200
        # messages a second, a third of the process's event loop).
        await asyncio.gather(
            *(mqtt.publish(topic, payload, qos=0, retain=retain) for topic, payload, retain in pending)
        )
        for topic, payload, _retain in pending:
            self._sent[topic] = payload
        self.published += len(pending)
        self._status(connected=True)
