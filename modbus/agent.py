"""The Modbus/TCP server agent: the CHARX register map on ``WBM_MODBUS_HOST``:``WBM_MODBUS_PORT``.

Reads answer from the runtime's snapshot of the moment (``modbus.registers.RegisterView``), never
from the database. Writes become claims (``Source.MODBUS``) or controller commands:

- X300 release: a grant, only in release mode "Via Modbus"; X301 current limit: a cap in every
  mode (outside 6–80 A a cap of 0 A: paused until a valid value is written);
- X304 availability / 164 group availability: a block the controller turns into state F;
  X305 force unlock: a block the controller unlocks under for ``FORCE_UNLOCK_S``;
- X302 outputs, X303 lock ("Remote control" locking), X308 clear RFID: controller commands;
- X306/X307 watchdog: a cap the client renews by writing X307 within the timer, lapsing to its
  X306 current (``Claim.fallback_a``);
- 167 dynamic current: a park-wide ceiling, published as ``dynamic_current_a``; while the load
  management agent runs a load circuit, its allocator takes it as the circuit's limit; without
  one it is split evenly over the charge points with a vehicle (cap key ``group``);
- 165/166 restarts: only with "allow restart registers" switched on (off by default).

A write that is not allowed gets exception 01 (ILLEGAL FUNCTION: not in this configuration),
an undocumented or read-only register 02, a value out of range 03 (all or nothing, per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pymodbus.constants import ExcCodes

from chargepoints.choices import ReleaseMode
from chargepoints.controller.commands import CpClearRfid, CpLock, CpOutput
from modbus import registers as reg
from modbus.commands import ModbusReload
from modbus.server import ModbusServer, RateLog, current_peer
from wbm.runtime import events as ev
from wbm.runtime.agent import Agent, DatabaseError
from wbm.runtime.claims import ClaimRefused, Kind, Source
from wbm.runtime.commands import AgentRestart, Command

log = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0  # the page's figures (clients, requests a second)
# the control registers' fields the page's viewer reads back (``ControlState``)
WRITTEN = (
    "release",
    "current_limit_a",
    "outputs",
    "locked",
    "available",
    "force_unlock",
    "watchdog_fallback_a",
    "watchdog_timer_s",
)
FORCE_UNLOCK_S = 5.0  # X305 reads 1 and the socket stays unlocked this long
OUTPUT_MODES = ("floating", "low", "high", "flashing", "pulsating")  # X302 codes 0..4
# claim keys
CURRENT = "current"
WATCHDOG = "watchdog"
GROUP = "group"
UNAVAILABLE = "unavailable"  # the controller's MODBUS_UNAVAILABLE
GROUP_UNAVAILABLE = "group_unavailable"
UNLOCK = "unlock"  # the controller's MODBUS_UNLOCK
LOAD_MANAGEMENT = "loadmgmt"  # the load management agent's name: it allocates 167 when it runs a circuit
# agents a restart of the server (165) leaves alone: this one, and the command server that
# carries operations to the runtime in scaled mode
NOT_RESTARTED = frozenset({"modbus", "commands"})


class Refused(Exception):
    """A write the configuration does not allow (answered with exception 01)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """What the register map needs from the database, read at start and on ``ModbusReload``."""

    station: reg.StationInfo
    configs: dict[int, reg.CpRegisterConfig]
    addresses: dict[int, int]
    allow_restart: bool


def load_setup() -> Setup:
    """Start addresses, the charge points' register configuration, the station block and
    "allow restart registers" (runs in a database worker)."""
    from modbus import addressing, selectors

    addresses = addressing.resolve_addresses()
    return Setup(
        station=reg.station_info(),
        configs=reg.cp_register_configs(addresses),
        addresses=addresses,
        allow_restart=selectors.allow_restart(),
    )


