"""Test data built through the models, with valid defaults and only what a test says overridden.

Plain typed functions (no factory library): each call makes new, unique rows and returns them
saved, after ``full_clean()``. A test names what matters to it and leaves the rest here::

    reader = make_configured_chargepoint(release_mode="whitelist", rfid_reader="self")
    runtime.call("sim.plug_in", cp=reader.pk, **vehicle_args(phases=1))
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Literal

from django.db.models import Max

from chargepoints.choices import HlcMode, MeterType, ModuleKind, ReleaseMode, RfidReaderType
from chargepoints.controller.commands import SimPlugIn
from chargepoints.models import MAX_POSITIONS, ChargePoint, ChargePointConfig, Station

# Unique across a whole test run, so rows never collide with each other or with the demo park
# (whose names are "P1-01" ..., device UIDs "d5ae6274...").
_serial = itertools.count(1)

DEMO_METER = MeterType.EEM_350  # what the demo park's charge points measure with
HLC_DEVICE = "CHARX SEC-3150"  # a device that supports ISO 15118
PLAIN_DEVICE = "CHARX SEC-3100"


def make_station(**overrides: Any) -> Station:
    """A new head module. The first station of the park is the server module, later ones clients."""
    n = next(_serial)
    values: dict[str, Any] = {
        "kind": ModuleKind.CLIENT if Station.objects.exists() else ModuleKind.SERVER,
        "hostname": f"ev3000-t{n}",
        "head_ip": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        "head_mac": f"A8:74:1D:{n // 65536 % 256:02X}:{n // 256 % 256:02X}:{n % 256:02X}",
        **overrides,
    }
    station = Station(**values)
    station.full_clean()
    station.save()
    return station


def make_chargepoint(station: Station | None = None, position: int | None = None, **overrides: Any) -> ChargePoint:
    """A charge point in factory default (no configuration): on a new station unless one is
    given, at the next free backplane position of that station unless one is given."""
    if station is None:
        station = make_station()
    if position is None:
        highest = station.chargepoints.aggregate(highest=Max("position"))["highest"] or 0
        if highest >= MAX_POSITIONS:
            raise ValueError(f"station {station.hostname} has no free position")
        position = highest + 1
    n = next(_serial)
    values: dict[str, Any] = {
        "device_uid": f"f00d{n:028x}",  # 32 hex digits, as the hardware reports them
        "device_name": PLAIN_DEVICE,
        "hardware_version": "1.2.0",
        "firmware_version": "1.8.3",
        **overrides,
    }
    chargepoint = ChargePoint(station=station, position=position, **values)
    chargepoint.full_clean()
    chargepoint.save()
    return chargepoint


def make_configured_chargepoint(
    *,
    release_mode: str = ReleaseMode.DASHBOARD,
    current_min_a: int = 6,
    current_max_a: int = 16,
    fallback_current_a: int = 6,
    fallback_time_s: int = 60,
    meter: bool = True,
    rfid_reader: ChargePoint | Literal["self"] | None = None,
    hlc_mode: str = HlcMode.DISABLED,
    name: str | None = None,
    station: Station | None = None,
    **config_overrides: Any,
) -> ChargePoint:
    """A new charge point with its ``ChargePointConfig`` (``chargepoint.config``).

    ``meter``: the demo park's meter type, or no energy measuring device. ``rfid_reader``: the
    charge point whose reader is used, ``"self"`` for its own (a CHARX RFID/NFC reader, as in the
    demo park). An ``hlc_mode`` other than disabled makes the device one that supports ISO 15118.
    Phases are the vehicle's, not the configuration's: see ``vehicle_args``.
    """
    hlc = hlc_mode != HlcMode.DISABLED
    chargepoint = make_chargepoint(station, supports_hlc=hlc, device_name=HLC_DEVICE if hlc else PLAIN_DEVICE)
    reader = chargepoint if rfid_reader == "self" else rfid_reader
    values: dict[str, Any] = {
        "name": name or f"CP-{next(_serial):03d}",
        "location": "Test bay",
        "controller_uid": chargepoint.device_uid,
        "release_mode": release_mode,
        "current_min_a": current_min_a,
        "current_max_a": current_max_a,
        "fallback_current_a": fallback_current_a,
        "fallback_time_s": fallback_time_s,
        "meter_type": DEMO_METER if meter else MeterType.NONE,
        "rfid_reader": reader,
        "hlc_mode": hlc_mode,
    }
    if reader is not None:
        values["rfid_reader_type"] = RfidReaderType.CHARX_RFID_NFC
    config = ChargePointConfig(chargepoint=chargepoint, **{**values, **config_overrides})
    config.full_clean()
    config.save()
    return chargepoint


_PLUG_IN_ARGS = frozenset(f.name for f in dataclasses.fields(SimPlugIn)) - {"cp"}


def vehicle_args(phases: int = 3, max_current_a: float = 16, **kw: Any) -> dict[str, Any]:
    """The arguments of "sim.plug_in" for a vehicle (without ``cp``):
    ``runtime.call("sim.plug_in", cp=pk, **vehicle_args(phases=1))``."""
    args = {"phases": phases, "max_current_a": float(max_current_a), **kw}
    unknown = set(args) - _PLUG_IN_ARGS
    if unknown:
        raise TypeError(f"sim.plug_in takes no {sorted(unknown)}; it takes {sorted(_PLUG_IN_ARGS)}")
    return args
