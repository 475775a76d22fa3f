"""What the Charge Point Status page shows: the hardware facts from the database (read once) and
the live state from the runtime's snapshot. Plain data, so a WebSocket consumer can render the
same partials without touching the database again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from chargepoints.choices import IecState, Iso15118Error, Iso15118Progress
from chargepoints.models import ChargePoint
from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ChargePointState


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    """The static groups of the status page: Device Info, Base Module, Bus Communication."""

    pk: int
    configured: bool
    name: str  # configuration name, "" when not configured
    station: str  # host name of the head module
    device_name: str
    device_uid: str
    hardware_version: str
    firmware_version: str
    position: int
    head_ip: str
    head_mac: str

    @property
    def title(self) -> str:
        return self.name or f"{self.station} #{self.position}"


def device_info(chargepoint: ChargePoint) -> DeviceInfo:
    """``chargepoint`` with its station and config selected (selectors.chargepoint_get)."""
    config = getattr(chargepoint, "config", None)
    station = chargepoint.station
    return DeviceInfo(
        pk=chargepoint.pk,
        configured=config is not None,
        name=config.name if config else "",
        station=station.hostname,
        device_name=chargepoint.device_name,
        device_uid=chargepoint.device_uid,
        hardware_version=chargepoint.hardware_version,
        firmware_version=chargepoint.firmware_version,
        position=chargepoint.position,
        head_ip=station.head_ip,
        head_mac=station.head_mac,
    )


def web_release_possible(live: ChargePointState | None) -> bool:
    """Allow / Prohibit charging makes sense now: configured, enabled, a vehicle plugged in and a
    release mode that takes the release from the web page."""
    return bool(
        live is not None and live.configured and live.enabled and live.vehicle is not None and live.accepts_user_release
    )


def status_context(device: DeviceInfo, live: ChargePointState | None) -> dict[str, Any]:
    """The context of the status page's partials (page, htmx responses and the consumer)."""
    context: dict[str, Any] = {
        "device": device,
        "live": live,
        "web_release": web_release_possible(live),
        "iec_label": "",
        "iso_progress": "",
        "iso_error_text": "",
    }
    if live is not None:
        context["iec_label"] = _label(IecState, live.iec_state)
        if live.iso15118 is not None:
            context["iso_progress"] = _label(Iso15118Progress, live.iso15118.progress)
            context["iso_error_text"] = _label(Iso15118Error, live.iso15118.error)
    return context


def _label(choices: Any, value: str) -> str | Promise:
    """The label of a choice, or the raw value for one the list does not know.

    Lazy: it is translated when the page renders, in the page's language. The WebSocket consumer
    builds this context outside its ``translation.override``; a label turned into text here came
    out English on a German page ("C – charging")."""
    if not value:
        return ""
    try:
        return choices(value).label  # type: ignore[no-any-return]
    except ValueError:
        return value


def live_state(pk: int) -> ChargePointState | None:
    snapshot = read_snapshot()
    return snapshot.chargepoint(pk) if snapshot else None
