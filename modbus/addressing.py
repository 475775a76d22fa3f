"""Start addresses of the charge points' register blocks: the manual's rules and the automatic order.

The manual (OCPP → Modbus): a start address is an integer multiple of 1000 from 1000 to 48000, or
-1 = assigned automatically at the (re)start of the Modbus server, which may change after another
restart; manually assigned addresses do not change; mixed operation is not possible: once one
charge point has a manual address, the others are reachable via Modbus only if theirs are manual
too. The page and the API refuse a mix (``validate``); should the database still hold one (a
charge point added to a park that is addressed manually), ``resolve_addresses`` gives the
automatic ones no address rather than one that could collide with a manual one.

The automatic order (``automatic_order``), where the manual is silent: the charge points of the
whole park, the server module's station first, then the client stations by their id, each in
backplane bus position order. The n-th gets n × 1000, as every public Modbus client assumes
(connector n → n × 1000); 48 at most (48000). Unconfigured charge points count too: the bus
position is physical, so configuring one does not move the others' addresses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from chargepoints.choices import ModuleKind
from modbus.models import AUTOMATIC

STEP = 1000  # one register block per charge point: X000 … X999
FIRST = 1000
LAST = 48000
MAX_AUTOMATIC = LAST // STEP  # 48 charge points at most get an automatic address


@dataclass(frozen=True, slots=True)
class Slot:
    """What the order needs of one charge point (a plain value: tests and callers build them
    without the database)."""

    chargepoint: int  # id
    station: int  # station id
    server: bool  # the station is the server (head of the park)
    position: int  # backplane bus position 1 … 12


def automatic_order(slots: Iterable[Slot]) -> list[int]:
    """Charge point ids in the documented order for -1: the server's station first, then the
    other stations by id, each by bus position. The n-th (1-based) gets n × 1000."""
    ordered = sorted(slots, key=lambda s: (not s.server, s.station, s.position, s.chargepoint))
    return [s.chargepoint for s in ordered]


def effective_addresses(stored: Mapping[int, int], order: list[int]) -> dict[int, int]:
    """Charge point id → the start address the server uses, from the stored values (missing =
    -1) and the automatic order. All automatic: the n-th in the order gets n × 1000 (48 at
    most). Any manual: the manual ones keep theirs, automatic ones get none (mixed operation).
    A charge point left out of the answer is not reachable via Modbus."""
    values = {cp: stored.get(cp, AUTOMATIC) for cp in order}
    if any(v != AUTOMATIC for v in values.values()):
        return {cp: v for cp, v in values.items() if v != AUTOMATIC}
    return {cp: n * STEP for n, cp in enumerate(order[:MAX_AUTOMATIC], start=1)}


def park_slots() -> list[Slot]:
    """Every charge point of the park as a ``Slot`` (one query)."""
    from chargepoints.models import ChargePoint

    rows = ChargePoint.objects.values_list("pk", "station_id", "station__kind", "position")
    return [Slot(pk, station, kind == ModuleKind.SERVER, position) for pk, station, kind, position in rows]


def stored_addresses() -> dict[int, int]:
    """Charge point id → stored start address (charge points without a row are automatic)."""
    from modbus.models import ModbusStartAddress

    return dict(ModbusStartAddress.objects.values_list("chargepoint_id", "start_address"))


def resolve_addresses() -> dict[int, int]:
    """Charge point id → effective start address, from the database (two queries). The Modbus
    server agent calls it in its database worker at start and reload; the page shows it."""
    return effective_addresses(stored_addresses(), automatic_order(park_slots()))


def in_range(value: int) -> bool:
    """A valid manual start address: a multiple of 1000 from 1000 to 48000."""
    return FIRST <= value <= LAST and value % STEP == 0


def is_mixed(entries: Mapping[int, int]) -> bool:
    """Some automatic (-1) and some manual: the manual's "mixed operation"."""
    values = set(entries.values())
    return AUTOMATIC in values and len(values - {AUTOMATIC}) > 0


def mixed_explanation() -> str:
    """The manual's reason why a mix is refused, said once above the table."""
    return _(
        "Mixed operation is not possible: once one charging point has a manually assigned start address, "
        "the others are reachable via Modbus only if theirs are assigned manually too."
    )


def validate(entries: Mapping[int, int], names: Mapping[int, str] | None = None) -> dict[int, list[str]]:
    """The manual's rules over the start addresses of the whole park (charge point id → value;
    the complete set: uniqueness and mixing are rules between charge points). Returns the
    translated errors per charge point id; empty when the values may be stored.

    - each value is -1 or a multiple of 1000 from 1000 to 48000;
    - a manual address is used by one charge point only;
    - no mixed operation: all -1, or all manual (the error is at the automatic ones)."""
    names = names or {}
    errors: dict[int, list[str]] = {}

    def add(cp: int, message: str) -> None:
        errors.setdefault(cp, []).append(message)

    for cp, value in entries.items():
        if value == AUTOMATIC or in_range(value):
            continue
        if value < FIRST or value > LAST:
            add(
                cp,
                _("Enter -1 or a start address from %(first)s to %(last)s.") % {"first": FIRST, "last": LAST},
            )
        else:
            add(cp, _("A start address must be an integer multiple of 1000 (e.g. 1000, 2000, … 48000)."))
    users: dict[int, list[int]] = {}
    for cp, value in entries.items():
        if in_range(value):
            users.setdefault(value, []).append(cp)
    for value, cps in users.items():
        if len(cps) < 2:
            continue
        for cp in cps:
            others = ", ".join(names.get(o, str(o)) for o in cps if o != cp)
            add(
                cp,
                _("Start address %(address)s is also given to %(others)s: each charging point needs its own.")
                % {"address": value, "others": others},
            )
    if is_mixed(entries):
        for cp, value in entries.items():
            if value == AUTOMATIC:
                add(
                    cp,
                    _(
                        "Mixed operation is not possible: other charging points have a manual start address. "
                        "Enter one here too, or -1 for every charging point."
                    ),
                )
    return errors
