from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor, record_change
from wbm.roles import Perm
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe
from wbm.system import bundle, forms, osbackend, selectors, services


def runtime_error(exc: CommandRejected | RuntimeUnavailable) -> str:
    """A refusal of the runtime in the user's words (System Control's own codes first)."""
    if isinstance(exc, CommandRejected) and exc.code == "reboot_unavailable":
        return _("This process cannot restart itself (it was not started by runwbm or runcontroller).")
    return describe(exc)


class StatusView(RoleRequiredMixin, View):
    """The manual's applications with version, state, uptime and last error; restart one alone;
    REBOOT SYSTEM; system data."""

    required = Perm.SYSTEM_VIEW
    required_by_method = {"POST": Perm.SYSTEM_SERVICE_RESTART}
    template_name = "system/status.html"

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return render(request, self._template(request), selectors.status_context())

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        name = request.POST.get("service", "")
        error = ""
        try:
            services.agent_restart(name=name, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            error = runtime_error(exc)
        else:
            messages.success(request, _("The service “%(name)s” is restarting.") % {"name": name})
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect("system:status")
        # the runtime answers once the agent runs again, so the table shows it running
        return render(request, self._template(request), {**selectors.status_context(), "action_error": error})

    def _template(self, request: HtmxHttpRequest) -> str:
        return f"{self.template_name}#agents" if request.htmx else self.template_name


class RebootView(RoleRequiredMixin, View):
    """REBOOT SYSTEM (a confirmation first: charging sessions end, everyone logs in again)."""

    required = Perm.SYSTEM_SERVICE_RESTART

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "system/reboot.html", {"form": forms.ConfirmForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ConfirmForm(request.POST)
        if not form.is_valid():
            return render(request, "system/reboot.html", {"form": form}, status=200)
        try:
            services.system_reboot(actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            messages.error(request, runtime_error(exc))
            return render(request, "system/reboot.html", {"form": forms.ConfirmForm()})
        return render(request, "system/rebooting.html", {})


class TimeView(RoleRequiredMixin, View):
    """UTC system time beside the browser's local time; set it by hand, from the PC, or by NTP."""

    required = Perm.SYSTEM_VIEW
    required_by_method = {"POST": Perm.SYSTEM_TIME_EDIT}

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "system/time.html", self._context())

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        actor = Actor.from_request(request)
        set_form = forms.TimeSetForm(request.POST if action == "set" else None)
        browser_form = forms.BrowserTimeForm(request.POST if action == "browser" else None)
        if action == "ntp":
            services.system_time_sync(actor=actor)
            messages.success(request, _("The clock is synchronized by NTP again."))
            return redirect("system:time")
        form: forms.TimeSetForm | forms.BrowserTimeForm | None = (
            set_form if action == "set" else browser_form if action == "browser" else None
        )
        if form is not None and form.is_valid():
            when = form.cleaned_data["utc" if action == "set" else "browser_ms"]
            services.system_time_set(when=when, source="manual" if action == "set" else "browser", actor=actor)
            messages.success(
                request, _("The system time was set to %(utc)s UTC.") % {"utc": when.strftime("%Y-%m-%d %H:%M:%S")}
            )
            return redirect("system:time")
        return render(request, "system/time.html", self._context(set_form=set_form, browser_form=browser_form))

    @staticmethod
    def _context(**forms_: Any) -> dict[str, Any]:
        status = osbackend.time_status()
        return {
            "status": status,
            "utc_now": status.utc,
            "set_form": forms_.get("set_form")
            or forms.TimeSetForm(initial={"utc": status.utc.replace(microsecond=0, tzinfo=None)}),
            "browser_form": forms_.get("browser_form") or forms.BrowserTimeForm(),
            "earliest": osbackend.EARLIEST,
            "latest": osbackend.LATEST,
        }


class DeveloperView(RoleRequiredMixin, View):
    """Developer Mode: the ``user-app`` Linux user's password (change it, reset it)."""

    required = Perm.SYSTEM_DEVELOPER_MODE

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "system/developer.html", self._context())

    def post(self, request: HttpRequest) -> HttpResponse:
        actor = Actor.from_request(request)
        if request.POST.get("action") == "reset":
            confirm = forms.ConfirmForm(request.POST)
            if not confirm.is_valid():
                return render(request, "system/developer.html", self._context(confirm=confirm))
            services.user_app_password_reset(actor=actor)
            messages.success(request, _("The password of “user-app” is the delivery password again."))
            return redirect("system:developer")
        form = forms.UserAppPasswordForm(request.POST)
        if form.is_valid():
            try:
                services.user_app_password_change(
                    current=form.cleaned_data["current"], new=form.cleaned_data["new"], actor=actor
                )
            except osbackend.WrongPassword:
                form.add_error("current", _("The current password is not correct."))
            else:
                messages.success(request, _("The password of “user-app” was changed."))
                return redirect("system:developer")
        return render(request, "system/developer.html", self._context(form=form))

    @staticmethod
    def _context(**kw: Any) -> dict[str, Any]:
        return {
            "form": kw.get("form") or forms.UserAppPasswordForm(),
            "confirm": kw.get("confirm") or forms.ConfirmForm(),
            "changed_at": osbackend.user_app_changed_at(),
        }


def bundle_response(kind: str) -> FileResponse:
    """A bundle as a download with a Content-Length (the browser shows its progress)."""
    spool, size = bundle.bundle_to_tempfile(kind)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    prefix = "wbm-support" if kind == "support" else "wbm-logs"
    response = FileResponse(spool, as_attachment=True, filename=f"{prefix}-{stamp}.zip", content_type="application/zip")
    response["Content-Length"] = str(size)
    return response


class LogsView(RoleRequiredMixin, View):
    """DOWNLOAD LOGS (one file per service, compressed into one) and the support bundle."""

    required = Perm.SYSTEM_LOGS_DOWNLOAD

    def get(self, request: HttpRequest) -> HttpResponse | FileResponse:
        download = request.GET.get("download", "")
        if download in ("1", "logs", "support"):
            kind = "support" if download == "support" else "logs"
            record_change(actor=Actor.from_request(request), action=f"system.{kind}.download")
            return bundle_response(kind)
        files = [(p.name, p.stat().st_size) for p in bundle.log_files()]
        return render(request, "system/logs.html", {"files": files, "total": sum(s for _n, s in files)})
