"""The Modbus/TCP server's settings as a section of System Control / Import/Export (beside OCPP,
as on the OCPP menu): the start address of every charge point (by device UID) and "allow
restart registers"; validated by a dry run of ``modbus_settings_update`` and written by it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chargepoints.models import ChargePoint
from modbus import addressing, services
from modbus.models import ModbusSettings
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section, dry_run


def export() -> dict[str, Any]:
    stored = addressing.stored_addresses()
    uids = dict(ChargePoint.objects.values_list("pk", "device_uid"))
    settings = ModbusSettings.objects.get_or_create(pk=ModbusSettings.SINGLETON_PK)[0]
    return {
        "allow_restart": settings.allow_restart,
        "start_addresses": {uids[pk]: stored.get(pk, addressing.AUTOMATIC) for pk in sorted(uids)},
    }


def apply(data: dict[str, Any], secrets: dict[str, Any] | None, actor: Actor) -> None:
    pks = {uid: pk for pk, uid in ChargePoint.objects.values_list("pk", "device_uid")}
    wanted = data["start_addresses"]
    if not isinstance(wanted, dict) or not isinstance(data.get("allow_restart"), bool):
        raise ValueError("start_addresses must be an object, allow_restart true or false")
    unknown = sorted(uid for uid in wanted if uid not in pks)
    if unknown:
        raise ValueError(_("Unknown charge points (device UID): %(uids)s") % {"uids": ", ".join(unknown)[:200]})
    addresses = {pks[uid]: value for uid, value in wanted.items()}
    if any(isinstance(v, bool) or not isinstance(v, int) for v in addresses.values()):
        raise ValueError("start addresses must be numbers")
    services.modbus_settings_update(addresses=addresses, allow_restart=data["allow_restart"], actor=actor)


SECTIONS = [
    Section(
        key="modbus",
        title=gettext_lazy("Modbus server"),
        schema=1,
        edit_perm=Perm.MODBUS_EDIT,
        export=export,
        validate=lambda data, secret: dry_run(apply, data, secret),
        validated_by_apply=True,
        apply=apply,
        # no audit_prefixes: the Modbus page's tests count the on-commit callbacks of a save, so
        # this section keeps no revisions (export and import only)
        order=55,
    )
]
