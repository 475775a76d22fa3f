"""OCPP / Modbus: the start addresses of the charge points, "allow restart registers", the
Modbus/TCP server's state and the register map viewer (Operator and up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from modbus import addressing, selectors, services, viewer
from modbus.forms import AllowRestartForm, StartAddressesForm
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.snapshot import ParkSnapshot

TEMPLATE = "modbus/page.html"
AGENT = "modbus"  # the Modbus server agent's name (modbus.agent)


def server_context(snapshot: ParkSnapshot | None) -> dict[str, Any]:
    """What the ``server`` partial shows: the agent's status and the state it published."""
    state = (snapshot.agent_state(AGENT) if snapshot is not None else None) or {}
    clients = state.get("clients")
    rate = state.get("requests_per_s")
    return {
        "runtime_up": snapshot is not None,
        "agent": snapshot.agent(AGENT) if snapshot is not None else None,
        "server": state,
        "clients": [_client(c) for c in clients if isinstance(c, dict)] if isinstance(clients, list) else [],
        "listen_host": state.get("host", settings.WBM_MODBUS_HOST),
        "listen_port": state.get("port", settings.WBM_MODBUS_PORT),
        "requests_per_s": rate if isinstance(rate, int | float) and not isinstance(rate, bool) else None,
        "refused_writes": state.get("writes_refused", state.get("refused_writes")),
        "requests_total": state.get("requests"),
        "dropped": state.get("dropped"),
        "last_error": str(state.get("last_error") or ""),
    }


def _when(value: object) -> float | None:
    """An epoch time the agent published (seconds), or None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def _client(data: dict[str, Any]) -> dict[str, Any]:
    """One connected client as the page shows it, whatever the agent left out."""
    last = data.get("last_request_at", data.get("last_request"))
    requests = data.get("requests")
    return {
        "address": str(data.get("address") or "–"),
        "connected_since": _when(data.get("connected_since")),
        "last_request_at": _when(last),
        "last_request": last if isinstance(last, str) else "",  # a description instead of a time
        "requests": requests if isinstance(requests, int) and not isinstance(requests, bool) else None,
    }


def _chosen(request: HttpRequest, rows: list[selectors.AddressRow]) -> int | None:
    """The charge point the register viewer shows: ``?cp=``, else the first reachable one."""
    raw = request.GET.get("cp", "")
    ids = [r.chargepoint for r in rows]
    if raw.isdigit() and int(raw) in ids:
        return int(raw)
    return next((r.chargepoint for r in rows if r.effective_address is not None), ids[0] if ids else None)


def viewer_context(chosen: int | None, rows: list[selectors.AddressRow]) -> dict[str, Any]:
    snapshot = read_snapshot()
    table = None
    if chosen is not None:
        table = viewer.register_table(viewer.viewer_source(chosen, snapshot), snapshot)
    return {"chosen": chosen, "table": table, "rows": rows}


def page_context(
    request: HttpRequest,
    *,
    addresses_form: StartAddressesForm | None = None,
    restart_form: AllowRestartForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rows = selectors.address_rows()
    settings_row = selectors.modbus_settings_get()
    return {
        "addresses_form": addresses_form or StartAddressesForm(rows, initial={"revision": settings_row.revision}),
        "restart_form": restart_form
        or AllowRestartForm(initial={"allow_restart": settings_row.allow_restart, "revision": settings_row.revision}),
        **server_context(read_snapshot()),
        **viewer_context(_chosen(request, rows), rows),
        **extra,
    }


def _stale_message() -> str:
    return _(
        "Someone else saved the Modbus settings meanwhile. Nothing was saved; the page shows the stored values now."
    )


def _not_told_message() -> str:
    return _("Saved. The Modbus server is not running now; it uses the new values when it starts.")


class ModbusView(RoleRequiredMixin, View):
    """The page; POST saves the start addresses (``form=addresses``) or the restart switch
    (``form=restart``). htmx gets the changed panel back, a plain form post a redirect."""

    required = Perm.MODBUS_VIEW
    required_by_method = {"POST": Perm.MODBUS_EDIT}

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return render(request, TEMPLATE, page_context(request))

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.POST.get("form") == "restart":
            return self._save_restart(request)
        return self._save_addresses(request)

    def _respond(self, request: HtmxHttpRequest, partial: str, done: str, **context: Any) -> HttpResponse:
        if done and not request.htmx:
            messages.success(request, done)
            return redirect("modbus:index")
        full = page_context(request, **context, done=done)
        if request.htmx:
            response = render(request, f"{TEMPLATE}#{partial}", full)
            if done and partial == "addresses":
                # the viewer reads at the new addresses: a new section, and with it a new socket
                viewer_html = render(request, f"{TEMPLATE}#viewer", {**full, "viewer_oob": True}).content
                response.content = response.content + viewer_html
            return response
        return render(request, TEMPLATE, full, status=400 if not done else 200)

    def _save_addresses(self, request: HtmxHttpRequest) -> HttpResponse:
        rows = selectors.address_rows()
        form = StartAddressesForm(rows, request.POST)
        if not form.is_valid():
            return self._respond(request, "addresses", "", addresses_form=form, addresses_invalid=True)
        revision = form.cleaned_data.get("revision")
        try:
            saved = services.modbus_settings_update(
                addresses=form.addresses(), actor=Actor.from_request(request), revision=revision
            )
        except services.AddressesInvalid as exc:
            mixed = addressing.mixed_explanation() if addressing.is_mixed(form.addresses()) else ""
            form.add_rule_errors(exc.errors)
            return self._respond(
                request, "addresses", "", addresses_form=form, addresses_invalid=True, addresses_mixed=mixed
            )
        except services.StaleRevision:
            return self._respond(request, "addresses", "", addresses_error=_stale_message())
        except services.UnknownChargePoint:  # the park changed under the form: show it anew
            return self._respond(request, "addresses", "", addresses_error=_stale_message())
        done = _("The start addresses are saved.") if saved.told else _not_told_message()
        if not saved.changed:
            done = _("Nothing changed.")
        return self._respond(request, "addresses", done, addresses_done=done)

    def _save_restart(self, request: HtmxHttpRequest) -> HttpResponse:
        form = AllowRestartForm(request.POST)
        if not form.is_valid():
            return self._respond(request, "restart", "", restart_form=form)
        try:
            saved = services.modbus_settings_update(
                allow_restart=form.cleaned_data["allow_restart"],
                actor=Actor.from_request(request),
                revision=form.cleaned_data.get("revision"),
            )
        except services.StaleRevision:
            return self._respond(request, "restart", "", restart_error=_stale_message())
        done = _("The setting is saved.") if saved.told else _not_told_message()
        if not saved.changed:
            done = _("Nothing changed.")
        return self._respond(request, "restart", done, restart_done=done)
