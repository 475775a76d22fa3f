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


class ContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` on every response (``settings.CONTENT_SECURITY_POLICY``): scripts,
    styles, images, fonts and connections (WebSockets included) only from this origin, no inline
    script, style or event handler, no eval, no framing, forms post only here. A view that needs
    another policy sets the header itself; it is kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


FORM_URLENCODED = "application/x-www-form-urlencoded"


def _utf8(raw: str | bytes) -> bool:
    """Whether a percent-encoded query string or form body decodes as UTF-8 (Django's own
    parsing would silently turn invalid bytes into U+FFFD)."""
    from urllib.parse import unquote_to_bytes

    data = raw if isinstance(raw, bytes) else _raw_bytes(raw)
    try:
        unquote_to_bytes(data.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _raw_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")  # the server hands the raw bytes over as latin-1
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


class ValidUnicodeMiddleware:
    """400 for a query string, form field (name or value) or uploaded file name that is not valid
    Unicode: invalid UTF-8 bytes or a lone surrogate (``wbm.validation``). JSON bodies are checked
    by the API's parser, uploaded files where they are decoded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.http.multipartparser import MultiPartParserError

        from wbm.errors import invalid_input
        from wbm.validation import is_valid_unicode

        texts: list[str] = []
        valid = _utf8(request.META.get("QUERY_STRING", ""))
        for key, values in request.GET.lists():
            texts += [key, *values]
        if valid and request.method == "POST":
            try:
                if request.content_type == FORM_URLENCODED:
                    valid = _utf8(request.body)
                for key, values in request.POST.lists():
                    texts += [key, *values]
                for key, files in request.FILES.lists():
                    texts += [key, *(f.name or "" for f in files)]
            except MultiPartParserError:
                pass  # the view meets the same error and answers it as before
        if not valid or not all(is_valid_unicode(t) for t in texts):
            return invalid_input(request, _("The request contains text that is not valid Unicode."), "invalid_unicode")
        return self.get_response(request)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequireContentLengthASGI:
    """ASGI wrapper: 411 Length Required for a POST, PUT or PATCH sent with
    ``Transfer-Encoding: chunked``. Django reads a body only as far as ``Content-Length`` says,
    so under Daphne such a write would arrive empty and could be answered with success although
    nothing was written."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") in WRITE_METHODS and _chunked(scope):
            await _length_required(scope, send)
            return
        await self.app(scope, receive, send)


def _chunked(scope: dict[str, Any]) -> bool:
    return any(
        name.lower() == b"transfer-encoding" and b"chunked" in value.lower() for name, value in scope.get("headers", [])
    )


async def _length_required(scope: dict[str, Any], send: Any) -> None:
    import json
    from types import SimpleNamespace

    from django.http.cookie import parse_cookie
    from django.utils.html import escape
    from django.utils.translation import get_language_from_request, override

    headers = {name.lower().decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}
    client = SimpleNamespace(
        COOKIES=parse_cookie(headers.get("cookie", "")),
        META={"HTTP_ACCEPT_LANGUAGE": headers.get("accept-language", "")},
    )
    with override(get_language_from_request(client)):  # type: ignore[arg-type]
        message = str(
            _(
                "A request body sent in chunks (Transfer-Encoding: chunked) is not accepted; send it with a Content-Length."
            )
        )
        title = str(_("Length required"))
    if str(scope.get("path", "")).startswith("/api/"):
        body = json.dumps({"detail": message, "code": "length_required"}).encode()
        content_type = b"application/json"
    else:
        body = f"<!doctype html><title>411 {escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>".encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 411,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
