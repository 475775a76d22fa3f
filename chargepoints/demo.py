"""The demo charging park: what an installer can click through at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from chargepoints.choices import HlcMode, MeterType, ModuleKind, ReleaseMode, RfidReaderType
from chargepoints.models import ChargePoint, ChargePointConfig, RfidBoard, Station
from whitelist.models import WhitelistEntry

# (hostname, kind, ip, mac, [(position, device, config or None)])
DemoPoint = tuple[int, str, dict[str, Any] | None]
DEMO: list[tuple[str, str, str, str, list[DemoPoint]]] = [
    (
        "ev3000",
        ModuleKind.SERVER,
        "192.168.1.50",
        "A8:74:1D:10:22:31",
        [
            (
                1,
                "CHARX SEC-3150",
                {
                    "name": "P1-01",
                    "location": "Car park North, level 0, bay 1",
                    "release_mode": ReleaseMode.DASHBOARD,
                    "meter_type": MeterType.EEM_350,
                    "current_max_a": 32,
                    "hlc": True,
                },
            ),
            (
                2,
                "CHARX SEC-3100",
                {
                    "name": "P1-02",
                    "location": "Car park North, level 0, bay 2",
                    "release_mode": ReleaseMode.PERMANENT,
                    "meter_type": MeterType.EEM_EM357,
                    "current_max_a": 16,
                },
            ),
            (
                3,
                "CHARX SEC-3100",
                {
                    "name": "P1-03",
                    "location": "Car park North, level 0, bay 3",
                    "release_mode": ReleaseMode.WHITELIST,
                    "meter_type": MeterType.EEM_EM357,
                    "current_max_a": 16,
                    "rfid": True,
                },
            ),
        ],
    ),
    (
        "ev3000-2",
        ModuleKind.CLIENT,
        "192.168.4.2",
        "A8:74:1D:10:3C:0E",
        [
            (
                1,
                "CHARX SEC-3050",
                {
                    "name": "Visitor-01",
                    "location": "Visitor parking, entrance east",
                    "release_mode": ReleaseMode.PERMANENT,
                    "meter_type": MeterType.NONE,
                    "current_max_a": 20,
                    "hlc": True,
                },
            ),
            (2, "CHARX SEC-3100", None),
        ],
    ),
]


def _uid(station_no: int, position: int) -> str:
    return f"d5ae6274{station_no:04x}{position:04x}"


@transaction.atomic
def load_demo_park(*, extra_chargepoints: int = 0) -> int:
    """Create the demo park (and, for benchmarks, extra configured charge points filling more
    stations, 12 a station). Returns how many charge points exist afterwards."""
    for station_no, (hostname, kind, ip, mac, points) in enumerate(DEMO, start=1):
        station = Station.objects.create(kind=kind, hostname=hostname, head_ip=ip, head_mac=mac)
        for position, device, spec in points:
            cp = ChargePoint.objects.create(
                station=station,
                position=position,
                device_uid=_uid(station_no, position),
                device_name=device,
                hardware_version="1.2.0",
                firmware_version="1.8.3",
                supports_hlc=device in ("CHARX SEC-3150", "CHARX SEC-3050"),
                # meters that have been in service for a while (Wh)
                energy_register_wh=1_250_000 + 317_400 * station_no + 86_900 * position,
            )
            if spec is None:
                continue
            config = ChargePointConfig(
                chargepoint=cp,
                name=spec["name"],
                location=spec["location"],
                controller_uid=cp.device_uid,
                release_mode=spec["release_mode"],
                meter_type=spec["meter_type"],
                current_max_a=spec["current_max_a"],
                hlc_mode=HlcMode.OPTIONAL if spec.get("hlc") else HlcMode.DISABLED,
            )
            if spec.get("rfid"):
                config.rfid_reader = cp
                config.rfid_reader_type = RfidReaderType.CHARX_RFID_NFC
            config.full_clean()
            config.save()
            if spec.get("rfid"):  # its CHARX RFID/NFC board, with factory settings
                RfidBoard.objects.create(chargepoint=cp)
    station_no = len(DEMO)
    made = 0
    while made < extra_chargepoints:
        station_no += 1
        station = Station.objects.create(
            kind=ModuleKind.CLIENT,
            hostname=f"ev3000-{station_no}",
            head_ip=f"192.168.4.{station_no}",
            head_mac=f"A8:74:1D:20:{station_no // 256:02X}:{station_no % 256:02X}",
        )
        for position in range(1, 13):
            if made >= extra_chargepoints:
                break
            cp = ChargePoint.objects.create(
                station=station,
                position=position,
                device_uid=_uid(station_no, position),
                device_name="CHARX SEC-3100" if position > 1 else "CHARX SEC-3050",
                hardware_version="1.2.0",
                firmware_version="1.8.3",
            )
            ChargePointConfig.objects.create(
                chargepoint=cp,
                name=f"S{station_no:02d}-{position:02d}",
                location=f"Fleet depot, row {station_no}",
                controller_uid=cp.device_uid,
                release_mode=ReleaseMode.PERMANENT,
                meter_type=MeterType.EEM_350,
            )
            made += 1
    WhitelistEntry.objects.get_or_create(
        tag="04A1B2C3D4E5F6", defaults={"name": "Demo card", "expires_at": datetime(2035, 12, 31, tzinfo=UTC)}
    )
    return ChargePoint.objects.count()
