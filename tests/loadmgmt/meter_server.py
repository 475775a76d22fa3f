"""A higher-level meter for tests: a pymodbus TCP server on a loop of its own that serves one
device type's register map (loadmgmt.meters) at its unit id, and nothing else."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimData, SimDevice

from loadmgmt.meters import MAPS, encode_currents


class _Store:
    def __init__(self, meter: MeterServer) -> None:
        self.meter = meter

    def device_ids(self) -> list[int]:
        return [0]  # any unit id reaches us; the map's own is checked below

    async def async_getValues(self, device_id: int, func_code: int, address: int, count: int = 1):  # type: ignore[no-untyped-def]
        m = self.meter.map
        self.meter.requests.append((device_id, func_code, address, count))
        if device_id != m.unit_id:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if func_code != m.function_code:
            return ExcCodes.ILLEGAL_FUNCTION
        words = encode_currents(self.meter.currents, m.decode)
        start = address - m.address
        if start < 0 or start + count > len(words):
            return ExcCodes.ILLEGAL_ADDRESS
        return words[start : start + count]

    async def async_setValues(self, device_id: int, func_code: int, address: int, values: Sequence[int]):  # type: ignore[no-untyped-def]
        return ExcCodes.ILLEGAL_FUNCTION


class MeterServer:
    """``start()`` serves on 127.0.0.1 (``port``), ``stop()`` silences it, ``start()`` again
    answers on the same port; ``currents`` is what it measures (A, L1..L3)."""

    def __init__(self, meter_type: str) -> None:
        self.map = MAPS[meter_type]
        self.currents: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.requests: list[tuple[int, int, int, int]] = []
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: ModbusTcpServer | None = None

    def _run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def start(self) -> int:
        async def start() -> int:
            server = ModbusTcpServer(SimDevice(id=0, simdata=SimData(0)), address=("127.0.0.1", self.port))
            server.context = _Store(self)  # type: ignore[assignment]  # every request asks the test
            await server.serve_forever(background=True)
            self.server = server
            return int(server.transport.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

        self.port = self._run(start())
        return self.port

    def stop(self) -> None:
        async def stop() -> None:
            if self.server is not None:
                for handler in list(self.server.active_connections.values()):
                    handler.close()
                await self.server.shutdown()
                self.server = None

        self._run(stop())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()
