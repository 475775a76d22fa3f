from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from wbm.access import RoleRequiredMixin
from wbm.api import views
from wbm.registry import api_url_modules
from wbm.roles import Perm


class SchemaView(RoleRequiredMixin, SpectacularAPIView):
    required = Perm.API_DOCS_VIEW


class DocsView(RoleRequiredMixin, SpectacularSwaggerView):
    required = Perm.API_DOCS_VIEW


app_name = "api"
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", views.TokenApi.as_view(), name="token"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("dashboard/", views.DashboardApi.as_view(), name="dashboard"),
    path("system/agents/", views.AgentListApi.as_view(), name="agents"),
    path("system/agents/<str:name>/restart/", views.AgentRestartApi.as_view(), name="agent-restart"),
    # every app's API routes (AppConfig.wbm_api_urls), named in this namespace
    *(path("", include(module)) for module in api_url_modules()),
]
