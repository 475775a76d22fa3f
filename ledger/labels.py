"""Translated labels of what a session records as keys (release sources, stop reasons)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chargepoints.choices import StopReason
from wbm.runtime.claims import Source

# who released charging (ChargingSession.released_by holds claim sources)
RELEASED_BY_LABELS = {
    Source.USER.value: _("Web page / API"),
    Source.WHITELIST.value: _("Local whitelist"),
    Source.OCPP.value: _("OCPP backend"),
    Source.MODBUS.value: _("Modbus client"),
    Source.EVENT_ACTION.value: _("Event Action"),
    Source.CONFIG.value: _("Permanent release"),
}


def released_by_labels(value: str) -> list[str]:
    """``"user,whitelist"`` → ["Web page / API", "Local whitelist"] (unknown keys as they are)."""
    return [str(RELEASED_BY_LABELS.get(key, key)) for key in value.split(",") if key]


def stop_reason_label(value: str) -> str:
    if not value:
        return ""
    try:
        return str(StopReason(value).label)
    except ValueError:
        return value
