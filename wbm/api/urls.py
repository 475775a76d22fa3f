from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wbm.access import HasPerm
from wbm.api import views
from wbm.registry import api_url_modules
from wbm.roles import Perm


class DocsAccess(APIView):
    """The schema and its documentation are for User and up, by session or token (``HasPerm``,
    checked after DRF's authentication, so ``manage.py apitoken`` tokens work). A Guest's browser
    is sent to the login page; any other client gets the API's 401/403 as JSON, not rendered as
    YAML or as the docs' template."""

    permission_classes = [HasPerm]
    required = Perm.API_DOCS_VIEW

    def handle_exception(self, exc: Exception) -> Response:
        request: Request | None = getattr(self, "request", None)
        if request is not None and isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied):
            if isinstance(exc, exceptions.NotAuthenticated) and "text/html" in request.META.get("HTTP_ACCEPT", ""):
                return redirect_to_login(request.get_full_path())  # type: ignore[return-value]
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class SchemaView(DocsAccess, SpectacularAPIView):
    pass


class DocsView(DocsAccess, SpectacularSwaggerSplitView):
    """Swagger UI with its initialising script as a second request (``?script=``) and without
    an inline <style>, so the page runs under the site's Content-Security-Policy."""

    template_name = "api/swagger_ui.html"


app_name = "api"
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", views.TokenApi.as_view(), name="token"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="tokens"),
    path("auth/tokens/<int:pk>/", views.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("dashboard/", views.DashboardApi.as_view(), name="dashboard"),
    path("system/agents/", views.AgentListApi.as_view(), name="agents"),
    path("system/agents/<str:name>/restart/", views.AgentRestartApi.as_view(), name="agent-restart"),
    # every app's API routes (AppConfig.wbm_api_urls), named in this namespace
    *(path("", include(module)) for module in api_url_modules()),
]
