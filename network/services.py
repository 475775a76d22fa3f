"""The one write path of the Network pages: validate, write in one transaction, record, then
apply through the OS interface (``network.osbackend``) and tell the network agent on commit.

A change that can cut the user off (ETH0 address, gateway or DHCP; the WLAN mode; closing 80,
443, 5555 or the port the page is served on; removing a default route) is applied with a
countdown: a ``PendingChange`` keeps the settings from before with a deadline, and unless
``pending_confirm`` is called in time, ``pending_expire`` (run by the network agent, so it
survives a restart) puts them back.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from network import osbackend, validation
from network.commands import NetworkReload
from network.models import (
    EthernetSettings,
    ModemSettings,
    PendingChange,
    PortRule,
    Route,
    RouteOrigin,
    RouteState,
    WlanSettings,
)
from network.validation import Invalid
from wbm.audit import Actor, record_change
from wbm.runtime import commands

ETH_FIELDS = ("dhcp", "no_gateway", "ip", "netmask", "gateway", "hostname", "dns")
ETH_RISKY = ("dhcp", "no_gateway", "ip", "netmask", "gateway")
WLAN_FIELDS = (
    "enabled", "mode", "ap_ssid", "ap_password", "ap_encryption", "ap_network", "ap_ip", "dhcp_from",
    "dhcp_to", "band", "country", "timeout_s", "infra_ssid", "infra_password", "infra_country",
)  # fmt: skip
MODEM_FIELDS = (
    "service_active",
    "sim_pin",
    "apn",
    "use_credentials",
    "user",
    "password",
    "default_route",
    "prefer_modem",
)
SECRET_FIELDS = frozenset({"ap_password", "infra_password", "password", "sim_pin"})
# the manual's twelve incoming ports (M:2463-2496); 5353 (mDNS) is UDP, the others TCP
BUILTIN_PORTS: tuple[tuple[int, str, str], ...] = (
    (22, "tcp", "SSH Access"),
    (80, "tcp", "HTTP Access"),
    (81, "tcp", "Custom Website"),
    (443, "tcp", "HTTPS Access"),
    (502, "tcp", "MODBUS Server (for Modbus/TCP requests)"),
    (1603, "tcp", "Frame data for load management"),
    (1883, "tcp", "MQTT"),
    (2106, "tcp", "OCPP Remote"),
    (5000, "tcp", "Web Server"),
    (5353, "udp", "mDNS (multicast DNS)"),
    (5555, "tcp", "Jupicore accesses"),
    (9502, "tcp", "MODBUS Client Configuration"),
)
LOCKOUT_PORTS = frozenset({80, 443, 5555})
DHCP_LEASE_NET = "192.168.1.0/24"  # the simulated site network's DHCP lease (osbackend)


class NotFound(Exception):
    """No such object; nothing was written."""


class Refused(Exception):
    """The request is understood but not allowed (e.g. removing a port of the manual's list)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save did: ``changed``; ``pending``: the change waits for its confirmation (it can
    cut the user off) and is undone at ``pending.deadline`` unless confirmed."""

    changed: bool
    pending: PendingChange | None = None


def _redact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_FIELDS and v else v) for k, v in values.items()}


def _values(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def confirm_seconds() -> int:
    return int(getattr(settings, "WBM_NETWORK_CONFIRM_S", 90))


# --- reading ---------------------------------------------------------------------------------------
def ports_ensure() -> None:
    """The manual's twelve ports exist (open) — once, on first use."""
    for port, proto, purpose in BUILTIN_PORTS:
        PortRule.objects.get_or_create(
            port=port, protocol=proto, direction="in", defaults={"builtin": True, "purpose": purpose, "open": True}
        )


def routes_ensure() -> None:
    """The system's routes are in the table (before the first save or start of the agent)."""
    if not Route.objects.filter(origin=RouteOrigin.SYSTEM).exists():
        with transaction.atomic():
            system_routes_sync()


def eth_spec(eth: EthernetSettings) -> osbackend.EthernetConfig:
    return osbackend.EthernetConfig(**{**_values(eth, ETH_FIELDS), "dns": tuple(eth.dns)})


def wlan_spec(wlan: WlanSettings) -> osbackend.WlanConfig:
    return osbackend.WlanConfig(**_values(wlan, WLAN_FIELDS))


def modem_spec(modem: ModemSettings) -> osbackend.ModemConfig:
    return osbackend.ModemConfig(**_values(modem, MODEM_FIELDS))


