from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.dashboard.selectors import dashboard_context
from wbm.roles import Perm
from wbm.validation import encodable


class DashboardView(RoleRequiredMixin, View):
    """Park summary and one card per configured charge point; follows the runtime live."""

    required = Perm.DASHBOARD_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        # a state string that cannot be encoded (a lone surrogate) shows as U+FFFD, never a 500
        filters = {key: request.GET.get(key, "")[:100] for key in ("status", "station", "q")}
        page = render_to_string("dashboard/index.html", dashboard_context(filters), request)
        return HttpResponse(encodable(page))
