"""Reads of the Modbus page, the API and the Modbus server agent."""

from __future__ import annotations

from dataclasses import dataclass

from chargepoints.choices import ModuleKind
from chargepoints.models import ChargePoint
from modbus import addressing
from modbus.models import AUTOMATIC, ModbusSettings


def modbus_settings_get() -> ModbusSettings:
    """The stored settings, or the defaults (unsaved) when nothing was ever stored."""
    return ModbusSettings.objects.filter(pk=ModbusSettings.SINGLETON_PK).first() or ModbusSettings(
        pk=ModbusSettings.SINGLETON_PK
    )


def allow_restart() -> bool:
    """Whether a client may write the restart registers (165, 166); off by default."""
    return modbus_settings_get().allow_restart


def modbus_revision() -> int:
    """The revision of the Modbus settings (start addresses included): 0 = never saved."""
    return modbus_settings_get().revision


@dataclass(frozen=True, slots=True)
class AddressRow:
    """One charge point on the Modbus page."""

    chargepoint: int  # id
    name: str  # its configured name, or "station #position" in factory default
    configured: bool
    station: str  # host name
    server: bool  # on the server's station
    position: int  # backplane bus position
    start_address: int  # as stored: -1 automatic
    effective_address: int | None  # what the server uses; None: not reachable via Modbus

    @property
    def automatic(self) -> bool:
        return self.start_address == AUTOMATIC


def address_rows() -> list[AddressRow]:
    """Every charge point of the park in the automatic order, with its stored and effective
    start address."""
    chargepoints = {cp.pk: cp for cp in ChargePoint.objects.select_related("station", "config")}
    slots = [
        addressing.Slot(cp.pk, cp.station_id, cp.station.kind == ModuleKind.SERVER, cp.position)
        for cp in chargepoints.values()
    ]
    order = addressing.automatic_order(slots)
    stored = addressing.stored_addresses()
    effective = addressing.effective_addresses(stored, order)
    rows = []
    for pk in order:
        cp = chargepoints[pk]
        rows.append(
            AddressRow(
                chargepoint=pk,
                name=str(cp),
                configured=cp.is_configured,
                station=cp.station.hostname,
                server=cp.station.kind == ModuleKind.SERVER,
                position=cp.position,
                start_address=stored.get(pk, AUTOMATIC),
                effective_address=effective.get(pk),
            )
        )
    return rows
