"""System Control / Software: the installed version, INSTALL UPDATE (upload with progress), the
state of both slots, the restart the manual asks for, and the hand-over to the client modules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system import update_services
from wbm.system.update import BundleRefused


class BundleForm(forms.Form):
    bundle = forms.FileField(
        label=gettext_lazy("Software package"),
        help_text=gettext_lazy(
            "A signed update bundle (.wbmb) for this device type, newer than the installed version."
        ),
    )


class SoftwareView(RoleRequiredMixin, View):
    required = Perm.SYSTEM_SOFTWARE_UPDATE
    template_name = "system/update.html"

    def _render(self, request: HtmxHttpRequest, **extra: Any) -> HttpResponse:
        context = {
            "form": extra.pop("form", None) or BundleForm(),
            "status": update_services.software_status(),
            **extra,
        }
        name = f"{self.template_name}#state" if request.htmx and request.method == "GET" else self.template_name
        if request.htmx and request.method == "POST":
            name = f"{self.template_name}#panel"
        return render(request, name, context)

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.POST.get("action") == "cancel":
            if update_services.software_cancel(actor=Actor.from_request(request)):
                messages.success(request, _("The installed update was discarded; the running version stays."))
            return redirect("system:software")
        form = BundleForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form=form)
        upload = form.cleaned_data["bundle"]
        try:
            path = update_services.receive(upload.chunks())
            accepted = update_services.software_update(bundle=path, actor=Actor.from_request(request))
        except BundleRefused as exc:
            form.add_error("bundle", exc.message)
            return self._render(request, form=form, refused=exc.message)
        if accepted.wait_s:
            note = _(
                "Version %(version)s is accepted. The charge points show status F for %(seconds)s s "
                "(PreUnavailabilityForUpdate), then it is installed."
            ) % {"version": accepted.manifest.version, "seconds": accepted.wait_s}
        else:
            note = _("Version %(version)s is installed. Restart the charging controller to use it.") % {
                "version": accepted.manifest.version
            }
        return self._render(request, form=BundleForm(), accepted=note)