def route_specs() -> list[osbackend.RouteSpec]:
    return [
        osbackend.RouteSpec(
            destination=r.destination,
            prefix=r.prefix,
            gateway=r.gateway,
            interface=r.interface,
            metric=r.metric,
            persistent=r.persistent and r.state != RouteState.REMOVED,
            active=r.state == RouteState.ACTIVE,
            system=r.origin == RouteOrigin.SYSTEM,
        )
        for r in Route.objects.all()
    ]


def port_specs() -> list[osbackend.PortSpec]:
    return [
        osbackend.PortSpec(port=p.port, protocol=p.protocol, direction=p.direction, open=p.open, purpose=p.purpose)
        for p in PortRule.objects.all()
    ]


def wlan_ap_network(wlan: WlanSettings | Mapping[str, Any]) -> ipaddress.IPv4Network | None:
    get = wlan.get if isinstance(wlan, Mapping) else lambda k: getattr(wlan, k)
    if not get("enabled") or get("mode") != "ap":
        return None
    iface = validation.wlan_network(get("ap_network"))
    return iface.network if iface else None


# --- applying ------------------------------------------------------------------------------------
def apply_all(*, modem: bool = False) -> None:
    """Render every artefact from the stored settings (idempotent)."""
    ports_ensure()
    system = osbackend.backend()
    routes = route_specs()
    system.apply_interfaces(eth_spec(EthernetSettings.load()), wlan_spec(WlanSettings.load()), routes)
    system.apply_firewall(port_specs())
    system.apply_routes(routes)
    if modem:
        system.apply_modem(modem_spec(ModemSettings.load()))


def _after_commit(*, modem: bool = False) -> None:
    transaction.on_commit(lambda: apply_all(modem=modem))
    commands.on_commit(NetworkReload())


def system_routes_sync() -> None:
    """Keep the system rows of the routing table in step with the interfaces: the connected
    networks of eth0 and wlan0, eth0's default route, the modem's. A row the user removed keeps
    its state; rows no interface gives any more are dropped."""
    eth, wlan, modem = EthernetSettings.load(), WlanSettings.load(), ModemSettings.load()
    wanted: list[tuple[str, int, str, str, int]] = []
    if eth.dhcp:
        lease = ipaddress.IPv4Network(DHCP_LEASE_NET)
        wanted.append((str(lease.network_address), lease.prefixlen, "", "eth0", 0))
        if not eth.no_gateway:
            wanted.append(("0.0.0.0", 0, str(lease.network_address + 1), "eth0", 100))
    elif (net := validation.eth0_network(_values(eth, ETH_FIELDS))) is not None:
        wanted.append((str(net.network_address), net.prefixlen, "", "eth0", 0))
        if eth.gateway:
            wanted.append(("0.0.0.0", 0, eth.gateway, "eth0", 100))
    if (ap := wlan_ap_network(wlan)) is not None:
        wanted.append((str(ap.network_address), ap.prefixlen, "", "wlan0", 0))
    if modem.service_active and modem.default_route:
        wanted.append(("0.0.0.0", 0, "", "ppp0", 50 if modem.prefer_modem else 700))
    keep: set[int] = set()
    for dest, prefix, gateway, iface, metric in wanted:
        row, _created = Route.objects.get_or_create(
            origin=RouteOrigin.SYSTEM,
            destination=dest,
            prefix=prefix,
            gateway=gateway,
            interface=iface,
            metric=metric,
            defaults={"persistent": True},
        )
        keep.add(row.pk)
    Route.objects.filter(origin=RouteOrigin.SYSTEM).exclude(pk__in=keep).delete()


# --- the countdown ------------------------------------------------------------------------------------
def _snapshot(kind: str) -> Any:
    if kind == "ethernet":
        return _values(EthernetSettings.load(), ETH_FIELDS)
    if kind == "wlan":
        return _values(WlanSettings.load(), WLAN_FIELDS)
    if kind == "ports":
        return [
            model_to_dict(p, fields=["id", "port", "protocol", "direction", "open", "purpose"]) | {"builtin": p.builtin}
            for p in PortRule.objects.all()
        ]
    if kind == "routes":
        return [model_to_dict(r) for r in Route.objects.all()]
    raise ValueError(kind)


def _restore(kind: str, previous: Any) -> None:
    if kind == "ethernet":
        EthernetSettings.objects.filter(pk=EthernetSettings.SINGLETON_PK).update(**previous)
    elif kind == "wlan":
        WlanSettings.objects.filter(pk=WlanSettings.SINGLETON_PK).update(**previous)
    elif kind == "ports":
        PortRule.objects.all().delete()
        PortRule.objects.bulk_create([PortRule(**row) for row in previous])
    elif kind == "routes":
        Route.objects.all().delete()
        Route.objects.bulk_create([Route(**row) for row in previous])
    if kind in ("ethernet", "wlan"):
        system_routes_sync()


