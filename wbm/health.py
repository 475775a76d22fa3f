"""A bare liveness probe: answers "ok" while the web process serves requests.

Deliberately does nothing else (no database, no runtime), so it is also the baseline the
benchmark compares the dashboard with: the same middleware, none of the page's work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.roles import Perm


class HealthView(RoleRequiredMixin, View):
    required = Perm.DASHBOARD_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain; charset=utf-8")
