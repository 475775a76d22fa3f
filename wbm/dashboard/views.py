from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.dashboard.selectors import dashboard_context
from wbm.roles import Perm


class DashboardView(RoleRequiredMixin, View):
    """Park summary and one card per configured charge point; follows the runtime live."""

    required = Perm.DASHBOARD_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "dashboard/index.html", dashboard_context())
