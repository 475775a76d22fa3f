"""Enforcement of the permission map for views, API endpoints and templates.

A view or endpoint that does not declare what it requires is refused (deny by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from wbm.errors import REFUSAL_LOGGED, printable
from wbm.roles import Perm, Role, allows, role_of

log = logging.getLogger("wbm.access")


def required_perm(view: Any, method: str) -> Perm:
    """What a view requires for an HTTP method: ``required_by_method`` wins over ``required``."""
    by_method: dict[str, Perm] = getattr(view, "required_by_method", {}) or {}
    perm = by_method.get(method.upper()) or getattr(view, "required", None)
    if perm is None:
        raise ImproperlyConfigured(f"{type(view).__name__} declares no required permission")
    return perm


def log_refusal(request: HttpRequest | Request, perm: Perm) -> None:
    """Log a refused request as one line: who, what, the missing permission, from where.

    No traceback: a refusal is the permission map doing its job, and the log goes to support.
    Django's own line for the same response is then left out (``wbm.errors.OneLineClientErrors``).
    """
    user = request.user
    role = role_of(user)
    who = user.get_username() if user.is_authenticated else "guest"
    log.warning(
        "Refused %s %s to %s (role %s): needs %s; from %s",
        request.method,
        printable(request.path),
        printable(who),
        role.name.lower(),
        perm.value,
        request.META.get("REMOTE_ADDR", "?"),
    )
    django_request = request._request if isinstance(request, Request) else request
    setattr(django_request, REFUSAL_LOGGED, True)


def _deny(request: HttpRequest, perm: Perm) -> HttpResponse:
    if role_of(request.user) == Role.GUEST:
        return redirect_to_login(request.get_full_path())  # not a refusal yet: log in first
    log_refusal(request, perm)
    raise PermissionDenied


class RoleRequiredMixin:
    """For class-based views: set ``required`` (and optionally ``required_by_method``)."""

    required: ClassVar[Perm]
    required_by_method: ClassVar[dict[str, Perm]] = {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        perm = required_perm(self, request.method or "GET")
        if not allows(request.user, perm):
            return _deny(request, perm)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def role_required(perm: Perm) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For function views."""

    def decorator(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allows(request.user, perm):
                return _deny(request, perm)
            return func(request, *args, **kwargs)

        wrapper.required = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


class HasPerm(BasePermission):
    """DRF permission: the view's ``required`` / ``required_by_method`` from the one map."""

    message = _("Your role does not allow this operation.")

    def has_permission(self, request: Any, view: Any) -> bool:
        perm = required_perm(view, request.method or "GET")
        if allows(request.user, perm):
            return True
        log_refusal(request, perm)  # DRF answers 401 (no credentials) or 403
        return False


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every request here does)."""

    htmx: HtmxDetails
