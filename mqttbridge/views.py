"""MQTT Bridge (Operator and up): the remote broker (Save, Clear configuration, certificate
upload), the topic forwarding rows (Save, Add row, the information pop-up) and the status of the
bridge and the local publisher. htmx gets the changed panel back (errors in place, 200)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from mqttbridge import selectors, services, topics
from mqttbridge.choices import Direction
from mqttbridge.forms import BrokerForm, CertificateForm
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm

TEMPLATE = "mqttbridge/page.html"


def row_views(
    rows: list[dict[str, str]], prefix: str, device_id: str, errors: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The rows as the page shows them, with the full topics of the information pop-up."""
    out = []
    for i, row in enumerate(rows):
        full_remote = f"{topics.base(prefix, device_id)}/{row['remote_topic']}" if row["remote_topic"] else ""
        out.append({**row, "index": i, "full_remote": full_remote, "errors": (errors or {}).get(f"rows.{i}", [])})
    return out


def page_context(**extra: Any) -> dict[str, Any]:
    stored = selectors.bridge_settings_get()
    rows = extra.pop("rows", None)
    if rows is None:
        rows = [
            {"local_topic": r.local_topic, "remote_topic": r.remote_topic, "direction": r.direction}
            for r in selectors.forward_rows()
        ]
    return {
        "stored": stored,
        "broker_form": extra.pop("broker_form", None)
        or BrokerForm(
            initial={f: getattr(stored, f) for f in ("host", "port", "username", "station_name", "location")}
            | {"added_prefix": stored.prefix}
        ),
        "certificate_form": extra.pop("certificate_form", None) or CertificateForm(),
        "rows": row_views(rows or [], stored.prefix, stored.device_id, extra.pop("row_errors", None)),
        "directions": Direction.choices,
        "base_topic": topics.base(stored.prefix, stored.device_id),
        "device_type": topics.DEVICE_TYPE,
        "local_root": topics.LOCAL_ROOT,
        "bridge": selectors.agent_status(selectors.BRIDGE_AGENT),
        "publisher": selectors.agent_status(selectors.PUBLISHER_AGENT),
        **extra,
    }


def posted_rows(request: HtmxHttpRequest) -> list[dict[str, str]]:
    post = request.POST
    locals_, remotes, directions = post.getlist("local_topic"), post.getlist("remote_topic"), post.getlist("direction")
    return [
        {"local_topic": loc, "remote_topic": rem, "direction": d}
        for loc, rem, d in zip(locals_, remotes, directions, strict=False)
    ][: services.MAX_ROWS + 1]


class MqttBridgeView(RoleRequiredMixin, View):
    """The page; POST ``action`` = save | clear | certificate | rows | add_row."""

    required = Perm.NETWORK_VIEW
    required_by_method = {"POST": Perm.NETWORK_EDIT}

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.htmx and request.GET.get("part") == "status":
            return render(request, f"{TEMPLATE}#status", page_context())
        return render(request, TEMPLATE, page_context())

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        action = request.POST.get("action", "save")
        actor = Actor.from_request(request)
        if action == "clear":
            services.bridge_clear(actor=actor)
            return self._respond(
                request, "broker", broker_done=_("The MQTT bridge configuration is cleared."), rows_oob=True
            )
        if action == "certificate":
            return self._certificate(request, actor)
        if action in ("rows", "add_row"):
            return self._rows(request, actor, add=action == "add_row")
        form = BrokerForm(request.POST)
        if not form.is_valid():
            return self._respond(request, "broker", status=400, broker_form=form)
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("clear_password", "added_prefix")}
        data["prefix"] = form.cleaned_data["added_prefix"]
        try:
            services.bridge_settings_update(data=data, clear_password=form.cleaned_data["clear_password"], actor=actor)
        except services.BridgeRefused as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    name = "added_prefix" if field == "prefix" else field
                    form.add_error(name if name in form.fields else None, message)
            return self._respond(request, "broker", status=400, broker_form=form)
        return self._respond(request, "broker", broker_done=_("The MQTT bridge configuration is saved."), rows_oob=True)

    def _certificate(self, request: HtmxHttpRequest, actor: Actor) -> HttpResponse:
        form = CertificateForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["certificate"]
            try:
                services.bridge_certificate_upload(name=upload.name or "", raw=upload.read(), actor=actor)
            except services.BridgeRefused as exc:
                for message in exc.errors.get("certificate", []):
                    form.add_error("certificate", message)
        if not form.is_valid():
            return self._respond(request, "broker", status=400, certificate_form=form)
        return self._respond(request, "broker", broker_done=_("The certificate is uploaded; the bridge uses TLS."))

    def _rows(self, request: HtmxHttpRequest, actor: Actor, *, add: bool) -> HttpResponse:
        rows = posted_rows(request)
        if add:
            rows.append({"local_topic": "", "remote_topic": "", "direction": Direction.OUT})
            return self._respond(request, "rows", rows=rows)
        try:
            services.bridge_rows_replace(rows=rows, actor=actor)
        except services.BridgeRefused as exc:
            return self._respond(
                request,
                "rows",
                status=400,
                rows=rows,
                row_errors=exc.errors,
                rows_error=" ".join(exc.errors.get("rows", [])),
            )
        return self._respond(request, "rows", rows_done=_("The topic forwarding is saved."))

    def _respond(
        self, request: HtmxHttpRequest, partial: str, *, status: int = 200, rows_oob: bool = False, **context: Any
    ) -> HttpResponse:
        full = page_context(**context)
        if request.htmx:
            response = render(request, f"{TEMPLATE}#{partial}", full)
            if rows_oob:  # the prefix shows in every row's full topic
                response.content += render(request, f"{TEMPLATE}#rows", {**full, "oob": True}).content
            return response
        return render(request, TEMPLATE, full, status=status)
