"""Network sections of System Control / Import/Export: system configuration (Ethernet, port
sharing, modem), WLAN and routing. Passwords and the SIM PIN are secrets: only in the file's
encrypted part; without them the stored ones stay (the services keep a blank secret).
Validated by a dry run of the network services (their checks, rolled back), written by them;
a change that can cut the user off runs the network's confirmation countdown as on the page."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from network import services
from network.models import EthernetSettings, ModemSettings, PortRule, Route, RouteOrigin, RouteState, WlanSettings
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section, dry_run

SECRETS = services.SECRET_FIELDS


def _values(obj: Any, fields: tuple[str, ...], *, secret: bool) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields if (f in SECRETS) == secret}


def _port_key(p: dict[str, Any] | PortRule) -> tuple[int, str, str]:
    if isinstance(p, PortRule):
        return (p.port, p.protocol, p.direction)
    return (int(p["port"]), str(p["protocol"]), str(p["direction"]))


# --- system configuration: Ethernet, port sharing, modem -------------------------------------
def system_export() -> dict[str, Any]:
    services.ports_ensure()
    return {
        "ethernet": _values(EthernetSettings.load(), services.ETH_FIELDS, secret=False),
        "ports": [
            {"port": p.port, "protocol": p.protocol, "direction": p.direction, "open": p.open}
            for p in PortRule.objects.order_by("port", "protocol", "direction")
        ],
        "modem": _values(ModemSettings.load(), services.MODEM_FIELDS, secret=False),
    }


def system_secrets() -> dict[str, Any]:
    return {"modem": _values(ModemSettings.load(), services.MODEM_FIELDS, secret=True)}


def system_apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    services.ethernet_update(data=dict(data["ethernet"]), actor=actor)
    wanted = {_port_key(p): bool(p.get("open", True)) for p in data.get("ports", [])}
    services.ports_ensure()
    stored = {_port_key(p): p for p in PortRule.objects.all()}
    for key, rule in stored.items():
        if key not in wanted and not rule.builtin:
            services.port_remove(pk=rule.pk, actor=actor)
    for key, is_open in wanted.items():
        found = stored.get(key)
        rule = (
            found
            if found is not None
            else services.port_add(port=key[0], protocol=key[1], direction=key[2], actor=actor)
        )
        if rule.open != is_open:
            services.port_set_open(pk=rule.pk, open=is_open, actor=actor)
    modem = {k: v for k, v in dict(data["modem"]).items() if k not in SECRETS}
    if secret is not None:
        modem.update({k: v for k, v in dict(secret.get("modem") or {}).items() if k in SECRETS})
    services.modem_update(data=modem, actor=actor)


# --- WLAN --------------------------------------------------------------------------------------
def wlan_export() -> dict[str, Any]:
    return {"wlan": _values(WlanSettings.load(), services.WLAN_FIELDS, secret=False)}


def wlan_secrets() -> dict[str, Any]:
    return {"wlan": _values(WlanSettings.load(), services.WLAN_FIELDS, secret=True)}


def wlan_apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    wlan = {k: v for k, v in dict(data["wlan"]).items() if k not in SECRETS}
    if secret is not None:
        wlan.update({k: v for k, v in dict(secret.get("wlan") or {}).items() if k in SECRETS})
    services.wlan_update(data=wlan, actor=actor)


# --- routing -------------------------------------------------------------------------------------
def _route(r: Route) -> dict[str, Any]:
    return {
        "network": f"{r.destination}/{r.prefix}",
        "gateway": r.gateway,
        "interface": r.interface,
        "metric": r.metric,
        "persistent": r.persistent,
    }


def routing_export() -> dict[str, Any]:
    manual = Route.objects.filter(origin=RouteOrigin.MANUAL, state=RouteState.ACTIVE).order_by("pk")
    return {"routes": [_route(r) for r in manual]}


def routing_apply(data: dict[str, Any], secret: dict[str, Any] | None, actor: Actor) -> None:
    wanted = [dict(r) for r in data["routes"]]
    active = list(Route.objects.filter(origin=RouteOrigin.MANUAL, state=RouteState.ACTIVE))
    for route in active:
        if _route(route) not in wanted:
            services.route_remove(pk=route.pk, persistently=True, actor=actor)
    have = [_route(r) for r in active]
    for values in wanted:
        if values not in have:
            services.route_add(data=values, actor=actor)


SECTIONS = [
    Section(
        key="system",
        title=gettext_lazy("System configuration (Ethernet, port sharing, modem)"),
        schema=1,
        edit_perm=Perm.NETWORK_EDIT,
        export=system_export,
        secrets=system_secrets,
        validated_by_apply=True,
        validate=lambda data, secret: dry_run(system_apply, data, secret),
        apply=system_apply,
        audit_prefixes=("network.ethernet.", "network.port.", "network.modem."),
        order=60,
    ),
    Section(
        key="wlan",
        title=gettext_lazy("WLAN"),
        schema=1,
        edit_perm=Perm.NETWORK_EDIT,
        export=wlan_export,
        secrets=wlan_secrets,
        validated_by_apply=True,
        validate=lambda data, secret: dry_run(wlan_apply, data, secret),
        apply=wlan_apply,
        audit_prefixes=("network.wlan.",),
        order=65,
    ),
    Section(
        key="routing",
        title=gettext_lazy("Routing"),
        schema=1,
        edit_perm=Perm.NETWORK_EDIT,
        export=routing_export,
        validated_by_apply=True,
        validate=lambda data, secret: dry_run(routing_apply, data, secret),
        apply=routing_apply,
        audit_prefixes=("network.route.",),
        order=70,
    ),
]
