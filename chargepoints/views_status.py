"""Charging Stations / Charge Point / Status: the live status page and its operations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import View

from chargepoints import selectors, services
from chargepoints.models import ChargePoint
from chargepoints.status import device_info, live_state, status_context
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm, allowed_perms
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe

TEMPLATE = "chargepoints/status.html"


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return selectors.chargepoint_get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise Http404 from None


def _flag(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) == "1"


class StatusView(RoleRequiredMixin, View):
    """Every group of the manual's status table, live, with the operations this role may use."""

    required = Perm.PARK_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        context = status_context(device_info(chargepoint), live_state(pk))
        return render(request, TEMPLATE, context)


def operation_response(request: HtmxHttpRequest, chargepoint: ChargePoint, *, done: str, error: str) -> HttpResponse:
    """After an operation: htmx gets the message in place plus the refreshed groups and buttons
    (out of band); a plain form post goes back to the status page."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("chargepoints:status", pk=chargepoint.pk)
    context: dict[str, Any] = {
        **status_context(device_info(chargepoint), live_state(chargepoint.pk)),
        "can": allowed_perms(request.user),
        "oob": True,
        "done": done,
        "action_error": error,
    }
    html = render_to_string(f"{TEMPLATE}#message", context, request=request)
    html += render_to_string(f"{TEMPLATE}#groups", context, request=request)
    html += render_to_string(f"{TEMPLATE}#operations", context, request=request)
    return HttpResponse(html)  # 200 with a refusal inside: htmx swaps it in place


class _OperationView(RoleRequiredMixin, View):
    """One button of the status page: run the service, show the effect."""

    def post(self, request: HtmxHttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        done, error = "", ""
        try:
            done = self.apply(request, chargepoint)
        except (CommandRejected, RuntimeUnavailable) as exc:
            error = describe(exc)
        return operation_response(request, chargepoint, done=done, error=error)

    def apply(self, request: HttpRequest, chargepoint: ChargePoint) -> str:
        """Run the operation and return the success message (each operation defines it)."""
        raise ImproperlyConfigured(f"{type(self).__name__} defines no operation")


class AvailabilityView(_OperationView):
    """Disable (status F, shown as Error, charging aborted) or enable a charge point."""

    required = Perm.CHARGEPOINT_AVAILABILITY

    def apply(self, request: HttpRequest, chargepoint: ChargePoint) -> str:
        enabled = _flag(request, "enabled")
        applied = services.chargepoint_availability_set(
            chargepoint=chargepoint, enabled=enabled, actor=Actor.from_request(request)
        )
        if not applied:
            return pending_message(enabled)
        return (
            _("The charging point is enabled.")
            if enabled
            else _("The charging point is disabled (status F); an active charging process was aborted.")
        )


class UnlockView(_OperationView):
    """Enforce unlocking (charging aborted) or revert it; Manufacturer only."""

    required = Perm.CHARGEPOINT_UNLOCK

    def apply(self, request: HttpRequest, chargepoint: ChargePoint) -> str:
        enforce = _flag(request, "enforce")
        services.chargepoint_unlock_set(chargepoint=chargepoint, enforce=enforce, actor=Actor.from_request(request))
        return (
            _("Unlocking is enforced: remove the connector, then revert the unlocking.")
            if enforce
            else _("The enforced unlocking is reverted.")
        )


def pending_message(enabled: bool) -> str:
    """Stored, but the runtime could not be told now: it follows the stored state by itself."""
    if enabled:
        return _(
            "Saved. The controller runtime is not reachable right now; the charging point is enabled as soon as "
            "it is (within seconds of its start)."
        )
    return _(
        "Saved. The controller runtime is not reachable right now; the charging point is disabled as soon as "
        "it is (within seconds of its start)."
    )


def release_done_message(allow: bool) -> str:
    return _("Charging is allowed.") if allow else _("Charging is prohibited.")


class LockView(_OperationView):
    """Lock / unlock the socket in the locking mode "Remote control"."""

    required = Perm.CHARGEPOINT_LOCK

    def apply(self, request: HttpRequest, chargepoint: ChargePoint) -> str:
        locked = _flag(request, "locked")
        services.chargepoint_lock_set(chargepoint=chargepoint, locked=locked, actor=Actor.from_request(request))
        return _("The socket is locked.") if locked else _("The socket is unlocked.")
