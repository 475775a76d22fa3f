"""The one permission map: which role may do what. Views, the API and templates all ask here.

Roles follow the manual's role table, each including the one below it:
Guest (not logged in) < User < Operator < Manufacturer. Anything not listed is denied.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.IntegerChoices):
    GUEST = 0, _("Guest")
    USER = 1, _("User")
    OPERATOR = 2, _("Operator")
    MANUFACTURER = 3, _("Manufacturer")


class Perm(StrEnum):
    DASHBOARD_VIEW = "dashboard.view"
    API_DOCS_VIEW = "api.docs.view"
    PROFILE_EDIT = "accounts.profile.edit"
    API_TOKENS_OWN = "api.tokens.own"  # list and revoke one's own API tokens
    API_TOKENS_MANAGE = "api.tokens.manage"  # list and revoke the tokens of service accounts
    # Charging Stations
    PARK_VIEW = "chargepoints.view"
    CHARGEPOINT_RELEASE = "chargepoints.release"  # Allow / Prohibit charging
    CHARGEPOINT_AVAILABILITY = "chargepoints.availability"  # Disable / Enable charge point
    CHARGEPOINT_UNLOCK = "chargepoints.unlock"  # Enforce / Revert unlocking
    CHARGEPOINT_LOCK = "chargepoints.lock"  # Lock / Unlock the socket in the locking mode "Remote control"
    CHARGEPOINT_CONFIG_VIEW = "chargepoints.config.view"  # the configuration page, read-only
    CHARGEPOINT_CONFIG_EXPORT = "chargepoints.config.export"
    CHARGEPOINT_CONFIGURE = "chargepoints.configure"  # create, edit, import, delete
    RFID_BOARD_VIEW = "chargepoints.rfidboard.view"
    RFID_BOARD_EDIT = "chargepoints.rfidboard.edit"
    SESSIONS_VIEW = "sessions.view"  # charging sessions: list, detail, totals, CSV export
    # OCPP
    OCPP_VIEW = "ocpp.view"
    OCPP_SETTINGS_EDIT = "ocpp.settings.edit"
    MODBUS_VIEW = "modbus.view"  # the Modbus page (start addresses, server state, register map)
    MODBUS_EDIT = "modbus.edit"  # start addresses, "allow restart registers"
    # Whitelist
    WHITELIST_VIEW = "whitelist.view"
    WHITELIST_EDIT = "whitelist.edit"
    # Load Management
    LOADMGMT_VIEW = "loadmgmt.view"
    LOADMGMT_EDIT = "loadmgmt.edit"
    # Network
    NETWORK_VIEW = "network.view"
    NETWORK_EDIT = "network.edit"
    # System Control
    SYSTEM_VIEW = "system.view"
    SYSTEM_SERVICE_RESTART = "system.service.restart"
    SYSTEM_TIME_EDIT = "system.time.edit"
    SYSTEM_LOGS_DOWNLOAD = "system.logs.download"
    SYSTEM_IMPORT_EXPORT = "system.importexport"
    SYSTEM_SOFTWARE_UPDATE = "system.software.update"
    SYSTEM_AUDIT_VIEW = "system.audit.view"  # the audit trail, its diffs and revisions
    SYSTEM_CALIBRATION_LAW = "system.calibrationlaw"
    SYSTEM_DEVELOPER_MODE = "system.developer"
    SYSTEM_MODULE_SWITCH = "system.moduleswitch"
    SIMULATOR_USE = "system.simulator.use"


MIN_ROLE: Final[dict[Perm, Role]] = {
    Perm.DASHBOARD_VIEW: Role.GUEST,
    # "Guest: read-only access only to the dashboard"; software gets a token (manage.py apitoken)
    Perm.API_DOCS_VIEW: Role.USER,
    Perm.PROFILE_EDIT: Role.USER,
    Perm.API_TOKENS_OWN: Role.USER,
    # service accounts (manage.py apitoken) are the park's integrations: operation, like the backend
    Perm.API_TOKENS_MANAGE: Role.OPERATOR,
    # "User: all read-only access rights, charging releases, editing of whitelists,
    #  download of log files"
    Perm.PARK_VIEW: Role.USER,
    Perm.CHARGEPOINT_RELEASE: Role.USER,
    # the manual names the REST API as one way to operate "Remote control" locking; an operation
    # like Allow charging, not a configuration: User and up
    Perm.CHARGEPOINT_LOCK: Role.USER,
    Perm.CHARGEPOINT_CONFIG_VIEW: Role.USER,  # "all read-only access rights"
    Perm.CHARGEPOINT_CONFIG_EXPORT: Role.USER,  # a read: exports hold no secrets
    Perm.RFID_BOARD_VIEW: Role.USER,
    Perm.SESSIONS_VIEW: Role.USER,  # a read (reimbursement): like the whitelist, User and up
    Perm.OCPP_VIEW: Role.USER,
    Perm.WHITELIST_VIEW: Role.USER,
    Perm.WHITELIST_EDIT: Role.USER,
    Perm.LOADMGMT_VIEW: Role.USER,
    Perm.SYSTEM_VIEW: Role.USER,
    Perm.SYSTEM_LOGS_DOWNLOAD: Role.USER,
    # "Operator: settings required for operation and local startup (network, backend,
    #  load management), software updates"
    Perm.OCPP_SETTINGS_EDIT: Role.OPERATOR,
    # Modbus is a backend interface like OCPP's: its page is operation (Operator and up)
    Perm.MODBUS_VIEW: Role.OPERATOR,
    Perm.MODBUS_EDIT: Role.OPERATOR,
    Perm.LOADMGMT_EDIT: Role.OPERATOR,
    Perm.NETWORK_VIEW: Role.OPERATOR,  # manual: Network needs Operator or Manufacturer
    Perm.NETWORK_EDIT: Role.OPERATOR,
    Perm.SYSTEM_SERVICE_RESTART: Role.OPERATOR,
    Perm.SYSTEM_TIME_EDIT: Role.OPERATOR,
    Perm.SYSTEM_IMPORT_EXPORT: Role.OPERATOR,
    Perm.SYSTEM_SOFTWARE_UPDATE: Role.OPERATOR,
    # beyond the manual: who changed what, and rolling a sub-register back (with its edit role)
    Perm.SYSTEM_AUDIT_VIEW: Role.OPERATOR,
    # "The only user with full operational authorization for charging points is the
    #  Manufacturer"; enforced unlocking is Manufacturer only.
    Perm.CHARGEPOINT_AVAILABILITY: Role.MANUFACTURER,
    Perm.CHARGEPOINT_UNLOCK: Role.MANUFACTURER,
    Perm.CHARGEPOINT_CONFIGURE: Role.MANUFACTURER,
    Perm.RFID_BOARD_EDIT: Role.MANUFACTURER,
    Perm.SYSTEM_CALIBRATION_LAW: Role.MANUFACTURER,
    Perm.SYSTEM_DEVELOPER_MODE: Role.MANUFACTURER,
    Perm.SYSTEM_MODULE_SWITCH: Role.MANUFACTURER,
    Perm.SIMULATOR_USE: Role.MANUFACTURER,
}

assert set(MIN_ROLE) == set(Perm), "every permission needs a minimum role"


def role_of(user: object) -> Role:
    """The role of a request's user; anonymous users are Guests."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Role.GUEST
    profile = getattr(user, "profile", None)
    if profile is None:
        return Role.GUEST
    return Role(profile.role)


def allows(user: object, perm: Perm) -> bool:
    return role_of(user) >= MIN_ROLE[perm]


def allowed_perms(user: object) -> frozenset[str]:
    role = role_of(user)
    return frozenset(p.value for p, r in MIN_ROLE.items() if role >= r)
