"""The rules of the load management configuration, one place for the page, the API and the
service (which calls ``validate`` before it writes anything)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from loadmgmt.choices import MeterConnection, Strategy, UpstreamMeterType
from loadmgmt.models import FUSE_MAX_A, THRESHOLD_MAX_A

# 192.168.4.x: the internal server–client network; 192.168.5.x: the USB-C connection (the
# manual's rule for the Ethernet address, which holds for any device the controller must reach)
RESERVED_NETWORKS = (ipaddress.ip_network("192.168.4.0/24"), ipaddress.ip_network("192.168.5.0/24"))
FIELDS = (
    "park_name",
    "fuse_a",
    "threshold_a",
    "meter_connection",
    "meter_ip",
    "meter_type",
    "rs485_chargepoint",
    "higher_fuse_a",
    "strategy",
    "chargepoints",
)


@dataclass(frozen=True, slots=True)
class ParkPoint:
    """What the rules need of one charge point of the park."""

    id: int
    name: str
    configured: bool
    min_a: int
    meter_type: str  # "" without an energy measuring device


@dataclass
class Checked:
    """The values as they will be stored (what does not apply reset) and the errors per field."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(value)


def check_ip(raw: str) -> str | None:
    """The error for an upstream meter address, or None when it is fine."""
    try:
        address = ipaddress.IPv4Address(raw.strip())
    except ValueError:
        return _("Enter an IPv4 address, e.g. 192.168.1.20.")
    if any(address in net for net in RESERVED_NETWORKS):
        return _(
            "Addresses in 192.168.4.x and 192.168.5.x are reserved for the internal server–client network "
            "and the USB-C connection; choose an address in the measuring device's own network."
        )
    # loopback stays allowed: a meter simulator or Modbus gateway on the controller itself
    if address.is_multicast or address.is_unspecified or address == ipaddress.IPv4Address("255.255.255.255"):
        return _("Enter the address of one device (not a multicast or broadcast address).")
    return None


def validate(values: Mapping[str, Any], park: Sequence[ParkPoint]) -> Checked:
    """Check a whole configuration against the park; values that do not apply are reset
    (the IP address and device type without TCP/IP, the controller without RS-485, the
    higher-level fuse without a measuring device)."""
    by_id = {p.id: p for p in park}
    out = Checked(values={k: values.get(k) for k in FIELDS})
    v = out.values
    v["park_name"] = str(v["park_name"] or "").strip()
    if len(v["park_name"]) > 80:
        out.add("park_name", _("At most 80 characters."))
    # assigned charge points
    ids: list[int] = []
    for raw in v["chargepoints"] or []:
        try:
            cp = _int(raw)
        except ValueError:
            cp = None
        if cp is None or cp not in by_id:
            out.add("chargepoints", _("There is no charging point %(id)s.") % {"id": raw})
        elif not by_id[cp].configured:
            out.add("chargepoints", _("%(name)s is not configured; configure it first.") % {"name": by_id[cp].name})
        elif cp not in ids:
            ids.append(cp)
    v["chargepoints"] = sorted(ids)
    min_largest = max((by_id[cp].min_a for cp in ids), default=0)
    # strategy
    if v["strategy"] not in Strategy.values:
        out.add("strategy", _("Choose a load strategy from the list."))
    # fuses and threshold
    for name in ("fuse_a", "threshold_a", "higher_fuse_a"):
        try:
            v[name] = _int(v[name])
        except ValueError:
            v[name] = None
            out.add(name, _("Enter a whole number of amperes."))
    fuse = v["fuse_a"]
    if fuse is None:
        if "fuse_a" not in out.errors:
            out.add("fuse_a", _("Enter the fuse value of the load circuit."))
    else:
        _check_fuse(out, "fuse_a", fuse, min_largest)
    threshold = v["threshold_a"]
    if threshold is None:
        if "threshold_a" not in out.errors:
            out.add("threshold_a", _("Enter the threshold in amperes."))
    elif not 1 <= threshold <= THRESHOLD_MAX_A:
        out.add(
            "threshold_a",
            _("The threshold must be between %(low)s A and %(high)s A.") % {"low": 1, "high": THRESHOLD_MAX_A},
        )
    # the higher-level measuring device
    connection = v["meter_connection"] or MeterConnection.NONE
    if connection not in MeterConnection.values:
        out.add("meter_connection", _("Choose a connection type from the list."))
        connection = MeterConnection.NONE
    v["meter_connection"] = connection
    if connection == MeterConnection.TCP:
        ip = str(v["meter_ip"] or "").strip()
        if not ip:
            out.add("meter_ip", _("Enter the IP address of the measuring device."))
        elif (error := check_ip(ip)) is not None:
            out.add("meter_ip", error)
        v["meter_ip"] = ip or None
        if v["meter_type"] not in UpstreamMeterType.values:
            out.add("meter_type", _("Choose the energy measuring device type."))
    else:
        v["meter_ip"] = None
        v["meter_type"] = ""
    if connection == MeterConnection.RS485:
        try:
            rs485 = _int(v["rs485_chargepoint"])
        except ValueError:
            rs485 = None
        point = by_id.get(rs485) if rs485 is not None else None
        if point is None:
            out.add("rs485_chargepoint", _("Choose the charging point the measuring device is connected to."))
        elif not point.configured or not point.meter_type:
            out.add(
                "rs485_chargepoint",
                _(
                    "%(name)s has no energy measuring device configured. The higher-level device on its "
                    "RS-485 interface must be of the same type as that charging point's meter."
                )
                % {"name": point.name},
            )
        v["rs485_chargepoint"] = rs485
    else:
        v["rs485_chargepoint"] = None
    if connection == MeterConnection.NONE:
        v["higher_fuse_a"] = None
    elif v["higher_fuse_a"] is None:
        if "higher_fuse_a" not in out.errors:
            out.add("higher_fuse_a", _("Enter the fuse value of the feed-in (monitored by the measuring device)."))
    else:
        higher = v["higher_fuse_a"]
        _check_fuse(out, "higher_fuse_a", higher, min_largest)
        if fuse is not None and 0 < higher < fuse and "higher_fuse_a" not in out.errors:
            out.add(
                "higher_fuse_a",
                _(
                    "The feed-in fuse also protects the load circuit, so it cannot be smaller than the load "
                    "circuit fuse (%(fuse)s A)."
                )
                % {"fuse": fuse},
            )
    return out


def _check_fuse(out: Checked, name: str, amps: int, min_largest: int) -> None:
    if amps <= 0:
        out.add(name, _("A fuse value must be at least 1 A."))
    elif amps > FUSE_MAX_A:
        out.add(name, _("A fuse value can be at most %(max)s A.") % {"max": FUSE_MAX_A})
    elif amps < min_largest:
        out.add(
            name,
            _(
                "The fuse value must be at least the minimum charging current of each assigned charging point "
                "(up to %(min)s A), or that charging point could never charge."
            )
            % {"min": min_largest},
        )


def shortfall_note(fuse_a: int, min_sum: int) -> str:
    """Not an error (the manual's rule for a busy park): the note the page shows when the
    minimum currents of all assigned points do not fit the fuse at once."""
    if fuse_a >= min_sum:
        return ""
    return _(
        "The minimum charging currents of the assigned charging points add up to %(sum)s A, more than the "
        "load circuit fuse (%(fuse)s A). When all of them charge at once, load management pauses the vehicles "
        "that have charged longest, and lets them charge again at a later redistribution."
    ) % {"sum": min_sum, "fuse": fuse_a}
