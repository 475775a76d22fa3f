from __future__ import annotations

from django.db.models import QuerySet

from chargepoints.models import ChargePoint, Station


def station_list() -> QuerySet[Station]:
    return Station.objects.prefetch_related("chargepoints__config").order_by("id")


def chargepoint_get(*, pk: int) -> ChargePoint:
    return ChargePoint.objects.select_related("station", "config").get(pk=pk)
