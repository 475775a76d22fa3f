"""Charging park topology (what the controller backend reports) and charge point configuration.

A station is one server or client module with its extension modules; a charge point is one
charging interface at backplane position 1 (the head module) to 12. A charge point without a
``ChargePointConfig`` is in factory default: not configured, not on the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from chargepoints import choices as c

MAX_POSITIONS = 12  # backplane positions per station
HARDWARE_MAX_CURRENT_A = 32  # what the charge point hardware can deliver, per phase
MIN_CHARGE_CURRENT_A = 6  # IEC 61851-1: the lowest PWM current a vehicle accepts
# Limits the manual leaves open; chosen to be what an installer could sensibly need.
FALLBACK_TIME_MAX_S = 3600
RFID_TIMEOUT_MAX_S = 3600
DERATING_TEMP_MIN_C = -40
DERATING_TEMP_MAX_C = 150
OCPP_CONNECTOR_ID_MAX = 999


def _range(low: int, high: int) -> list[Any]:
    """Field limits live on the model: every way in (page, API, import, OCPP) meets them."""
    return [MinValueValidator(low), MaxValueValidator(high)]


class Station(models.Model):
    """One server or client module (the head module) and the extension modules behind it."""

    kind = models.CharField(_("module kind"), max_length=10, choices=c.ModuleKind.choices)
    hostname = models.CharField(_("host name"), max_length=63)
    head_ip = models.GenericIPAddressField(_("head module IP address"), protocol="IPv4")
    head_mac = models.CharField(_("head module MAC address"), max_length=17)

    class Meta:
        ordering = ["id"]
        verbose_name = _("charging station")

    def __str__(self) -> str:
        return self.hostname


class ChargePoint(models.Model):
    """One charging interface as the hardware reports it; its energy register only grows."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="chargepoints")
    position = models.PositiveSmallIntegerField(
        _("backplane bus position"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POSITIONS)],
    )
    device_uid = models.CharField(_("device UID"), max_length=32, unique=True)
    device_name = models.CharField(_("device name"), max_length=40)
    hardware_version = models.CharField(_("hardware version"), max_length=20)
    firmware_version = models.CharField(_("firmware version"), max_length=20)
    supports_hlc = models.BooleanField(_("supports ISO 15118"), default=False)
    # Operator's Disable/Enable: a disabled charge point is in state F and shown as Error.
    enabled = models.BooleanField(_("enabled"), default=True)
    # Persisted by the runtime so the register survives restarts.
    energy_register_wh = models.BigIntegerField(_("energy register (Wh)"), default=0)

    class Meta:
        ordering = ["station_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["station", "position"], name="cp_unique_position"),
        ]
        verbose_name = _("charging point")

    def __str__(self) -> str:
        config = getattr(self, "config", None)
        if config is not None:
            return config.name
        return f"{self.station.hostname} #{self.position}"

    @property
    def is_configured(self) -> bool:
        return hasattr(self, "config")


evse_id_validator = RegexValidator(
    r"^[A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9][A-Z0-9*]{0,30}$",
    _("Enter an EVSE ID as country code + operator ID + “E” + station ID, e.g. DE123E4567."),
)


