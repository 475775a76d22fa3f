"""The agent's connection to the backend (a mixin of ``OcppAgent``): open the WebSocket with
back-off and jitter, serve one ``Station`` per connection, BootNotification until Accepted (nothing
else goes before), the heartbeat, NewBackendURL's trial of a new backend, and the backend's time
(recorded as an offset, never set as the system clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from websockets.asyncio.client import ClientConnection

from ocppcfg import authorization, availability, link
from ocppcfg.link import Backoff, Tap, describe_failure, open_connection, setting
from ocppcfg.station import Station
from wbm.runtime.agent import DatabaseError
from wbm.runtime.clock import system_time

if TYPE_CHECKING:
    from ocppcfg.agent import OcppAgent

log = logging.getLogger("ocppcfg.agent")


class Connection:
    if TYPE_CHECKING:  # provided by OcppAgent / TransactionFlow
        ctx: Any
        setup: Any
        values: dict[str, str]
        active: dict[int, Any]
        connected: bool
        accepted: bool
        registration: str | None
        since: float | None
        last_heartbeat: float | None
        last_error: str
        url_in_use: str
        trial_url: str | None
        heartbeat_s: float
        time_synced: bool
        time_offset_s: float
        time_deferred_offset_s: float | None
        station: Station | None
        ws: ClientConnection | None
        frames: link.FrameLog
        _reconnect: asyncio.Event
        _reconnect_reason: str
        _status_wake: asyncio.Event
        _sent_status: dict[int, Any]
        _last_call: float

        @property
        def call_timeout(self) -> float: ...
        def publish(self) -> None: ...
        def wake_outbox(self) -> None: ...
        def _boot_payload(self) -> dict[str, Any]: ...
        async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None: ...

    # --- the connection ----------------------------------------------------------------------
    def reconnect(self, reason: str) -> None:
        self._reconnect_reason = reason
        self._reconnect.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._reconnect.wait()

    async def _link_loop(self) -> None:
        backoff = Backoff()
        while True:
            self._reconnect.clear()
            setup = self.setup
            assert setup is not None
            url = self.trial_url or setup.url
            if not url:
                self.connected, self.last_error, self.url_in_use = False, "no backend URL", ""
                self.publish()
                await self._reconnect.wait()
                continue
            charge_box_id = url.rstrip("/").rsplit("/", 1)[-1]
            try:
                ws = await open_connection(
                    url,
                    user=setup.user,
                    key=setup.key,
                    ca_pem=setup.ca_certificate,
                    charge_box_id=charge_box_id,
                    values=self.values,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = describe_failure(exc)
                self.frames.event("failed", self.last_error)
                self.publish()
                if self.trial_url:
                    self._abandon_trial(self.last_error)
                    continue
                await self._pause(backoff.next())
                continue
            backoff.reset()
            await self._connected(ws, url, charge_box_id)
            if not self._reconnect.is_set():
                await self._pause(backoff.next())

    async def _connected(self, ws: ClientConnection, url: str, charge_box_id: str) -> None:
        self.ws, self.url_in_use = ws, url
        self.connected, self.since, self.last_error = True, time.time(), ""
        if not self._reconnect.is_set():  # a reason asked for while disconnected is not this link's
            self._reconnect_reason = ""
        self.frames.event("connected", safe_url(url))
        station = Station(
            charge_box_id, Tap(ws, self.frames), cast("OcppAgent", self), response_timeout=self.call_timeout
        )
        self.station = station
        self.publish()
        serve = asyncio.create_task(station.start())
        session = asyncio.create_task(self._session(station))
        wanted = asyncio.create_task(self._reconnect.wait())
        error: BaseException | None = None
        try:
            await asyncio.wait({serve, wanted}, return_when=asyncio.FIRST_COMPLETED)
            if serve.done() and not serve.cancelled():
                error = serve.exception()
        finally:
            self.station, self.connected, self.since = None, False, time.time()
            for task in (session, wanted, serve):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(1000, self._reconnect_reason or "closing"), 3)
            self.ws = None
        code, reason, ping_timeout = link.close_details(ws, error)
        if ping_timeout:
            self.last_error = "ping timeout"
            self.frames.event("ping_timeout", "no answer to pings")
        elif error is not None and not self._reconnect.is_set():
            self.last_error = f"closed {code} {reason}".strip()
        self.frames.event("disconnected", reason or self._reconnect_reason, close_code=code)
        self._reconnect_reason = ""
        self.publish()

    def _abandon_trial(self, why: str) -> None:
        log.warning("ocpp: the new backend URL failed (%s); staying with the old one", why)
        self.frames.event("url_changed", f"kept the old URL: the new one failed ({why})"[:300])
        self.trial_url = None
        self.accepted = False

    async def try_backend_url(self, url: str) -> None:
        """NewBackendURL: move to ``url``; the old one stays if it fails to connect or boot."""
        self.trial_url = url
        self.accepted = False
        self.reconnect("new backend URL")

    async def _session(self, station: Station) -> None:
        if not self.accepted and not await self._boot(station):
            return
        self.wake_outbox()
        self._status_wake.set()
        while True:  # the heartbeat
            due = self._last_call + self.heartbeat_s
            if self.heartbeat_s > 0 and time.monotonic() >= due:
                await self.heartbeat()
                due = time.monotonic() + self.heartbeat_s
            await asyncio.sleep(max(0.05, min(due - time.monotonic(), 5.0)) if self.heartbeat_s > 0 else 5.0)

    async def heartbeat(self) -> None:
        result = await self.send(("Heartbeat", {}))
        if result is not None:
            self.last_heartbeat = time.time()
            self._time_from(result.get("currentTime"))
            self.publish()

    async def _boot(self, station: Station) -> bool:
        """BootNotification until Accepted (Pending and Rejected retry after the interval)."""
        setup = self.setup
        assert setup is not None
        payload = {"chargePointVendor": setup.vendor[:20], "chargePointModel": setup.model[:20]}
        if setup.serial_number:
            payload["chargePointSerialNumber"] = setup.serial_number[:25]
        while True:
            try:
                result = await station.call_raw("BootNotification", payload, timeout=self.call_timeout)
            except Exception as exc:
                if self.trial_url:
                    self._abandon_trial(f"BootNotification: {exc}"[:120])
                    self.reconnect("new backend URL failed")
                    return False
                await asyncio.sleep(setting("WBM_OCPP_BOOT_RETRY_S", 60.0))
                continue
            finally:
                self._last_call = time.monotonic()
            status, interval = str(result.get("status")), int(result.get("interval") or 0)
            self.registration = status
            self._time_from(result.get("currentTime"))
            self.frames.event("boot", status)
            if status == "Accepted":
                self.accepted = True
                self.heartbeat_s = float(interval or int(self.values.get("HeartbeatInterval") or 300))
                self._sent_status.clear()  # every connector's status, connector 0 first
                if self.trial_url:
                    await self._commit_trial()
                self.publish()
                return True
            if self.trial_url:
                self._abandon_trial(f"BootNotification {status}")
                self.reconnect("new backend URL failed")
                return False
            self.publish()
            await asyncio.sleep(interval or setting("WBM_OCPP_BOOT_RETRY_S", 60.0))

    async def _commit_trial(self) -> None:
        url, self.trial_url = self.trial_url or "", None
        try:
            await self.ctx.db(availability.store_backend_url, url)
        except DatabaseError:
            return
        assert self.setup is not None
        self.setup = replace(self.setup, url=url)
        self.frames.event("url_changed", f"moved to {safe_url(url)}")

    def _time_from(self, value: object) -> None:
        """The backend's time (BootNotification, Heartbeat) as the offset to the system clock.
        AllowTimeSyncDuringSession false: a time that comes while a transaction runs waits until
        the last one ended (``time_transaction_ended``); the first time of this run is taken at
        once, as there is no time yet that could step."""
        when = authorization.parse_time(value)
        if when is None:
            return
        offset = when.timestamp() - system_time()
        if self.active and self.values.get("AllowTimeSyncDuringSession") != "true" and self.time_synced:
            self.time_deferred_offset_s = offset  # no time step during a charging session
            return
        self.time_offset_s, self.time_deferred_offset_s = offset, None
        self.time_synced = True

    def time_transaction_ended(self, connector_id: int, tx: object) -> None:
        """A transaction ended: the backend time held back during it applies once none runs."""
        if self.time_deferred_offset_s is not None and not self.active:
            self.time_offset_s, self.time_deferred_offset_s = self.time_deferred_offset_s, None


def safe_url(url: str) -> str:
    """The URL without credentials (user:password@ is never shown)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