def _hold(kind: str, previous: Any, reason: str, actor: Actor) -> PendingChange:
    """Start (or restart) the countdown of ``kind``; an older pending change of the same kind
    keeps its ``previous`` (the last confirmed state is what comes back)."""
    deadline = timezone.now() + timedelta(seconds=confirm_seconds())
    pending = PendingChange.objects.select_for_update().filter(kind=kind).first()
    if pending is None:
        return PendingChange.objects.create(
            kind=kind, previous=previous, reason=reason[:200], deadline=deadline, created_by=actor.username
        )
    pending.deadline, pending.reason = deadline, reason[:200]
    pending.save(update_fields=["deadline", "reason"])
    return pending


def pending_list() -> list[PendingChange]:
    return list(PendingChange.objects.all())


def pending_confirm(*, actor: Actor) -> int:
    """Keep every change waiting for confirmation; returns how many there were."""
    with transaction.atomic():
        pending = list(PendingChange.objects.select_for_update())
        if not pending:
            return 0
        PendingChange.objects.filter(pk__in=[p.pk for p in pending]).delete()
        record_change(actor=actor, action="network.change.confirm", after={"kinds": [p.kind for p in pending]})
        commands.on_commit(NetworkReload())
    return len(pending)


def pending_expire(*, now: datetime | None = None) -> list[str]:
    """Put back the settings of every change whose deadline passed unconfirmed and apply them;
    returns the kinds restored."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(PendingChange.objects.select_for_update().filter(deadline__lte=now))
        for change in expired:
            _restore(change.kind, change.previous)
            record_change(
                actor=Actor.system(),
                action=f"network.{change.kind}.restore",
                before=None,
                after={"reason": "not confirmed in time"},
            )
        if not expired:
            return []
        PendingChange.objects.filter(pk__in=[c.pk for c in expired]).delete()
        transaction.on_commit(lambda: apply_all(modem=False))
    return [c.kind for c in expired]


# --- Ethernet ---------------------------------------------------------------------------------------
def ethernet_update(*, data: Mapping[str, Any], actor: Actor) -> Saved:
    """Change ETH0 (any of ``ETH_FIELDS``; the others keep theirs), all or nothing."""
    with transaction.atomic():
        eth = EthernetSettings.objects.select_for_update().get_or_create(pk=EthernetSettings.SINGLETON_PK)[0]
        before = _values(eth, ETH_FIELDS)
        after = {**before, **{k: v for k, v in data.items() if k in ETH_FIELDS}}
        # with DHCP the static fields are kept for later but not checked
        errors = validation.validate_ethernet(after, wlan_net=wlan_ap_network(WlanSettings.load()))
        if errors:
            raise Invalid(errors)
        changed = sorted(k for k in ETH_FIELDS if after[k] != before[k])
        if not changed:
            return Saved(changed=False)
        previous = _snapshot("ethernet")
        for k in changed:
            setattr(eth, k, after[k])
        eth.revision += 1
        eth.save()
        system_routes_sync()
        record_change(
            actor=actor,
            action="network.ethernet.update",
            obj=eth,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        pending = _hold("ethernet", previous, "ethernet", actor) if set(changed) & set(ETH_RISKY) else None
        _after_commit()
    return Saved(changed=True, pending=pending)


# --- WLAN ----------------------------------------------------------------------------------------------
def wlan_update(*, data: Mapping[str, Any], actor: Actor) -> Saved:
    """Change the WLAN (any of ``WLAN_FIELDS``). A blank password field keeps the stored one."""
    with transaction.atomic():
        wlan = WlanSettings.objects.select_for_update().get_or_create(pk=WlanSettings.SINGLETON_PK)[0]
        before = _values(wlan, WLAN_FIELDS)
        incoming = {k: v for k, v in data.items() if k in WLAN_FIELDS}
        for secret in ("ap_password", "infra_password"):
            if (
                incoming.get(secret) == ""
                and before[secret]
                and incoming.get("infra_ssid", before["infra_ssid"]) == before["infra_ssid"]
            ):
                incoming.pop(secret)
        after = {**before, **incoming}
        errors = validation.validate_wlan(
            after, eth_net=validation.eth0_network(_values(EthernetSettings.load(), ETH_FIELDS))
        )
        if errors:
            raise Invalid(errors)
        changed = sorted(k for k in WLAN_FIELDS if after[k] != before[k])
        if not changed:
            return Saved(changed=False)
        previous = _snapshot("wlan")
        for k in changed:
            setattr(wlan, k, after[k])
        wlan.revision += 1
        wlan.save()
        system_routes_sync()
        record_change(
            actor=actor,
            action="network.wlan.update",
            obj=wlan,
            before=_redact({k: before[k] for k in changed}),
            after=_redact({k: after[k] for k in changed}),
        )
        risky = bool({"enabled", "mode"} & set(changed)) and before["enabled"]
        pending = _hold("wlan", previous, "wlan", actor) if risky else None
        _after_commit()
    return Saved(changed=True, pending=pending)


def wlan_scan(*, refresh: bool = False) -> list[osbackend.ScannedNetwork]:
    return osbackend.backend().wlan_scan(refresh=refresh)


# --- Port sharing ----------------------------------------------------------------------------------------
def port_locks_out(port: PortRule, served_port: int | None) -> bool:
    return (
        port.direction == "in" and port.protocol == "tcp" and (port.port in LOCKOUT_PORTS or port.port == served_port)
    )


def port_add(*, port: Any, protocol: Any, direction: Any, actor: Actor) -> PortRule:
    """Add a port of one's own (open)."""
    errors = validation.validate_port({"port": port, "protocol": protocol, "direction": direction})
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        ports_ensure()
        if PortRule.objects.filter(port=port, protocol=protocol, direction=direction).exists():
            raise Invalid({"port": [_("This port is in the list already.")]})
        rule = PortRule.objects.create(port=port, protocol=protocol, direction=direction, open=True)
        record_change(
            actor=actor,
            action="network.port.add",
            obj=rule,
            after={"port": port, "protocol": protocol, "direction": direction},
        )
        _after_commit()
    return rule


