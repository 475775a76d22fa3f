"""What limits a charge point, in the user's words: "10 A, limited by load management"."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wbm.runtime.claims import Decision, Source, Verdict

SOURCE_LABELS = {
    Source.SAFETY: gettext_lazy("safety"),
    Source.CONFIG: gettext_lazy("the configured maximum current"),
    Source.USER: gettext_lazy("the user"),
    Source.WHITELIST: gettext_lazy("the local whitelist"),
    Source.OCPP: gettext_lazy("the OCPP backend"),
    Source.MODBUS: gettext_lazy("a Modbus client"),
    Source.EVENT_ACTION: gettext_lazy("an Event Action"),
    Source.LOAD_MANAGEMENT: gettext_lazy("load management"),
    Source.FALLBACK: gettext_lazy("the fallback current"),
}

# Block reasons and claim keys the controller uses (chargepoints.controller).
BLOCK_LABELS = {
    "disabled": gettext_lazy("disabled by the user"),
    "unlock_enforced": gettext_lazy("unlocking is enforced"),
    "ventilation_rejected": gettext_lazy("the vehicle requests ventilation, which is rejected"),
    "hlc_required": gettext_lazy("ISO 15118 communication is required"),
    "derating": gettext_lazy("temperature derating"),
    # the Monitoring settings (chargepoints.controller.monitoring)
    "plug_rejected": gettext_lazy("the cable's current rating is too low for this charging point (plug rejection)"),
    "contactor_welded": gettext_lazy("the charging contactor does not open (contactor failure)"),
    "dc_residual_current": gettext_lazy("a DC residual current was detected"),
    "overcurrent": gettext_lazy("overcurrent: the vehicle drew more than it was offered"),
    "ev_ze_ready": gettext_lazy("EV/ZE Ready overcurrent derating"),
    "out_of_balance": gettext_lazy("out-of-balance suppression (single-phase load, at most 20 A)"),
}


def fault_info_text(info: str) -> str:
    """The info of a fault: a key the controller set, said in words; anything else as it is."""
    label = BLOCK_LABELS.get(info)
    return str(label) if label is not None else info


def source_label(source: Source | str | None, key: str = "") -> str:
    if source is None:
        return ""
    if key in BLOCK_LABELS and Source(source) is Source.SAFETY:
        return str(BLOCK_LABELS[key])
    return str(SOURCE_LABELS.get(Source(source), source))


def _amps(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"


def decision_text(decision: Decision) -> str:
    """One sentence: the current offered and what limits it, or why nothing is offered."""
    verdict = Verdict(decision.verdict)
    limited_by = source_label(decision.binding, decision.binding_key)
    if decision.binding is not None and Source(decision.binding) is Source.FALLBACK and decision.lapsed:
        if decision.binding_key == "head_module":
            limited_by = _("the fallback current (the connection to the head module is lost)")
        else:
            limited_by = _("the fallback current (%(source)s stopped sending limits)") % {
                "source": source_label(decision.lapsed)
            }
    if verdict is Verdict.NOT_CONFIGURED:
        return _("Not configured")
    if verdict is Verdict.BLOCKED:
        reason = decision.block_reason
        if reason in BLOCK_LABELS:
            return _("Blocked: %(reason)s") % {"reason": BLOCK_LABELS[reason]}
        if decision.blocked_by is not None and Source(decision.blocked_by) is Source.SAFETY and reason:
            return _("Blocked: fault %(code)s") % {"code": reason}
        return _("Blocked by %(source)s") % {"source": source_label(decision.blocked_by)}
    if verdict is Verdict.BELOW_MINIMUM:
        return _("Paused: %(amps)s A from %(source)s is below the minimum current") % {
            "amps": _amps(decision.cap_a),
            "source": limited_by,
        }
    if verdict is Verdict.NO_VEHICLE:
        return _("No vehicle; up to %(amps)s A, limited by %(source)s") % {
            "amps": _amps(decision.cap_a),
            "source": limited_by,
        }
    if verdict is Verdict.NOT_RELEASED:
        return _("No charging release; up to %(amps)s A, limited by %(source)s") % {
            "amps": _amps(decision.cap_a),
            "source": limited_by,
        }
    text = _("%(amps)s A, limited by %(source)s") % {"amps": _amps(decision.offered_a), "source": limited_by}
    if decision.pending_a is not None:
        text += " " + _("(rising to %(amps)s A in a few seconds)") % {"amps": _amps(decision.pending_a)}
    return text
