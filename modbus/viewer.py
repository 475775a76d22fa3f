"""The register map viewer of the Modbus page: the status and control block X232–X308 of one
charge point as a Modbus client reads it now, word by word and decoded.

The words come from the register map itself (``modbus.registers.RegisterView``, M1's), read
against the live snapshot, so the page shows exactly what a client would get; this module only
names and decodes them for people. What is not live (the configuration, the station block, the
effective start address) is read once when the page or its socket opens (``viewer_source``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from modbus import registers
from wbm.runtime.snapshot import ParkSnapshot

FIRST_OFFSET = 232  # X232: the status block
LAST_OFFSET = 308  # X308: the end of the control block
COUNT = LAST_OFFSET - FIRST_OFFSET + 1  # 77 words: one request (FC03 reads up to 125)


@dataclass(frozen=True, slots=True)
class RegisterDef:
    offset: int  # from the start address X
    words: int
    kind: str  # u16 u32 s32 u64 s64 ascii bits16 bits32 iec timer (u16, 65535 = off)
    name: str | Promise
    unit: str = ""


REGISTERS: tuple[RegisterDef, ...] = (
    RegisterDef(232, 2, "u32", gettext_lazy("Voltage L1"), "mV"),
    RegisterDef(234, 2, "u32", gettext_lazy("Voltage L2"), "mV"),
    RegisterDef(236, 2, "u32", gettext_lazy("Voltage L3"), "mV"),
    RegisterDef(238, 2, "s32", gettext_lazy("Current L1"), "mA"),
    RegisterDef(240, 2, "s32", gettext_lazy("Current L2"), "mA"),
    RegisterDef(242, 2, "s32", gettext_lazy("Current L3"), "mA"),
    RegisterDef(244, 2, "u32", gettext_lazy("Active power"), "mW"),
    RegisterDef(246, 2, "s32", gettext_lazy("Reactive power"), "mvar"),
    RegisterDef(248, 2, "u32", gettext_lazy("Apparent power"), "mVA"),
    RegisterDef(250, 4, "u64", gettext_lazy("Active energy (meter reading)"), "Wh"),
    RegisterDef(254, 4, "s64", gettext_lazy("Reactive energy"), "varh"),
    RegisterDef(258, 4, "u64", gettext_lazy("Apparent energy"), "VAh"),
    RegisterDef(262, 2, "u32", gettext_lazy("EV state of charge (energy, placeholder)"), "kWh"),
    RegisterDef(264, 1, "u16", gettext_lazy("EV state of charge (placeholder)"), "%"),
    RegisterDef(265, 10, "ascii", gettext_lazy("Last EVCC ID")),
    RegisterDef(275, 10, "ascii", gettext_lazy("Last RFID tag UID")),
    RegisterDef(285, 2, "u32", gettext_lazy("Connection time"), "s"),
    RegisterDef(287, 2, "u32", gettext_lazy("Charging duration"), "s"),
    RegisterDef(289, 4, "u64", gettext_lazy("Energy of the current session"), "Wh"),
    RegisterDef(293, 2, "bits32", gettext_lazy("Error code (bitmask)")),
    RegisterDef(295, 1, "bits16", gettext_lazy("Digital inputs")),
    RegisterDef(296, 1, "u16", gettext_lazy("Current setpoint (PWM duty cycle)"), "%"),
    RegisterDef(297, 1, "u16", gettext_lazy("Current setpoint"), "A"),
    RegisterDef(298, 1, "u16", gettext_lazy("Cable current-carrying capacity (PP)"), "A"),
    RegisterDef(299, 1, "iec", gettext_lazy("IEC 61851-1 status")),
    RegisterDef(300, 1, "u16", gettext_lazy("Charging release (write 0/1)")),
    RegisterDef(301, 1, "u16", gettext_lazy("Maximum charging current (write 6–80)"), "A"),
    RegisterDef(302, 1, "bits16", gettext_lazy("Digital outputs (write)")),
    RegisterDef(303, 1, "u16", gettext_lazy("Connector locking (write 0/1)")),
    RegisterDef(304, 1, "u16", gettext_lazy("Availability (write 0/1)")),
    RegisterDef(305, 1, "u16", gettext_lazy("Force unlock (write 1)")),
    RegisterDef(306, 1, "u16", gettext_lazy("Watchdog fallback current (write)"), "A"),
    RegisterDef(307, 1, "timer", gettext_lazy("Watchdog timer (write; 65535 = off)"), "s"),
    RegisterDef(308, 1, "u16", gettext_lazy("Clear last RFID tag (write)")),
)


@dataclass(frozen=True, slots=True)
class RegisterRow:
    address: int  # absolute, 0-based PDU address
    offset: int
    name: str | Promise
    words: tuple[int, ...]
    value: str

    @property
    def raw(self) -> str:
        return " ".join(f"{w:04X}" for w in self.words)


@dataclass(frozen=True, slots=True)
class RegisterTable:
    """What the viewer shows for one charge point: its rows, or why there are none."""

    chargepoint: int
    address: int | None  # the effective start address; None: not reachable via Modbus
    rows: tuple[RegisterRow, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class ViewerSource:
    """What the viewer needs that is not live, read once (page render, socket connect)."""

    chargepoint: int
    address: int | None
    view: registers.RegisterView | None


def _number(words: tuple[int, ...]) -> int:
    value = 0
    for word in words:  # most-significant word first
        value = (value << 16) | word
    return value


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _ascii(words: tuple[int, ...]) -> str:
    data = b"".join(w.to_bytes(2, "big") for w in words)
    return data.replace(b"\x00", b"").decode("ascii", "replace").strip()


def decode(definition: RegisterDef, words: tuple[int, ...]) -> str:
    """The value of a register for people, in the register's own unit."""
    kind = definition.kind
    if kind in ("ascii", "iec"):
        return _ascii(words) or "–"
    if kind == "bits16":
        return f"{words[0]:016b}"
    if kind == "bits32":
        value = _number(words)
        return _("no error") if value == 0 else f"0x{value:08X}"
    value = _number(words)
    if kind == "timer" and value == 0xFFFF:
        return _("off")
    if kind.startswith("s"):
        value = _signed(value, 16 * definition.words)
    text = formats.number_format(value, use_l10n=True, force_grouping=True)
    return f"{text} {definition.unit}".strip()


