from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.registry import agent_info
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe
from wbm.system import services
from wbm.system.webprocess import web_started_at


class StatusView(RoleRequiredMixin, View):
    """Applications with their state, uptime and last error; restart one alone."""

    required = Perm.SYSTEM_VIEW
    required_by_method = {"POST": Perm.SYSTEM_SERVICE_RESTART}
    template_name = "system/status.html"

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return render(request, self._template(request), self._context())

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
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
        # the runtime answers once the agent runs again, so the table shows it running
        return render(request, self._template(request), {**self._context(), "action_error": error})

    def _template(self, request: HtmxHttpRequest) -> str:
        return f"{self.template_name}#agents" if request.htmx else self.template_name

    @staticmethod
    def _context() -> dict[str, Any]:
        snapshot = read_snapshot()
        return {
            "snapshot": snapshot,
            "now": time.time(),
            "agent_info": agent_info(),
            "web_started_at": web_started_at(),
        }


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
