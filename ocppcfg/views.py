"""OCPP pages (manual "WBM – OCPP"): the status (User and up, live), the settings and the server
variables (Operator and up). One view serves the full page and its htmx partials."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View

from chargepoints.choices import ReleaseMode
from chargepoints.models import ChargePointConfig
from ocppcfg import services, variables
from ocppcfg.certificates import CertificateInfo, describe
from ocppcfg.forms import OcppSettingsForm, VariablesForm, variable_field_name
from ocppcfg.models import MESSAGE_LOG_KEEP, ConnectionEvent, MessageLog, OcppSettings
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe as describe_error
from wbm.runtime.snapshot import ParkSnapshot

STATUS_TEMPLATE = "ocppcfg/status.html"
SETTINGS_TEMPLATE = "ocppcfg/settings.html"
VARIABLES_TEMPLATE = "ocppcfg/variables.html"
AGENT = services.AGENT
TIMELINE_SHOWN = 20
MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}


# --- reads -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OcppPoint:
    """A charge point controlled through the backend: release "By OCPP" and a connector ID ≥ 1."""

    id: int
    name: str
    connector_id: int


def ocpp_points() -> tuple[list[OcppPoint], list[str]]:
    """The charge points controlled through the backend (by connector ID), and the names of
    those in release mode "By OCPP" without a valid connector ID (the manual's hint)."""
    points: list[OcppPoint] = []
    missing: list[str] = []
    rows = ChargePointConfig.objects.filter(release_mode=ReleaseMode.OCPP).values_list(
        "chargepoint_id", "name", "ocpp_connector_id"
    )
    for pk, name, connector in rows:
        if connector is not None and connector >= 1:
            points.append(OcppPoint(id=pk, name=name or f"#{pk}", connector_id=connector))
        else:
            missing.append(name or f"#{pk}")
    points.sort(key=lambda p: p.connector_id)
    return points, sorted(missing)


def _epoch(value: object) -> datetime | None:
    """An epoch time the agent published, as a datetime (None when absent or not a time)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def agent_state(snapshot: ParkSnapshot | None) -> dict[str, Any]:
    """The OCPP agent's published status, whatever it left out ({} when it does not run)."""
    state = (snapshot.agent_state(AGENT) if snapshot is not None else None) or {}
    return state if isinstance(state, dict) else {}


def queue_context(state: dict[str, Any]) -> dict[str, Any]:
    queue = state.get("queue")
    if not isinstance(queue, dict):
        queue = {}
    items = []
    for item in queue.get("items") or []:
        if isinstance(item, dict):
            age = item.get("age_s")
            items.append(
                {
                    "seq": _int(item.get("seq")),
                    "action": str(item.get("action") or ""),
                    "age_s": float(age) if isinstance(age, int | float) and not isinstance(age, bool) else None,
                    "attempts": _int(item.get("attempts")) or 0,
                }
            )
    return {"count": _int(queue.get("count")) or 0, "oldest": _epoch(queue.get("oldest")), "items": items}


def connector_rows(snapshot: ParkSnapshot | None, points: list[OcppPoint]) -> list[dict[str, Any]]:
    """Each OCPP charge point with its connector ID, OCPP status, error code and transaction:
    the agent's view where it has one, else the controller's."""
    by_connector: dict[int, dict[str, Any]] = {}
    entries = agent_state(snapshot).get("connectors")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and _int(entry.get("connector_id")) is not None:
            by_connector[entry["connector_id"]] = entry
    rows = []
    for point in points:
        live = snapshot.chargepoint(point.id) if snapshot is not None else None
        entry = by_connector.get(point.connector_id, {})
        rows.append(
            {
                "id": point.id,
                "name": point.name,
                "connector_id": point.connector_id,
                "status": str(entry.get("status") or (live.ocpp_status if live else "")),
                "error_code": str(entry.get("error_code") or (live.error_code if live else "")),
                "transaction_id": _int(entry.get("transaction_id")),
                "id_tag": str(entry.get("id_tag") or ""),
            }
        )
    return rows


def status_context(snapshot: ParkSnapshot | None, points: list[OcppPoint], missing: list[str]) -> dict[str, Any]:
    """What the live partials of the status page show (no database access: the consumer calls
    it with the charge points it read at connect)."""
    state = agent_state(snapshot)
    agent = snapshot.agent(AGENT) if snapshot is not None else None
    running = agent is not None and agent.state == "running"
    registration = state.get("registration")
    return {
        "runtime_up": snapshot is not None,
        "agent": agent,
        "agent_running": running,
        "connected": running and state.get("connected") is True,
        "since": _epoch(state.get("since")),
        "url": str(state.get("url") or ""),
        "registration": registration if isinstance(registration, str) else "",
        "last_heartbeat": _epoch(state.get("last_heartbeat")),
        "last_error": str(state.get("last_error") or ""),
        "log_seq": _int(state.get("log_seq")) or 0,
        "timeline_seq": _int(state.get("timeline_seq")) or 0,
        "queue": queue_context(state),
        "rows": connector_rows(snapshot, points),
        "missing": missing,
    }


def _payload_of(text: str) -> tuple[str, str]:
    """(one line, pretty) of a logged message's payload. The log holds the frame as on the wire
    (``[2, id, action, payload]``, ``[3, id, payload]``, ``[4, id, code, description, details]``)
    or the payload alone; a text cut at PAYLOAD_KEEP characters or not JSON is shown as it came."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text, text
    if isinstance(data, list) and len(data) >= 3 and data[0] in (2, 3, 4) and isinstance(data[1], str):
        if data[0] == 2 and len(data) >= 4:
            data = data[3]
        elif data[0] == 3:
            data = data[2]
        elif data[0] == 4:
            data = dict(zip(("errorCode", "errorDescription", "errorDetails"), data[2:], strict=False))
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return line, json.dumps(data, indent=2, ensure_ascii=False)


def message_rows(*, after: int | None = None) -> list[dict[str, Any]]:
    """The last ``MESSAGE_LOG_KEEP`` messages, newest first (only those after id ``after``)."""
    rows = MessageLog.objects.order_by("-id")
    if after is not None:
        rows = rows.filter(id__gt=after)
    out = []
    for m in rows[:MESSAGE_LOG_KEEP]:
        line, pretty = _payload_of(m.payload)
        out.append(
            {
                "id": m.id,
                "at": m.at,
                "direction": m.direction,
                "message_type": m.message_type,
                "type_name": MESSAGE_TYPES.get(m.message_type, ""),
                "unique_id": m.unique_id,
                "action": m.action,
                "payload": m.payload,
                "summary": line[:80] + ("…" if len(line) > 80 else ""),
                "pretty": pretty,
            }
        )
    return out


def timeline_rows() -> list[ConnectionEvent]:
    return list(ConnectionEvent.objects.order_by("-id")[:TIMELINE_SHOWN])


def _logs_url() -> str:
    try:
        return reverse("system:logs")
    except NoReverseMatch:
        return ""


def _after(request: HttpRequest) -> int | None:
    raw = request.GET.get("after", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


# --- status ----------------------------------------------------------------------------------
class StatusView(RoleRequiredMixin, View):
    """Connection, charge points, offline queue (live over ws/ocpp/), the last 50 messages and the
    connection timeline. htmx ``?part=timeline`` gets the timeline alone."""

    required = Perm.OCPP_VIEW

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.htmx and request.GET.get("part") == "timeline":
            return render(request, f"{STATUS_TEMPLATE}#timeline", {"timeline": timeline_rows()})
        points, missing = ocpp_points()
        context = {
            **status_context(read_snapshot(), points, missing),
            "messages_rows": message_rows(),
            "timeline": timeline_rows(),
            "logs_url": _logs_url(),
            "keep": MESSAGE_LOG_KEEP,
        }
        return render(request, STATUS_TEMPLATE, context)


class MessagesView(RoleRequiredMixin, View):
    """The message rows after ``?after=<id>`` (newest first), for the live list."""

    required = Perm.OCPP_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, f"{STATUS_TEMPLATE}#message-rows", {"messages_rows": message_rows(after=_after(request))}
        )


# --- settings --------------------------------------------------------------------------------
def settings_context(settings: OcppSettings, form: OcppSettingsForm | None = None, **extra: Any) -> dict[str, Any]:
    info: CertificateInfo | None = describe(settings.ca_certificate)
    form = form or OcppSettingsForm.for_settings(settings)
    url = str(form.data.get("backend_url", "")) if form.is_bound else settings.backend_url
    return {
        "form": form,
        "cert_allowed": url.strip().lower().startswith("wss://") or bool(form.is_bound and form["certificate"].errors),
        "settings": settings,
        "key_set": bool(settings.authorization_key),
        "certificate": info,
        "charge_box_id": settings.charge_box_id,
        "ocpp_points": ocpp_points()[0],
        **extra,
    }


class SettingsView(RoleRequiredMixin, View):
    """The backend connection; POST saves it (``action=delete_certificate``: removes the
    certificate). htmx gets the form back (errors in place, 200); a plain post a redirect."""

    required = Perm.OCPP_SETTINGS_EDIT

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        return render(request, SETTINGS_TEMPLATE, settings_context(OcppSettings.load()))

    def _respond(self, request: HtmxHttpRequest, context: dict[str, Any], *, ok: bool) -> HttpResponse:
        if request.htmx:
            return render(request, f"{SETTINGS_TEMPLATE}#form", context)
        return render(request, SETTINGS_TEMPLATE, context, status=200 if ok else 400)

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        actor = Actor.from_request(request)
        if request.POST.get("action") == "delete_certificate":
            saved = services.ocpp_settings_update(data={}, actor=actor, delete_certificate=True)
            return self._done(request, saved, _("The certificate is deleted."))
        form = OcppSettingsForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._respond(request, settings_context(OcppSettings.load(), form, invalid=True), ok=False)
        try:
            saved = services.ocpp_settings_update(
                data=form.data_for_service(),
                actor=actor,
                clear_key=form.cleaned_data["clear_key"],
                certificate=form.cleaned_data.get("certificate"),
            )
        except services.SettingsInvalid as exc:
            form.add_service_errors(exc.errors)
            return self._respond(request, settings_context(OcppSettings.load(), form, invalid=True), ok=False)
        return self._done(request, saved, _("The OCPP settings are saved."))

    def _done(self, request: HtmxHttpRequest, saved: services.Saved, message: str) -> HttpResponse:
        if not saved.changed:
            message = _("Nothing changed.")
        elif not saved.told:
            message = _("Saved. The OCPP service is not running now; it uses the new settings when it starts.")
        else:
            message = "{} {}".format(message, _("The OCPP service reconnects with them now."))
        if not request.htmx:
            messages.success(request, message)
            return redirect("ocppcfg:settings")
        return self._respond(request, settings_context(OcppSettings.load(), done=message), ok=True)


class RestartView(RoleRequiredMixin, View):
    """ "Restart OCPP service": the OCPP agent alone restarts (System Control's restart)."""

    required = Perm.OCPP_SETTINGS_EDIT

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        try:
            services.ocpp_restart(actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            error = describe_error(exc)
            if request.htmx:
                return render(request, f"{SETTINGS_TEMPLATE}#restart", {"restart_error": error})
            messages.error(request, error)
        else:
            done = _("The OCPP service is restarting; it connects to the backend again.")
            if request.htmx:
                return render(request, f"{SETTINGS_TEMPLATE}#restart", {"restart_done": done})
            messages.success(request, done)
        return redirect("ocppcfg:settings")


# --- server variables ------------------------------------------------------------------------
def variable_groups(form: VariablesForm, shown: dict[str, str]) -> list[dict[str, Any]]:
    """The two groups of the manual (OCPP 1.6 keys, CHARX variables) with each key's row."""
    groups: list[dict[str, Any]] = []
    titles = {variables.Group.OCPP: _("OCPP 1.6 configuration keys"), variables.Group.CHARX: _("CHARX variables")}
    for group, title in titles.items():
        rows = []
        for key in sorted(k for k, v in variables.VARIABLES.items() if v.group is group):
            variable = variables.VARIABLES[key]
            name = variable_field_name(key)
            rows.append(
                {
                    "key": key,
                    "variable": variable,
                    "value": shown.get(key, ""),
                    "field": form[name] if name in form.fields else None,
                    "range": _range_text(variable),
                }
            )
        groups.append({"id": group.value, "title": title, "rows": rows})
    return groups


def _range_text(variable: variables.Variable) -> str:
    if variable.kind is variables.Kind.INT and (variable.minimum is not None or variable.maximum is not None):
        low = "" if variable.minimum is None else str(variable.minimum)
        high = "" if variable.maximum is None else str(variable.maximum)
        return f"{low}–{high}"
    return ""


def values_seq(snapshot: ParkSnapshot | None) -> int:
    return _int(agent_state(snapshot).get("values_seq")) or 0


def variables_context(form: VariablesForm | None = None, **extra: Any) -> dict[str, Any]:
    current = variables.values()
    shown = variables.visible_values()
    form = form or VariablesForm(current)
    return {
        "form": form,
        "groups": variable_groups(form, shown),
        "values_seq": values_seq(read_snapshot()),
        "rendered_at": time.time(),
        **extra,
    }


class VariablesView(RoleRequiredMixin, View):
    """Every configuration key with value, ReadOnly flag, unit and meaning; POST changes the
    writable ones (all or nothing, errors at the field). htmx ``?part=table`` re-renders the
    table (a change by the backend)."""

    required = Perm.OCPP_SETTINGS_EDIT

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        if request.htmx and request.GET.get("part") == "table":
            return render(request, f"{VARIABLES_TEMPLATE}#table", variables_context())
        return render(request, VARIABLES_TEMPLATE, variables_context())

    def _respond(self, request: HtmxHttpRequest, context: dict[str, Any], *, ok: bool) -> HttpResponse:
        if request.htmx:
            return render(request, f"{VARIABLES_TEMPLATE}#table", context)
        return render(request, VARIABLES_TEMPLATE, context, status=200 if ok else 400)

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        form = VariablesForm(variables.values(), request.POST)
        if not form.is_valid():
            return self._respond(request, variables_context(form, invalid=True), ok=False)
        changes = form.changes()
        try:
            services.ocpp_variables_update(changes=changes, actor=Actor.from_request(request))
        except services.VariablesInvalid as exc:
            form.add_variable_errors(exc.errors)
            return self._respond(request, variables_context(form, invalid=True), ok=False)
        done = _("The server variables are saved.") if changes else _("Nothing changed.")
        if not request.htmx:
            messages.success(request, done)
            return redirect("ocppcfg:variables")
        return self._respond(request, variables_context(done=done), ok=True)
