"""Commands the Modbus server agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class ModbusReload(Command):
    """Re-read the Modbus settings (start addresses, "allow restart registers") and the charge
    points' configuration the register map shows (after a save on the Modbus page, an import)."""

    name = "modbus.reload"
