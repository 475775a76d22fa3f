"""One connection to the backend as the ``ocpp`` library's ``ChargePoint``: the incoming CALLs are
answered by the handler mixins (core here, the feature profiles in ``ocppcfg.features``), and
``call_raw`` sends a CALL given as a plain camelCase dict (as stored in the outbox).

Handlers must answer quickly: the library runs them inside its receive loop, so long work goes
into tasks (``agent.spawn``) and never awaits a CALL of its own (that would deadlock).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from ocpp.messages import Call, MessageType, validate_payload
from ocpp.v16 import ChargePoint

from ocppcfg.core_handlers import CoreHandlers
from ocppcfg.features.handlers import FeatureHandlers

if TYPE_CHECKING:
    from ocppcfg.agent import OcppAgent

LIBRARY_LOG = logging.getLogger("ocppcfg.library")
LIBRARY_LOG.setLevel(logging.CRITICAL)  # the library logs a traceback per refused CALL; ours log the frames


class Station(CoreHandlers, FeatureHandlers, ChargePoint):  # type: ignore[misc]
    """The charge point side of one connection."""

    def __init__(self, charge_box_id: str, connection: Any, agent: OcppAgent, *, response_timeout: float) -> None:
        self.agent = agent
        super().__init__(charge_box_id, connection, response_timeout=response_timeout, logger=LIBRARY_LOG)

    async def call_raw(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        unique_id: str | None = None,
        timeout: float | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        """One CALL (schema-checked both ways); the CALLRESULT's payload. Raises the mapped
        ``OCPPError`` for a CALLERROR and ``TimeoutError`` without an answer. ``validate=False``
        for a payload already checked (the outbox checks when it queues)."""
        message = Call(unique_id=unique_id or str(uuid.uuid4()), action=action, payload=payload)
        if validate:
            await validate_payload(message, self._ocpp_version)
        async with self._call_lock:
            await self._send(message.to_json())
            response = await self._get_specific_response(message.unique_id, timeout or self._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        response.action = action
        if validate or response.payload:
            await validate_payload(response, self._ocpp_version)
        return dict(response.payload)
