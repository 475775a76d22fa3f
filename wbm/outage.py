"""A dependency that cannot be reached (the database, Redis) is a 503 that says which one and
that the page works again by itself once it is back, not a 500 "something went wrong".

Where such an error is turned into the answer:

- ``OutageMiddleware.process_exception``: raised by a view or while rendering its template;
- ``wbm.api.errors.exception_handler``: raised inside a DRF view (authentication included);
- ``wbm.errors.server_error`` (handler500): raised by a middleware (the session saved on the way
  out, the user loaded for the CSRF or password-change check). Django turns an exception in a
  middleware into the handler500 answer right there, so it never reaches an outer middleware;
- ``OutageMiddleware.__call__``: whatever still propagates (``DEBUG_PROPAGATE_EXCEPTIONS``).

The 503 page is rendered from a plain template and context: no context processor, no session,
no user, no cache, so it renders while both are gone. Each outage is logged as one warning line
when it starts (per dependency, again only after a quiet minute), not as a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from django import db
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from wbm import redis_errors

log = logging.getLogger("wbm.outage")

Dependency = Literal["database", "redis"]


def outage_errors() -> tuple[type[BaseException], ...]:
    """What an unreachable dependency raises (redis's only where it is loaded: wbm.redis_errors)."""
    return (*redis_errors.connection_errors(), db.OperationalError, db.InterfaceError)


RETRY_AFTER_S = 5
# an outage seen again within this time is the same outage: no new log line
QUIET_S = 60.0

# PostgreSQL SQLSTATE classes that mean "the server is not there for us": 08 connection
# exception, 53 insufficient resources (too many connections), 57 operator intervention (shut
# down, starting up). Other operational errors (a serialization failure, a statement timeout)
# are faults of the request, and stay 500s.
_PG_OUTAGE_CLASSES = ("08", "53", "57")
# SQLite operational errors that are a bug, not an outage (a missing migration, bad SQL)
_SQLITE_BUGS = ("no such ", "syntax error", "has no column")


def unreachable(exc: BaseException | None) -> Dependency | None:
    """Which dependency ``exc`` says cannot be reached, or None when it is another error."""
    if isinstance(exc, redis_errors.connection_errors()):
        return "redis"
    if isinstance(exc, db.InterfaceError):
        return "database"
    if isinstance(exc, db.OperationalError):
        cause = exc.__cause__
        sqlstate = getattr(cause, "sqlstate", None)  # psycopg; None for a failed connect
        if isinstance(sqlstate, str) and not sqlstate.startswith(_PG_OUTAGE_CLASSES):
            return None
        if any(marker in str(exc).lower() for marker in _SQLITE_BUGS):
            return None
        return "database"
    return None


def message(dependency: Dependency) -> str:
    """The translated sentence naming what cannot be reached."""
    if dependency == "database":
        return _("The database cannot be reached.")
    return _("The live data store (Redis) cannot be reached.")


def again() -> str:
    return _("The page works again by itself once the connection is back; try again in a few seconds.")


class _OutageLog:
    """One warning line when an outage of a dependency starts, not one per request."""

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_seen: dict[str, float] = {}

    def note(self, dependency: Dependency, exc: BaseException) -> None:
        now = self.clock()
        with self._lock:
            last = self._last_seen.get(dependency)
            self._last_seen[dependency] = now
            new = last is None or now - last > QUIET_S
        if new:
            first_line = (str(exc).strip().splitlines() or [""])[0]
            log.warning(
                "%s cannot be reached (%s: %s); answering 503 until it is back",
                "The database" if dependency == "database" else "Redis",
                type(exc).__name__,
                first_line[:200],
            )

    def reset(self) -> None:
        with self._lock:
            self._last_seen.clear()


outage_log = _OutageLog()


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def payload(dependency: Dependency) -> dict[str, str]:
    """The API's answer: ``{"code", "detail", "dependency"}`` in the request's language."""
    again = _("Try again in a few seconds.")
    detail = f"{message(dependency)} {again}"
    return {"code": "service_unavailable", "detail": detail, "dependency": dependency}


def outage_response(request: HttpRequest, dependency: Dependency, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After``: JSON for the API, else a page that needs nothing but a template."""
    outage_log.note(dependency, exc)
    # LocaleMiddleware may not have run yet: the language from the cookie or Accept-Language
    # (neither needs the session)
    with translation.override(translation.get_language_from_request(request)):
        response: HttpResponse
        if wants_json(request):
            response = JsonResponse(payload(dependency), status=503)
        else:
            context = {
                "title": _("Temporarily unavailable"),
                "message": message(dependency),
                "again": again(),
                "language": translation.get_language(),
                # a page asked for with GET reloads itself until the dependency is back
                "refresh": RETRY_AFTER_S if request.method in ("GET", "HEAD") else None,
            }
            html: str
            try:
                html = render_to_string("errors/503.html", context)  # no request: no context processors
            except Exception:  # the outage page itself must never fail
                html = f"<h1>503 {context['title']}</h1><p>{context['message']}</p><p>{context['again']}</p>"
            response = HttpResponse(html, status=503)
    return mark(response)


def mark(response: HttpResponse) -> HttpResponse:
    """``Retry-After``, and logged already (one line per outage by ``outage_log``): Django does
    not add an error line, with its traceback, for every request of the outage."""
    response["Retry-After"] = str(RETRY_AFTER_S)
    response.headers.setdefault("Cache-Control", "no-store")
    response._has_been_logged = True  # type: ignore[attr-defined]  # read by django.utils.log.log_response
    return response


class OutageMiddleware:
    """Early in ``MIDDLEWARE`` (right after SecurityMiddleware): turns an unreachable database or
    Redis into the 503 answer (see the module's docstring for the other places)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except outage_errors() as exc:
            dependency = unreachable(exc)
            if dependency is None:
                raise
            return outage_response(request, dependency, exc)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        dependency = unreachable(exception)
        if dependency is None:
            return None
        return outage_response(request, dependency, exception)