def port_set_open(*, pk: int, open: bool, actor: Actor, served_port: int | None = None) -> Saved:
    """Open or close a port; closing one the page needs (80, 443, 5555, the served port) runs
    the countdown."""
    with transaction.atomic():
        ports_ensure()
        rule = PortRule.objects.select_for_update().filter(pk=pk).first()
        if rule is None:
            raise NotFound
        if rule.open == open:
            return Saved(changed=False)
        previous = _snapshot("ports")
        rule.open = open
        rule.save(update_fields=["open"])
        record_change(
            actor=actor, action="network.port.update", obj=rule, before={"open": not open}, after={"open": open}
        )
        pending = (
            _hold("ports", previous, f"port {rule.port}", actor)
            if not open and port_locks_out(rule, served_port)
            else None
        )
        _after_commit()
    return Saved(changed=True, pending=pending)


def port_remove(*, pk: int, actor: Actor, served_port: int | None = None) -> Saved:
    """Remove a port one added (the manual's twelve can only be closed)."""
    with transaction.atomic():
        rule = PortRule.objects.select_for_update().filter(pk=pk).first()
        if rule is None:
            raise NotFound
        if rule.builtin:
            raise Refused(_("The ports of the manual's list cannot be removed, only closed."))
        previous = _snapshot("ports")
        record_change(
            actor=actor,
            action="network.port.remove",
            obj=rule,
            before={"port": rule.port, "protocol": rule.protocol, "direction": rule.direction},
        )
        risky = rule.open and port_locks_out(rule, served_port)
        rule.delete()
        pending = _hold("ports", previous, "port", actor) if risky else None
        _after_commit()
    return Saved(changed=True, pending=pending)


# --- Modem ----------------------------------------------------------------------------------------
def modem_update(*, data: Mapping[str, Any], actor: Actor) -> Saved:
    """Change the modem configuration. A blank PIN or password field keeps the stored one."""
    with transaction.atomic():
        modem = ModemSettings.objects.select_for_update().get_or_create(pk=ModemSettings.SINGLETON_PK)[0]
        before = _values(modem, MODEM_FIELDS)
        incoming = {k: v for k, v in data.items() if k in MODEM_FIELDS}
        for secret in ("sim_pin", "password"):
            if incoming.get(secret) == "" and before[secret]:
                incoming.pop(secret)
        after = {**before, **incoming}
        errors = validation.validate_modem(after)
        if errors:
            raise Invalid(errors)
        changed = sorted(k for k in MODEM_FIELDS if after[k] != before[k])
        if not changed:
            return Saved(changed=False)
        for k in changed:
            setattr(modem, k, after[k])
        modem.revision += 1
        modem.save()
        system_routes_sync()
        record_change(
            actor=actor,
            action="network.modem.update",
            obj=modem,
            before=_redact({k: before[k] for k in changed}),
            after=_redact({k: after[k] for k in changed}),
        )
        _after_commit(modem=True)
    return Saved(changed=True)


