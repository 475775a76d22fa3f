"""Who may start a transaction (a mixin of ``OcppAgent``): a card at a reader (the UID in
RFIDByteOrder/RFIDCharacterOrder), an ISO 15118 EVCC ID, FreeMode, RemoteStartTransaction; the
authorization behind it (local list, cache, Authorize, the offline rules) and the wait for the
vehicle (ConnectionTimeOut, EVDiscardTimeOut). A card of the running transaction (or of its
parent) ends it when PresentingRFIDEndCharging is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ocppcfg import authorization
from ocppcfg.authorization import IdTagInfo, usable
from ocppcfg.metering import system_now
from wbm.runtime.agent import DatabaseError

if TYPE_CHECKING:
    from ocppcfg.transactions import ActiveTx

log = logging.getLogger("ocppcfg.agent")


@dataclass
class PendingAuth:
    """An authorization waiting for the vehicle (ConnectionTimeOut / EVDiscardTimeOut)."""

    id_tag: str
    parent_id_tag: str
    deadline: float  # monotonic
    reservation_id: int | None


class Identification:
    if TYPE_CHECKING:  # provided by OcppAgent / TransactionFlow
        ctx: Any
        values: dict[str, str]
        connectors: dict[int, int]
        connected: bool
        accepted: bool
        setup: Any
        reservations: Any
        local_list: Any
        inoperative_rows: dict[int, bool]
        registration: str | None
        active: dict[int, ActiveTx]
        pending: dict[int, PendingAuth]
        _sent_status: dict[int, Any]

        def _flag(self, key: str, default: str = "false") -> bool: ...
        def _seconds(self, key: str, default: float) -> float: ...
        def _grant(self, cp_id: int) -> None: ...
        def connector_of(self, cp_id: int) -> int | None: ...
        def apply_availability(self) -> None: ...
        def vehicle_at(self, cp_id: int) -> bool: ...
        def state_of(self, connector_id: int) -> Any: ...
        def inoperative(self, connector_id: int) -> bool: ...
        def reconnect(self, reason: str) -> None: ...
        async def send(self, payload: Any, *, timeout: float | None = None) -> Any | None: ...
        async def heartbeat(self) -> None: ...
        async def status_notification(self, connector_id: int, force: bool = True) -> None: ...
        async def start_transaction(
            self, connector_id: int, id_tag: str, *, parent_id_tag: str = "", reservation_id: int | None = None
        ) -> None: ...
        async def stop_transaction(self, connector_id: int, reason: str, *, id_tag: str = "") -> bool: ...
        async def _meter_values(
            self, connector_id: int, context: str, measurands: list[str], at: float = 0.0
        ) -> None: ...

    # --- authorization -------------------------------------------------------------------------
    async def _local_entry(self, id_tag: str) -> IdTagInfo | None:
        if not self._flag("LocalAuthListEnabled", "true"):
            return None
        entry = self.local_list.lookup(id_tag)
        if inspect.isawaitable(entry):
            entry = await entry
        return entry if isinstance(entry, dict) else None

    async def remember(self, id_tag: str, info: object) -> None:
        """Every IdTagInfo the backend sends updates the cache."""
        if isinstance(info, dict) and id_tag and self._flag("AuthorizationCacheEnabled", "true"):
            with contextlib.suppress(DatabaseError):
                await self.ctx.db(authorization.cache_put, id_tag, info)

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """The IdTagInfo for ``id_tag``: from the local list/cache where the rules allow it,
        else from the backend (Authorize), else by the offline rules."""
        now = system_now()
        local = await self._local_entry(id_tag)
        cached = None
        if self._flag("AuthorizationCacheEnabled", "true"):
            with contextlib.suppress(DatabaseError):
                cached = await self.ctx.db(authorization.cache_get, id_tag)
        online = self.connected and self.accepted
        if online:
            decided = authorization.decide_local(
                online=True, values=self.values, local_entry=local, cache_entry=cached, now=now
            )
            if decided.info is not None:
                return decided.info
            result = await self.send(("Authorize", {"idTag": id_tag}))
            if result is not None:
                info = dict(result.get("idTagInfo") or {"status": "Invalid"})
                await self.remember(id_tag, info)
                return info
        return authorization.decide_local(
            online=False, values=self.values, local_entry=local, cache_entry=cached, now=now
        ).info or {"status": "Invalid"}

    def _targets(self, reader_id: int) -> list[int]:
        infos = self.setup.connectors if self.setup else {}
        return [
            c
            for c, info in sorted(infos.items())
            if info.rfid_reader_id == reader_id or (info.cp_id == reader_id and info.rfid_reader_id is None)
        ]

    async def on_rfid(self, reader_id: int, tag: str) -> None:
        targets = self._targets(reader_id)
        if not targets:
            return
        uid = authorization.transform_uid(
            tag, self.values.get("RFIDByteOrder", "BigEndian"), self.values.get("RFIDCharacterOrder", "Normal")
        )
        for connector_id in targets:  # the same card (or one of the same parent) ends charging
            tx = self.active.get(connector_id)
            if tx is None:
                continue
            if uid == tx.id_tag:
                if self._flag("PresentingRFIDEndCharging", "true"):
                    await self.stop_transaction(connector_id, "Local", id_tag=uid)
                return
            if tx.parent_id_tag:
                info = await self.authorize(uid)
                if info.get("parentIdTag") == tx.parent_id_tag and self._flag("PresentingRFIDEndCharging", "true"):
                    await self.stop_transaction(connector_id, "Local", id_tag=uid)
                    return
        free = [c for c in targets if self.startable(c)]
        if not free:
            return
        plugged = [c for c in free if self.vehicle_at(self.connectors[c])]
        await self.authorize_and_start((plugged or free)[0], uid)

    async def authorize_and_start(self, connector_id: int, id_tag: str, *, timeout_key: str = "") -> bool:
        info = await self.authorize(id_tag)
        if not usable(info, system_now()):
            log.info("ocpp: idTag %s refused at connector %s: %s", id_tag, connector_id, info.get("status"))
            return False
        parent = str(info.get("parentIdTag") or "")
        allowed, reservation_id = self.reservations.admits(connector_id, id_tag, parent)
        if not allowed:
            return False
        await self._start_or_wait(connector_id, id_tag, parent, reservation_id, rfid=not timeout_key)
        return True

    async def _start_or_wait(
        self, connector_id: int, id_tag: str, parent: str, reservation_id: int | None, *, rfid: bool
    ) -> None:
        if self.vehicle_at(self.connectors[connector_id]):
            await self.start_transaction(connector_id, id_tag, parent_id_tag=parent, reservation_id=reservation_id)
            return
        wait = self._seconds("ConnectionTimeOut", 60)
        if rfid:
            wait = min(wait, self._seconds("EVDiscardTimeOut", 60))
        self.pending[connector_id] = PendingAuth(id_tag, parent, time.monotonic() + wait, reservation_id)

    async def remote_start(self, connector_id: int, id_tag: str, reservation_id: int | None) -> None:
        """After RemoteStartTransaction was Accepted."""
        parent = ""
        if self._flag("AuthorizeRemoteTxRequests"):
            info = await self.authorize(id_tag)
            if not usable(info, system_now()):
                return
            parent = str(info.get("parentIdTag") or "")
        await self._start_or_wait(connector_id, id_tag, parent, reservation_id, rfid=False)

    def startable(self, connector_id: int) -> bool:
        """No transaction, not Inoperative, not Faulted or Unavailable (a lock that failed, TC_024)."""
        if connector_id in self.active or connector_id not in self.connectors or self.inoperative(connector_id):
            return False
        state = self.state_of(connector_id)
        return state is None or state.ocpp_status not in ("Faulted", "Unavailable")

    def free_connector(self) -> int | None:
        """RemoteStart without a connector: one with a vehicle and no transaction, else any free."""
        free = [c for c in sorted(self.connectors) if self.startable(c)]
        plugged = [c for c in free if self.vehicle_at(self.connectors[c])]
        chosen = plugged or free
        return chosen[0] if chosen else None

    async def on_plugged(self, cp_id: int) -> None:
        connector_id = self.connector_of(cp_id)
        if connector_id is None:
            return
        tx = self.active.get(connector_id)
        if tx is not None:  # re-plugged during a transaction that stayed (TC_005_3)
            if not tx.deauthorized:
                self._grant(cp_id)
            return
        pending = self.pending.pop(connector_id, None)
        if pending is not None and pending.deadline > time.monotonic():
            await self.start_transaction(
                connector_id, pending.id_tag, parent_id_tag=pending.parent_id_tag, reservation_id=pending.reservation_id
            )
            return
        if self._flag("FreeMode"):
            await self.authorize_and_start(
                connector_id, self.values.get("FreeModeUID") or "FREEMODE", timeout_key="free"
            )
            return
        await asyncio.sleep(0.1)  # the vehicle's ISO 15118 identity comes with the next picture
        state = self.state_of(connector_id)
        evcc = ""
        if state is not None:
            evcc = (state.iso15118.evcc_id if state.iso15118 else "") or (
                state.vehicle.evcc_id if state.vehicle else ""
            )
        if evcc and connector_id not in self.active:
            await self.authorize_and_start(connector_id, evcc[:20], timeout_key="evcc")

    async def on_unplugged(self, cp_id: int) -> None:
        connector_id = self.connector_of(cp_id)
        if connector_id is None or connector_id not in self.active:
            return
        if self._flag("StopTransactionOnEVSideDisconnect", "true"):
            await self.stop_transaction(connector_id, "EVDisconnected")
        # else: the transaction stays, charging is suspended until the vehicle is back (its
        # grant ended at unplug); UnlockConnectorOnEVSideDisconnect: a socket that locks on
        # connect opens at unplug anyway (the controller's locking mode)
