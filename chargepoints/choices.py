"""Every choice list of the manual's charge point configuration and live status."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# defined with the live state the shell shows, offered here with the other choices
from wbm.runtime.vocabulary import DashboardStatus as DashboardStatus


class ModuleKind(models.TextChoices):
    SERVER = "server", _("Server module")
    CLIENT = "client", _("Client module")


class IecState(models.TextChoices):
    """IEC 61851-1 control pilot states."""

    A = "A", _("A – no vehicle connected")
    B = "B", _("B – vehicle connected, not charging")
    C = "C", _("C – charging")
    D = "D", _("D – charging with ventilation")
    E = "E", _("E – error (short circuit CP/PE)")
    F = "F", _("F – charging point not available")


class OcppStatus(models.TextChoices):
    AVAILABLE = "Available", _("Available")
    PREPARING = "Preparing", _("Preparing")
    CHARGING = "Charging", _("Charging")
    SUSPENDED_EV = "SuspendedEV", _("Suspended EV")
    SUSPENDED_EVSE = "SuspendedEVSE", _("Suspended EVSE")
    FINISHING = "Finishing", _("Finishing")
    RESERVED = "Reserved", _("Reserved")
    UNAVAILABLE = "Unavailable", _("Unavailable")
    FAULTED = "Faulted", _("Faulted")


class OcppErrorCode(models.TextChoices):
    """OCPP 1.6 ChargePointErrorCode."""

    CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure", _("Failure to lock or unlock connector.")
    EV_COMMUNICATION_ERROR = "EVCommunicationError", _("Communication failure with the vehicle.")
    GROUND_FAILURE = "GroundFailure", _("Ground fault circuit interrupter has been activated.")
    HIGH_TEMPERATURE = "HighTemperature", _("Temperature inside charge point is too high.")
    INTERNAL_ERROR = "InternalError", _("Error in internal hard- or software component.")
    LOCAL_LIST_CONFLICT = (
        "LocalListConflict",
        _("Authorization information conflicts with the local authorization list."),
    )
    NO_ERROR = "NoError", _("No error to report.")
    OTHER_ERROR = "OtherError", _("Other type of error.")
    OVER_CURRENT_FAILURE = "OverCurrentFailure", _("Over current protection device has tripped.")
    OVER_VOLTAGE = "OverVoltage", _("Voltage has risen above an acceptable level.")
    POWER_METER_FAILURE = "PowerMeterFailure", _("Failure to read power meter.")
    POWER_SWITCH_FAILURE = "PowerSwitchFailure", _("Failure to control power switch.")
    READER_FAILURE = "ReaderFailure", _("Failure with idTag reader.")
    RESET_FAILURE = "ResetFailure", _("Unable to perform a reset.")
    UNDER_VOLTAGE = "UnderVoltage", _("Voltage has dropped below an acceptable level.")
    WEAK_SIGNAL = "WeakSignal", _("Wireless communication device reports a weak signal.")
    UNKNOWN = "Unknown", _("Unknown error.")


# Faults a person can inject in the simulator: every code except "no error".
INJECTABLE_ERROR_CODES = [c for c in OcppErrorCode if c != OcppErrorCode.NO_ERROR]


class StopReason(models.TextChoices):
    """Why a charging session ended (OCPP 1.6 StopTransaction reasons)."""

    EMERGENCY_STOP = "EmergencyStop", _("Emergency stop")
    EV_DISCONNECTED = "EVDisconnected", _("Vehicle disconnected")
    HARD_RESET = "HardReset", _("Hard reset")
    LOCAL = "Local", _("Stopped locally")
    OTHER = "Other", _("Other")
    POWER_LOSS = "PowerLoss", _("Power loss")
    REBOOT = "Reboot", _("Reboot")
    REMOTE = "Remote", _("Stopped remotely")
    SOFT_RESET = "SoftReset", _("Soft reset")
    UNLOCK_COMMAND = "UnlockCommand", _("Unlock command")
    DEAUTHORIZED = "DeAuthorized", _("Deauthorized")


class VehicleMode(models.TextChoices):
    """What a (simulated) vehicle does while it is plugged in."""

    REQUESTING = "requesting", _("requests charging")
    PAUSED = "paused", _("charging paused")
    FINISHED = "finished", _("charging finished")


class LocalBusState(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    DISCONNECTED = "disconnected", _("Disconnected")


# --- configuration (manual: Charging Stations/Charge Point/Configuration) ---------------------


class ConnectionType(models.TextChoices):
    SOCKET_OUTLET = "socket_outlet", _("Socket Outlet")
    CONNECTOR = "connector", _("Connector")


class ChargingStandard(models.TextChoices):
    IEC_62196 = "iec_62196", _("IEC 62196")


class SocketOutletType(models.TextChoices):
    MARQUARDT_4 = "4pos_marquardt", _("4-pos. charging socket, Marquardt type actuator")
    KUESTER_4 = "4pos_kuester", _("4-pos. charging socket, Küster type actuator")
    HELLA_3 = "3pos_hella", _("3-pos. charging socket, Hella type actuator")


class LockingMode(models.TextChoices):
    EV_CONNECTED = "ev_connected", _("On EV connected – disconnected")
    REMOTE = "remote", _("Remote control")


class PlugRejection(models.TextChoices):
    """The manual's two choices; there is no "no rejection" (files that still say "none" are
    imported as "Reject 13 A", see ``importexport.RETIRED_VALUES``)."""

    REJECT_13A = "reject_13", _("Reject 13 A")
    REJECT_20A_13A = "reject_20_13", _("Reject 20 A & 13 A")


class StatusDRejection(models.TextChoices):
    REJECT = "reject", _("Reject")
    ACCEPT = "accept", _("Accept")


class MeterType(models.TextChoices):
    NONE = "", _("No energy measuring device")
    EEM_350 = "eem_350", _("Phoenix Contact EEM-350 (EEM-350-D-MCB, 2905849)")
    EEM_EM357 = "eem_em357", _("Phoenix Contact EEM-EM357 (2908588)")
    EEM_DM357 = "eem_dm357", _("Phoenix Contact EEM-DM357 (252817)")
    EEM_DM357_70 = "eem_dm357_70", _("Phoenix Contact EEM-DM357-70 (1219095)")
    EEM_EM357_EE = "eem_em357_ee", _("Phoenix Contact EEM-EM357-EE (1311985)")
    EEM_157_EE = "eem_em157_ee", _("Phoenix Contact EEM-157-EE (EEM-EM157-EE, 1311993)")
    EEM_AM157_70 = "eem_am157_ee", _("Phoenix Contact EEM-AM157-70 (EEM-AM157-EE, 1219090)")
    CG_EM24 = "cg_em24", _("Carlo Gavazzi EM24")
    CG_EM340 = "cg_em340", _("Carlo Gavazzi EM340")
    CG_EM111 = "cg_em111", _("Carlo Gavazzi EM111")
    INEPRO_PRO380 = "inepro_pro380", _("Inepro Metering PRO380")
    ISKRA_WM3M4 = "iskra_wm3m4", _("Iskra WM3M4(C)")


class PhaseRotation(models.TextChoices):
    NOT_SET = "", _("Not set")
    L1_L2_L3 = "L1L2L3", _("L1 – L2 – L3")
    L2_L3_L1 = "L2L3L1", _("L2 – L3 – L1")
    L3_L1_L2 = "L3L1L2", _("L3 – L1 – L2")
    L1_L3_L2 = "L1L3L2", _("L1 – L3 – L2")
    L3_L2_L1 = "L3L2L1", _("L3 – L2 – L1")
    L2_L1_L3 = "L2L1L3", _("L2 – L1 – L3")


class CalibrationSelection(models.TextChoices):
    RFID = "rfid", _("Via RFID reader")
    SCREEN = "screen", _("Via screen")


class AuxContactType(models.TextChoices):
    NC = "nc", _("N/C contact")
    NO = "no", _("N/O contact")


class OverCurrentDetection(models.TextChoices):
    """The manual's two choices; monitoring is on whenever a meter is configured (files that
    still say "" are imported as "EV/ZE Ready", see ``importexport.RETIRED_VALUES``)."""

    EV_ZE_READY = "ev_ze_ready", _("EV/ZE Ready")
    SHUTDOWN = "shutdown", _("Overcurrent shutdown")


class DeratingSensor(models.TextChoices):
    NONE = "", _("None")
    PT1000 = "pt1000", _("Pt 1000")
    PTC = "ptc", _("PTC")


class ReleaseMode(models.TextChoices):
    DASHBOARD = "dashboard", _("Via Dashboard")
    WHITELIST = "whitelist", _("By Local Whitelist")
    REMOTE = "remote", _("Via Remote Control")
    PERMANENT = "permanent", _("Permanent Charging Release")
    OCPP = "ocpp", _("By OCPP")
    MODBUS = "modbus", _("Via Modbus")


class RfidReaderType(models.TextChoices):
    ELATEC_TWN4 = "elatec_twn4", _("ELATEC TWN4")
    DUALI_MDE950 = "duali_mde950", _("DUALI MDE 950-4 XCP")
    NETRONIX_UW_XEU1 = "netronix_uw_xeu1", _("Netronix UW-XEU1")
    CHARX_RFID_NFC = "charx_rfid_nfc", _("CHARX RFID/NFC")


class HlcMode(models.TextChoices):
    REQUIRED = "required", _("Required")
    OPTIONAL = "optional", _("Optional")
    DISABLED = "disabled", _("Disabled")


class PaymentOption(models.TextChoices):
    EXTERNAL = "external", _("Allow External Payment")
    CONTRACT = "contract", _("Vehicle identification (contract)")


class Iso15118Progress(models.TextChoices):
    START = "Start", _("Start")
    STOP = "Stop", _("Stop")
    RENEGOTIATE = "Renegotiate", _("Renegotiate")


class EnergyTransferMode(models.TextChoices):
    AC_SINGLE = "AC_single_phase_core", "AC_single_phase_core"
    AC_THREE = "AC_three_phase_core", "AC_three_phase_core"


class TcpStatus(models.TextChoices):
    UNKNOWN = "UNKNOWN", "UNKNOWN"
    DISCONNECTED = "DISCONNECTED", "DISCONNECTED"
    CONNECTED = "CONNECTED", "CONNECTED"


class QcaLinkStatus(models.TextChoices):
    UNKNOWN = "UNKNOWN", "UNKNOWN"
    NOT_AVAILABLE = "NOT_AVAILABLE", "NOT_AVAILABLE"
    DOWN = "DOWN", "DOWN"
    UP = "UP", "UP"


class Iso15118Error(models.TextChoices):
    SLAC_FAILED = (
        "SLAC_FAILED",
        _(
            "The SLAC process has failed. One reason may be that the time constraints are not met "
            "or messages are damaged."
        ),
    )
    PROTOCOL_HANDSHAKE_FAILED = (
        "PROTOCOL_HANDSHAKE_FAILED",
        _("The EVSE and the EVCC were unable to agree on the same ISO 15118 communication protocol version."),
    )
    SSL_HANDSHAKE_FAILED = (
        "SSL_HANDSHAKE_FAILED",
        _("The SSL/TLS handshake for the TCP connection used for high-level communication failed."),
    )
    SEQUENCE_ERROR = "SEQUENCE_ERROR", _("The EVCC sent a request that is not expected in the current state.")
    SESSION_SETUP_TIMEOUT = (
        "SESSION_SETUP_TIMEOUT",
        _("The EVSE and the EVCC did not set up a charging session within 18 seconds."),
    )
    SEQUENCE_TIMEOUT = (
        "SEQUENCE_TIMEOUT",
        _("The EVCC did not send a request within the time constraints of ISO 15118."),
    )
    UNKNOWN_SESSION = (
        "UNKNOWN_SESSION",
        _("The EVCC sent a session ID to resume a paused session that is not known to the EVSE."),
    )
    TARIFF_SELECTION_INVALID = (
        "TARIFF_SELECTION_INVALID",
        _("The EVCC selected an SA tuple ID that the EVSE did not offer."),
    )
    CHARGING_PROFILE_INVALID = (
        "CHARGING_PROFILE_INVALID",
        _("The charging profile sent by the EVCC violates a power limitation of the EVSE."),
    )


# --- CHARX RFID/NFC board (manual: Charging Stations / CHARX RFID/NFC Board) -------------------


class BoardConnectionType(models.TextChoices):
    """Operating modes of a CHARX RFID/NFC board: which LED profiles it uses."""

    STANDALONE = "standalone", _("CHARX SEC-1000 (stand-alone)")
    ONE_TO_ONE = "1:1", _("CHARX SEC-3xx0 (1:1)")
    ONE_TO_N = "1:n", _("Group of several CHARX SEC-3xx0 modules (1:n)")


class LedMode(models.TextChoices):
    OFF = "off", _("Off")
    ON = "on", _("On")
    FLASHING = "flashing", _("Flashing")
    FADE = "fade", _("Fade In/Out")


class LedColor(models.TextChoices):
    WHITE = "white", _("White")
    RED = "red", _("Red")
    GREEN = "green", _("Green")
    BLUE = "blue", _("Blue")


class RfidBoardProfile(models.TextChoices):
    """The board's profiles, in the manual's order. "Controller booting" is listed there as not
    currently used, so it is not offered."""

    READY = "ready", _("Ready for operation, no vehicle connected")
    BACKEND_ONLINE = "backend_online", _("Backend online")
    BACKEND_ONLINE_AVAILABLE = "backend_online_available", _("Backend online and charging point available")
    BACKEND_OFFLINE_AVAILABLE = "backend_offline_available", _("Backend offline, but charging point available")
    CHARGING = "charging", _("Vehicle connected, charging process active")
    WAITING_AUTHORIZATION = "waiting_authorization", _("Vehicle connected, waiting for authorization")
    AUTHORIZATION_ONGOING = "authorization_ongoing", _("Authorization request ongoing")
    COMPLETED = "completed", _("Vehicle connected, charging process completed")
    RESERVED = "reserved", _("Charging point locked, reserved")
    SUSPENDED_EV = "suspended_ev", _("SuspendedEV")
    SUSPENDED_EVSE = "suspended_evse", _("SuspendedEVSE")
    OFFLINE = "offline", _("Charging point offline")
    NOT_READY = "not_ready", _("Not ready for operation")
    WAITING_CARD = "waiting_card", _("Waiting for RFID card to add/delete")
    RFID_ACCEPTED = "rfid_accepted", _("RFID accepted")
    RFID_REJECTED = "rfid_rejected", _("RFID not accepted")
