"""Smart Charging (OCPP 1.6 3.13, 5.5 ClearChargingProfile, 5.7 GetCompositeSchedule, 5.16
SetChargingProfile): the profiles of the backend become one CAP per connector.

The profiles live in one ``ProfileSet`` (``ocppcfg.smartcharging``, pure) and in
``ChargingProfileRecord`` (restored at start). Each tick every connector gets the CAP
``Source.OCPP`` "smart_charging" with what its TxProfiles/TxDefaultProfiles allow now, capped by its
share of the ChargePointMaxProfile: the park's limit shared evenly among the connectors with a
vehicle (a connector without one is counted as one more, so a vehicle that arrives never finds more
than its share; the controller raises the PWM only after 5 s anyway). Nothing limits: no CAP.

A RemoteStartTransaction's chargingProfile (a TxProfile for the transaction it starts) waits until
that transaction runs and is then installed for it; it lapses when no transaction starts within
ConnectionTimeOut (plus a minute).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ocppcfg.features import FeatureAgent, Tasks, key_int, publish, utc_now
from ocppcfg.models import ChargingProfileRecord
from ocppcfg.smartcharging import (
    CHARGE_POINT_MAX,
    TX,
    Profile,
    ProfileError,
    ProfileSet,
    parse_profile,
    profile_json,
)
from ocppcfg.variables import MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL
from wbm.runtime.claims import Claim, ClaimRefused, Kind, Source

log = logging.getLogger("ocppcfg.features.smart")

CAP_KEY = "smart_charging"
VOLTS = 230.0  # when the meter tells nothing
PENDING_GRACE_S = 60  # a remote start's profile waits ConnectionTimeOut plus this


@dataclass(frozen=True, slots=True)
class _Pending:
    profile: Profile
    until: datetime


class SmartCharging:
    """The charging profiles of the charge point and the caps they give."""

    def __init__(self, agent: FeatureAgent) -> None:
        self.agent = agent
        self.profiles = ProfileSet()
        self.current: dict[str, float | None] = {}  # connector (str) -> amps now; "0": the park
        self._pending: dict[int, _Pending] = {}
        self._capped: set[int] = set()  # charge points holding our CAP
        self._tasks = Tasks("smart charging")
        self._writing = asyncio.Lock()  # writes in the order they were asked for

    # --- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Restore the stored profiles, put the caps, follow the tick and the transactions' ends."""
        stored = await self.agent.ctx.db(_load)
        try:
            self.profiles = ProfileSet.from_json(stored)
        except ProfileError:
            log.exception("stored charging profiles unreadable; starting without them")
            self.profiles = ProfileSet()
        self.agent.on_tick(self._tick)
        self.agent.on_transaction_end(self._transaction_ended)
        self.evaluate(utc_now())

    async def stop(self) -> None:
        await self._tasks.stop()

    # --- SetChargingProfile / ClearChargingProfile / GetCompositeSchedule ----------------------
    async def set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> str:
        """SetChargingProfile (camelCase profile): Accepted or Rejected."""
        if connector_id != 0 and connector_id not in self.agent.connectors:
            return "Rejected"
        now = utc_now()
        try:
            profile = self._parse(connector_id, cs_charging_profiles, now)
            candidate = ProfileSet(list(self.profiles.profiles))
            candidate.install(
                profile,
                active_transactions=self._running(),
                max_installed=key_int(self.agent, "MaxChargingProfilesInstalled", MAX_PROFILES),
            )
        except ProfileError as exc:
            log.info("SetChargingProfile on connector %s rejected: %s", connector_id, exc)
            return "Rejected"
        if not await self._persist(candidate):
            return "Rejected"
        self.profiles = candidate
        self.evaluate(now)
        return "Accepted"

    async def clear(
        self,
        *,
        id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> str:
        """ClearChargingProfile: Accepted when a profile went, Unknown otherwise."""
        candidate = ProfileSet(list(self.profiles.profiles))
        gone = candidate.clear(id=id, connector_id=connector_id, purpose=purpose, stack_level=stack_level)
        waiting = [c for c, p in self._pending.items() if id is not None and p.profile.id == id]
        for connector in waiting:
            del self._pending[connector]
        if not gone:
            return "Accepted" if waiting else "Unknown"
        if not await self._persist(candidate):
            return "Unknown"
        self.profiles = candidate
        self.evaluate(utc_now())
        return "Accepted"

    def composite(self, connector_id: int, duration_s: int, unit: str | None) -> dict[str, Any] | None:
        """GetCompositeSchedule.conf's fields for ``connector_id`` from now on (None: Rejected, an
        unknown connector). Without any limit in the period there is no chargingSchedule."""
        if connector_id != 0 and connector_id not in self.agent.connectors:
            return None
        start = utc_now().replace(microsecond=0)
        tx = self.agent.active_transactions().get(connector_id)
        phases, volts = self._electrics(connector_id)
        schedule = self.profiles.composite(
            connector_id,
            start,
            max(0, duration_s),
            unit,
            transaction_start=tx.started_at if tx else None,
            transaction_id=tx.transaction_id if tx else None,
            phases=phases,
            volts=volts,
        )
        answer: dict[str, Any] = {"status": "Accepted", "connector_id": connector_id}
        if schedule["chargingSchedulePeriod"]:
            answer["schedule_start"] = schedule["startSchedule"]
            answer["charging_schedule"] = schedule
        return answer

    def install_remote_start_profile(self, connector_id: int, profile: dict[str, Any]) -> bool:
        """RemoteStartTransaction's chargingProfile (camelCase): a TxProfile without transactionId
        for the transaction being started (OCTT TC_059). False: the RemoteStart is to be Rejected
        (another purpose, a transactionId, an invalid profile: TC_060)."""
        if connector_id not in self.agent.connectors:
            return False
        now = utc_now()
        try:
            parsed = self._parse(connector_id, profile, now)
        except ProfileError as exc:
            log.info("RemoteStartTransaction's charging profile refused: %s", exc)
            return False
        if parsed.purpose != TX or parsed.transaction_id is not None:
            return False
        wait_s = key_int(self.agent, "ConnectionTimeOut", 60) + PENDING_GRACE_S
        self._pending[connector_id] = _Pending(parsed, now + timedelta(seconds=wait_s))
        self._adopt_pending(now)
        return True

    # --- the tick ---------------------------------------------------------------------------
    def evaluate(self, now: datetime) -> None:
        """Put (or withdraw) each connector's CAP for ``now`` and note the limits in ``current``."""
        board = self.agent.ctx.claims
        running = self.agent.active_transactions()
        states = {c: self.agent.state_of(c) for c in self.agent.connectors}
        vehicles = sum(1 for s in states.values() if s is not None and s.vehicle is not None)
        park, _ = self.profiles.park_limit(now)
        own_profiles = ProfileSet([p for p in self.profiles.profiles if p.purpose != CHARGE_POINT_MAX])
        current: dict[str, float | None] = {"0": None if park is None else round(park, 1)}
        capped: set[int] = set()
        for connector, cp_id in self.agent.connectors.items():
            state, tx = states[connector], running.get(connector)
            phases, volts = self._electrics(connector)
            own, _ = own_profiles.limit(
                connector,
                now,
                transaction_start=tx.started_at if tx else None,
                transaction_id=tx.transaction_id if tx else None,
                phases=phases,
                volts=volts,
            )
            share = None
            if park is not None:
                has_vehicle = state is not None and state.vehicle is not None
                share = park / max(1, vehicles if has_vehicle else vehicles + 1)
            known = [a for a in (own, share) if a is not None]
            amps = round(min(known), 1) if known else None
            current[str(connector)] = amps
            claim = None
            if amps is not None:
                claim = Claim(cp_id=cp_id, kind=Kind.CAP, source=Source.OCPP, key=CAP_KEY, amps=amps)
                capped.add(cp_id)
            try:
                board.sync(claim, (cp_id, Kind.CAP, Source.OCPP, CAP_KEY))
            except ClaimRefused:
                capped.discard(cp_id)
        for cp_id in self._capped - capped:
            board.withdraw(cp_id, Source.OCPP, Kind.CAP, CAP_KEY)
        self._capped = capped
        if current != self.current:
            self.current = current
            publish(self.agent)

    def status(self) -> dict[str, float | None]:
        """``composite`` of the agent's status: amps per connector now ("0": the park)."""
        return dict(self.current)

    async def _tick(self, now: datetime) -> None:
        self._adopt_pending(now)
        self.evaluate(now)

    def _transaction_ended(self, connector_id: int, _tx: Any) -> None:
        """TxProfiles end with their transaction (3.13.1)."""
        self._pending.pop(connector_id, None)
        if any(p.purpose == TX and p.connector_id == connector_id for p in self.profiles.profiles):
            candidate = ProfileSet(list(self.profiles.profiles))
            candidate.transaction_ended(connector_id)
            self.profiles = candidate
            self._tasks.spawn(self._persist(candidate))
        self.evaluate(utc_now())

    # --- internals ------------------------------------------------------------------------
    def _adopt_pending(self, now: datetime) -> None:
        """Install a remote start's profile once its transaction runs; forget it when none came."""
        running = self._running()
        for connector, pending in list(self._pending.items()):
            if connector in running:
                del self._pending[connector]
                candidate = ProfileSet(list(self.profiles.profiles))
                try:
                    candidate.install(pending.profile, active_transactions=running)
                except ProfileError as exc:  # pragma: no cover - checked when it came
                    log.warning("remote start's charging profile not installed: %s", exc)
                    continue
                self.profiles = candidate
                self._tasks.spawn(self._persist(candidate))
            elif now >= pending.until:
                del self._pending[connector]

    def _parse(self, connector_id: int, data: dict[str, Any], now: datetime) -> Profile:
        units = tuple(
            u.strip()
            for u in self.agent.values.get("ChargingScheduleAllowedChargingRateUnit", "Current,Power").split(",")
        )
        return parse_profile(
            connector_id,
            data,
            max_stack_level=key_int(self.agent, "ChargeProfileMaxStackLevel", MAX_STACK_LEVEL),
            max_periods=key_int(self.agent, "ChargingScheduleMaxPeriods", MAX_PERIODS),
            allowed_units=units,
            received_at=now,
        )

    def _running(self) -> dict[int, int]:
        """connector -> transactionId of the running transactions (a transaction still waiting
        for its id counts with a stand-in no profile can name)."""
        return {
            c: tx.transaction_id if tx.transaction_id is not None else -1 - tx.local_id
            for c, tx in self.agent.active_transactions().items()
        }

    def _electrics(self, connector_id: int) -> tuple[int, float]:
        """Phases (the vehicle's, else 3) and volts (the meter's mean, else 230) for W -> A."""
        state = self.agent.state_of(connector_id) if connector_id else None
        phases = state.vehicle.phases if state is not None and state.vehicle is not None else 3
        volts = VOLTS
        if state is not None and state.meter is not None:
            live = [v for v in state.meter.voltages_v if v > 100]
            if live:
                volts = sum(live) / len(live)
        return phases, volts

    async def _persist(self, profiles: ProfileSet) -> bool:
        try:
            async with self._writing:
                await self.agent.ctx.db(_store, list(profiles.profiles), utc_now())
        except Exception:
            log.exception("charging profiles could not be stored")
            return False
        return True


# --- database work ----------------------------------------------------------------------------


def _load() -> list[dict[str, Any]]:
    return [
        {"connectorId": r.connector_id, "csChargingProfiles": r.profile}
        for r in ChargingProfileRecord.objects.order_by("id")
    ]


def _store(profiles: list[Profile], now: datetime) -> None:
    """The installed profiles replace the stored ones, in one transaction."""
    with transaction.atomic():
        ChargingProfileRecord.objects.all().delete()
        ChargingProfileRecord.objects.bulk_create(
            ChargingProfileRecord(
                connector_id=p.connector_id,
                profile_id=p.id,
                stack_level=p.stack_level,
                purpose=p.purpose,
                transaction_id=p.transaction_id,
                profile=profile_json(p),
                received_at=now,
            )
            for p in profiles
        )
