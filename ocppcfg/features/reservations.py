"""Reservation (OCPP 1.6 3.10, 5.3 CancelReservation, 5.13 ReserveNow).

A reservation holds a connector for one idTag (or any idTag with the same parentIdTag) until its
expiryDate. It is kept in ``Reservation`` and shown by a BLOCK claim ``Source.OCPP`` "reserved"
on the connector's charge point: the controller then reports Reserved while no vehicle is there,
and nobody else may charge there. Starting a transaction with it ends it (``used``); so do its
expiry and CancelReservation.

A reservation of connector 0 (ReserveConnectorZeroSupported) holds *some* connector, not a given
one. Our reading: while k such reservations stand, the connectors that are free (Available and not
reserved themselves) stay usable by anyone as long as more than k of them are free; the last k
free ones are reserved (Reserved on the page and to the backend) for the idTags of those
reservations. Whichever of them the reserving idTag then uses ends its reservation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from ocppcfg.features import FeatureAgent, Tasks, key_bool, utc_now
from ocppcfg.models import Reservation
from wbm.runtime.claims import ClaimRefused, Kind, Source

log = logging.getLogger("ocppcfg.features.reservations")

RESERVED = "reserved"  # the BLOCK key the controller shows as Reserved
# ReserveNow.conf status
ACCEPTED, FAULTED, OCCUPIED, REJECTED, UNAVAILABLE = "Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"
FREE_STATUSES = frozenset({"Available", "Reserved"})  # Reserved: by a reservation being replaced


@dataclass(frozen=True, slots=True)
class Held:
    """One standing reservation."""

    reservation_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str
    expiry: datetime

    def matches(self, id_tag: str, parent_id_tag: str) -> bool:
        """The reserving idTag, or one with the reservation's parentIdTag (OCTT TC_053)."""
        if id_tag.strip().upper() == self.id_tag.upper():
            return True
        return bool(self.parent_id_tag) and parent_id_tag.strip().upper() == self.parent_id_tag.upper()


