"""Nothing but changing it is possible while a default password is in use."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

EXEMPT_PREFIXES = ("/static/", "/accounts/password/", "/accounts/logout/", "/accounts/language/")


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            profile = getattr(user, "profile", None)
            if profile is not None and profile.must_change_password:
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "detail": _("Change the default password before using the API."),
                            "code": "password_change_required",
                        },
                        status=403,
                    )
                return redirect(f"{reverse('accounts:password_change')}?next={request.get_full_path()}")
        return self.get_response(request)
