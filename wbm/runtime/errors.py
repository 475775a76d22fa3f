"""Runtime refusals translated into the user's language, at one boundary."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from wbm.runtime.commands import CommandRejected, RuntimeUnavailable


def _messages() -> dict[str, str]:
    return {
        "unknown_chargepoint": _("There is no charging point %(cp)s."),
        "not_configured": _("The charging point is not configured."),
        "no_vehicle": _("No vehicle is plugged in at %(cp)s."),
        "already_plugged": _("A vehicle is already plugged in at %(cp)s."),
        "vehicle_already": _("The vehicle at %(cp)s is already in this state."),
        "release_mode_forbids": _("The release mode of %(cp)s does not allow a charging release from the web page."),
        "disabled": _("%(cp)s is disabled. Enable it first."),
        "no_fault": _("There is no fault at %(cp)s to clear."),
        "bad_rfid": _("“%(tag)s” is not an RFID tag: use 4 to 32 hexadecimal digits."),
        "bad_evcc_id": _("“%(evcc_id)s” is not an EVCC ID: use 12 hexadecimal digits."),
        "hlc_disabled": _("ISO 15118 (high level communication) is not configured at %(cp)s."),
        "no_hlc_vehicle": _("The vehicle at %(cp)s does not communicate via ISO 15118."),
        "out_of_range": _("%(field)s must be between %(min)s and %(max)s."),
        "bad_choice": _("%(field)s is not one of the allowed choices."),
        "unknown_agent": _("There is no service named “%(name)s”."),
        "agent_protected": _("The service “%(name)s” cannot be stopped from here."),
        "agent_restarting": _("The service “%(name)s” is restarting by itself. Try again in a few seconds."),
        "agent_stopped": _("The service “%(name)s” is not running. Start it under System Control."),
        "internal_error": _("The operation failed because of an internal error; it is in the log."),
        "bad_cap": _("A current limit must be a number of amperes, 0 or more."),
        "bad_ttl": _("A current limit that must be renewed needs a time to live."),
        "expired_claim": _("The limit or release has already expired."),
        "bad_source": _("This source cannot put a limit or release."),
        "locking_not_remote": _(
            "%(cp)s locks by itself: only a socket outlet in the locking mode “Remote control” is locked and unlocked from here."
        ),
        "unlock_enforced": _("Unlocking is enforced at %(cp)s: revert it before locking."),
        "not_simulated": _("This controller has real hardware; the simulator is not available."),
        "bad_argument": _("The request is missing a value or has one of the wrong type."),
        "unknown_command": _("The runtime does not know this operation."),
    }


def describe(exc: CommandRejected | RuntimeUnavailable) -> str:
    if isinstance(exc, RuntimeUnavailable):
        return _("The controller runtime is not reachable. Try again in a moment.")
    template = _messages().get(exc.code, _("The operation was refused (%(code)s).") % {"code": exc.code})
    params: dict[str, Any] = dict(exc.params.items())
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template.split("%(")[0].strip() or exc.code
