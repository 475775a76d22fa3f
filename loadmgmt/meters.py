"""The higher-level measuring device: its phase currents, read over Modbus/TCP with the device
type's own register map (docs/modbus.md, "Upstream meters (load management)").

- EEM-MA370 family (EEM-MA370-R, EEM-MA370-24DC, EEM-MA370): FC03, unit id 1, I1–I3 at 32782
  (0x800E) as IEEE-754 float32, least-significant word first (the EMpro's word order).
- EEM-EM377: FC04, unit id 255 (fixed on Modbus/TCP), I L1–L3 at 14 as uint32, most-significant
  word first, in mA (× 0.001 A).
"""

from __future__ import annotations

import asyncio
import math
import struct
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from loadmgmt.choices import UpstreamMeterType

READ_TIMEOUT_S = 2.0


class MeterError(Exception):
    """The meter did not answer, answered with an exception, or with values that are no currents."""


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """Where a meter keeps its three phase currents."""

    function_code: int  # 3: holding registers, 4: input registers
    address: int  # 0-based, first of the six words
    unit_id: int
    decode: str  # "float32_lsw" | "uint32_milli"


MA370 = RegisterMap(function_code=3, address=32782, unit_id=1, decode="float32_lsw")
EM377 = RegisterMap(function_code=4, address=14, unit_id=255, decode="uint32_milli")
MAPS: dict[str, RegisterMap] = {
    UpstreamMeterType.EEM_EM377: EM377,
    UpstreamMeterType.EEM_MA370_R: MA370,
    UpstreamMeterType.EEM_MA370_24DC: MA370,
    UpstreamMeterType.EEM_MA370: MA370,
}


def decode_currents(words: list[int], decode: str) -> tuple[float, float, float]:
    """Three phase currents (A) from the six registers of a meter's map."""
    if len(words) != 6:
        raise MeterError(f"expected 6 registers, got {len(words)}")
    values: list[float] = []
    for i in range(0, 6, 2):
        first, second = words[i], words[i + 1]
        if decode == "float32_lsw":
            value = struct.unpack(">f", struct.pack(">HH", second, first))[0]
        else:
            value = ((first << 16) | second) / 1000.0
        if not math.isfinite(value) or value < -1.0 or value > 10000.0:
            raise MeterError(f"implausible current {value!r}")
        values.append(round(max(0.0, value), 3))
    return values[0], values[1], values[2]


def encode_currents(currents: tuple[float, float, float], decode: str) -> list[int]:
    """The six registers a meter of this map serves for ``currents`` (tests, simulators)."""
    words: list[int] = []
    for amps in currents:
        if decode == "float32_lsw":
            high, low = struct.unpack(">HH", struct.pack(">f", float(amps)))
            words += [low, high]
        else:
            milli = round(amps * 1000)
            words += [(milli >> 16) & 0xFFFF, milli & 0xFFFF]
    return words


class TcpMeter:
    """One higher-level meter over Modbus/TCP; reconnects by itself on the next read."""

    def __init__(self, host: str, port: int, meter_type: str, *, timeout_s: float = READ_TIMEOUT_S) -> None:
        self.map = MAPS[meter_type]
        self.host, self.port = host, port
        self.timeout_s = timeout_s
        self._client: AsyncModbusTcpClient | None = None

    async def read(self) -> tuple[float, float, float]:
        """The three phase currents now; ``MeterError`` when that fails."""
        try:
            async with asyncio.timeout(self.timeout_s * 2):
                client = await self._connected()
                if self.map.function_code == 3:
                    answer = await client.read_holding_registers(self.map.address, count=6, device_id=self.map.unit_id)
                else:
                    answer = await client.read_input_registers(self.map.address, count=6, device_id=self.map.unit_id)
        except (TimeoutError, ModbusException, OSError) as exc:
            await self.close()
            raise MeterError(str(exc) or type(exc).__name__) from exc
        if answer.isError():
            raise MeterError(f"exception response {answer}")
        return decode_currents(list(answer.registers), self.map.decode)

    async def _connected(self) -> AsyncModbusTcpClient:
        if self._client is None or not self._client.connected:
            await self.close()
            client = AsyncModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)
            if not await client.connect():
                client.close()
                raise MeterError(f"cannot connect to {self.host}:{self.port}")
            self._client = client
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
