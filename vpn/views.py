"""Network → OpenVPN (Operator and up): status, pasted configuration or imported file, activation
mode, Test VPN connection, Delete. htmx gets the changed panel back (errors in place, 200); a
plain form post gets the whole page."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from vpn import selectors, services
from vpn.choices import Source
from vpn.forms import VpnImportForm, VpnPasteForm
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm

TEMPLATE = "vpn/page.html"


def page_context(
    *, paste_form: VpnPasteForm | None = None, import_form: VpnImportForm | None = None, **extra: Any
) -> dict[str, Any]:
    stored = selectors.vpn_settings_get()
    initial = {"config": stored.pasted, "activation": stored.activation}
    return {
        "stored": stored,
        "imported": stored.source == Source.IMPORT,
        "pasted": stored.source == Source.PASTE,
        "paste_form": paste_form or VpnPasteForm(initial=initial),
        "import_form": import_form or VpnImportForm(initial={"activation": stored.activation}),
        "status": selectors.vpn_status(),
        **extra,
    }


class VpnView(RoleRequiredMixin, View):
    """The page; POST ``action`` = save | import | test | delete."""

    required = Perm.NETWORK_VIEW
    required_by_method = {"POST": Perm.NETWORK_EDIT}

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.htmx and request.GET.get("part") == "status":
            return render(request, f"{TEMPLATE}#status", page_context())
        return render(request, TEMPLATE, page_context())

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        action = request.POST.get("action", "save")
        actor = Actor.from_request(request)
        if action == "delete":
            services.vpn_config_delete(actor=actor)
            return self._respond(request, done=_("The OpenVPN configuration is deleted."))
        if action == "import":
            return self._import(request, actor)
        form = VpnPasteForm(request.POST)
        if not form.is_valid():
            return self._respond(request, paste_form=form, status=400)
        stored = selectors.vpn_settings_get()
        text = None if stored.source == Source.IMPORT else form.cleaned_data["config"]
        if action == "test":
            connected, log = services.vpn_connection_test(text=text)
            return self._respond(request, paste_form=form, test_log=log, test_ok=connected)
        try:
            _settings, notes = services.vpn_settings_update(
                activation=form.cleaned_data["activation"], text=text, actor=actor
            )
        except services.VpnRefused as exc:
            for problem in exc.problems:
                form.add_error("config", problem)
            return self._respond(request, paste_form=form, status=400)
        return self._respond(request, done=_("The OpenVPN settings are saved."), notes=notes)

    def _import(self, request: HtmxHttpRequest, actor: Actor) -> HttpResponse:
        form = VpnImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._respond(request, import_form=form, status=400)
        upload = form.cleaned_data["file"]
        try:
            _settings, notes = services.vpn_config_import(
                name=upload.name or "", raw=upload.read(), activation=form.cleaned_data["activation"], actor=actor
            )
        except services.VpnRefused as exc:
            for problem in exc.problems:
                form.add_error("file", problem)
            return self._respond(request, import_form=form, status=400)
        return self._respond(request, done=_("The configuration file is imported."), notes=notes)

    def _respond(self, request: HtmxHttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
        full = page_context(**context)
        if request.htmx:
            # errors come back in place with 200 (htmx swaps only 2xx)
            return render(request, f"{TEMPLATE}#config", full)
        return render(request, TEMPLATE, full, status=status)