class Reservations:
    """The reservations of the charge point."""

    def __init__(self, agent: FeatureAgent) -> None:
        self.agent = agent
        self._held: dict[int, Held] = {}
        self._blocked: set[int] = set()  # charge points holding our BLOCK claim
        self._tasks = Tasks("reservations")

    # --- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Read the standing reservations (expired ones go), re-put the claims, follow the tick."""
        rows = await self.agent.ctx.db(_load, utc_now())
        self._held = {h.reservation_id: h for h in rows}
        self.agent.on_tick(self._tick)
        self.sync_claims()

    async def stop(self) -> None:
        await self._tasks.stop()

    # --- ReserveNow / CancelReservation -------------------------------------------------------
    async def reserve(
        self, *, connector_id: int, expiry_date: datetime, id_tag: str, reservation_id: int, parent_id_tag: str = ""
    ) -> str:
        """ReserveNow: Accepted, Faulted, Occupied, Rejected or Unavailable. A reservation with a
        known reservationId is replaced (5.13)."""
        if expiry_date <= utc_now():
            return REJECTED
        if connector_id == 0:
            if not key_bool(self.agent, "ReserveConnectorZeroSupported", default=True):
                return REJECTED
            status = self._park_status(replacing=reservation_id)
        elif connector_id not in self.agent.connectors:
            return REJECTED
        else:
            status = self._connector_status(connector_id, replacing=reservation_id)
        if status != ACCEPTED:
            return status
        held = Held(reservation_id, connector_id, id_tag.strip(), parent_id_tag.strip(), expiry_date)
        try:
            await self.agent.ctx.db(_save, held)
        except Exception:
            log.exception("reservation %s could not be stored", reservation_id)
            return REJECTED
        self._held[reservation_id] = held
        self.sync_claims()
        return ACCEPTED

    async def cancel(self, reservation_id: int) -> str:
        """CancelReservation: Accepted when it stood, Rejected otherwise."""
        if reservation_id not in self._held:
            return REJECTED
        await self._drop(reservation_id)
        return ACCEPTED

    # --- what the core asks -------------------------------------------------------------------
    def admits(self, connector_id: int, id_tag: str, parent_id_tag: str = "") -> tuple[bool, int | None]:
        """May ``id_tag`` start a transaction on ``connector_id`` now? (allowed, the reservationId
        to put in StartTransaction)."""
        own = [h for h in self._held.values() if h.connector_id == connector_id]
        if own:
            hit = next((h for h in own if h.matches(id_tag, parent_id_tag)), None)
            return (True, hit.reservation_id) if hit else (False, None)
        park = [h for h in self._held.values() if h.connector_id == 0]
        hit = next((h for h in park if h.matches(id_tag, parent_id_tag)), None)
        if hit is not None:
            return True, hit.reservation_id
        if connector_id in self._park_reserved(park):
            return False, None
        return True, None

    def used(self, reservation_id: int | None) -> asyncio.Future[None]:
        """A transaction started with this reservation: it ends now (the claim at once, the row in
        the background). Returns something to await for the row, which a caller may ignore."""
        if reservation_id is None or reservation_id not in self._held:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        del self._held[reservation_id]
        self.sync_claims()
        return self._tasks.spawn(self._delete_row(reservation_id))

    def status(self) -> list[dict[str, object]]:
        """The standing reservations for the agent's status (``reservations``)."""
        return [
            {
                "reservation_id": h.reservation_id,
                "connector_id": h.connector_id,
                "id_tag": h.id_tag,
                "expiry": h.expiry.timestamp(),
            }
            for h in sorted(self._held.values(), key=lambda h: h.expiry)
        ]

    def reserved_connectors(self) -> set[int]:
        """The connectors shown as Reserved now."""
        own = {h.connector_id for h in self._held.values() if h.connector_id != 0}
        return own | self._park_reserved([h for h in self._held.values() if h.connector_id == 0])

    # --- claims ---------------------------------------------------------------------------
    def sync_claims(self) -> None:
        """Put the BLOCK "reserved" on the reserved connectors' charge points, withdraw it
        elsewhere."""
        board = self.agent.ctx.claims
        wanted = {self.agent.connectors[c] for c in self.reserved_connectors() if c in self.agent.connectors}
        for cp_id in self._blocked - wanted:
            board.withdraw(cp_id, Source.OCPP, Kind.BLOCK, RESERVED)
        for cp_id in wanted:
            if not board.has(cp_id, Kind.BLOCK, Source.OCPP, RESERVED):
                try:
                    board.block(cp_id, Source.OCPP, key=RESERVED, reason=RESERVED)
                except ClaimRefused:
                    log.warning("reservation: charge point %s is not known to the runtime", cp_id)
        self._blocked = wanted

    # --- internals ------------------------------------------------------------------------
    async def _tick(self, now: datetime) -> None:
        expired = [h.reservation_id for h in self._held.values() if h.expiry <= now]
        for reservation_id in expired:
            log.info("reservation %s expired", reservation_id)
            await self._drop(reservation_id)
        self.sync_claims()  # connector 0: which connectors are the last free ones changes

    async def _drop(self, reservation_id: int) -> None:
        self._held.pop(reservation_id, None)
        self.sync_claims()
        await self._delete_row(reservation_id)

    async def _delete_row(self, reservation_id: int) -> None:
        try:
            await self.agent.ctx.db(_delete, reservation_id)
        except Exception:
            log.exception("reservation %s could not be deleted", reservation_id)

    def _status_of(self, connector_id: int) -> str:
        state = self.agent.state_of(connector_id)
        return "Unavailable" if state is None else state.ocpp_status

    def _free(self, connector_id: int, *, ignore: int | None = None) -> bool:
        """Available to a new reservation: no vehicle, no transaction, no other reservation."""
        if connector_id in self.agent.active_transactions():
            return False
        if any(h.connector_id == connector_id and h.reservation_id != ignore for h in self._held.values()):
            return False
        state = self.agent.state_of(connector_id)
        return state is not None and state.vehicle is None and state.ocpp_status in FREE_STATUSES

    def _connector_status(self, connector_id: int, *, replacing: int) -> str:
        status = self._status_of(connector_id)
        if status == "Faulted":
            return FAULTED
        if status == "Unavailable":
            return UNAVAILABLE
        if not self._free(connector_id, ignore=replacing):
            return OCCUPIED
        # a connector held for a reservation of connector 0 is not free for another one
        park = [h for h in self._held.values() if h.connector_id == 0 and h.reservation_id != replacing]
        return OCCUPIED if connector_id in self._park_reserved(park) else ACCEPTED

    def _park_status(self, *, replacing: int) -> str:
        others = [h for h in self._held.values() if h.connector_id == 0 and h.reservation_id != replacing]
        free = [c for c in self.agent.connectors if self._free(c)]
        if len(free) > len(others):
            return ACCEPTED
        statuses = [self._status_of(c) for c in self.agent.connectors]
        if statuses and all(s == "Faulted" for s in statuses):
            return FAULTED
        if statuses and all(s in ("Faulted", "Unavailable") for s in statuses):
            return UNAVAILABLE
        return OCCUPIED if statuses else REJECTED

    def _park_reserved(self, park: list[Held]) -> set[int]:
        """The connectors held for reservations of connector 0: all free ones once no more than
        that many are free."""
        if not park:
            return set()
        free = [c for c in sorted(self.agent.connectors) if self._free(c)]
        return set(free) if len(free) <= len(park) else set()


# --- database work ----------------------------------------------------------------------------


def _load(now: datetime) -> list[Held]:
    Reservation.objects.filter(expiry_date__lte=now).delete()
    return [
        Held(r.reservation_id, r.connector_id, r.id_tag, r.parent_id_tag, r.expiry_date)
        for r in Reservation.objects.all()
    ]


def _save(held: Held) -> None:
    Reservation.objects.update_or_create(
        reservation_id=held.reservation_id,
        defaults={
            "connector_id": held.connector_id,
            "id_tag": held.id_tag,
            "parent_id_tag": held.parent_id_tag,
            "expiry_date": held.expiry,
        },
    )


def _delete(reservation_id: int) -> None:
    Reservation.objects.filter(reservation_id=reservation_id).delete()
