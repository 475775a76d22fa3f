from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.registry import agent_class
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot


class StatusView(RoleRequiredMixin, View):
    """Measured and planned currents of the configured charging points."""

    required = Perm.LOADMGMT_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        snapshot = read_snapshot()
        cps = snapshot.configured if snapshot else []
        current = sum(sum(cp.currents_a) for cp in cps)
        planned = sum(cp.pwm_limit_a * (cp.vehicle.phases if cp.vehicle else 0) for cp in cps)
        return render(
            request,
            "loadmgmt/status.html",
            {
                "cps": cps,
                "current_a": current,
                "planned_a": planned,
                "agent": snapshot.agent("loadmgmt") if snapshot else None,
                # no agent in the snapshot means something else when this build has none at all
                "agent_installed": agent_class("loadmgmt") is not None,
                "runtime_up": snapshot is not None,
            },
        )
