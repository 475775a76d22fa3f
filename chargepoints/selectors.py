from __future__ import annotations

from django.db.models import QuerySet

from chargepoints.choices import RfidReaderType
from chargepoints.models import ChargePoint, ChargePointConfig, Station
from chargepoints.rfidboard import DEFAULT_BUZZER_PCT, DEFAULT_CONNECTION_TYPE, BoardInfo, LedSetting, default_leds


def station_list() -> QuerySet[Station]:
    return Station.objects.prefetch_related("chargepoints__config").order_by("id")


def chargepoint_get(*, pk: int) -> ChargePoint:
    return ChargePoint.objects.select_related("station", "config").get(pk=pk)


def rfid_boards_exist() -> bool:
    """The CHARX RFID/NFC board page applies: some charge point uses that reader type."""
    return ChargePointConfig.objects.filter(rfid_reader_type=RfidReaderType.CHARX_RFID_NFC).exists()


def rfid_board_list() -> list[BoardInfo]:
    """One board per charge point a CHARX RFID/NFC reader is wired at (the "RFID reader" of each
    configuration with that reader type, its own charge point when none is set), in backplane
    order, each with the charge points it serves."""
    served: dict[int, list[ChargePointConfig]] = {}
    configs = ChargePointConfig.objects.filter(rfid_reader_type=RfidReaderType.CHARX_RFID_NFC).order_by(
        "chargepoint__station_id", "chargepoint__position"
    )
    for config in configs:
        served.setdefault(config.rfid_reader_id or config.chargepoint_id, []).append(config)
    chargepoints = (
        ChargePoint.objects.filter(pk__in=served)
        .select_related("station", "config", "rfid_board")
        .prefetch_related("rfid_board__profiles")
        .order_by("station_id", "position")
    )
    return [_board_info(cp, served[cp.pk]) for cp in chargepoints]


def _board_info(chargepoint: ChargePoint, served: list[ChargePointConfig]) -> BoardInfo:
    board = getattr(chargepoint, "rfid_board", None)
    leds = default_leds()
    if board is not None:
        for row in board.profiles.all():
            leds[row.profile] = LedSetting(
                mode=row.mode,
                color=row.color,
                brightness_pct=row.brightness_pct,
                period_ms=row.period_ms,
                min_brightness_pct=row.min_brightness_pct,
                max_brightness_pct=row.max_brightness_pct,
            )
    return BoardInfo(
        pk=chargepoint.pk,
        title=str(chargepoint),
        served=tuple(c.chargepoint_id for c in served),
        served_names=tuple(c.name for c in served),
        connection_type=board.connection_type if board else DEFAULT_CONNECTION_TYPE.value,
        buzzer_volume_pct=board.buzzer_volume_pct if board else DEFAULT_BUZZER_PCT,
        leds=leds,
        saved=board is not None,
    )
