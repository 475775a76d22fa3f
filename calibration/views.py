from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from calibration import rules, services
from wbm.access import RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.system.forms import ConfirmForm
from wbm.system.views import runtime_error


def page_context(**extra: Any) -> dict[str, Any]:
    found = rules.findings()
    return {
        "findings": found,
        "counts": rules.summary(found),
        "active": services.calibration_law_active(),
        "confirm": extra.get("confirm") or ConfirmForm(),
    }


class CalibrationLawView(RoleRequiredMixin, View):
    """The calibration-law-relevant settings per charge point and for OCPP, each with its rule;
    SWITCH ON (OFF) CALIBRATION LAW restarts the controller."""

    required = Perm.SYSTEM_CALIBRATION_LAW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "calibration/page.html", page_context())

    def post(self, request: HttpRequest) -> HttpResponse:
        confirm = ConfirmForm(request.POST)
        if not confirm.is_valid():
            return render(request, "calibration/page.html", page_context(confirm=confirm))
        on = request.POST.get("action") != "off"
        try:
            services.calibration_law_switch(on=on, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            messages.warning(
                request, _("Stored; it takes effect at the next restart. %(reason)s") % {"reason": runtime_error(exc)}
            )
            return redirect("calibration:page")
        return render(request, "system/rebooting.html", {})
