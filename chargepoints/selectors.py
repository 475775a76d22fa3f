from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from chargepoints.choices import RfidReaderType
from chargepoints.controller.rules import CpConfig
from chargepoints.models import ChargePoint, ChargePointConfig, ChargingSession, Station
from chargepoints.rfidboard import DEFAULT_BUZZER_PCT, DEFAULT_CONNECTION_TYPE, BoardInfo, LedSetting, default_leds
from wbm.runtime.backends.controller import HardwarePoint


def station_list() -> QuerySet[Station]:
    return Station.objects.prefetch_related("chargepoints__config").order_by("id")


def station_names() -> dict[int, str]:
    """{station id: host name}: the dashboard groups its cards by station under these names."""
    return dict(Station.objects.values_list("pk", "hostname"))


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


# --- what the controller reads ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkLayout:
    """Topology and configuration as the controller needs them, in backplane order."""

    points: tuple[HardwarePoint, ...]
    configs: dict[int, CpConfig]
    enabled: dict[int, bool]


def park_layout() -> ParkLayout:
    points: list[HardwarePoint] = []
    configs: dict[int, CpConfig] = {}
    enabled: dict[int, bool] = {}
    for cp in ChargePoint.objects.select_related("config").order_by("station_id", "position"):
        cfg = getattr(cp, "config", None)
        points.append(
            HardwarePoint(
                id=cp.pk,
                station_id=cp.station_id,
                position=cp.position,
                device_uid=cp.device_uid,
                energy_register_wh=float(cp.energy_register_wh),
                meter_installed=bool(cfg and cfg.meter_type),
            )
        )
        enabled[cp.pk] = cp.enabled
        if cfg is not None:
            configs[cp.pk] = CpConfig(
                name=cfg.name,
                location=cfg.location,
                release_mode=cfg.release_mode,
                current_min_a=cfg.current_min_a,
                current_max_a=cfg.current_max_a,
                fallback_current_a=cfg.fallback_current_a,
                fallback_time_s=cfg.fallback_time_s,
                meter_type=cfg.meter_type,
                status_d_rejection=cfg.status_d_rejection,
                connection_type=cfg.connection_type,
                locking_mode=cfg.locking_mode,
                rfid_reader_id=cfg.rfid_reader_id,
                rfid_timeout_s=cfg.rfid_timeout_s,
                derating_sensor=cfg.derating_sensor,
                derating_start_temp_c=cfg.derating_start_temp_c,
                derating_stop_temp_c=cfg.derating_stop_temp_c,
                derating_start_current_a=cfg.derating_start_current_a,
                derating_stop_current_a=cfg.derating_stop_current_a,
                hlc_mode=cfg.hlc_mode,
                ocpp_connector_id=cfg.ocpp_connector_id,
                plug_rejection=cfg.plug_rejection,
                contactor_monitoring_input=cfg.contactor_monitoring_input,
                aux_contact_type=cfg.aux_contact_type,
                dc_residual_monitoring=cfg.dc_residual_monitoring,
                overcurrent_detection=cfg.overcurrent_detection,
                out_of_balance_suppression=cfg.out_of_balance_suppression,
            )
    return ParkLayout(points=tuple(points), configs=configs, enabled=enabled)


def chargepoint_enabled_map() -> dict[int, bool]:
    """The stored Disable/Enable of every charge point."""
    return dict(ChargePoint.objects.values_list("pk", "enabled"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenSession:
    pk: int
    chargepoint_id: int
    started_at: float  # epoch seconds
    meter_start_wh: int
    id_tag: str
    released_by: tuple[str, ...] = ()  # claim sources that released charging during it


def open_session_list() -> list[OpenSession]:
    """Sessions without an end: after a restart, the controller resumes or closes them."""
    return [
        OpenSession(
            pk=s.pk,
            chargepoint_id=s.chargepoint_id,
            started_at=s.started_at.timestamp(),
            meter_start_wh=s.meter_start_wh,
            id_tag=s.id_tag,
            released_by=tuple(filter(None, s.released_by.split(","))),
        )
        for s in ChargingSession.objects.filter(ended_at__isnull=True).order_by("started_at")
    ]
