from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from chargepoints import services
from chargepoints.models import ChargePoint
from chargepoints.simulator.forms import OPS
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe


class SimulatorView(RoleRequiredMixin, View):
    """Drive the simulated hardware of one charge point (Manufacturer)."""

    required = Perm.SIMULATOR_USE
    template_name = "chargepoints/simulator.html"

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        chargepoint = self._selected(request.GET.get("cp"))
        if chargepoint is None and request.GET.get("cp"):
            raise Http404  # an unknown charge point, not an empty park
        return render(request, self.template_name, self._context(chargepoint))

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        chargepoint = self._selected(request.POST.get("cp"))
        if chargepoint is None:
            raise Http404
        op = request.POST.get("op", "")
        if op not in OPS:
            raise BadRequest("unknown simulator operation")  # the page exists; the form is wrong
        form = OPS[op].form(request.POST, prefix=op)
        forms_override = {op: form}
        error = ""
        if form.is_valid():
            try:
                services.simulator_apply(
                    chargepoint=chargepoint, op=op, data=form.cleaned_data, actor=Actor.from_request(request)
                )
            except (CommandRejected, RuntimeUnavailable) as exc:
                error = describe(exc)
            else:
                if not request.htmx:
                    messages.success(request, _("Done: %(op)s.") % {"op": OPS[op].title})
                    return redirect(f"{request.path}?cp={chargepoint.pk}")
                forms_override = {}
        context = self._context(chargepoint, forms_override)
        context.update(
            {"action_error": error, "action_op": op, "action_ok": "" if error or form.errors else OPS[op].title}
        )
        name = f"{self.template_name}#panel" if request.htmx else self.template_name
        return render(request, name, context)

    @staticmethod
    def _selected(raw: str | None) -> ChargePoint | None:
        queryset = ChargePoint.objects.select_related("station", "config")
        if raw and raw.isdigit():
            return queryset.filter(pk=int(raw)).first()
        return queryset.order_by("station_id", "position").first()

    @staticmethod
    def _context(chargepoint: ChargePoint | None, forms_override: dict[str, Any] | None = None) -> dict[str, Any]:
        snapshot = read_snapshot()
        forms_ = {name: op.form(prefix=name) for name, op in OPS.items()}
        forms_.update(forms_override or {})
        return {
            "chargepoints": ChargePoint.objects.select_related("station", "config").order_by("station_id", "position"),
            "selected": chargepoint,
            "live": snapshot.chargepoint(chargepoint.pk) if snapshot and chargepoint else None,
            "forms": forms_,
            "ops": OPS,
        }