class ChargePointConfig(models.Model):
    """The configuration of one charge point: every field of the manual's configuration page."""

    chargepoint = models.OneToOneField(ChargePoint, on_delete=models.CASCADE, primary_key=True, related_name="config")
    name = models.CharField(_("name"), max_length=40, unique=True)
    location = models.CharField(_("location"), max_length=80)
    controller_uid = models.CharField(_("assigned controller UID"), max_length=32)

    # Charging Connection
    connection_type = models.CharField(
        _("connection type"),
        max_length=20,
        choices=c.ConnectionType.choices,
        default=c.ConnectionType.SOCKET_OUTLET,
    )
    standard = models.CharField(
        _("standard"),
        max_length=20,
        choices=c.ChargingStandard.choices,
        default=c.ChargingStandard.IEC_62196,
        blank=True,
    )
    socket_outlet_type = models.CharField(
        _("socket outlet type"),
        max_length=20,
        choices=c.SocketOutletType.choices,
        default=c.SocketOutletType.MARQUARDT_4,
        blank=True,
    )
    locking_mode = models.CharField(
        _("locking mode"),
        max_length=20,
        choices=c.LockingMode.choices,
        default=c.LockingMode.EV_CONNECTED,
        blank=True,
    )
    plug_rejection = models.CharField(
        _("plug rejection"),
        max_length=20,
        choices=c.PlugRejection.choices,
        default=c.PlugRejection.REJECT_13A,  # the manual names no default: its first choice
    )
    status_d_rejection = models.CharField(
        _("status D vehicle rejection"),
        max_length=10,
        choices=c.StatusDRejection.choices,
        default=c.StatusDRejection.REJECT,
    )

    # Energy | Charge Currents (amps, per phase; seconds)
    current_min_a = models.PositiveSmallIntegerField(
        _("charge current minimum (A)"), default=6, validators=_range(MIN_CHARGE_CURRENT_A, HARDWARE_MAX_CURRENT_A)
    )
    current_max_a = models.PositiveSmallIntegerField(
        _("charge current maximum (A)"), default=16, validators=_range(MIN_CHARGE_CURRENT_A, HARDWARE_MAX_CURRENT_A)
    )
    fallback_current_a = models.PositiveSmallIntegerField(
        _("fallback charging current (A)"), default=6, validators=_range(0, HARDWARE_MAX_CURRENT_A)
    )
    fallback_time_s = models.PositiveIntegerField(
        _("fallback time (s)"), default=60, validators=_range(0, FALLBACK_TIME_MAX_S)
    )
    # Energy | Energy measuring device
    meter_type = models.CharField(
        _("energy measuring device type"),
        max_length=20,
        choices=c.MeterType.choices,
        default=c.MeterType.NONE,
        blank=True,
    )
    phase_rotation = models.CharField(
        _("connector phase rotation"),
        max_length=10,
        choices=c.PhaseRotation.choices,
        default=c.PhaseRotation.NOT_SET,
        blank=True,
    )
    # Calibration Law
    calibration_abbreviation = models.CharField(_("charge point abbreviation for screen"), max_length=8, blank=True)
    calibration_selection = models.CharField(
        _("selection of the charging point"),
        max_length=10,
        choices=c.CalibrationSelection.choices,
        default=c.CalibrationSelection.RFID,
    )

    # Monitoring | Protection
    contactor_monitoring_input = models.PositiveSmallIntegerField(
        _("contactor monitoring input"),
        default=0,
        validators=[MaxValueValidator(4)],
        help_text=_("0 = no contactor monitoring"),
    )
    aux_contact_type = models.CharField(
        _("auxiliary contact"),
        max_length=4,
        choices=c.AuxContactType.choices,
        default=c.AuxContactType.NC,
        blank=True,
    )
    dc_residual_monitoring = models.BooleanField(_("DC residual current monitoring"), default=True)
    # Monitoring | Charge Current Monitoring (needs a meter)
    overcurrent_detection = models.CharField(
        _("over current detection"),
        max_length=20,
        choices=c.OverCurrentDetection.choices,
        default=c.OverCurrentDetection.EV_ZE_READY,  # the manual names no default: its first choice
    )
    out_of_balance_suppression = models.BooleanField(_("out-of-balance suppression"), default=False)
    # Monitoring | Derating
    derating_sensor = models.CharField(
        _("sensor type"),
        max_length=10,
        choices=c.DeratingSensor.choices,
        default=c.DeratingSensor.NONE,
        blank=True,
    )
    derating_start_temp_c = models.SmallIntegerField(
        _("start temperature (°C)"), default=60, validators=_range(DERATING_TEMP_MIN_C, DERATING_TEMP_MAX_C)
    )
    derating_stop_temp_c = models.SmallIntegerField(
        _("stop temperature (°C)"), default=80, validators=_range(DERATING_TEMP_MIN_C, DERATING_TEMP_MAX_C)
    )
    derating_start_current_a = models.PositiveSmallIntegerField(
        _("start current (A)"), default=16, validators=_range(0, HARDWARE_MAX_CURRENT_A)
    )
    derating_stop_current_a = models.PositiveSmallIntegerField(
        _("stop current (A)"), default=6, validators=_range(0, HARDWARE_MAX_CURRENT_A)
    )
    ptc_terminating_resistor = models.BooleanField(_("terminating resistor"), default=False)

    # Allow Charging
    release_mode = models.CharField(
        _("release mode"),
        max_length=12,
        choices=c.ReleaseMode.choices,
        default=c.ReleaseMode.DASHBOARD,
    )
    rfid_reader = models.ForeignKey(
        ChargePoint,
        verbose_name=_("RFID reader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rfid_reader_type = models.CharField(
        _("type of RFID reader"),
        max_length=20,
        choices=c.RfidReaderType.choices,
        default=c.RfidReaderType.ELATEC_TWN4,
        blank=True,
    )
    rfid_timeout_s = models.PositiveIntegerField(
        _("RFID timeout (s)"), default=60, validators=_range(1, RFID_TIMEOUT_MAX_S)
    )
    # -1: not set (release mode other than OCPP)
    ocpp_connector_id = models.IntegerField(
        _("OCPP connector ID"), default=-1, validators=_range(-1, OCPP_CONNECTOR_ID_MAX)
    )

    # ISO 15118
    hlc_mode = models.CharField(
        _("high level communication"),
        max_length=10,
        choices=c.HlcMode.choices,
        default=c.HlcMode.DISABLED,
    )
    evse_id = models.CharField(_("EVSE ID"), max_length=40, blank=True, validators=[evse_id_validator])
    free_charge_service = models.BooleanField(_("free EVSE charge service"), default=False)
    payment_options = models.CharField(
        _("payment options"),
        max_length=10,
        choices=c.PaymentOption.choices,
        default=c.PaymentOption.EXTERNAL,
    )

    updated_at = models.DateTimeField(auto_now=True)
    # Counts the writes (services._config_write), so a page or API client that read revision n
    # is refused when it writes after someone else did: an integer, not updated_at, as the
    # system time can be set back. A new configuration continues above any earlier one's.
    revision = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("charging point configuration")

    def __str__(self) -> str:
        return self.name

    @property
    def has_meter(self) -> bool:
        return bool(self.meter_type)


class ChargingSession(models.Model):
    """One plug-in: from vehicle connected to vehicle disconnected."""

    chargepoint = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    meter_start_wh = models.BigIntegerField()
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    id_tag = models.CharField(max_length=40, blank=True)
    # the ISO 15118 vehicle's EVCC ID (its MAC address, upper-case hex) when it communicated one
    evcc_id = models.CharField(_("EVCC ID"), max_length=40, blank=True)
    stop_reason = models.CharField(_("stop reason"), max_length=20, choices=c.StopReason.choices, blank=True)
    # who released charging during this plug-in (claim sources, comma-separated): a runtime that
    # resumes the session after a restart or a takeover puts those releases back
    released_by = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-started_at"]
        # the Sessions page (ledger): newest first, per charge point, by tag / EVCC ID
        indexes = [
            models.Index(fields=["started_at", "id"], name="session_started_idx"),
            models.Index(fields=["chargepoint", "started_at", "id"], name="session_cp_started_idx"),
            models.Index(fields=["id_tag"], name="session_id_tag_idx"),
            models.Index(fields=["evcc_id"], name="session_evcc_id_idx"),
            models.Index(fields=["ended_at"], name="session_ended_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chargepoint_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop_wh is None else self.meter_stop_wh - self.meter_start_wh


class RfidBoard(models.Model):
    """The CHARX RFID/NFC board wired at a charge point: its operating mode (which LED profiles it
    uses) and buzzer volume. Exists once saved; until then the board runs its factory settings."""

    chargepoint = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, primary_key=True, related_name="rfid_board"
    )
    connection_type = models.CharField(
        _("connection type"),
        max_length=12,
        choices=c.BoardConnectionType.choices,
        default=c.BoardConnectionType.ONE_TO_ONE,
    )
    buzzer_volume_pct = models.PositiveSmallIntegerField(
        _("buzzer volume (%)"), default=50, validators=[MaxValueValidator(100)]
    )
    updated_at = models.DateTimeField(auto_now=True)
    revision = models.PositiveIntegerField(default=1, editable=False)  # as ChargePointConfig.revision

    class Meta:
        verbose_name = _("CHARX RFID/NFC board")

    def __str__(self) -> str:
        return str(self.chargepoint)


class RfidLedProfile(models.Model):
    """How the board's LED shows one profile (event or state)."""

    board = models.ForeignKey(RfidBoard, on_delete=models.CASCADE, related_name="profiles")
    profile = models.CharField(_("profile"), max_length=32, choices=c.RfidBoardProfile.choices)
    mode = models.CharField(_("LED mode"), max_length=10, choices=c.LedMode.choices, default=c.LedMode.ON)
    color = models.CharField(_("LED colour"), max_length=10, choices=c.LedColor.choices, default=c.LedColor.WHITE)
    brightness_pct = models.PositiveSmallIntegerField(
        _("brightness (%)"), default=100, validators=[MaxValueValidator(100)]
    )
    period_ms = models.PositiveIntegerField(
        _("period (ms)"),
        default=1000,
        validators=[MinValueValidator(100), MaxValueValidator(10_000)],
        help_text=_("For “Flashing” and “Fade In/Out”."),
    )
    min_brightness_pct = models.PositiveSmallIntegerField(
        _("minimum brightness (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    max_brightness_pct = models.PositiveSmallIntegerField(
        _("maximum brightness (%)"), default=100, validators=[MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["board_id", "profile"]
        constraints = [
            models.UniqueConstraint(fields=["board", "profile"], name="rfid_led_profile_once"),
        ]
        verbose_name = _("LED profile")

    def __str__(self) -> str:
        return f"{self.board_id} {self.profile}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.min_brightness_pct > self.max_brightness_pct:
            raise ValidationError(
                {"min_brightness_pct": _("The minimum brightness must not be above the maximum brightness.")}
            )
