"""API errors are JSON: ``{"detail": "...", "code": "..."}`` plus field errors where they apply;
an unreachable database or Redis adds ``"dependency"`` (503, ``wbm.outage``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from wbm.outage import mark, outage_log, payload, unreachable
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable
from wbm.runtime.errors import describe

NOT_FOUND_CODES = frozenset({"unknown_chargepoint", "unknown_agent"})  # refusals that mean "no such thing"
RETRY_CODES = frozenset({"agent_restarting"})  # refusals that go away by themselves: 503, try again


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, CommandRejected) and exc.code in RETRY_CODES:
        return Response({"detail": describe(exc), "code": exc.code}, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, CommandRejected):
        code = status.HTTP_404_NOT_FOUND if exc.code in NOT_FOUND_CODES else status.HTTP_409_CONFLICT
        return Response({"detail": describe(exc), "code": exc.code}, status=code)
    if isinstance(exc, RuntimeUnavailable):
        return Response({"detail": describe(exc), "code": "runtime_unavailable"}, status=503)
    dependency = unreachable(exc)
    if dependency is not None:  # the database or Redis is gone (token lookup included)
        outage_log.note(dependency, exc)
        answer = Response(payload(dependency), status=503)
        mark(answer)
        return answer
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _("Some values are not valid."), "code": "invalid", "errors": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response