class ModbusAgent(Agent):
    """Serves the register map; see the module docstring."""

    name = "modbus"
    title = _("Modbus Server")
    description = _(
        "Serves the charge points' Modbus/TCP registers (the CHARX register map) to energy managers, "
        "home automation and load management systems."
    )
    order = 50
    commands = (ModbusReload,)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.setup: Setup | None = None
        self.controls: dict[int, reg.ControlState] = {}
        self.station_control = reg.StationControl()
        self.view: reg.RegisterView | None = None
        self.server: ModbusServer | None = None
        self.bound: tuple[str, int] | None = None
        self.refused = 0
        self.last_error = ""
        self.rate_log = RateLog()
        self._echo: list[int] | list[bool] | None = None  # FC05/06 answer the value just written
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unlocks: dict[int, asyncio.TimerHandle] = {}
        self._status: dict[str, Any] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        ctx = self.ctx
        ctx.claims.withdraw_source(Source.MODBUS)  # a fresh start: the clients write again
        await self.reload()
        ctx.handle(ModbusReload, self._cmd_reload)
        events = ctx.subscribe(ev.Plugged, ev.Unplugged, ev.ConfigReloaded)
        server = ModbusServer(self, host=settings.WBM_MODBUS_HOST, port=settings.WBM_MODBUS_PORT)
        try:
            self.bound = await server.start()
        except OSError as exc:
            self.last_error = str(exc)
            self._publish_status(running=False)
            raise
        self.server = server
        log.info("modbus: listening on %s:%s", *self.bound)
        try:
            while True:
                self._apply_group_current()
                self._publish_status(running=True)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STATUS_EVERY_S):
                        await events.get()
                events.pending()
        finally:
            self.server = None
            await server.stop()
            for handle in self._unlocks.values():
                handle.cancel()
            for task in self._tasks:
                task.cancel()
            # the watchdog caps stay: no one renews them now, so they lapse to the clients'
            # fallback currents, as the watchdog is meant to; everything else goes with us
            for cp_id in list(self.controls):
                for kind, key in ((Kind.GRANT, None), (Kind.BLOCK, None), (Kind.CAP, CURRENT), (Kind.CAP, GROUP)):
                    self.ctx.claims.withdraw(cp_id, Source.MODBUS, kind, key)

    async def reload(self) -> None:
        setup = await self.ctx.db(load_setup)
        self.setup = setup
        self.controls = {cp: self.controls.get(cp) or reg.ControlState() for cp in setup.addresses}
        self.view = reg.RegisterView(
            station=setup.station,
            configs=setup.configs,
            controls=self.controls,
            station_control=self.station_control,
            addresses=setup.addresses,
        )

    async def _cmd_reload(self, command: ModbusReload) -> None:
        try:
            await self.reload()
        except DatabaseError:
            self.last_error = "reload failed"
            raise
        self._apply_group_current()
        self._publish_status(running=self.server is not None)

    def _publish_status(self, *, running: bool) -> None:
        server = self.server
        host, port = self.bound or (settings.WBM_MODBUS_HOST, settings.WBM_MODBUS_PORT)
        status = {
            "running": running,
            "host": host,
            "port": port,
            "clients": [c.as_dict() for c in server.clients.values()] if server else [],
            "requests": server.requests if server else 0,
            "requests_per_s": server.requests_per_s() if server else 0.0,
            "dropped": server.dropped if server else 0,
            "writes_refused": self.refused,
            "last_error": self.last_error,
            "allow_restart": bool(self.setup and self.setup.allow_restart),
            # register 167 (65535: no limit): load management's circuit limit (loadmgmt.agent)
            "dynamic_current_a": self.station_control.dynamic_current_a,
            # what clients wrote to X300–X308, so the page's register viewer reads them back too
            "controls": {str(cp): {f: getattr(c, f) for f in WRITTEN} for cp, c in self.controls.items()},
        }
        if status != self._status:  # a page shows it at once; unchanged, nothing is published
            self._status = status
            self.ctx.set_status(status)
            self.ctx.publish()

    # --- requests (called by the server for every request; no awaiting here) ---------------------
    def read(self, function_code: int, address: int, count: int) -> list[int] | list[bool] | ExcCodes:
        if function_code in (5, 6):  # the answer to a single write echoes what was written
            echo, self._echo = self._echo, None
            return echo if echo is not None else ExcCodes.DEVICE_FAILURE
        if function_code not in (3, 4) or self.view is None:
            return ExcCodes.ILLEGAL_FUNCTION
        try:
            return self.view.read(address, count, self.ctx.snapshot())
        except reg.ModbusError as exc:
            return ExcCodes(exc.exception_code)

    def write(self, function_code: int, address: int, values: Sequence[int] | Sequence[bool]) -> ExcCodes | None:
        setup = self.setup
        if setup is None:
            return ExcCodes.DEVICE_BUSY
        if function_code == 5:  # Write Single Coil: accepted on X300 and X303 only (Loxone)
            if not any(address in (x + 300, x + 303) for x in setup.addresses.values()):
                return self._refuse(ExcCodes.ILLEGAL_ADDRESS, address, values, "coil")
            words = [1 if values[0] else 0]
        elif function_code in (6, 16):
            words = [int(v) for v in values]
        else:
            return ExcCodes.ILLEGAL_FUNCTION
        try:
            intents = reg.decode_write(address, words, addresses=setup.addresses)
            for intent in intents:
                self._check(intent)
        except reg.ModbusError as exc:
            return self._refuse(ExcCodes(exc.exception_code), address, words, type(exc).__name__)
        except Refused as exc:
            return self._refuse(ExcCodes.ILLEGAL_FUNCTION, address, words, str(exc))
        for intent in intents:
            try:
                self._apply(intent)
            except ClaimRefused as exc:  # e.g. a charge point the controller does not know (yet)
                return self._refuse(ExcCodes.DEVICE_FAILURE, address, words, exc.code)
        self._echo = list(values) if function_code == 5 else words[:1]
        self.ctx.publish()
        return None

    def _refuse(self, code: ExcCodes, address: int, values: Sequence[int] | Sequence[bool], why: str) -> ExcCodes:
        self.refused += 1
        peer = current_peer.get()
        self.rate_log.warning(
            peer, why, "modbus: refused a write from %s to %s (%s): %s", peer, address, list(values)[:8], why
        )
        return code

    # --- what a write may do ----------------------------------------------------------------------
    def _config(self, cp: int) -> reg.CpRegisterConfig:
        assert self.setup is not None
        config = self.setup.configs.get(cp)
        if config is None:
            raise Refused(f"charge point {cp} is not configured")
        return config

    def _check(self, intent: reg.WriteIntent) -> None:
        """Raises ``Refused`` when the configuration does not allow ``intent``."""
        assert self.setup is not None
        if isinstance(intent, reg.SetRelease):
            if self._config(intent.cp).release_mode != ReleaseMode.MODBUS:
                raise Refused("the charging release is not via Modbus")
        elif isinstance(intent, reg.SetLock):
            if not self._config(intent.cp).locking_remote:
                raise Refused("the locking mode is not remote control")
        elif isinstance(intent, reg.RestartServer | reg.RestartGroup):
            if not self.setup.allow_restart:
                raise Refused("the restart registers are not allowed")
        elif isinstance(intent, reg.SetCurrentLimit | reg.SetWatchdogTimer | reg.SetWatchdogFallback):
            self._config(intent.cp)

    def _apply(self, intent: reg.WriteIntent) -> None:
        claims = self.ctx.claims
        if isinstance(intent, reg.SetRelease):
            self.controls[intent.cp].release = int(intent.on)
            if intent.on:
                claims.grant(intent.cp, Source.MODBUS)
            else:
                claims.withdraw(intent.cp, Source.MODBUS, Kind.GRANT)
        elif isinstance(intent, reg.SetCurrentLimit):
            self.controls[intent.cp].current_limit_a = intent.amps
            claims.cap(intent.cp, Source.MODBUS, float(intent.amps), key=CURRENT)  # 0: paused
        elif isinstance(intent, reg.SetOutputs):
            self.controls[intent.cp].outputs = intent.word
            for index in range(1, 5):
                code = (intent.word >> (4 * (index - 1))) & 0xF
                self._command(CpOutput(cp=intent.cp, index=index, mode=OUTPUT_MODES[min(code, 4)]))
        elif isinstance(intent, reg.SetLock):
            self.controls[intent.cp].locked = int(intent.locked)
            self._command(CpLock(cp=intent.cp, locked=intent.locked))
        elif isinstance(intent, reg.SetAvailability):
            self.controls[intent.cp].available = int(intent.available)
            self._availability(intent.cp, UNAVAILABLE, intent.available)
        elif isinstance(intent, reg.ForceUnlock):
            self._force_unlock(intent.cp)
        elif isinstance(intent, reg.SetWatchdogFallback):
            self.controls[intent.cp].watchdog_fallback_a = intent.amps
            self._watchdog(intent.cp, renew=False)
        elif isinstance(intent, reg.SetWatchdogTimer):
            self.controls[intent.cp].watchdog_timer_s = 65535 if intent.seconds is None else intent.seconds
            self._watchdog(intent.cp, renew=True)
        elif isinstance(intent, reg.ClearRfid):
            self.controls[intent.cp].clear_rfid()  # X275 reads the last tag: forgotten now
            self._command(CpClearRfid(cp=intent.cp))
        elif isinstance(intent, reg.SetGroupAvailability):
            self.station_control.group_available = int(intent.on)
            for cp in self.controls:
                self._availability(cp, GROUP_UNAVAILABLE, intent.on)
        elif isinstance(intent, reg.SetDynamicCurrent):
            self.station_control.dynamic_current_a = 65535 if intent.amps is None else intent.amps
            self._apply_group_current()
            self._publish_status(running=self.server is not None)  # load management reads it there
        elif isinstance(intent, reg.RestartServer):
            self._spawn(self._restart_all())
        elif isinstance(intent, reg.RestartGroup):
            self._command(AgentRestart(agent="controller"))

    def _availability(self, cp: int, key: str, available: bool) -> None:
        claims = self.ctx.claims
        if available:
            claims.withdraw(cp, Source.MODBUS, Kind.BLOCK, key)
            return
        if not claims.has(cp, Kind.BLOCK, Source.MODBUS, key):
            # state F aborts the charging process: its releases end (as the page's Disable)
            for source in (Source.USER, Source.WHITELIST, Source.MODBUS):
                claims.withdraw(cp, source, Kind.GRANT)
        claims.block(cp, Source.MODBUS, key=key)

    def _force_unlock(self, cp: int) -> None:
        claims = self.ctx.claims
        for source in (Source.USER, Source.WHITELIST, Source.MODBUS):  # charging is aborted
            claims.withdraw(cp, source, Kind.GRANT)
        claims.block(cp, Source.MODBUS, key=UNLOCK, reason="unlock_enforced")
        self.controls[cp].force_unlock = 1
        if (handle := self._unlocks.pop(cp, None)) is not None:
            handle.cancel()

        def done() -> None:
            self._unlocks.pop(cp, None)
            claims.withdraw(cp, Source.MODBUS, Kind.BLOCK, UNLOCK)
            if cp in self.controls:
                self.controls[cp].force_unlock = 0
            self.ctx.publish()

        self._unlocks[cp] = asyncio.get_running_loop().call_later(FORCE_UNLOCK_S, done)

    def _watchdog(self, cp: int, *, renew: bool) -> None:
        """X307 (re)starts the timer; X306 changes what it falls back to (the timer runs on)."""
        control = self.controls[cp]
        claims = self.ctx.claims
        if control.watchdog_timer_s in (65535, 0):
            claims.withdraw(cp, Source.MODBUS, Kind.CAP, WATCHDOG)
            return
        config = self._config(cp)
        fallback = control.watchdog_fallback_a
        if fallback is None:
            fallback = config.fallback_current_a
        ttl = float(control.watchdog_timer_s)
        if not renew:
            current = next((c for c in claims.claims(cp) if c.ident == (cp, Kind.CAP, Source.MODBUS, WATCHDOG)), None)
            if current is None:
                return  # the timer is not running: X307 starts it
            if current.expires_at is not None:
                ttl = current.expires_at - self.ctx.clock.monotonic()
            if ttl <= 0:
                ttl = 1e-3  # lapsed already: it stays lapsed, to the new current
        claims.cap(
            cp,
            Source.MODBUS,
            float(config.max_current_a),  # while renewed it limits nothing
            key=WATCHDOG,
            ttl_s=ttl,
            lapse_to_fallback=True,
            fallback_a=float(fallback),
        )

    def _apply_group_current(self) -> None:
        """167: the dynamic maximum current of the park. While load management runs a load
        circuit, its allocator shares it out (it reads ``dynamic_current_a`` from our status);
        otherwise it is split evenly over the charge points with a vehicle."""
        amps = self.station_control.dynamic_current_a
        claims = self.ctx.claims
        snapshot = self.ctx.snapshot()
        load_management = (snapshot.agent_state(LOAD_MANAGEMENT) or {}) if snapshot is not None else {}
        if amps == 65535 or snapshot is None or load_management.get("circuit"):
            for cp in self.controls:
                claims.withdraw(cp, Source.MODBUS, Kind.CAP, GROUP)
            return
        with_vehicle = [cp.id for cp in snapshot.chargepoints if cp.vehicle is not None and cp.id in self.controls]
        share = round(amps / len(with_vehicle), 1) if with_vehicle else 0.0
        for cp in self.controls:
            if cp in with_vehicle:
                current = next((c for c in claims.claims(cp) if c.ident == (cp, Kind.CAP, Source.MODBUS, GROUP)), None)
                if current is None or current.amps != share:
                    with contextlib.suppress(ClaimRefused):
                        claims.cap(cp, Source.MODBUS, share, key=GROUP)
            else:
                claims.withdraw(cp, Source.MODBUS, Kind.CAP, GROUP)

    # --- other agents' work ---------------------------------------------------------------------
    def _command(self, command: Command) -> None:
        """Run a command of another agent (the controller's, the runtime's) beside the request:
        the client has its answer at once; a refusal is logged."""
        self._spawn(self._run(command))

    async def _run(self, command: Command) -> None:
        result = await self.ctx.execute(command)
        if not result.get("ok"):
            self.last_error = f"{command.name}: {result.get('error')}"
            log.warning("modbus: %s was not done: %s %s", command.name, result.get("error"), result.get("params"))

    async def _restart_all(self) -> None:
        """165: restart every agent of the runtime except this server (and the command server),
        so the client that asked gets its answer and can watch the others come back."""
        await asyncio.sleep(0.1)  # the answer goes out first
        snapshot = self.ctx.snapshot()
        names = [a.name for a in snapshot.agents] if snapshot else ["controller"]
        log.warning("modbus: restarting %s (register 165)", ", ".join(n for n in names if n not in NOT_RESTARTED))
        for name in names:
            if name not in NOT_RESTARTED:
                await self._run(AgentRestart(agent=name))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
