"""The Core and Remote Trigger profiles' incoming CALLs (mixin of ``Station``).

Each handler answers at once; what takes longer (a transaction to stop, an unlock after it, a
reset, a triggered message) runs in a task of the agent after the answer went out.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from ocppcfg import authorization, variables

if TYPE_CHECKING:
    from ocppcfg.agent import OcppAgent

UNUSABLE = ("Unavailable", "Faulted")
OUR_VENDOR_IDS = ("WBM",)


class CoreHandlers:
    agent: OcppAgent

    # --- remote start / stop ---------------------------------------------------------------------
    @on(Action.remote_start_transaction)
    async def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: dict[str, Any] | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        agent = self.agent
        rejected = call_result.RemoteStartTransaction(status="Rejected")
        if connector_id is None:
            connector_id = agent.free_connector()
            if connector_id is None:
                return rejected
        if connector_id not in agent.connectors:  # 0 included (TC_027)
            return rejected
        state = agent.state_of(connector_id)
        if (
            connector_id in agent.active
            or state is None
            or state.ocpp_status in UNUSABLE
            or agent.inoperative(connector_id)
        ):
            return rejected
        allowed, reservation_id = agent.reservations.admits(connector_id, id_tag, "")
        if not allowed:
            return rejected
        if charging_profile is not None:
            profile = snake_to_camel_case(charging_profile)
            install = getattr(agent.smart, "install_remote_start_profile", None)
            if install is not None:
                accepted = install(connector_id, profile)
                if asyncio.iscoroutine(accepted):
                    accepted = await accepted
                if not accepted:
                    return rejected
        agent.spawn_later(agent.remote_start(connector_id, id_tag, reservation_id))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        agent = self.agent
        for connector_id, tx in agent.active.items():
            if tx.transaction_id == transaction_id:
                agent.spawn_later(agent.stop_transaction(connector_id, "Remote"))
                return call_result.RemoteStopTransaction(status="Accepted")
        return call_result.RemoteStopTransaction(status="Rejected")

    # --- unlock, availability, reset -------------------------------------------------------------
    @on(Action.unlock_connector)
    async def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        agent = self.agent
        if connector_id not in agent.connectors:
            return call_result.UnlockConnector(status="NotSupported")
        if connector_id in agent.active:
            await agent.stop_transaction(connector_id, "UnlockCommand")
        status = await agent.unlock(connector_id)
        return call_result.UnlockConnector(status=status)

    @on(Action.change_availability)
    async def on_change_availability(self, connector_id: int, type: str, **_: Any) -> call_result.ChangeAvailability:
        status = await self.agent.change_availability(connector_id, type)
        return call_result.ChangeAvailability(status=status)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        self.agent.spawn_later(self.agent.reset(type))
        return call_result.Reset(status="Accepted")

    @on(Action.clear_cache)
    async def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        try:
            await self.agent.ctx.db(authorization.cache_clear)
        except Exception:
            return call_result.ClearCache(status="Rejected")
        return call_result.ClearCache(status="Accepted")

    # --- configuration ---------------------------------------------------------------------------
    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> call_result.GetConfiguration:
        values = self.agent.values
        limit = int(values.get("GetConfigurationMaxKeys") or variables.GET_CONFIGURATION_MAX_KEYS)
        wanted = list(variables.VARIABLES) if not key else list(dict.fromkeys(key))[:limit]
        known, unknown = [], []
        for name in wanted:
            variable = variables.VARIABLES.get(name)
            if variable is None:
                unknown.append(name[:50])
                continue
            value = variables.SECRET_SHOWN if variable.secret else values.get(name, variable.default)
            known.append({"key": name, "readonly": variable.readonly, "value": value[:500]})
        return call_result.GetConfiguration(configuration_key=known or None, unknown_key=unknown or None)

    @on(Action.change_configuration)
    async def on_change_configuration(self, key: str, value: str, **_: Any) -> call_result.ChangeConfiguration:
        status = await self.agent.change_configuration(key, value)
        return call_result.ChangeConfiguration(status=status)

    # --- data transfer, trigger ------------------------------------------------------------------
    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        """No vendor data is exchanged: our own vendor ID gets UnknownMessageId, any other
        UnknownVendorId (OCPP 1.6 §5.6)."""
        ours = {*OUR_VENDOR_IDS, self.agent.setup.vendor} if self.agent.setup else set(OUR_VENDOR_IDS)
        return call_result.DataTransfer(status="UnknownMessageId" if vendor_id in ours else "UnknownVendorId")

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        agent = self.agent
        rejected = call_result.TriggerMessage(status="Rejected")
        if connector_id is not None and connector_id != 0 and connector_id not in agent.connectors:
            return rejected
        if requested_message != "BootNotification" and not agent.accepted:
            return rejected
        if requested_message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            trigger = getattr(agent.firmware, "trigger", None)
            if trigger is None:
                return call_result.TriggerMessage(status="NotImplemented")
            agent.spawn_later(trigger(requested_message))
            return call_result.TriggerMessage(status="Accepted")
        if requested_message == "MeterValues" and connector_id == 0:
            return rejected
        if requested_message not in ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues"):
            return call_result.TriggerMessage(status="NotImplemented")
        agent.spawn_later(agent.triggered(requested_message, connector_id))
        return call_result.TriggerMessage(status="Accepted")
