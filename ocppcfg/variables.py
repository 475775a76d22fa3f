"""The configuration keys of the charge point: the standard keys of OCPP 1.6 (Core, Local Auth
List Management, Reservation, Smart Charging, Remote Trigger, and the Security White Paper's
two) and the CHARX server variables of the manual ("OCPP Servervariables").

One table says each key's type, range, default, whether the backend may change it (ReadOnly)
and what it means. The page, the API and the backend's GetConfiguration/ChangeConfiguration all
read and change values through ``values()`` and ``change()``: validate first, then write in one
transaction, then tell the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    BOOL = "bool"
    INT = "int"
    STRING = "string"
    CSL = "csl"  # a comma-separated list
    URL = "url"


class Group(StrEnum):
    OCPP = "ocpp"  # defined by OCPP 1.6
    CHARX = "charx"  # the controller's own


MEASURANDS = (
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "Power.Factor",
    "Current.Import",
    "Current.Export",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Temperature",
    "SoC",
    "RPM",
)
# what the controller's meters measure (the others are refused in the measurand lists)
SUPPORTED_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Power.Factor",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Temperature",
)
FEATURE_PROFILES = (
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
)
PHASE_ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")
LIST_MAX = 10  # the longest measurand list accepted (…MaxLength keys)
LOCAL_LIST_MAX = 500  # entries of the local authorization list
SEND_LOCAL_LIST_MAX = 500  # entries per SendLocalList
MAX_STACK_LEVEL = 8
MAX_PERIODS = 24
MAX_PROFILES = 32
GET_CONFIGURATION_MAX_KEYS = 100


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    kind: Kind
    default: str
    meaning: str | Promise
    group: Group = Group.OCPP
    readonly: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()  # strings: one of these; lists: each item one of these
    max_items: int | None = None  # lists
    max_length: int = 500
    secret: bool = False  # GetConfiguration and the page show "****"
    unit: str = ""

    def check(self, raw: object) -> str:
        """The value in its canonical text form; ``VariableError`` when it does not fit."""
        if not isinstance(raw, str | int | bool) or isinstance(raw, float):
            raise VariableError("invalid", self.key, detail=_("Enter text, a number or true/false."))
        text = (str(raw).lower() if isinstance(raw, bool) else str(raw)).strip()
        if len(text) > self.max_length:
            raise VariableError("invalid", self.key, detail=_("At most %(n)d characters.") % {"n": self.max_length})
        if any(ord(c) < 32 for c in text):
            raise VariableError("invalid", self.key, detail=_("Control characters are not allowed."))
        if self.kind is Kind.BOOL:
            if text.lower() not in ("true", "false"):
                raise VariableError("invalid", self.key, detail=_("Enter true or false."))
            return text.lower()
        if self.kind is Kind.INT:
            try:
                number = int(text, 10)
            except ValueError:
                raise VariableError("invalid", self.key, detail=_("Enter a whole number.")) from None
            if self.minimum is not None and number < self.minimum:
                raise VariableError("invalid", self.key, detail=_("At least %(n)d.") % {"n": self.minimum})
            if self.maximum is not None and number > self.maximum:
                raise VariableError("invalid", self.key, detail=_("At most %(n)d.") % {"n": self.maximum})
            return str(number)
        if self.kind is Kind.CSL:
            items = [item.strip() for item in text.split(",") if item.strip()] if text else []
            if self.max_items is not None and len(items) > self.max_items:
                raise VariableError("invalid", self.key, detail=_("At most %(n)d items.") % {"n": self.max_items})
            for item in items:
                if self.choices and item not in self.choices:
                    raise VariableError("invalid", self.key, detail=_("Not supported: %(item)s") % {"item": item[:40]})
            return ",".join(items)
        if self.kind is Kind.URL:
            if text and not _backend_url(text):
                raise VariableError(
                    "invalid", self.key, detail=_("Enter a ws:// or wss:// URL that ends with the charge box ID.")
                )
            return text
        if self.choices and text not in self.choices:
            raise VariableError(
                "invalid", self.key, detail=_("One of: %(choices)s") % {"choices": ", ".join(self.choices)}
            )
        return text


class VariableError(Exception):
    """A change that cannot be made. ``code``: "unknown" (NotSupported for the backend),
    "readonly" or "invalid" (Rejected)."""

    def __init__(self, code: str, key: str, detail: str | Promise = "") -> None:
        super().__init__(f"{code}: {key}")
        self.code = code
        self.key = key
        self.detail = detail


def _backend_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    safe = all(c.isalnum() or c in "-._~:/%@+" for c in text)
    return safe and parts.scheme in ("ws", "wss") and bool(parts.hostname) and bool(parts.path.strip("/"))


def _v(key: str, kind: Kind, default: str, meaning: str | Promise, **kw: Any) -> Variable:
    return Variable(key, kind, default, meaning, **kw)


B, N, S, L, U = Kind.BOOL, Kind.INT, Kind.STRING, Kind.CSL, Kind.URL
CHARX = Group.CHARX

VARIABLES: dict[str, Variable] = {
    v.key: v
    for v in (
        # --- OCPP 1.6 Core -------------------------------------------------------------------
        _v(
            "AllowOfflineTxForUnknownId",
            B,
            "false",
            _("Start a transaction offline for an idTag that is not known locally."),
        ),
        _v(
            "AuthorizationCacheEnabled",
            B,
            "true",
            _("Keep the backend's answers for idTags in the authorization cache."),
        ),
        _v(
            "AuthorizeRemoteTxRequests",
            B,
            "false",
            _("Authorize the idTag of a RemoteStartTransaction before starting."),
        ),
        _v(
            "ClockAlignedDataInterval",
            N,
            "0",
            _("Interval of clock-aligned meter values (0: none)."),
            minimum=0,
            maximum=86400,
            unit="s",
        ),
        _v(
            "ConnectionTimeOut",
            N,
            "60",
            _("Time to plug in the vehicle after an authorization."),
            minimum=1,
            maximum=3600,
            unit="s",
        ),
        _v(
            "ConnectorPhaseRotation",
            L,
            "NotApplicable",
            _("Phase rotation of each connector (e.g. 0.RST,1.RST)."),
            max_items=13,
        ),
        _v("ConnectorPhaseRotationMaxLength", N, "13", _("Longest ConnectorPhaseRotation list."), readonly=True),
        _v(
            "GetConfigurationMaxKeys",
            N,
            str(GET_CONFIGURATION_MAX_KEYS),
            _("Most keys in one GetConfiguration."),
            readonly=True,
        ),
        _v(
            "HeartbeatInterval",
            N,
            "300",
            _("Interval of Heartbeat messages without other traffic."),
            minimum=0,
            maximum=86400,
            unit="s",
        ),
        _v("LocalAuthorizeOffline", B, "true", _("Authorize offline from the cache and the local list.")),
        _v(
            "LocalPreAuthorize",
            B,
            "false",
            _("Start at once for an idTag valid in the cache or local list, without asking the backend."),
        ),
        _v(
            "MaxEnergyOnInvalidId",
            N,
            "0",
            _("Energy still delivered after the backend refused an idTag of a running transaction."),
            minimum=0,
            maximum=1_000_000,
            unit="Wh",
        ),
        _v(
            "MeterValuesAlignedData",
            L,
            "Energy.Active.Import.Register",
            _("Measurands of clock-aligned meter values."),
            choices=SUPPORTED_MEASURANDS,
            max_items=LIST_MAX,
        ),
        _v(
            "MeterValuesAlignedDataMaxLength",
            N,
            str(LIST_MAX),
            _("Longest MeterValuesAlignedData list."),
            readonly=True,
        ),
        _v(
            "MeterValuesSampledData",
            L,
            "Energy.Active.Import.Register,Current.Import,Power.Active.Import",
            _("Measurands of sampled meter values during a transaction."),
            choices=SUPPORTED_MEASURANDS,
            max_items=LIST_MAX,
        ),
        _v(
            "MeterValuesSampledDataMaxLength",
            N,
            str(LIST_MAX),
            _("Longest MeterValuesSampledData list."),
            readonly=True,
        ),
        _v(
            "MeterValueSampleInterval",
            N,
            "60",
            _("Interval of sampled meter values during a transaction (0: none)."),
            minimum=0,
            maximum=86400,
            unit="s",
        ),
        _v(
            "MinimumStatusDuration",
            N,
            "0",
            _("Time a status must last before it is reported."),
            minimum=0,
            maximum=3600,
            unit="s",
        ),
        _v("NumberOfConnectors", N, "0", _("Charge points controlled through the backend."), readonly=True),
        _v("ResetRetries", N, "1", _("Retries of a reset that failed."), minimum=0, maximum=10),
        _v(
            "StopTransactionOnEVSideDisconnect",
            B,
            "true",
            _("Stop the transaction when the cable is unplugged at the vehicle."),
        ),
        _v(
            "StopTransactionOnInvalidId",
            B,
            "true",
            _("Stop a transaction whose idTag the backend refuses in StartTransaction."),
        ),
        _v(
            "StopTxnAlignedData",
            L,
            "",
            _("Clock-aligned measurands in StopTransaction."),
            choices=SUPPORTED_MEASURANDS,
            max_items=LIST_MAX,
        ),
        _v("StopTxnAlignedDataMaxLength", N, str(LIST_MAX), _("Longest StopTxnAlignedData list."), readonly=True),
        _v(
            "StopTxnSampledData",
            L,
            "",
            _("Sampled measurands in StopTransaction."),
            choices=SUPPORTED_MEASURANDS,
            max_items=LIST_MAX,
        ),
        _v("StopTxnSampledDataMaxLength", N, str(LIST_MAX), _("Longest StopTxnSampledData list."), readonly=True),
        _v(
            "SupportedFeatureProfiles",
            L,
            ",".join(FEATURE_PROFILES),
            _("Feature profiles the charge point supports."),
            readonly=True,
        ),
        _v(
            "SupportedFeatureProfilesMaxLength",
            N,
            str(len(FEATURE_PROFILES)),
            _("Longest SupportedFeatureProfiles list."),
            readonly=True,
        ),
        _v(
            "TransactionMessageAttempts",
            N,
            "3",
            _("Attempts to deliver a transaction message the backend failed to process."),
            minimum=1,
            maximum=100,
        ),
        _v(
            "TransactionMessageRetryInterval",
            N,
            "60",
            _("Wait before the next attempt (times the attempt number)."),
            minimum=1,
            maximum=86400,
            unit="s",
        ),
        _v(
            "UnlockConnectorOnEVSideDisconnect",
            B,
            "true",
            _("Unlock the connector when the cable is unplugged at the vehicle."),
        ),
        _v(
            "WebSocketPingInterval",
            N,
            "30",
            _("Interval of WebSocket pings (0: none)."),
            minimum=0,
            maximum=3600,
            unit="s",
        ),
        # --- Local Auth List Management ------------------------------------------------------
        _v("LocalAuthListEnabled", B, "true", _("Use the local authorization list.")),
        _v(
            "LocalAuthListMaxLength",
            N,
            str(LOCAL_LIST_MAX),
            _("Most entries of the local authorization list."),
            readonly=True,
        ),
        _v(
            "SendLocalListMaxLength",
            N,
            str(SEND_LOCAL_LIST_MAX),
            _("Most entries in one SendLocalList."),
            readonly=True,
        ),
        # --- Reservation ----------------------------------------------------------------------
        _v(
            "ReserveConnectorZeroSupported",
            B,
            "true",
            _("A reservation of connector 0 (any charge point) is possible."),
            readonly=True,
        ),
        # --- Smart Charging -------------------------------------------------------------------
        _v(
            "ChargeProfileMaxStackLevel",
            N,
            str(MAX_STACK_LEVEL),
            _("Highest stack level of a charging profile."),
            readonly=True,
        ),
        _v(
            "ChargingScheduleAllowedChargingRateUnit",
            L,
            "Current,Power",
            _("Units a charging schedule may use."),
            readonly=True,
        ),
        _v("ChargingScheduleMaxPeriods", N, str(MAX_PERIODS), _("Most periods in a charging schedule."), readonly=True),
        _v(
            "ConnectorSwitch3to1PhaseSupported",
            B,
            "false",
            _("The charge point can switch from 3 phases to 1 during a transaction."),
            readonly=True,
        ),
        _v(
            "MaxChargingProfilesInstalled",
            N,
            str(MAX_PROFILES),
            _("Most charging profiles installed at once."),
            readonly=True,
        ),
        # --- Security White Paper (Basic authentication) ---------------------------------------
        _v("AuthorizationKey", S, "", _("Basic authentication password (write-only)."), secret=True, max_length=40),
        _v(
            "SecurityProfile",
            N,
            "0",
            _("Security profile: 0 none, 1 Basic authentication, 2 TLS with Basic authentication."),
            minimum=0,
            maximum=2,
        ),
        # --- CHARX server variables (manual M:1924-2051) ----------------------------------------
        _v(
            "AllowTimeSyncDuringSession",
            B,
            "false",
            _("Synchronize the time during an active charging process."),
            group=CHARX,
        ),
        _v(
            "AuthorizationUser",
            S,
            "",
            _("Basic authentication user, usually the charge box ID."),
            group=CHARX,
            max_length=64,
        ),
        _v(
            "AvailabilityOnlyWhenTimeSynchronized",
            B,
            "false",
            _("Charge points are available only when the time is synchronized."),
            group=CHARX,
        ),
        _v(
            "EichrechtAdminList",
            L,
            "",
            _("UIDs with administrator access on the display (calibration law)."),
            group=CHARX,
            max_items=20,
        ),
        _v(
            "EVDiscardTimeOut",
            N,
            "60",
            _("A read UID is discarded if no vehicle connects within this time."),
            group=CHARX,
            minimum=1,
            maximum=3600,
            unit="s",
        ),
        _v("ForceUpdate", B, "false", _("Install a software update even while charging."), group=CHARX),
        _v(
            "FreeMode",
            B,
            "false",
            _("Charging is authorized at the backend automatically on plug-in, with FreeModeUID."),
            group=CHARX,
        ),
        _v("FreeModeUID", S, "FREEMODE", _("The RFID UID used in free mode."), group=CHARX, max_length=20),
        _v(
            "GlobalMaxCurrent",
            N,
            "0",
            _("Maximum total current of all charge points (0: no limit)."),
            group=CHARX,
            minimum=0,
            maximum=630,
            unit="A",
        ),
        _v(
            "LogLevel",
            S,
            "INFO",
            _("Detail of the OCPP log: DEBUG (high) or INFO (low)."),
            group=CHARX,
            choices=("DEBUG", "INFO"),
        ),
        _v(
            "MaxCurrent",
            N,
            "0",
            _("Maximum current of each charge point (0: no limit)."),
            group=CHARX,
            minimum=0,
            maximum=80,
            unit="A",
        ),
        _v(
            "MessageAtKeyTransfer",
            S,
            "",
            _("Message value of the DataTransfer that carries the public key."),
            group=CHARX,
            max_length=50,
        ),
        _v("MeterValuesSignatureContexts", L, "", _("Not used in the current software."), group=CHARX, max_items=10),
        _v(
            "ModemRestartTimeout",
            N,
            "600",
            _("The modem restarts when no connection could be made for this long."),
            group=CHARX,
            minimum=60,
            maximum=86400,
            unit="s",
        ),
        _v(
            "NewBackendURL",
            U,
            "",
            _("Move the backend connection to this URL (the old one stays if the new one fails)."),
            group=CHARX,
            max_length=512,
        ),
        _v(
            "PreUnavailabilityForUpdate",
            N,
            "30",
            _("Time a charge point shows status F before an update."),
            group=CHARX,
            minimum=0,
            maximum=3600,
            unit="s",
        ),
        _v(
            "PresentingRFIDEndCharging",
            B,
            "true",
            _("Presenting the same card again ends charging and opens the lock."),
            group=CHARX,
        ),
        _v(
            "RFIDByteOrder",
            S,
            "BigEndian",
            _("Byte order of the UID sent to the backend."),
            group=CHARX,
            choices=("BigEndian", "LittleEndian"),
        ),
        _v(
            "RFIDCharacterOrder",
            S,
            "Normal",
            _("Character order of the UID as 16-bit words."),
            group=CHARX,
            choices=("Normal", "Swapped"),
        ),
        _v(
            "ServiceRestart",
            B,
            "false",
            _("After a restart, occupied charge points are registered at the backend with ServiceUID."),
            group=CHARX,
        ),
        _v("ServiceUID", S, "SERVICE", _("The RFID UID used after a restart."), group=CHARX, max_length=20),
        _v(
            "SignedDataFormat",
            N,
            "0",
            _("0 OCMF, 1 transparency software (XML), 2 format of the measuring device."),
            group=CHARX,
            minimum=0,
            maximum=2,
        ),
        _v(
            "StopTransactionSignatureContexts", L, "", _("Not used in the current software."), group=CHARX, max_items=10
        ),
        _v("StopTransactionSignatureFormat", S, "", _("Not used in the current software."), group=CHARX, max_length=50),
        _v(
            "VendorAtKeyTransfer",
            S,
            "",
            _("Vendor value of the DataTransfer that carries the public key."),
            group=CHARX,
            max_length=255,
        ),
        _v(
            "WebSocketPingTimeout",
            N,
            "60",
            _("The connection is made again when pings get no answer for this long (0: never)."),
            group=CHARX,
            minimum=0,
            maximum=3600,
            unit="s",
        ),
    )
}

# keys kept in OcppSettings rather than ConfigurationValue (the settings page edits them too)
SETTINGS_KEYS = {"AuthorizationUser": "authorization_user", "AuthorizationKey": "authorization_key"}
SECRET_SHOWN = "****"


def values() -> dict[str, str]:
    """Every key's current value (defaults where nothing was changed). Secrets are included
    as stored: only the agent uses them; ``visible_values()`` is for anyone else."""
    from ocppcfg.models import ConfigurationValue, OcppSettings

    current = {key: v.default for key, v in VARIABLES.items()}
    for key, value in ConfigurationValue.objects.filter(key__in=VARIABLES).values_list("key", "value"):
        current[key] = value
    settings = OcppSettings.load()
    for key, field in SETTINGS_KEYS.items():
        current[key] = getattr(settings, field)
    current["NumberOfConnectors"] = str(_connector_count())
    return current


def visible_values() -> dict[str, str]:
    """``values()`` as a page, the API and GetConfiguration show them: secrets are "****"."""
    shown = values()
    for key, variable in VARIABLES.items():
        if variable.secret:
            shown[key] = SECRET_SHOWN
    return shown


def _connector_count() -> int:
    from chargepoints.choices import ReleaseMode
    from chargepoints.models import ChargePointConfig

    return ChargePointConfig.objects.filter(release_mode=ReleaseMode.OCPP, ocpp_connector_id__gte=1).count()


def validate(changes: Mapping[str, object], *, origin: str) -> dict[str, str]:
    """Check every change before anything is written: unknown keys, read-only keys and bad
    values raise ``VariableError`` (the first one found). ``origin`` "backend" or "web"."""
    clean: dict[str, str] = {}
    for key, raw in changes.items():
        variable = VARIABLES.get(key)
        if variable is None:
            raise VariableError("unknown", str(key)[:50])
        if variable.readonly:
            raise VariableError("readonly", key)
        clean[key] = variable.check(raw)
    return clean


def change(changes: Mapping[str, object], *, origin: str, by: str) -> dict[str, str]:
    """Validate, write in one transaction, then tell the runtime (``ocpp.reload``) on commit.
    Returns the stored values. ``by``: the user's name, or "backend"."""
    from django.db import transaction

    from ocppcfg.commands import OcppReload
    from ocppcfg.models import ConfigurationValue, OcppSettings
    from wbm.runtime import commands

    clean = validate(changes, origin=origin)
    with transaction.atomic():
        settings_fields = {SETTINGS_KEYS[k]: v for k, v in clean.items() if k in SETTINGS_KEYS}
        if settings_fields:
            settings = OcppSettings.load()
            for field, value in settings_fields.items():
                setattr(settings, field, value)
            settings.save()
        for key, value in clean.items():
            if key in SETTINGS_KEYS:
                continue
            if value == VARIABLES[key].default:
                ConfigurationValue.objects.filter(key=key).delete()
            else:
                ConfigurationValue.objects.update_or_create(key=key, defaults={"value": value, "changed_by": by[:150]})
        if origin != "backend":  # the agent made the change itself; it needs no reload
            commands.on_commit(OcppReload())
    return clean
