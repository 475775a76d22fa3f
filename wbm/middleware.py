"""Shell middleware: reject oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

UPLOAD_PATH_MARKERS = ("/import", "/upload", "/software")


class RequestSizeLimitMiddleware:
    """413 for a body larger than the limit: 1 MiB, uploads ``WBM_MAX_UPLOAD_BYTES``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_upload = any(m in request.path for m in UPLOAD_PATH_MARKERS)
        limit = settings.WBM_MAX_UPLOAD_BYTES if is_upload else settings.WBM_MAX_REQUEST_BYTES
        if length > limit:
            message = _("The request is too large (%(size)s bytes; at most %(limit)s bytes are accepted).") % {
                "size": length,
                "limit": limit,
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "too_large"}, status=413)
            response = TemplateResponse(
                request,
                "errors/error.html",
                {"status": 413, "title": _("Request too large"), "message": message},
                status=413,
            )
            return response.render()
        return self.get_response(request)


class ServerTimingMiddleware:
    """``Server-Timing: app;dur=<ms>``: the time Django spent on the request (all middleware and
    the view), for the benchmark and browser dev tools. Off unless ``WBM_SERVER_TIMING`` is set.
    ``ServerTimingASGI`` adds the whole server side around it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.core.exceptions import MiddlewareNotUsed

        if not settings.WBM_SERVER_TIMING:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import time

        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response


class ServerTimingASGI:
    """ASGI wrapper adding ``Server-Timing: asgi;dur=<ms>``: from the server handing the request to
    the application until the response starts, so Django's ASGI handler and the hop to the worker
    thread count too (only Daphne's HTTP parsing and the network are outside)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import time

        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                duration = f"asgi;dur={(time.perf_counter() - started) * 1000:.3f}"
                message = {**message, "headers": [*message.get("headers", []), (b"server-timing", duration.encode())]}
            await send(message)

        await self.app(scope, receive, timed_send)
