"""The Modbus/TCP transport: pymodbus' asyncio TCP server on the runtime's loop, with a datastore
that asks the agent for every request instead of keeping registers of its own.

pymodbus parses frames and answers exceptions; :class:`Registers` (the agent) reads the live
snapshot and turns writes into claims. Each connection counts its requests, and one that sends
more than ``max_rate`` requests a second has the excess dropped unanswered (a polite client
waits for its answer, so only a flood is cut), with one log line per client a minute.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import SimData, SimDevice

log = logging.getLogger(__name__)

MAX_RATE = 100.0  # requests a second per connection (burst as many); more are dropped
LOG_EVERY_S = 60.0  # one line per client and kind of complaint per this interval
RATE_WINDOW_S = 5.0  # requests per second are counted over this window

# the client of the request being handled (each request runs in a task of its own)
current_peer: contextvars.ContextVar[str] = contextvars.ContextVar("modbus_peer", default="?")


class Registers(Protocol):
    """What the server asks for every request (implemented by the agent)."""

    def read(self, function_code: int, address: int, count: int) -> list[int] | list[bool] | ExcCodes: ...

    def write(self, function_code: int, address: int, values: Sequence[int] | Sequence[bool]) -> ExcCodes | None: ...


class RateLog:
    """At most one log line per (client, kind) per ``interval_s``; the lines left out are
    counted and named in the next one."""

    def __init__(self, interval_s: float = LOG_EVERY_S, max_keys: int = 1024) -> None:
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def warning(self, peer: str, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        key = (peer, kind)
        logged_at, left_out = self._seen.get(key, (None, 0))
        if logged_at is not None and now - logged_at < self.interval_s:
            self._seen[key] = (logged_at, left_out + 1)
            return
        self._seen.pop(key, None)
        if len(self._seen) >= self.max_keys:
            self._seen.pop(next(iter(self._seen)))
        self._seen[key] = (now, 0)
        if left_out:
            message += " (+%d more like this from %s in the last %.0f s)"
            args = (*args, left_out, peer, self.interval_s)
        log.warning(message, *args)


@dataclass
class Client:
    """One connection, as the page shows it."""

    address: str
    connected_at: float  # epoch seconds
    requests: int = 0
    dropped: int = 0
    last_request_at: float | None = None
    _tokens: float = MAX_RATE
    _refilled: float = field(default_factory=time.monotonic)

    def admit(self, now: float, rate: float) -> bool:
        """A token bucket: ``rate`` requests a second, bursts up to ``rate``."""
        self._tokens = min(rate, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "connected_since": self.connected_at,
            "last_request_at": self.last_request_at,
            "requests": self.requests,
            "dropped": self.dropped,
        }


class _Datastore:
    """pymodbus' datastore interface (what ``ModbusServerContext`` offers) over :class:`Registers`:
    every unit id is the same device."""

    def __init__(self, registers: Registers) -> None:
        self.registers = registers

    def device_ids(self) -> list[int]:
        return [0]

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        return self.registers.read(func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Sequence[int] | Sequence[bool]
    ) -> ExcCodes | None:
        return self.registers.write(func_code, address, values)


class _Handler(ServerRequestHandler):  # type: ignore[misc]
    """One connection: counted, rate-limited, and named in the log."""

    server: ModbusServer

    def callback_connected(self) -> None:
        super().callback_connected()
        peer = self.transport.get_extra_info("peername") if self.transport else None
        address = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"
        self.client = Client(address=address, connected_at=time.time())
        self.server.clients[id(self)] = self.client

    def callback_disconnected(self, exc: Exception | None) -> None:
        super().callback_disconnected(exc)
        self.server.clients.pop(id(self), None)

    async def handle_request(self) -> None:
        client: Client | None = getattr(self, "client", None)
        if not self.last_pdu or client is None:
            return
        server = self.server
        now = time.monotonic()
        if not client.admit(now, server.max_rate):
            client.dropped += 1
            server.dropped += 1
            self.last_pdu = None
            server.rate_log.warning(
                client.address,
                "flood",
                "modbus: %s sends more than %.0f requests a second; the excess is dropped",
                client.address,
                server.max_rate,
            )
            return
        client.requests += 1
        client.last_request_at = time.time()
        server.count_request(now)
        current_peer.set(client.address)
        await super().handle_request()


class ModbusServer(ModbusTcpServer):  # type: ignore[misc]
    """pymodbus' TCP server with the live datastore, connection bookkeeping and a rate limit."""

    def __init__(self, registers: Registers, *, host: str, port: int, max_rate: float = MAX_RATE) -> None:
        super().__init__(SimDevice(id=0, simdata=SimData(0)), address=(host, port))
        self.context = _Datastore(registers)  # type: ignore[assignment]  # every request asks the agent
        self.max_rate = max_rate
        self.clients: dict[int, Client] = {}
        self.dropped = 0
        self.requests = 0
        self.rate_log = RateLog()
        self._window: list[tuple[float, int]] = []  # (second, requests in it)

    def callback_new_connection(self) -> _Handler:
        return _Handler(self, self.trace_packet, self.trace_pdu, self.trace_connect)

    async def start(self) -> tuple[str, int]:
        """Listen; returns the bound (host, port). Raises OSError when it cannot."""
        try:
            await self.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus' "Could not start listen" (the cause is in its log)
            raise OSError(f"cannot listen on {self.comm_params.source_address}") from exc
        if not self.transport:
            raise OSError(f"cannot listen on {self.comm_params.source_address}")
        sockets = getattr(self.transport, "sockets", None) or ()
        if not sockets:
            raise OSError(f"cannot listen on {self.comm_params.source_address}")
        host, port = sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        for handler in list(self.active_connections.values()):
            handler.close()
        await self.shutdown()
        await asyncio.sleep(0)

    def count_request(self, now: float) -> None:
        self.requests += 1
        second = int(now)
        if self._window and self._window[-1][0] == second:
            self._window[-1] = (second, self._window[-1][1] + 1)
        else:
            self._window.append((second, 1))
            while self._window and self._window[0][0] <= second - RATE_WINDOW_S:
                self._window.pop(0)

    def requests_per_s(self) -> float:
        """Requests a second over the last few seconds."""
        now = int(time.monotonic())
        recent = sum(n for second, n in self._window if second > now - RATE_WINDOW_S)
        return round(recent / RATE_WINDOW_S, 1)
