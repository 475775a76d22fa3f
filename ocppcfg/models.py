"""What the OCPP backend stores on the controller: the local authorization list (OCPP 1.6
SendLocalList / GetLocalListVersion). Filled by the OCPP agent; the whitelist page shows it
read-only beside the local whitelist. Release mode "By OCPP" uses it, the local whitelist never."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

ID_TAG_MAX = 20  # OCPP 1.6 IdToken: CiString20Type


class AuthorizationStatus(models.TextChoices):
    """OCPP 1.6 AuthorizationStatus."""

    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
    INVALID = "Invalid", _("Invalid")
    CONCURRENT_TX = "ConcurrentTx", _("Concurrent transaction")


class LocalAuthList(models.Model):
    """The one local authorization list of the controller (a singleton, pk 1): its version as
    the backend sent it; 0 = no list received."""

    version = models.IntegerField(_("list version"), default=0)
    updated_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("local authorization list")

    def __str__(self) -> str:
        return f"local authorization list v{self.version}"

    @classmethod
    def load(cls) -> LocalAuthList:
        """The list (version 0 when nothing was received), without writing it."""
        return cls.objects.filter(pk=1).first() or cls(pk=1, version=0)


class LocalAuthEntry(models.Model):
    """One idTag of the local authorization list with its IdTagInfo."""

    id_tag = models.CharField(_("idTag"), max_length=ID_TAG_MAX, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AuthorizationStatus.choices, default=AuthorizationStatus.ACCEPTED
    )
    expiry_date = models.DateTimeField(_("expiry date"), null=True, blank=True)
    parent_id_tag = models.CharField(_("parent idTag"), max_length=ID_TAG_MAX, blank=True)

    class Meta:
        ordering = ["id_tag"]
        verbose_name = _("local authorization list entry")

    def __str__(self) -> str:
        return self.id_tag


# --- the backend connection: settings (manual "OCPP Settings") ------------------------------------
class NetworkInterface(models.TextChoices):
    """Where the backend is reached (manual OC-2)."""

    PPP0 = "ppp0", _("Cellular (ppp0)")
    WLAN0 = "wlan0", _("WLAN (wlan0)")
    ETH0 = "eth0", _("Ethernet (eth0)")


class ProtocolVersion(models.TextChoices):
    OCPP16J = "ocpp1.6j", _("OCPP 1.6J")


class OcppSettings(models.Model):
    """The backend connection (a singleton, pk 1). ``authorization_key`` is write-only: it is
    never shown or returned once stored. ``ca_certificate`` (PEM) verifies a wss:// backend."""

    protocol = models.CharField(
        _("protocol version"), max_length=16, choices=ProtocolVersion.choices, default=ProtocolVersion.OCPP16J
    )
    network_interface = models.CharField(
        _("network interface"), max_length=8, choices=NetworkInterface.choices, default=NetworkInterface.ETH0
    )
    backend_url = models.CharField(_("backend URL"), max_length=512, blank=True)
    authorization_user = models.CharField(_("AuthorizationUser"), max_length=64, blank=True)
    authorization_key = models.CharField(_("AuthorizationKey"), max_length=128, blank=True)
    ca_certificate = models.TextField(_("CA certificate"), blank=True)
    model = models.CharField(_("charging station model"), max_length=20, blank=True)  # CiString20
    vendor = models.CharField(_("charging station manufacturer"), max_length=20, blank=True)  # CiString20
    serial_number = models.CharField(_("charging station serial number"), max_length=25, blank=True)  # CiString25
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("OCPP settings")

    def __str__(self) -> str:
        return "OCPP settings"

    @classmethod
    def load(cls) -> OcppSettings:
        """The settings (defaults when never saved), without writing them."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def charge_box_id(self) -> str:
        """The last path segment of the backend URL."""
        return self.backend_url.rstrip("/").rsplit("/", 1)[-1] if "/" in self.backend_url else ""


class ConfigurationValue(models.Model):
    """A configuration key (OCPP 1.6 standard or CHARX server variable) whose value differs
    from its default (``ocppcfg.variables``); changed on the page, by the API or by the
    backend's ChangeConfiguration."""

    key = models.CharField(_("key"), max_length=50, unique=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True)  # a user name or "backend"
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("configuration value")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


