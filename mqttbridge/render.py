"""The Mosquitto bridge configuration a Linux controller would include in its broker's
``mosquitto.conf`` (``connection``, ``address``, credentials, TLS with the uploaded CA, one
``topic`` line per forwarding row and for the bridge's own topics), rendered from values the
services validated: no whitespace, quotes or control characters can reach it (``topics``,
``services``)."""

from __future__ import annotations

from pathlib import Path

from mqttbridge import topics
from mqttbridge.selectors import BridgeConfig

EMPTY = '""'  # Mosquitto's empty topic pattern or prefix


def bridge_conf(cfg: BridgeConfig, *, ca_file: Path | None) -> str:
    """The ``connection`` section; empty when no broker is configured."""
    if not cfg.host:
        return "# MQTT bridge: no remote broker configured\n"
    lines = [
        "# MQTT bridge rendered by the WBM: do not edit",
        f"connection wbm-bridge-{cfg.device_id}",
        f"address {cfg.host}:{cfg.port}",
        f"remote_clientid wbm-{cfg.device_id}",
        "bridge_protocol_version mqttv311",
        "cleansession true",
        "try_private false",
        "notifications false",
        "restart_timeout 2 30",
    ]
    if cfg.username:
        lines.append(f"remote_username {cfg.username}")
    if cfg.password:
        lines.append(f"remote_password {cfg.password}")
    if ca_file is not None:
        lines += [f"bridge_cafile {ca_file}", "bridge_insecure false"]
    direction = {topics.OUT: "out", topics.IN: "in", topics.BOTH: "both"}
    for m in cfg.mappings:
        pattern, local = m.pattern or EMPTY, m.local_prefix or EMPTY
        lines.append(f"topic {pattern} {direction[m.direction]} 0 {local} {m.remote_prefix}")
    for name in topics.BRIDGE_TOPICS:
        lines.append(f'topic "" out 1 {topics.LOCAL_ROOT}/{name} {cfg.base}/{name}')
    lines.append(f'topic "" in 1 {topics.LOCAL_ROOT}/bridge/{topics.COMMAND} {cfg.base}/{topics.COMMAND}')
    return "\n".join(lines) + "\n"
