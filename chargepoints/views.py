from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from chargepoints import selectors, services, views_status
from chargepoints.models import ChargePoint
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm, allowed_perms
from wbm.runtime.bus import read_snapshot
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return selectors.chargepoint_get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise Http404 from None


class OverviewView(RoleRequiredMixin, View):
    """Charging park → stations → charge points, each with its live status."""

    required = Perm.PARK_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        snapshot = read_snapshot()
        stations = []
        for station in selectors.station_list():
            points = [(cp, snapshot.chargepoint(cp.pk) if snapshot else None) for cp in station.chargepoints.all()]
            stations.append((station, points))
        return render(request, "chargepoints/overview.html", {"stations": stations, "snapshot": snapshot})


def _safe_next(request: HtmxHttpRequest) -> str:
    """Where to go back to after a plain form post: a page of this site only (never an open
    redirect to another host)."""
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard:index")


class ReleaseView(RoleRequiredMixin, View):
    """Allow / Prohibit charging. htmx gets the refreshed dashboard card, with the refusal in it."""

    required = Perm.CHARGEPOINT_RELEASE

    def post(self, request: HtmxHttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        allow = request.POST.get("allow") == "1"
        error = ""
        try:
            services.chargepoint_release_set(chargepoint=chargepoint, allow=allow, actor=Actor.from_request(request))
        except (CommandRejected, RuntimeUnavailable) as exc:
            error = describe(exc)
        if request.POST.get("view") == "status":  # the button on the charge point's status page
            done = "" if error else views_status.release_done_message(allow)
            return views_status.operation_response(request, chargepoint, done=done, error=error)
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect(_safe_next(request))
        snapshot = read_snapshot()
        cp = snapshot.chargepoint(pk) if snapshot else None
        context: dict[str, Any] = {"cp": cp, "action_error": error, "can": allowed_perms(request.user)}
        # 200 with the refusal inside the card: htmx swaps it in place
        return render(request, "dashboard/index.html#card", context)
