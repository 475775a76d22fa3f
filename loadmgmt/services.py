"""The one write path of the load management configuration: validate, write in one
transaction, record, then tell the load management agent on commit (``LmReload``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from chargepoints.models import ChargePoint
from loadmgmt import selectors
from loadmgmt.commands import LmReload
from loadmgmt.models import LoadCircuit
from loadmgmt.validation import validate
from wbm.audit import Actor, record_change
from wbm.runtime import commands


class CircuitInvalid(Exception):
    """The configuration breaks a rule; nothing was written. ``errors``: translated messages
    per field name (``loadmgmt.validation.FIELDS``)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class StaleRevision(Exception):
    """Someone else saved since the caller read ``revision``; nothing was written."""

    def __init__(self, revision: int) -> None:
        super().__init__(revision)
        self.revision = revision


@dataclass(frozen=True, slots=True)
class CircuitSaved:
    """What a save did; ``told``: False when the runtime could not be told now (the agent reads
    the stored values when it starts)."""

    changed: bool
    revision: int
    told: bool


def load_circuit_update(*, data: Mapping[str, Any], actor: Actor, revision: int | None = None) -> CircuitSaved:
    """Change the load circuit, all or nothing. ``data``: any of the fields of
    ``loadmgmt.validation.FIELDS``; the others keep their stored values (a PATCH). The whole
    result is validated against the park (``validate``); ``CircuitInvalid`` on a breach.
    ``revision``: the one the caller read (None: no check), ``StaleRevision`` when someone saved
    since. Recorded with before/after of what changed; the agent is told once committed."""
    with transaction.atomic():
        circuit, _created = LoadCircuit.objects.select_for_update().get_or_create(pk=LoadCircuit.SINGLETON_PK)
        if revision is not None and revision != circuit.revision:
            raise StaleRevision(circuit.revision)
        list(ChargePoint.objects.select_for_update().values_list("pk", flat=True))  # the park holds still
        before = selectors.circuit_values(circuit)
        checked = validate({**before, **data}, selectors.park_points())
        if checked.errors:
            raise CircuitInvalid(checked.errors)
        after = checked.values
        changed = {k for k in after if after[k] != before[k]}
        if not changed:
            return CircuitSaved(changed=False, revision=circuit.revision, told=True)
        for name in changed - {"chargepoints", "rs485_chargepoint"}:
            setattr(circuit, name, after[name])
        circuit.rs485_chargepoint_id = after["rs485_chargepoint"]
        circuit.revision += 1
        circuit.save()
        circuit.chargepoints.set(after["chargepoints"])
        record_change(
            actor=actor,
            action="loadmgmt.circuit.update",
            obj=circuit,
            before={k: before[k] for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
        )
        told = commands.on_commit(LmReload())
    return CircuitSaved(changed=True, revision=circuit.revision, told=told.error is None)
