"""The OpenAPI schema documents every answer, errors included.

``WbmAutoSchema`` adds the error answers (``wbm.api.errors``: ``{"detail", "code", "errors"?}``)
to every operation for the statuses that can occur there, so no view has to repeat them:
``tests/test_schema_conformance.py`` runs schemathesis against a live server and fails on an
answer the schema does not describe.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
WRITE_METHODS = BODY_METHODS | {"DELETE"}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "per field (or path, e.g. config.current_max_a): the messages; only for invalid input",
    }
)
class _FieldErrors(serializers.JSONField):
    pass


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (``wbm.api.errors``); some add fields of their own (a 412
    the settings someone else changed, an import the charge points with their errors)."""

    detail = serializers.CharField(help_text="the message, in the language of Accept-Language")
    code = serializers.CharField(help_text="a stable key, e.g. invalid, not_authenticated, not_found")
    errors = _FieldErrors(required=False)  # type: ignore[assignment]


def error_statuses(*, method: str, path: str, has_body: bool, extra: tuple[int, ...] = ()) -> list[int]:
    """The error statuses an operation can answer, by what every route shares:

    400 invalid input (body, query string), 401 not authenticated (or a wrong login), 403 role too
    low or default password not changed, 404 unknown object (routes with a path parameter), 409
    refused by the controller (writes), 411 chunked body, 413 body too large, 415 not JSON (routes
    with a body), 503 runtime (or login recording) not available; ``extra`` what a view adds
    (``api_error_statuses``, e.g. 412 on If-Match, 429 on the login)."""
    statuses = {400, 401, 403, 503, *extra}
    if "{" in path:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(409)
    if has_body:
        statuses |= {411, 413, 415}
    return sorted(statuses)


class WbmAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers of ``error_statuses``."""

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        method = self.method.upper()
        has_body = method in BODY_METHODS and self.get_request_serializer() is not None
        extra = tuple(getattr(self.view, "api_error_statuses", {}).get(method, ()))
        for code in error_statuses(method=method, path=self.path, has_body=has_body, extra=extra):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorSerializer, str(code), direction=direction)
        return responses