# --- transactions and their messages: nothing is ever lost --------------------------------------
class TransactionState(models.TextChoices):
    OPEN = "open", _("running")
    STOPPED = "stopped", _("stopped")


class Transaction(models.Model):
    """An OCPP transaction of one connector, written before its StartTransaction is sent.
    ``transaction_id`` is the backend's id: null until the backend answered (a transaction
    started offline); messages queued meanwhile refer to this row and get the id when it comes."""

    connector_id = models.PositiveIntegerField(_("connector ID"))
    chargepoint_id = models.IntegerField(_("charge point"))  # the ChargePoint's pk (not a FK: history stays)
    id_tag = models.CharField(_("idTag"), max_length=ID_TAG_MAX)
    parent_id_tag = models.CharField(_("parent idTag"), max_length=ID_TAG_MAX, blank=True)
    reservation_id = models.IntegerField(_("reservation"), null=True, blank=True)
    transaction_id = models.IntegerField(_("transaction ID"), null=True, blank=True)
    id_tag_status = models.CharField(_("authorization"), max_length=16, blank=True)  # from StartTransaction.conf
    meter_start_wh = models.BigIntegerField(_("meter start (Wh)"))
    started_at = models.DateTimeField(_("started at"))
    state = models.CharField(_("state"), max_length=8, choices=TransactionState.choices, default=TransactionState.OPEN)
    meter_stop_wh = models.BigIntegerField(_("meter stop (Wh)"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    stop_reason = models.CharField(_("stop reason"), max_length=20, blank=True)
    stop_id_tag = models.CharField(_("stop idTag"), max_length=ID_TAG_MAX, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("OCPP transaction")
        indexes = [models.Index(fields=["state", "connector_id"])]

    def __str__(self) -> str:
        return f"transaction {self.transaction_id or '(pending)'} on connector {self.connector_id}"


class OutboxMessage(models.Model):
    """A CALL that must reach the backend exactly once and in order (StartTransaction,
    StopTransaction, transaction MeterValues, and status and firmware notifications worth
    keeping): written before it is sent, deleted when the backend answered."""

    seq = models.BigAutoField(primary_key=True)  # the order of delivery
    action = models.CharField(_("action"), max_length=40)
    payload = models.JSONField(_("payload"))
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )  # its transactionId is filled in when sent
    unique_id = models.CharField(_("message ID"), max_length=36)  # kept across retries
    created_at = models.DateTimeField(_("queued at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("queued OCPP message")

    def __str__(self) -> str:
        return f"{self.seq} {self.action}"


class Direction(models.TextChoices):
    SENT = "out", _("sent")
    RECEIVED = "in", _("received")


class MessageLog(models.Model):
    """The last messages between controller and backend for the status page (the agent keeps
    ``MESSAGE_LOG_KEEP``; older ones are in the log files)."""

    at = models.DateTimeField(_("time stamp"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(_("message type"))  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    unique_id = models.CharField(_("message ID"), max_length=64)
    action = models.CharField(_("action"), max_length=40, blank=True)
    payload = models.TextField(_("payload"))  # the JSON as on the wire, cut at PAYLOAD_KEEP characters

    class Meta:
        ordering = ["-id"]
        verbose_name = _("OCPP message")

    def __str__(self) -> str:
        return f"{self.message_type} {self.action} {self.unique_id}"


MESSAGE_LOG_KEEP = 50
PAYLOAD_KEEP = 20_000


class ConnectionEvent(models.Model):
    """The connection timeline: connects, boots, disconnects with close code and reason, ping
    round trips (the agent keeps the last ``CONNECTION_EVENTS_KEEP``)."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        DISCONNECTED = "disconnected", _("Disconnected")
        FAILED = "failed", _("Connection failed")
        BOOT = "boot", _("BootNotification answered")
        PING_TIMEOUT = "ping_timeout", _("No answer to pings")
        URL_CHANGED = "url_changed", _("Backend URL changed")

    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)  # a close reason, a boot status, an error
    close_code = models.IntegerField(_("close code"), null=True, blank=True)
    rtt_ms = models.FloatField(_("ping round trip (ms)"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("OCPP connection event")

    def __str__(self) -> str:
        return f"{self.at} {self.kind}"


CONNECTION_EVENTS_KEEP = 200


# --- what the backend leaves on the controller ----------------------------------------------------
class AuthCacheEntry(models.Model):
    """The authorization cache: the IdTagInfo of every idTag the backend answered for."""

    id_tag = models.CharField(_("idTag"), max_length=ID_TAG_MAX, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=AuthorizationStatus.choices)
    expiry_date = models.DateTimeField(_("expiry date"), null=True, blank=True)
    parent_id_tag = models.CharField(_("parent idTag"), max_length=ID_TAG_MAX, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id_tag"]
        verbose_name = _("authorization cache entry")

    def __str__(self) -> str:
        return self.id_tag


class ChargingProfileRecord(models.Model):
    """An installed charging profile (SetChargingProfile), as the backend sent it."""

    connector_id = models.PositiveIntegerField(_("connector ID"))
    profile_id = models.IntegerField(_("profile ID"))
    stack_level = models.PositiveIntegerField(_("stack level"))
    purpose = models.CharField(_("purpose"), max_length=24)
    transaction_id = models.IntegerField(_("transaction ID"), null=True, blank=True)
    profile = models.JSONField(_("profile"))  # csChargingProfiles as on the wire
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["connector_id", "purpose", "-stack_level"]
        verbose_name = _("charging profile")

    def __str__(self) -> str:
        return f"profile {self.profile_id} on connector {self.connector_id}"


class Reservation(models.Model):
    """A reservation (ReserveNow) of a connector, or of the park (connector 0)."""

    reservation_id = models.IntegerField(_("reservation ID"), unique=True)
    connector_id = models.PositiveIntegerField(_("connector ID"))
    id_tag = models.CharField(_("idTag"), max_length=ID_TAG_MAX)
    parent_id_tag = models.CharField(_("parent idTag"), max_length=ID_TAG_MAX, blank=True)
    expiry_date = models.DateTimeField(_("expiry date"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["expiry_date"]
        verbose_name = _("reservation")

    def __str__(self) -> str:
        return f"reservation {self.reservation_id} on connector {self.connector_id}"


class ConnectorAvailability(models.Model):
    """ChangeAvailability Inoperative, persisted (connector 0: the whole park). A row exists only
    while the connector is Inoperative; ``scheduled`` = waiting for the running transaction."""

    connector_id = models.PositiveIntegerField(_("connector ID"), unique=True)
    scheduled = models.BooleanField(_("scheduled"), default=False)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["connector_id"]
        verbose_name = _("inoperative connector")

    def __str__(self) -> str:
        return f"connector {self.connector_id} inoperative"


class FirmwareJob(models.Model):
    """The last UpdateFirmware or GetDiagnostics request and how far it got (survives a restart:
    an update "Installing" when the process died reports Installed or InstallationFailed)."""

    class Kind(models.TextChoices):
        FIRMWARE = "firmware", _("Firmware update")
        DIAGNOSTICS = "diagnostics", _("Diagnostics upload")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, unique=True)
    location = models.CharField(_("location"), max_length=512)
    status = models.CharField(_("status"), max_length=24)  # the last Firmware/DiagnosticsStatus sent
    retrieve_at = models.DateTimeField(_("retrieve at"), null=True, blank=True)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    retry_interval_s = models.PositiveIntegerField(_("retry interval (s)"), default=0)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("firmware or diagnostics job")

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"
