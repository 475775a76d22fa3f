from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from chargepoints.models import ChargePoint
from wbm.access import RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe
from wbm.system import services
from wbm.system.simulator import OPS

AGENT_INFO = {
    "controller": (
        _lazy("Controller Agent"),
        _lazy(
            "Standardizes the interface to the charging controllers on the backplane bus and to the "
            "clients connected via Ethernet."
        ),
    ),
    "system-monitor": (_lazy("System Monitor"), _lazy("Provides current system data such as memory and load.")),
    "commands": (_lazy("Command Server"), _lazy("Receives operations from the web servers (scaled mode).")),
}


class StatusView(RoleRequiredMixin, View):
    """Applications with their state, uptime and last error; restart one alone."""

    required = Perm.SYSTEM_VIEW
    required_by_method = {"POST": Perm.SYSTEM_SERVICE_RESTART}
    template_name = "system/status.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self._template(request), self._context())

    def post(self, request: HttpRequest) -> HttpResponse:
        name = request.POST.get("service", "")
        error = ""
        try:
            services.agent_restart(name=name, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            error = describe(exc)
        else:
            messages.success(request, _("The service “%(name)s” is restarting.") % {"name": name})
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect("system:status")
        time.sleep(0.2)  # let the restarted agent report "running" before re-rendering
        return render(request, self._template(request), {**self._context(), "action_error": error})

    def _template(self, request: HttpRequest) -> str:
        return f"{self.template_name}#agents" if request.htmx else self.template_name

    @staticmethod
    def _context() -> dict[str, Any]:
        snapshot = read_snapshot()
        return {"snapshot": snapshot, "now": time.time(), "agent_info": AGENT_INFO}


class TimeView(RoleRequiredMixin, View):
    required = Perm.SYSTEM_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "system/time.html", {"utc_now": datetime.now(tz=UTC)})


class LogsView(RoleRequiredMixin, View):
    """Download all log files, compressed into one file."""

    required = Perm.SYSTEM_LOGS_DOWNLOAD

    def get(self, request: HttpRequest) -> HttpResponse:
        files = sorted(p for p in settings.LOG_DIR.glob("*.log*") if p.is_file())
        if request.GET.get("download") != "1":
            return render(request, "system/logs.html", {"files": [(p.name, p.stat().st_size) for p in files]})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, arcname=path.name)
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="wbm-logs-{stamp}.zip"'
        return response


class SimulatorView(RoleRequiredMixin, View):
    """Drive the simulated hardware of one charge point (Manufacturer)."""

    required = Perm.SIMULATOR_USE
    template_name = "system/simulator.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        chargepoint = self._selected(request.GET.get("cp"))
        if chargepoint is None and request.GET.get("cp"):
            raise Http404  # an unknown charge point, not an empty park
        return render(request, self.template_name, self._context(request, chargepoint))

    def post(self, request: HttpRequest) -> HttpResponse:
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
        context = self._context(request, chargepoint, forms_override)
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
    def _context(
        request: HttpRequest, chargepoint: ChargePoint | None, forms_override: dict[str, Any] | None = None
    ) -> dict[str, Any]:
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
