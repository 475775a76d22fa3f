"""Network: Ethernet, WLAN, Port Sharing, Modem and Routing Table (Operator and up, as the
manual says). Every page shows its live status (``?part=status`` refreshes it) and saves through
``network.services``; a change that can cut the user off shows the countdown banner."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from network import osbackend, services
from network.forms import EthernetForm, ModemForm, ModemTestForm, PortAddForm, RouteAddForm, SimUnlockForm, WlanForm
from network.models import EthernetSettings, ModemSettings, PortRule, Route, RouteState, WlanSettings
from network.services import ETH_FIELDS, WLAN_FIELDS, Invalid
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm


def served_port(request: HtmxHttpRequest) -> int | None:
    try:
        return int(request.get_port())
    except (TypeError, ValueError):
        return None


def pending_context() -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {"kind": p.kind, "deadline": p.deadline, "seconds": max(0, int((p.deadline - now).total_seconds()))}
        for p in services.pending_list()
    ]


def _saved_message(request: HtmxHttpRequest, saved: services.Saved, done: str) -> None:
    if not saved.changed:
        messages.info(request, _("Nothing changed."))
    elif saved.pending is not None:
        messages.warning(
            request,
            _(
                "Applied. Confirm the change within %(s)s seconds, or the previous settings come back by "
                "themselves (in case this change cut you off)."
            )
            % {"s": services.confirm_seconds()},
        )
    else:
        messages.success(request, done)


class NetworkPage(RoleRequiredMixin, View):
    """Common to the five pages: GET renders the page (``?part=status``: the status panel)."""

    required = Perm.NETWORK_VIEW
    required_by_method = {"POST": Perm.NETWORK_EDIT}
    template_name = ""
    url_name = ""

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        raise NotImplementedError

    def page(self, request: HtmxHttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
        ctx = {"pending": pending_context(), "confirm_s": services.confirm_seconds(), **self.context(request, **extra)}
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        part = request.GET.get("part")
        if part in ("status", "pending"):
            ctx = {"pending": pending_context(), **self.context(request)}
            return render(request, f"{self.template_name}#{part}", ctx)
        return self.page(request)

    def back(self) -> HttpResponse:
        return redirect(self.url_name)


class EthernetView(NetworkPage):
    template_name = "network/ethernet.html"
    url_name = "network:ethernet"

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        if "form" not in extra:
            eth = EthernetSettings.load()
            initial = {f: getattr(eth, f) for f in ETH_FIELDS if f != "dns"}
            initial.update({f"dns{i + 1}": d for i, d in enumerate(eth.dns)})
            extra["form"] = EthernetForm(initial=initial)
        return {"status": osbackend.backend().ethernet_status(), **extra}

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        form = EthernetForm(request.POST)
        if not form.is_valid():
            return self.page(request, 400, form=form)
        try:
            saved = services.ethernet_update(data=form.values(), actor=Actor.from_request(request))
        except Invalid as exc:
            form.add_rule_errors(exc.errors)
            return self.page(request, 400, form=form)
        _saved_message(request, saved, _("The Ethernet settings are saved and applied."))
        return self.back()


class WlanView(NetworkPage):
    template_name = "network/wlan.html"
    url_name = "network:wlan"

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        scan = services.wlan_scan()
        if "form" not in extra:
            wlan = WlanSettings.load()
            initial = {f: getattr(wlan, f) for f in WLAN_FIELDS if not f.endswith("password")}
            extra["form"] = WlanForm(initial=initial, ssids=[n.ssid for n in scan])
        return {"status": osbackend.backend().wlan_status(), "scan": scan, **extra}

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.POST.get("action") == "refresh":
            services.wlan_scan(refresh=True)
            messages.info(request, _("The list of WLAN networks is updated."))
            return self.back()
        form = WlanForm(request.POST, ssids=[n.ssid for n in services.wlan_scan()])
        if not form.is_valid():
            return self.page(request, 400, form=form)
        try:
            saved = services.wlan_update(data=form.values(), actor=Actor.from_request(request))
        except Invalid as exc:
            form.add_rule_errors(exc.errors)
            return self.page(request, 400, form=form)
        _saved_message(request, saved, _("The WLAN settings are saved and applied."))
        return self.back()


class PortsView(NetworkPage):
    template_name = "network/ports.html"
    url_name = "network:ports"

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        services.ports_ensure()
        port = served_port(request)
        rows = [{"rule": r, "lockout": services.port_locks_out(r, port)} for r in PortRule.objects.all()]
        return {"rows": rows, "served_port": port, "add_form": extra.pop("add_form", None) or PortAddForm(), **extra}

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        actor, action = Actor.from_request(request), request.POST.get("action")
        if action == "add":
            form = PortAddForm(request.POST)
            if not form.is_valid():
                return self.page(request, 400, add_form=form)
            try:
                services.port_add(**form.cleaned_data, actor=actor)
            except Invalid as exc:
                form.add_rule_errors(exc.errors)
                return self.page(request, 400, add_form=form)
            messages.success(request, _("The port is added and open."))
            return self.back()
        pk = request.POST.get("pk", "")
        if action not in ("open", "close", "remove") or not pk.isdigit():
            return HttpResponseBadRequest(_("Unknown action."))
        try:
            if action == "remove":
                saved = services.port_remove(pk=int(pk), actor=actor, served_port=served_port(request))
            else:
                saved = services.port_set_open(
                    pk=int(pk), open=action == "open", actor=actor, served_port=served_port(request)
                )
        except services.NotFound:
            messages.error(request, _("This port is not in the list any more."))
            return self.back()
        except services.Refused as exc:
            messages.error(request, exc.message)
            return self.back()
        _saved_message(request, saved, _("The port sharing is saved and applied."))
        return self.back()


class ModemView(NetworkPage):
    template_name = "network/modem.html"
    url_name = "network:modem"

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        modem = ModemSettings.load()
        if "form" not in extra:
            extra["form"] = ModemForm(
                initial={f: getattr(modem, f) for f in services.MODEM_FIELDS if f not in ("sim_pin", "password")}
            )
        extra.setdefault("unlock_form", SimUnlockForm())
        extra.setdefault("test_form", ModemTestForm())
        return {"modem": modem, "m": osbackend.backend().modem_status(), **extra}

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        actor, action = Actor.from_request(request), request.POST.get("action", "save")
        if action == "restart":
            if services.modem_restart(actor=actor):
                messages.success(request, _("The modem service restarts."))
            else:
                messages.error(
                    request, _("The controller runtime is not running: the modem service cannot be restarted now.")
                )
            return self.back()
        if action == "test":
            test_form = ModemTestForm(request.POST)
            if not test_form.is_valid():
                return self.page(request, 400, test_form=test_form)
            try:
                result = services.modem_test(host=test_form.cleaned_data["host"], actor=actor)
            except Invalid as exc:
                test_form.add_rule_errors(exc.errors)
                return self.page(request, 400, test_form=test_form)
            return self.page(request, test_form=test_form, ping=result)
        if action == "unlock":
            unlock_form = SimUnlockForm(request.POST)
            if not unlock_form.is_valid():
                return self.page(request, 400, unlock_form=unlock_form)
            try:
                res = services.modem_unlock(
                    pin=unlock_form.cleaned_data["pin"], puk=unlock_form.cleaned_data["puk"], actor=actor
                )
            except Invalid as exc:
                unlock_form.add_rule_errors(exc.errors)
                return self.page(request, 400, unlock_form=unlock_form)
            if res.ok:
                messages.success(request, _("The SIM card is unlocked."))
            elif res.sim == "puk_required":
                messages.error(
                    request,
                    _("Wrong code. The SIM card is blocked: enter its PUK and a new PIN (%(n)s attempts left).")
                    % {"n": res.puk_attempts},
                )
            elif res.sim == "blocked":
                messages.error(request, _("The SIM card is blocked for good; ask your provider for a new one."))
            else:
                messages.error(
                    request,
                    _("Wrong PIN. %(n)s attempts left before the SIM card asks for its PUK.") % {"n": res.pin_attempts},
                )
            return self.back()
        form = ModemForm(request.POST)
        if not form.is_valid():
            return self.page(request, 400, form=form)
        try:
            saved = services.modem_update(data=form.values(), actor=actor)
        except Invalid as exc:
            form.add_rule_errors(exc.errors)
            return self.page(request, 400, form=form)
        _saved_message(request, saved, _("The modem configuration is saved and applied."))
        return self.back()


class RoutesView(NetworkPage):
    template_name = "network/routes.html"
    url_name = "network:routes"

    def context(self, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
        services.routes_ensure()
        with_routes = list(Route.objects.all())
        return {
            "routes": with_routes,
            "active": RouteState.ACTIVE,
            "add_form": extra.pop("add_form", None) or RouteAddForm(),
            **extra,
        }

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        actor, action = Actor.from_request(request), request.POST.get("action")
        if action == "add":
            form = RouteAddForm(request.POST)
            if not form.is_valid():
                return self.page(request, 400, add_form=form, adding=True)
            try:
                services.route_add(data=form.cleaned_data, actor=actor)
            except Invalid as exc:
                form.add_rule_errors(exc.errors)
                return self.page(request, 400, add_form=form, adding=True)
            messages.success(request, _("The route is added and applied."))
            return self.back()
        pk = request.POST.get("pk", "")
        if action not in ("remove", "reactivate") or not pk.isdigit():
            return HttpResponseBadRequest(_("Unknown action."))
        route = Route.objects.filter(pk=int(pk)).first()
        if route is None:
            messages.error(request, _("This route is not in the table any more."))
            return self.back()
        if action == "reactivate":
            services.route_reactivate(pk=route.pk, actor=actor)
            messages.success(request, _("The route is active again."))
            return self.back()
        how = request.POST.get("how", "")
        if how not in ("persistently", "restart"):  # ask first (the manual's pop-up)
            return self.page(request, confirm_route=route)
        saved = services.route_remove(pk=route.pk, persistently=how == "persistently", actor=actor)
        _saved_message(request, saved, _("The route is removed. It stays in the list so you can reactivate it."))
        return self.back()


class ConfirmView(RoleRequiredMixin, View):
    """Keep the changes waiting for confirmation (the countdown stops)."""

    required = Perm.NETWORK_EDIT

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        if services.pending_confirm(actor=Actor.from_request(request)):
            messages.success(request, _("The change is confirmed and stays."))
        else:
            messages.info(request, _("Nothing is waiting for confirmation (the countdown may have run out)."))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "network:ethernet"
        return redirect(target)
