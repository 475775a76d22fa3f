"""The one write path of the Modbus page: validate, write in one transaction, record, then tell
the Modbus server agent on commit (``ModbusReload``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from chargepoints.models import ChargePoint
from modbus import addressing
from modbus.commands import ModbusReload
from modbus.models import AUTOMATIC, ModbusSettings, ModbusStartAddress
from wbm.audit import Actor, record_change
from wbm.runtime import commands


class AddressesInvalid(Exception):
    """The start addresses break the manual's rules; nothing was written. ``errors``: the
    translated messages per charge point id (``addressing.validate``)."""

    def __init__(self, errors: dict[int, list[str]], *, mixed: bool = False) -> None:
        super().__init__(errors)
        self.errors = errors
        self.mixed = mixed  # the manual's "mixed operation" is among the reasons


class UnknownChargePoint(Exception):
    """A start address for a charge point the park does not have; nothing was written."""

    def __init__(self, ids: list[int]) -> None:
        super().__init__(ids)
        self.ids = ids


class StaleRevision(Exception):
    """Someone else saved the Modbus settings since the caller read ``revision``; nothing was
    written. ``revision``: the stored one now."""

    def __init__(self, revision: int) -> None:
        super().__init__(revision)
        self.revision = revision


@dataclass(frozen=True, slots=True)
class ModbusSaved:
    """What a save did: whether anything changed, the revision now, and whether the Modbus
    server was told (False: it could not be told now; it reads the stored values when it starts)."""

    changed: bool
    revision: int
    told: bool


def modbus_settings_update(
    *,
    addresses: Mapping[int, int] | None = None,
    allow_restart: bool | None = None,
    actor: Actor,
    revision: int | None = None,
) -> ModbusSaved:
    """Change start addresses (charge point id → -1 or a multiple of 1000 from 1000 to 48000;
    the others keep theirs) and/or "allow restart registers", all or nothing.

    The addresses are validated with the whole park's (``addressing.validate``: range, unique,
    no mixed operation); ``AddressesInvalid``/``UnknownChargePoint`` on a breach. ``revision``:
    the one the caller read (None: no check); ``StaleRevision`` when someone saved since. The
    change is recorded (before/after of what changed) and the Modbus server agent is told
    (``ModbusReload``) once committed; nothing changed = nothing written, recorded or told."""
    addresses = dict(addresses or {})
    with transaction.atomic():
        settings, _created = ModbusSettings.objects.select_for_update().get_or_create(pk=ModbusSettings.SINGLETON_PK)
        if revision is not None and revision != settings.revision:
            raise StaleRevision(settings.revision)
        known = dict(ChargePoint.objects.select_for_update().values_list("pk", "config__name"))
        unknown = sorted(cp for cp in addresses if cp not in known)
        if unknown:
            raise UnknownChargePoint(unknown)
        stored = addressing.stored_addresses()
        current = {cp: stored.get(cp, AUTOMATIC) for cp in known}
        wanted = {**current, **addresses}
        names = {cp: name or f"#{cp}" for cp, name in known.items()}
        errors = addressing.validate(wanted, names)
        if errors:
            raise AddressesInvalid(errors, mixed=addressing.is_mixed(wanted))
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        changed_cps = {cp: v for cp, v in wanted.items() if v != current[cp]}
        if changed_cps:
            before["start_addresses"] = {str(cp): current[cp] for cp in sorted(changed_cps)}
            after["start_addresses"] = {str(cp): v for cp, v in sorted(changed_cps.items())}
            for cp, value in changed_cps.items():
                ModbusStartAddress.objects.update_or_create(chargepoint_id=cp, defaults={"start_address": value})
        if allow_restart is not None and allow_restart != settings.allow_restart:
            before["allow_restart"] = settings.allow_restart
            after["allow_restart"] = allow_restart
            settings.allow_restart = allow_restart
        if not after:
            return ModbusSaved(changed=False, revision=settings.revision, told=True)
        settings.revision += 1
        settings.save()
        record_change(actor=actor, action="modbus.settings.update", obj=settings, before=before, after=after)
        told = commands.on_commit(ModbusReload())
    # inside an outer transaction the runtime is told later: only a failure to tell is news
    return ModbusSaved(changed=True, revision=settings.revision, told=told.error is None)
