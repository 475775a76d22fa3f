"""Login, logout, the forced first password change, profile and language."""

from __future__ import annotations

from typing import Any, Literal, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from wbm.access import RoleRequiredMixin, role_required
from wbm.accounts.forms import LanguageForm
from wbm.accounts.lockout import UNRECORDABLE
from wbm.accounts.services import account_language_set, account_password_change
from wbm.audit import Actor
from wbm.roles import Perm


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard:index")


def _account(request: HttpRequest) -> User:
    """The logged-in user of a view that requires at least the User role (never anonymous)."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("an account view was reached without a logged-in user")
    return user


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=cast(Literal["Lax", "Strict", "None"], settings.LANGUAGE_COOKIE_SAMESITE),
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
    )


class LoginView(RoleRequiredMixin, auth_views.LoginView):
    required = Perm.DASHBOARD_VIEW
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        profile = getattr(form.get_user(), "profile", None)
        if profile is not None and profile.language:
            _set_language_cookie(response, profile.language)
        return response


class LogoutView(RoleRequiredMixin, auth_views.LogoutView):
    required = Perm.DASHBOARD_VIEW


def lockout(request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this when a username/address pair is locked out, and when a failed
    login cannot be recorded (``wbm.accounts.lockout``: the lockout fails closed)."""
    if getattr(request, UNRECORDABLE, False):
        return _unrecordable(request)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. Logging in to this account from your address is "
        "locked for %(minutes)s minutes."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    form = AuthenticationForm(request)
    return render(request, "accounts/login.html", {"form": form, "lockout_message": message}, status=429)


def _unrecordable(request: HttpRequest) -> HttpResponse:
    message = _(
        "The login is not possible right now: the controller cannot record failed attempts "
        "(storage full?). Try again later."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "login_unavailable"}, status=503)
    form = AuthenticationForm(request)
    return render(request, "accounts/login.html", {"form": form, "lockout_message": message}, status=503)


class PasswordChangeView(RoleRequiredMixin, View):
    """Change one's own password; the first login with a default password lands here."""

    required = Perm.PROFILE_EDIT
    template_name = "accounts/password_change.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self._context(request, PasswordChangeForm(_account(request))))

    def post(self, request: HttpRequest) -> HttpResponse:
        user = _account(request)
        form = PasswordChangeForm(user, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self._context(request, form))
        account_password_change(
            user=user, new_password=form.cleaned_data["new_password1"], actor=Actor.from_request(request)
        )
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return HttpResponseRedirect(_safe_next(request, request.POST.get("next")))

    def _context(self, request: HttpRequest, form: PasswordChangeForm) -> dict[str, Any]:
        return {
            "form": form,
            "forced": _account(request).profile.must_change_password,
            "next": request.GET.get("next") or request.POST.get("next", ""),
        }


class ProfileView(RoleRequiredMixin, View):
    required = Perm.PROFILE_EDIT

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "accounts/profile.html",
            {
                "password_form": PasswordChangeForm(_account(request)),
            },
        )


@require_POST
@role_required(Perm.DASHBOARD_VIEW)
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch between German and English; kept in a cookie and, when logged in, the profile."""
    form = LanguageForm(request.POST)
    target = _safe_next(request, request.POST.get("next"))
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        _set_language_cookie(response, language)
        if isinstance(request.user, User) and hasattr(request.user, "profile"):
            account_language_set(user=request.user, language=language, actor=Actor.from_request(request))
    return response
