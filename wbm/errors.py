"""Styled, translated error pages; JSON for the API."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

# Set on a request whose refusal ``wbm.access.log_refusal`` has logged.
REFUSAL_LOGGED = "_wbm_refusal_logged"


def printable(text: str) -> str:
    """``text`` for a log line: control characters (a newline in a path) escaped, as Django does."""
    return text.encode("unicode_escape").decode("ascii")


class OneLineClientErrors(logging.Filter):
    """On ``django.request``: a 4xx is the client's doing, not a fault, so it is logged as one
    line without a traceback (Django attaches one to every "Forbidden (Permission denied)"),
    and not at all when ``wbm.access`` has already logged the refusal with who and why.
    5xx records pass untouched, traceback included."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return True
        if getattr(getattr(record, "request", None), REFUSAL_LOGGED, False):
            return False
        record.exc_info = None
        record.exc_text = None
        return True


class RateLimitedRequestErrors(logging.Filter):
    """On ``django.request``: at most one line per client address and kind of error (status code;
    for a 5xx also the exception type) per ``interval_s``, so a client repeating a bad request
    cannot rotate the older lines out of the log. The lines left out are counted, and the count
    is added to the next line of that client and kind that is logged (at most once per interval):
    "(+41 more like this from 203.0.113.7 in the last 60 s)"."""

    max_keys = 1024  # clients × kinds remembered; the oldest are forgotten
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, interval_s: float = 60.0) -> None:
        super().__init__()
        self.interval_s = interval_s  # 0: every line is logged
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # key → (logged at, left out since)

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        if not isinstance(status, int) or request is None:
            return True
        kind = str(status)
        if status >= 500 and record.exc_info and record.exc_info[0] is not None:
            kind += f" {record.exc_info[0].__name__}"
        address = str(getattr(request, "META", {}).get("REMOTE_ADDR") or "?")
        key = (address, kind)
        now = self.clock()
        with self._lock:
            logged_at, left_out = self._seen.get(key, (None, 0))
            if logged_at is not None and now - logged_at < self.interval_s:
                self._seen[key] = (logged_at, left_out + 1)
                return False
            self._seen.pop(key, None)
            self._seen[key] = (now, 0)
            while len(self._seen) > self.max_keys:
                del self._seen[next(iter(self._seen))]
        if left_out:
            more = f"+{left_out} more like this from {printable(address)} in the last {self.interval_s:.0f} s"
            record.msg = f"{record.getMessage()} ({more})"
            record.args = ()
        return True


def invalid_input(request: HttpRequest, message: str, code: str = "invalid_input") -> HttpResponse:
    """400 for input refused at the boundary (``wbm.validation``): JSON on the API, else the page."""
    return _respond(request, 400, _("Bad request"), message, code)


def _respond(request: HttpRequest, status: int, title: str, message: str, code: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": code}, status=status)
    try:
        response = TemplateResponse(
            request, "errors/error.html", {"status": status, "title": title, "message": message}, status=status
        )
        return response.render()
    except Exception:  # the error page itself must never fail
        return HttpResponse(f"<h1>{status} {title}</h1><p>{message}</p>", status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, 400, _("Bad request"), _("The request could not be understood."), "bad_request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(
        request,
        403,
        _("Access denied"),
        _("Your role does not allow this page or operation. Log in with a role that does."),
        "permission_denied",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(
        request,
        404,
        _("Page not found"),
        _("There is nothing at this address. Use the menu to find your way."),
        "not_found",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    # Called inside Django's ``except``: an exception a middleware raised (the session saved on
    # the way out while the database is gone) arrives here, not at wbm.outage's middleware.
    from wbm.outage import outage_response, unreachable

    exc = sys.exc_info()[1]
    dependency = unreachable(exc)
    if exc is not None and dependency is not None:
        return outage_response(request, dependency, exc)
    return _respond(
        request,
        500,
        _("Internal error"),
        _("Something went wrong on the controller. The error has been logged."),
        "server_error",
    )


def csrf_failure(request: HttpRequest, reason: str = "", **kwargs: Any) -> HttpResponse:
    return _respond(
        request,
        403,
        _("Form expired"),
        _("The form could not be verified (missing or outdated security token). Reload the page and try again."),
        "csrf_failed",
    )
