"""Load management as a section of System Control / Import/Export: the load circuit, with its
charge points named by device UID (database ids do not travel), validated by
``loadmgmt.validation.validate`` and written by ``load_circuit_update``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chargepoints.models import ChargePoint
from loadmgmt import selectors, services
from loadmgmt.models import LoadCircuit
from loadmgmt.validation import FIELDS, validate
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section


def _uids() -> dict[int, str]:
    return dict(ChargePoint.objects.values_list("pk", "device_uid"))


def export() -> dict[str, Any]:
    circuit, _created = LoadCircuit.objects.get_or_create(pk=LoadCircuit.SINGLETON_PK)
    values = selectors.circuit_values(circuit)
    uids = _uids()
    values["chargepoints"] = sorted(uids[pk] for pk in values["chargepoints"] or [] if pk in uids)
    rs485 = values["rs485_chargepoint"]
    values["rs485_chargepoint"] = uids.get(rs485) if rs485 is not None else None
    return {"circuit": values}


def _values(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    circuit = data.get("circuit")
    if not isinstance(circuit, dict):
        raise ValueError("circuit must be an object")
    pks = {uid: pk for pk, uid in _uids().items()}
    errors = []
    values = {k: circuit.get(k) for k in FIELDS}
    unknown = [uid for uid in circuit.get("chargepoints") or [] if uid not in pks]
    rs485 = circuit.get("rs485_chargepoint")
    if rs485 is not None and rs485 not in pks:
        unknown.append(rs485)
    if unknown:
        errors.append(_("Unknown charge points (device UID): %(uids)s") % {"uids": ", ".join(map(str, unknown))[:200]})
    values["chargepoints"] = [pks[uid] for uid in circuit.get("chargepoints") or [] if uid in pks]
    values["rs485_chargepoint"] = pks.get(rs485) if rs485 is not None else None
    return values, errors


def check(data: dict[str, Any], secrets: dict[str, Any] | None) -> list[str]:
    values, errors = _values(data)
    checked = validate(values, selectors.park_points())
    return errors + [f"{field}: {message}" for field, messages in checked.errors.items() for message in messages]


def apply(data: dict[str, Any], secrets: dict[str, Any] | None, actor: Actor) -> None:
    values, _errors = _values(data)
    services.load_circuit_update(data=values, actor=actor)


SECTIONS = [
    Section(
        key="loadmgmt",
        title=gettext_lazy("Load management"),
        schema=1,
        edit_perm=Perm.LOADMGMT_EDIT,
        export=export,
        validate=check,
        apply=apply,
        audit_prefixes=("loadmgmt.",),
        order=40,
    )
]
