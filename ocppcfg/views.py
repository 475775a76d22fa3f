from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from chargepoints.choices import ReleaseMode
from chargepoints.models import ChargePoint
from wbm.access import RoleRequiredMixin
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot


class StatusView(RoleRequiredMixin, View):
    """Charge points controlled via the backend (release mode "By OCPP") with their live status."""

    required = Perm.OCPP_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        snapshot = read_snapshot()
        rows = []
        for cp in ChargePoint.objects.select_related("config").filter(config__release_mode=ReleaseMode.OCPP):
            rows.append((cp, snapshot.chargepoint(cp.pk) if snapshot else None))
        return render(request, "ocppcfg/status.html", {"rows": rows})