def modem_unlock(*, pin: Any, puk: Any = "", actor: Actor) -> osbackend.UnlockResult:
    """Enter the SIM PIN (or the PUK and a new PIN) once, as the user asked; never repeated."""
    errors = validation.validate_sim_code(pin, puk)
    if errors:
        raise Invalid(errors)
    result = osbackend.backend().modem_unlock(pin, puk or "", automatic=False)
    with transaction.atomic():
        if result.ok:  # the PIN that works is the one the modem uses from now on
            ModemSettings.objects.get_or_create(pk=ModemSettings.SINGLETON_PK)
            ModemSettings.objects.filter(pk=ModemSettings.SINGLETON_PK).update(sim_pin=pin)
        record_change(
            actor=actor, action="network.modem.unlock", after={"ok": result.ok, "sim": result.sim, "puk": bool(puk)}
        )
    return result


def modem_restart(*, actor: Actor) -> bool:
    """Restart the modem service (its agent alone). False: the runtime is not running."""
    record_change(actor=actor, action="network.modem.restart")
    try:
        commands.call(commands.AgentRestart(agent="modem"))
    except (commands.RuntimeUnavailable, commands.CommandRejected):
        return False
    return True


def modem_test(*, host: Any, actor: Actor) -> osbackend.PingResult:
    """Ping ``host`` (an IPv4 address or a host name, validated) over the modem."""
    if problem := validation.host_problem(host):
        raise Invalid({"host": [problem]})
    record_change(actor=actor, action="network.modem.test", after={"host": host})
    return osbackend.backend().modem_ping(host)


# --- Routing table ----------------------------------------------------------------------------------
def route_add(*, data: Mapping[str, Any], actor: Actor) -> Route:
    errors = validation.validate_route(data)
    if errors:
        raise Invalid(errors)
    net = validation.parse_cidr(data["network"])
    assert net is not None
    with transaction.atomic():
        route = Route.objects.create(
            origin=RouteOrigin.MANUAL,
            destination=str(net.network_address),
            prefix=net.prefixlen,
            gateway=data.get("gateway") or "",
            interface=data["interface"],
            metric=data["metric"],
            persistent=bool(data.get("persistent")),
        )
        record_change(
            actor=actor,
            action="network.route.add",
            obj=route,
            after={"route": str(route), "persistent": route.persistent},
        )
        _after_commit()
    return route


def route_remove(*, pk: int, persistently: bool, actor: Actor) -> Saved:
    """Remove a route; it stays listed for reactivation. ``persistently``: also after a restart
    (a persistent route is always removed persistently). Removing a default route runs the
    countdown."""
    with transaction.atomic():
        route = Route.objects.select_for_update().filter(pk=pk).first()
        if route is None:
            raise NotFound
        if route.state != RouteState.ACTIVE:
            return Saved(changed=False)
        previous = _snapshot("routes")
        route.state = RouteState.REMOVED if persistently or route.persistent else RouteState.REMOVED_UNTIL_RESTART
        route.save(update_fields=["state"])
        record_change(
            actor=actor, action="network.route.remove", obj=route, after={"route": str(route), "state": route.state}
        )
        pending = _hold("routes", previous, "default route", actor) if route.prefix == 0 else None
        _after_commit()
    return Saved(changed=True, pending=pending)


def route_reactivate(*, pk: int, actor: Actor) -> Saved:
    with transaction.atomic():
        route = Route.objects.select_for_update().filter(pk=pk).first()
        if route is None:
            raise NotFound
        if route.state == RouteState.ACTIVE:
            return Saved(changed=False)
        route.state = RouteState.ACTIVE
        route.save(update_fields=["state"])
        record_change(actor=actor, action="network.route.reactivate", obj=route, after={"route": str(route)})
        _after_commit()
    return Saved(changed=True)


def routes_after_restart() -> None:
    """At a start of the controller: routes removed "until restart" are back, and manual routes
    that were not persistent are gone (as the kernel forgot them)."""
    with transaction.atomic():
        Route.objects.filter(state=RouteState.REMOVED_UNTIL_RESTART).update(state=RouteState.ACTIVE)
        Route.objects.filter(origin=RouteOrigin.MANUAL, persistent=False).delete()
        system_routes_sync()
        _after_commit()
