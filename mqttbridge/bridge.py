"""The MQTT bridge agent: forwards between the local broker and the remote one.

Two ``aiomqtt`` clients (MQTT 5, so its own publications are not echoed back: ``noLocal``, and
the retain flag survives: ``retainAsPublished``), each reconnecting with back-off on its own.
Rows ``out``/``both`` are subscribed locally and published remotely under
``<prefix>/<device type>/<device id>/``, rows ``in``/``both`` the other way round (``topics.Mapping``).
It also provides the ``config`` and ``VPN_Connection_State`` topics on both brokers (retained)
and reads ``<prefix>/<device type>/<device id>/command`` on the remote broker: the OpenVPN
"On Request" signal, handed to the OpenVPN agent as ``VpnRequest``.

The remote side uses TLS when a CA certificate is uploaded (it verifies the broker; no client
certificate), and the user name and password when set. A refusal is shown on the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from typing import Any

import aiomqtt
from django.utils.translation import gettext_lazy as _
from paho.mqtt.subscribeoptions import SubscribeOptions

from mqttbridge import client, topics
from mqttbridge.commands import MqttBridgeReload
from mqttbridge.selectors import BRIDGE_AGENT, BridgeConfig, bridge_config
from vpn.commands import VpnRequest
from vpn.selectors import AGENT as VPN_AGENT
from wbm.runtime.agent import Agent

log = logging.getLogger(__name__)

WATCH_S = 0.5  # how often the VPN state is compared with the one published
REPUBLISH_S = 5.0
CANCEL_WAIT_S = 2.0
OPTIONS = SubscribeOptions(qos=0, noLocal=True, retainAsPublished=True)


def parse_command(payload: bytes) -> bool | None:
    """The "On Request" signal: ``{"vpn": "connect"}``/``{"vpn": true}`` or the plain text
    ``vpn_connect``/``connect`` (and the ``disconnect`` counterparts); None: not a VPN command."""
    text = payload.decode("utf-8", "replace").strip()
    value: object = text
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        value = data.get("vpn") if isinstance(data, dict) else data
    if value is True or value in ("connect", "vpn_connect", "on", "1"):
        return True
    if value is False or value in ("disconnect", "vpn_disconnect", "off", "0"):
        return False
    return None


def vpn_payload(state: dict[str, Any] | None) -> bytes:
    state = state or {}
    return json.dumps(
        {
            "vpn_status": "connected" if state.get("connected") else "not connected",
            "vpn_ip": state.get("private_ip") or "",
        }
    ).encode()


def remote_tls(cfg: BridgeConfig) -> ssl.SSLContext | None:
    if not cfg.ca_pem:
        return None
    context = ssl.create_default_context(cadata=cfg.ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class MqttBridgeAgent(Agent):
    """See the module docstring."""

    name = BRIDGE_AGENT
    title = _("MQTT Bridge")
    description = _("Forwards MQTT topics between the local broker and the remote broker of the MQTT bridge.")
    order = 90
    commands = (MqttBridgeReload,)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.cfg: BridgeConfig | None = None
        self.local: aiomqtt.Client | None = None
        self.remote: aiomqtt.Client | None = None
        self.side: dict[str, dict[str, Any]] = {
            "local": {"connected": False, "error": ""},
            "remote": {"connected": False, "error": ""},
        }
        self.counts = {"forwarded_out": 0, "forwarded_in": 0, "commands": 0, "dropped": 0}
        self._reload = asyncio.Event()
        self._vpn_sent: dict[str, bytes] = {}
        # a connection task of an earlier configuration that is slow to end must not touch the
        # state of the current one: every write below checks its generation
        self.generation = 0

    async def run(self) -> None:
        self.ctx.handle(MqttBridgeReload, self._on_reload)
        while True:
            self.cfg = await self.ctx.db(bridge_config)
            self._reload.clear()
            self.generation += 1
            gen = self.generation
            self._vpn_sent.clear()
            self.local = self.remote = None
            self.side = {"local": {"connected": False, "error": ""}, "remote": {"connected": False, "error": ""}}
            self._status()
            tasks = [
                asyncio.create_task(self._local_loop(self.cfg, gen)),
                asyncio.create_task(self._watch_vpn(self.cfg, gen)),
            ]
            if self.cfg.host:
                tasks.append(asyncio.create_task(self._remote_loop(self.cfg, gen)))
            try:
                await self._reload.wait()
            finally:
                for task in tasks:
                    task.cancel()
                # a client closing its connection may take a moment; never wait for it forever
                await asyncio.wait(tasks, timeout=CANCEL_WAIT_S)

    async def _on_reload(self, _command: MqttBridgeReload) -> dict[str, Any]:
        self._reload.set()
        return {}

    def _link(self, gen: int, side: str, mqtt: aiomqtt.Client | None, error: str = "") -> None:
        """Record one side's connection (only for the current configuration)."""
        if gen != self.generation:
            return
        if side == "local":
            self.local = mqtt
        else:
            self.remote = mqtt
        self.side[side] = {"connected": mqtt is not None, "error": error}
        if mqtt is not None:
            self._vpn_sent.pop(side, None)
        self._status()

    def _status(self) -> None:
        cfg = self.cfg
        self.ctx.set_status(
            {
                "configured": bool(cfg and cfg.host),
                "remote_broker": f"{cfg.host}:{cfg.port}" if cfg and cfg.host else "",
                "tls": bool(cfg and cfg.ca_pem),
                "base_topic": cfg.base if cfg else "",
                "rows": len(cfg.mappings) if cfg else 0,
                "local": dict(self.side["local"]),
                "remote": dict(self.side["remote"]),
                **self.counts,
            }
        )

    # --- connections ---------------------------------------------------------------------------
    async def _local_loop(self, cfg: BridgeConfig, gen: int) -> None:
        backoff = client.Backoff()
        while True:
            try:
                async with client.local_client(f"wbm-bridge-{cfg.device_id}") as mqtt:
                    backoff.reset()
                    for m in cfg.mappings:
                        if m.direction in (topics.OUT, topics.BOTH):
                            await mqtt.subscribe(m.local, options=OPTIONS)
                    await mqtt.publish(f"{topics.LOCAL_ROOT}/config", cfg.config_payload(), qos=1, retain=True)
                    self._link(gen, "local", mqtt)  # connected = subscribed: forwarding works from now on
                    async for message in mqtt.messages:
                        await self._from_local(cfg, message)
            except aiomqtt.MqttError as exc:
                client.raise_if_cancelled()
                if gen != self.generation:
                    return  # an earlier configuration's: never connect again
                self._link(gen, "local", None, client.explain(exc))
                await asyncio.sleep(backoff.next())
            finally:
                if gen == self.generation:
                    self.local = None

    async def _remote_loop(self, cfg: BridgeConfig, gen: int) -> None:
        backoff = client.Backoff()
        while True:
            try:
                remote = aiomqtt.Client(
                    cfg.host,
                    cfg.port,
                    username=cfg.username or None,
                    password=cfg.password or None,
                    identifier=f"wbm-{cfg.device_id}",
                    protocol=aiomqtt.ProtocolVersion.V5,
                    tls_context=remote_tls(cfg),
                    timeout=5,
                    keepalive=30,
                )
                async with remote as mqtt:
                    backoff.reset()
                    for m in cfg.mappings:
                        if m.direction in (topics.IN, topics.BOTH):
                            await mqtt.subscribe(m.remote, options=OPTIONS)
                    await mqtt.subscribe(f"{cfg.base}/{topics.COMMAND}", options=OPTIONS)
                    await mqtt.publish(f"{cfg.base}/config", cfg.config_payload(), qos=1, retain=True)
                    self._link(gen, "remote", mqtt)  # connected = subscribed: forwarding works from now on
                    async for message in mqtt.messages:
                        await self._from_remote(cfg, message)
            except (aiomqtt.MqttError, ssl.SSLError, OSError) as exc:
                client.raise_if_cancelled()
                if gen != self.generation:
                    return  # an earlier configuration's: never connect again
                self._link(gen, "remote", None, client.explain(exc))
                log.info("MQTT bridge: remote broker %s:%s: %s", cfg.host, cfg.port, exc)
                await asyncio.sleep(backoff.next())
            finally:
                if gen == self.generation:
                    self.remote = None

    # --- forwarding ----------------------------------------------------------------------------
    async def _from_local(self, cfg: BridgeConfig, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        for m in cfg.mappings:
            if m.direction in (topics.OUT, topics.BOTH) and m.matches_local(topic):
                await self._send(self.remote, m.to_remote(topic), message, "forwarded_out")

    async def _from_remote(self, cfg: BridgeConfig, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        if topic == f"{cfg.base}/{topics.COMMAND}":
            await self._command(
                bytes(message.payload)
                if isinstance(message.payload, bytes | bytearray)
                else str(message.payload).encode()
            )
            return
        for m in cfg.mappings:
            if m.direction in (topics.IN, topics.BOTH) and m.matches_remote(topic):
                await self._send(self.local, m.to_local(topic), message, "forwarded_in")

    async def _send(self, target: aiomqtt.Client | None, topic: str, message: aiomqtt.Message, counter: str) -> None:
        payload = message.payload if isinstance(message.payload, bytes | bytearray | str | int | float) else None
        if target is None:
            self.counts["dropped"] += 1
            return
        try:
            await target.publish(topic, payload, qos=0, retain=message.retain)
            self.counts[counter] += 1
        except aiomqtt.MqttError:
            self.counts["dropped"] += 1
        self._status()

    async def _command(self, payload: bytes) -> None:
        connect = parse_command(payload)
        if connect is None:
            log.info("MQTT bridge: ignored a command that is not a VPN command")
            return
        self.counts["commands"] += 1
        result = await self.ctx.execute(VpnRequest(connect=connect))
        if not result.get("ok"):
            log.warning("MQTT bridge: the OpenVPN agent refused the request: %s", result.get("error"))
        self._status()

    async def _watch_vpn(self, cfg: BridgeConfig, gen: int) -> None:
        """Publish ``VPN_Connection_State`` on both brokers whenever it changes (retained), and
        again every ``REPUBLISH_S``."""
        ticks = 0
        while gen == self.generation:
            snapshot = self.ctx.snapshot()
            payload = vpn_payload(snapshot.agent_state(VPN_AGENT) if snapshot else None)
            for side, target, topic in (
                ("local", self.local, f"{topics.LOCAL_ROOT}/VPN_Connection_State"),
                ("remote", self.remote, f"{cfg.base}/VPN_Connection_State"),
            ):
                if target is not None and self._vpn_sent.get(side) != payload:
                    try:
                        await target.publish(topic, payload, qos=0, retain=True)
                        self._vpn_sent[side] = payload
                    except Exception as exc:  # that side reconnects; the next round tries again
                        log.info("MQTT bridge: VPN_Connection_State not published (%s): %r", side, exc)
            ticks += 1
            if ticks * WATCH_S >= REPUBLISH_S:  # retained anyway; a late or lost publication heals itself
                ticks = 0
                self._vpn_sent.clear()
            await asyncio.sleep(WATCH_S)
