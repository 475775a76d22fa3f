"""What the OCPP agent reads from the database (run in its database worker via ``ctx.db``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorInfo:
    connector_id: int
    cp_id: int
    rfid_reader_id: int | None  # the charge point whose reader is used (None: none)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """The backend connection's settings, the configuration keys and the connectors."""

    url: str
    user: str
    key: str
    ca_certificate: str
    vendor: str
    model: str
    serial_number: str
    values: dict[str, str]
    connectors: dict[int, ConnectorInfo] = field(default_factory=dict)
    inoperative: dict[int, bool] = field(default_factory=dict)  # connectorId -> scheduled

    @property
    def link_key(self) -> tuple[str, str, str, str]:
        """What a new connection is needed for when it changes."""
        return (self.url, self.user, self.key, self.ca_certificate)


DEFAULT_VENDOR = "WBM"
DEFAULT_MODEL = "AC-Controller"


def load_setup() -> Setup:
    from chargepoints.choices import ReleaseMode
    from chargepoints.models import ChargePointConfig
    from ocppcfg import variables
    from ocppcfg.models import ConnectorAvailability, OcppSettings

    settings = OcppSettings.load()
    connectors: dict[int, ConnectorInfo] = {}
    rows = ChargePointConfig.objects.filter(release_mode=ReleaseMode.OCPP, ocpp_connector_id__gte=1).order_by(
        "ocpp_connector_id"
    )
    for cfg in rows:
        connectors.setdefault(
            cfg.ocpp_connector_id,
            ConnectorInfo(
                connector_id=cfg.ocpp_connector_id, cp_id=cfg.chargepoint_id, rfid_reader_id=cfg.rfid_reader_id
            ),
        )
    return Setup(
        url=settings.backend_url.strip(),
        user=settings.authorization_user,
        key=settings.authorization_key,
        ca_certificate=settings.ca_certificate,
        vendor=settings.vendor or DEFAULT_VENDOR,
        model=settings.model or DEFAULT_MODEL,
        serial_number=settings.serial_number,
        values=variables.values(),
        connectors=connectors,
        inoperative={row.connector_id: row.scheduled for row in ConnectorAvailability.objects.all()},
    )


def newest_log_ids() -> tuple[int, int]:
    """(newest MessageLog id, newest ConnectionEvent id), 0 when none."""
    from ocppcfg.models import ConnectionEvent, MessageLog

    log = MessageLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    timeline = ConnectionEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return log, timeline