def rows_from_words(start: int, words: list[int]) -> tuple[RegisterRow, ...]:
    """Name and decode the block X232–X308 read from ``start`` + 232."""
    rows = []
    for definition in REGISTERS:
        index = definition.offset - FIRST_OFFSET
        part = tuple(words[index : index + definition.words])
        rows.append(
            RegisterRow(
                address=start + definition.offset,
                offset=definition.offset,
                name=definition.name,
                words=part,
                value=decode(definition, part),
            )
        )
    return tuple(rows)


def _controls(state: Mapping[str, Any] | None) -> dict[int, registers.ControlState]:
    """The control registers as the server agent published them (``controls``: charge point
    id → X300–X308 fields), so the viewer reads back what clients wrote; absent = not written."""
    published = (state or {}).get("controls")
    if not isinstance(published, Mapping):
        return {}
    fields = set(registers.ControlState.__dataclass_fields__)
    out = {}
    for key, values in published.items():
        if str(key).isdigit() and isinstance(values, Mapping):
            out[int(key)] = registers.ControlState(**{k: v for k, v in values.items() if k in fields})
    return out


def viewer_source(chargepoint: int, snapshot: ParkSnapshot | None) -> ViewerSource:
    """Read what the viewer of ``chargepoint`` needs from the database (call in a worker)."""
    from chargepoints.models import ChargePoint
    from modbus.addressing import resolve_addresses

    addresses = resolve_addresses()
    address = addresses.get(chargepoint)
    if address is None:
        return ViewerSource(chargepoint, None, None)
    configs = {
        cp.pk: registers.cp_register_config(cp)
        for cp in ChargePoint.objects.select_related("station", "config").filter(
            pk__in=list(addresses), config__isnull=False
        )
    }
    state = snapshot.agent_state("modbus") if snapshot is not None else None
    controls = _controls(state)
    view = registers.RegisterView(
        station=registers.station_info(),
        configs=configs,
        controls={cp: controls.get(cp) or registers.ControlState() for cp in configs},
        station_control=registers.StationControl(),
        addresses=addresses,
    )
    return ViewerSource(chargepoint, address, view)


def register_table(source: ViewerSource, snapshot: ParkSnapshot | None) -> RegisterTable:
    """The block X232–X308 of the source's charge point, read against ``snapshot``."""
    if source.address is None or source.view is None:
        return RegisterTable(
            source.chargepoint,
            None,
            error=_("This charging point has no start address, so it is not reachable via Modbus."),
        )
    try:
        words = source.view.read(source.address + FIRST_OFFSET, COUNT, snapshot)
    except registers.NoLiveState:
        return RegisterTable(
            source.chargepoint, source.address, error=_("No live values: the controller runtime is not running.")
        )
    except registers.ModbusError as exc:
        return RegisterTable(
            source.chargepoint,
            source.address,
            error=_("A client reading these registers gets Modbus exception %(code)s.") % {"code": exc.exception_code},
        )
    return RegisterTable(source.chargepoint, source.address, rows_from_words(source.address, words))
