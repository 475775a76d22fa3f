"""The one write path for charge points: validate, write once, record, tell the runtime."""

from __future__ import annotations

from django.db import transaction

from chargepoints.models import ChargePoint
from wbm.audit import Actor, record_change
from wbm.runtime import commands


def chargepoint_release_set(*, chargepoint: ChargePoint, allow: bool, actor: Actor) -> None:
    """Allow or prohibit charging (the manual's charging release); refused by the runtime when
    the release mode does not permit it or no vehicle is connected."""
    commands.call("cp.release", cp=chargepoint.pk, allow=allow)
    record_change(actor=actor, action="chargepoint.release.allow" if allow else "chargepoint.release.prohibit",
                  obj=chargepoint)


@transaction.atomic
def chargepoint_availability_set(*, chargepoint: ChargePoint, enabled: bool, actor: Actor) -> None:
    """Disable (state F, shown as Error, charging aborted) or enable a charge point; kept
    across restarts."""
    commands.call("cp.availability", cp=chargepoint.pk, enabled=enabled)
    before = chargepoint.enabled
    ChargePoint.objects.filter(pk=chargepoint.pk).update(enabled=enabled)
    record_change(actor=actor, action="chargepoint.enable" if enabled else "chargepoint.disable",
                  obj=chargepoint, before={"enabled": before}, after={"enabled": enabled})


def chargepoint_unlock_set(*, chargepoint: ChargePoint, enforce: bool, actor: Actor) -> None:
    commands.call("cp.unlock", cp=chargepoint.pk, enforce=enforce)
    record_change(actor=actor, action="chargepoint.unlock.enforce" if enforce else "chargepoint.unlock.revert",
                  obj=chargepoint)
