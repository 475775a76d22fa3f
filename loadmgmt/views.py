"""Load Management: the status (User and up) and the configuration (Operator and up) on one
page, as the manual's three parts."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from loadmgmt import selectors, services
from loadmgmt.forms import LoadCircuitForm
from loadmgmt.status import status_context
from loadmgmt.validation import shortfall_note, validate
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot

TEMPLATE = "loadmgmt/status.html"


def chart_data(history: list[Any]) -> str:
    """The chart's series as the static script reads them (a data attribute: no inline script)."""
    return json.dumps([row for row in history if isinstance(row, list) and len(row) == 5])


def page_context(request: HtmxHttpRequest, *, form: LoadCircuitForm | None = None, **extra: Any) -> dict[str, Any]:
    circuit = selectors.load_circuit_get()
    park = selectors.park_points()
    if form is None:
        form = LoadCircuitForm(park, initial={**selectors.circuit_values(circuit), "revision": circuit.revision})
    status = status_context(read_snapshot())
    names = {p.id: p.name for p in park}
    assigned = selectors.assigned_ids(circuit)
    min_sum = sum(p.min_a for p in park if p.id in assigned)
    return {
        "shortfall": shortfall_note(circuit.fuse_a, min_sum),
        **status,
        "chart": chart_data(status["history"]),
        "form": form,
        "circuit": circuit,
        "assigned_names": [names[i] for i in selectors.assigned_ids(circuit) if i in names],
        "rotations": rotation_rows(park, selectors.assigned_ids(circuit)),
        **extra,
    }


def rotation_rows(park: list[Any], assigned: list[int]) -> list[dict[str, Any]]:
    """The phase rotation of each assigned charge point (set in its configuration)."""
    from chargepoints.choices import PhaseRotation
    from chargepoints.models import ChargePointConfig

    rotations = dict(ChargePointConfig.objects.filter(pk__in=assigned).values_list("pk", "phase_rotation"))
    return [
        {"id": p.id, "name": p.name, "rotation": PhaseRotation(rotations.get(p.id) or "").label}
        for p in park
        if p.id in assigned
    ]


class StatusView(RoleRequiredMixin, View):
    """The status (live) and the configuration; POST saves it (``refresh``: re-render the form
    for the chosen connection type without saving)."""

    required = Perm.LOADMGMT_VIEW
    required_by_method = {"POST": Perm.LOADMGMT_EDIT}

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return render(request, TEMPLATE, page_context(request))

    def _form(self, request: HtmxHttpRequest, **context: Any) -> HttpResponse:
        full = page_context(request, **context)
        if request.htmx:
            return render(request, f"{TEMPLATE}#config", full)
        return render(request, TEMPLATE, full, status=200 if context.get("done") else 400)

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        park = selectors.park_points()
        if request.POST.get("refresh"):  # the connection type changed: other fields apply, nothing saved
            initial: dict[str, Any] = {name: request.POST.get(name) for name in LoadCircuitForm.base_fields}
            initial["chargepoints"] = [int(v) for v in request.POST.getlist("chargepoints") if v.isdigit()]
            return self._form(request, form=LoadCircuitForm(park, initial=initial))
        form = LoadCircuitForm(park, request.POST)
        if not form.is_valid():
            # the rules' errors on the other fields too, so one round shows everything
            stored = selectors.circuit_values(selectors.load_circuit_get())
            entered = {k: v for k, v in form.cleaned_data.items() if k != "revision"}
            rules = validate({**stored, **entered}, park).errors
            form.add_rule_errors({k: v for k, v in rules.items() if k not in form.errors and k in entered})
            return self._form(request, form=form, invalid=True)
        try:
            saved = services.load_circuit_update(
                data=form.values(), actor=Actor.from_request(request), revision=form.cleaned_data.get("revision")
            )
        except services.CircuitInvalid as exc:
            form.add_rule_errors(exc.errors)
            return self._form(request, form=form, invalid=True)
        except services.StaleRevision:
            return self._form(
                request,
                error=_(
                    "Someone else saved the load management configuration meanwhile. Nothing was saved; the "
                    "page shows the stored values now."
                ),
            )
        if not saved.changed:
            done = _("Nothing changed.")
        elif saved.told:
            done = _("The load management configuration is saved and applies now.")
        else:
            done = _("Saved. Load management is not running now; it uses the new values when it starts.")
        if not request.htmx:
            messages.success(request, done)
            return redirect("loadmgmt:status")
        return self._form(request, done=done)
