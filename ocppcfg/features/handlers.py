"""The backend's CALLs of the feature profiles, answered on the agent's ``Station``.

``FeatureHandlers`` is a mixin of ``ocppcfg.station.Station`` (an ``ocpp.v16.ChargePoint``, one
per connection): its ``@on`` handlers answer, its ``@after`` hooks start the work that must follow
the answer (an upload, a download). The library has already checked each payload against the OCPP
1.6 schema and hands it over in snake_case; nested objects go back to camelCase before the feature
modules see them. A handler never awaits a CALL of its own (that would wait for itself).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from ocppcfg.features import FeatureAgent, parse_time
from ocppcfg.features.firmware import Firmware
from ocppcfg.features.locallist import LocalList
from ocppcfg.features.reservations import Reservations
from ocppcfg.features.smart import SmartCharging

log = logging.getLogger("ocppcfg.features.handlers")


class FeatureHost(FeatureAgent, Protocol):
    """The agent with its feature objects."""

    reservations: Reservations
    local_list: LocalList
    smart: SmartCharging
    firmware: Firmware


class FeatureHandlers:
    """Local Auth List Management, Reservation, Smart Charging and Firmware Management."""

    agent: FeatureHost

    # --- Local Auth List Management ---------------------------------------------------------
    @on(Action.send_local_list)
    async def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = snake_to_camel_case(local_authorization_list or [])
        status = await self.agent.local_list.update(list_version, update_type, entries)
        return call_result.SendLocalList(status=status)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self.agent.local_list.version())

    # --- Reservation ------------------------------------------------------------------------
    @on(Action.reserve_now)
    async def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        expiry = parse_time(expiry_date)
        if expiry is None:
            return call_result.ReserveNow(status="Rejected")
        status = await self.agent.reservations.reserve(
            connector_id=connector_id,
            expiry_date=expiry,
            id_tag=id_tag,
            reservation_id=reservation_id,
            parent_id_tag=parent_id_tag or "",
        )
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        return call_result.CancelReservation(status=await self.agent.reservations.cancel(reservation_id))

    # --- Smart Charging ---------------------------------------------------------------------
    @on(Action.set_charging_profile)
    async def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        status = await self.agent.smart.set_profile(connector_id, snake_to_camel_case(cs_charging_profiles))
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        status = await self.agent.smart.clear(
            id=id, connector_id=connector_id, purpose=charging_profile_purpose, stack_level=stack_level
        )
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        answer = self.agent.smart.composite(connector_id, duration, charging_rate_unit)
        if answer is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(**answer)

    # --- Firmware Management ----------------------------------------------------------------
    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> call_result.UpdateFirmware:
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    async def after_update_firmware(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        when = parse_time(retrieve_date)
        if when is None:  # pragma: no cover - the schema wants a date-time
            log.warning("UpdateFirmware with an unreadable retrieveDate %r", retrieve_date[:40])
            return
        await self.agent.firmware.update(
            location=location, retrieve_date=when, retries=retries, retry_interval=retry_interval
        )

    @on(Action.get_diagnostics)
    def on_get_diagnostics(
        self,
        call_unique_id: str,
        location: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
    ) -> call_result.GetDiagnostics:
        name = self.agent.firmware.prepare_diagnostics(
            call_unique_id,
            location=location,
            start_time=parse_time(start_time),
            stop_time=parse_time(stop_time),
            retries=retries,
            retry_interval=retry_interval,
        )
        return call_result.GetDiagnostics(file_name=name)

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, call_unique_id: str, **_: Any) -> None:
        self.agent.firmware.begin_diagnostics(call_unique_id)
