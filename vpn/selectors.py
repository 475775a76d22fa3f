"""Reads of the OpenVPN page, the API and the agent."""

from __future__ import annotations

import time
from typing import Any

from vpn.models import VpnSettings
from wbm.runtime.bus import read_snapshot

AGENT = "openvpn"  # the OpenVPN agent's name (vpn.agent)


def vpn_settings_get() -> VpnSettings:
    """The stored settings, or the defaults (unsaved) when nothing was ever stored."""
    return VpnSettings.objects.filter(pk=VpnSettings.SINGLETON_PK).first() or VpnSettings(pk=VpnSettings.SINGLETON_PK)


def vpn_status() -> dict[str, Any]:
    """The live status the OpenVPN agent publishes (VPN-S1..S4); "not connected" without it."""
    snapshot = read_snapshot()
    state = (snapshot.agent_state(AGENT) if snapshot is not None else None) or {}
    since = state.get("connected_since")
    since = float(since) if isinstance(since, int | float) and not isinstance(since, bool) else None
    return {
        "runtime_up": snapshot is not None,
        "agent_running": bool(state),
        "connected": bool(state.get("connected")),
        "server_ip": str(state.get("server_ip") or ""),
        "private_ip": str(state.get("private_ip") or ""),
        "connected_since": since,
        "connected_for_s": max(0, int(time.time() - since)) if since else None,
        "requested": bool(state.get("requested")),
        "last_error": str(state.get("last_error") or ""),
    }
