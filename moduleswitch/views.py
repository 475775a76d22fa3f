from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from chargepoints.models import Station
from moduleswitch import services
from wbm.access import RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.forms import ConfirmForm


def page_context(**extra: Any) -> dict[str, Any]:
    return {
        "mode": services.module_mode(),
        "stations": list(Station.objects.order_by("pk")),
        "usb_address": services.USB_ADDRESS,
        "confirm": extra.get("confirm") or ConfirmForm(),
    }


class ModuleSwitchView(RoleRequiredMixin, View):
    """Prepare the controller for client operation (or back to server), with the manual's warnings."""

    required = Perm.SYSTEM_MODULE_SWITCH

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "moduleswitch/page.html", page_context())

    def post(self, request: HttpRequest) -> HttpResponse:
        confirm = ConfirmForm(request.POST)
        if not confirm.is_valid():
            return render(request, "moduleswitch/page.html", page_context(confirm=confirm))
        to = "server" if request.POST.get("to") == "server" else "client"
        try:
            services.module_switch(to=to, actor=Actor.from_request(request))
        except services.AlreadyInMode:
            messages.info(request, _("The controller already runs in this mode."))
            return redirect("moduleswitch:page")
        return render(request, "system/rebooting.html", {})
