"""The calibration-law rules: which settings of a charge point and of OCPP calibration law
(German Eichrecht, PTB-A 50.7) depends on, and how each is judged.

Every rule is data: the setting, the rule in words, and a function of the value giving the
level. ``ERROR`` (red) means the station is not operated in compliance: billing with it is not
allowed. ``WARNING`` (yellow) means it works but needs a check by the operator. The reasons are
in the README ("Calibration law").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chargepoints import choices as c
from chargepoints.models import ChargePointConfig
from ocppcfg import variables
from ocppcfg.models import OcppSettings
from wbm.system import osbackend

# meters with a calibration-law (MID + PTB "Eichrecht") variant that signs its readings
APPROVED_METERS = frozenset({"eem_dm357", "eem_dm357_70", "eem_em357_ee", "eem_em157_ee", "eem_am157_ee"})
UID = re.compile(r"^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$")


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    scope: str | Promise  # a charge point's name, "OCPP" or "System"
    setting: str | Promise
    value: str
    rule: str | Promise
    level: Level
    reason: str | Promise = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": str(self.scope),
            "setting": str(self.setting),
            "value": self.value,
            "rule": str(self.rule),
            "level": self.level.value,
            "reason": str(self.reason),
        }


def _chargepoint_findings(config: ChargePointConfig, duplicates: set[str]) -> list[Finding]:
    name = config.name
    abbr = config.calibration_abbreviation
    findings = [
        Finding(
            name,
            _("Charge Point Abbreviation for Screen"),
            abbr,
            _("set, and unique in the park"),
            Level.ERROR if not abbr or abbr in duplicates else Level.OK,
            _("The display must show which charge point the signed reading belongs to.")
            if not abbr or abbr in duplicates
            else "",
        )
    ]
    meter = config.meter_type
    meter_label = c.MeterType(meter).label if meter in c.MeterType.values else meter
    findings.append(
        Finding(
            name,
            _("Energy measuring device"),
            str(meter_label),
            _("a meter approved for calibration law (EEM-DM357, EEM-DM357-70, EEM-EM357-EE, EEM-157-EE, EEM-AM157-70)"),
            Level.OK if meter in APPROVED_METERS else Level.ERROR,
            "" if meter in APPROVED_METERS else _("Only a meter that signs its readings may be used for billing."),
        )
    )
    selection = config.calibration_selection
    findings.append(
        Finding(
            name,
            _("Selection of the charging point"),
            str(c.CalibrationSelection(selection).label) if selection in c.CalibrationSelection.values else selection,
            _("via RFID reader or via screen"),
            Level.OK if selection in c.CalibrationSelection.values else Level.ERROR,
        )
    )
    anonymous = config.release_mode in (c.ReleaseMode.PERMANENT, c.ReleaseMode.DASHBOARD)
    findings.append(
        Finding(
            name,
            _("Release mode"),
            str(c.ReleaseMode(config.release_mode).label)
            if config.release_mode in c.ReleaseMode.values
            else config.release_mode,
            _("a release that identifies the customer (RFID, whitelist, OCPP, remote, Modbus)"),
            Level.WARNING if anonymous else Level.OK,
            _("Without identification a signed reading cannot be assigned to a customer.") if anonymous else "",
        )
    )
    return findings


def _ocpp_findings(values: dict[str, str], backend_url: str) -> list[Finding]:
    findings: list[Finding] = []
    fmt = values.get("SignedDataFormat", "0")
    findings.append(
        Finding(
            "OCPP",
            "SignedDataFormat",
            fmt,
            _("0 (OCMF)"),
            Level.OK if fmt == "0" else Level.WARNING,
            "" if fmt == "0" else _("The backend's transparency software must read this format."),
        )
    )
    message, vendor = values.get("MessageAtKeyTransfer", ""), values.get("VendorAtKeyTransfer", "")
    level = Level.OK if message and vendor else Level.WARNING if not message and not vendor else Level.ERROR
    reasons: dict[Level, str | Promise] = {
        Level.OK: "",
        Level.WARNING: _("The backend does not receive the public key needed to check signed readings."),
        Level.ERROR: _("A DataTransfer needs both the vendor and the message."),
    }
    findings.append(
        Finding(
            "OCPP",
            "MessageAtKeyTransfer / VendorAtKeyTransfer",
            f"{message or '–'} / {vendor or '–'}",
            _("both set (the meter's public key goes to the backend)"),
            level,
            reasons[level],
        )
    )
    admins = [u for u in values.get("EichrechtAdminList", "").split(",") if u.strip()]
    bad = [u for u in admins if not UID.match(u.strip())]
    findings.append(
        Finding(
            "OCPP",
            "EichrechtAdminList",
            ", ".join(admins) or "–",
            _("RFID UIDs of 8, 14 or 20 hexadecimal digits"),
            Level.ERROR if bad else Level.OK,
            _("Not a UID: %(uids)s") % {"uids": ", ".join(bad)} if bad else "",
        )
    )
    secure = not backend_url or backend_url.startswith("wss://")
    findings.append(
        Finding(
            "OCPP",
            _("Backend URL"),
            backend_url.split("?")[0] or "–",
            _("an encrypted connection (wss://)"),
            Level.OK if secure else Level.WARNING,
            "" if secure else _("Signed readings travel unencrypted to the backend."),
        )
    )
    return findings


def findings() -> list[Finding]:
    """Every calibration-law finding: per configured charge point, OCPP and the system clock."""
    configs = list(ChargePointConfig.objects.select_related("chargepoint").order_by("chargepoint_id"))
    counts = Counter(cfg.calibration_abbreviation for cfg in configs if cfg.calibration_abbreviation)
    duplicates = {abbr for abbr, n in counts.items() if n > 1}
    found: list[Finding] = []
    for config in configs:
        found.extend(_chargepoint_findings(config, duplicates))
    found.extend(_ocpp_findings(variables.values(), OcppSettings.load().backend_url))
    synced = osbackend.time_synchronized()
    found.append(
        Finding(
            _("System"),
            _("Time synchronization"),
            str(_("synchronized") if synced else _("not synchronized")),
            _("synchronized (NTP or OCPP)"),
            Level.OK if synced else Level.ERROR,
            "" if synced else _("Signed readings carry the time; a clock set by hand cannot be trusted."),
        )
    )
    return found


def summary(found: list[Finding]) -> dict[str, int]:
    counts = Counter(f.level for f in found)
    return {"errors": counts[Level.ERROR], "warnings": counts[Level.WARNING], "ok": counts[Level.OK]}
