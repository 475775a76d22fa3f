"""Login, logout, the forced first password change, profile and language."""

from __future__ import annotations

from typing import Any, Literal, cast

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
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
from wbm.accounts.sockets import session_group, sockets_close
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

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session_key = request.session.session_key  # gone once the logout flushed the session
        response = super().post(request, *args, **kwargs)
        if session_key and request.user.pk is None:
            sockets_close(groups=[session_group(session_key)])  # its live pages stop streaming
        return response


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
    if request.path == reverse("accounts:password_change") and isinstance(request.user, User):
        # guessing the current password on the change page locks like the login
        context = PasswordChangeView.context(request, PasswordChangeForm(request.user))
        return render(request, PasswordChangeView.template_name, {**context, "lockout_message": message}, status=429)
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
        return render(request, self.template_name, self.context(request, PasswordChangeForm(_account(request))))

    def post(self, request: HttpRequest) -> HttpResponse:
        user = _account(request)
        # a wrong current password counts as a failed login of this user name from this address
        # (django-axes): the same limit, the same lockout, shared with the login page
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return lockout(request, credentials)
        form = PasswordChangeForm(user, request.POST)
        if not form.is_valid():
            if form.has_error("old_password", "password_incorrect"):
                user_login_failed.send(sender=type(self), credentials=credentials, request=request)
                if getattr(request, "axes_locked_out", False):
                    return lockout(request, credentials)
            return render(request, self.template_name, self.context(request, form))
        account_password_change(
            user=user, new_password=form.cleaned_data["new_password1"], actor=Actor.from_request(request)
        )
        update_session_auth_hash(request, user)
        # knowing the password ends the count of this user name from this address, as a login does
        if settings.AXES_RESET_ON_SUCCESS and (address := get_client_ip_address(request)):
            AxesProxyHandler.reset_attempts(ip_address=address, username=user.get_username())
        messages.success(request, _("Your password has been changed."))
        return HttpResponseRedirect(_safe_next(request, request.POST.get("next")))

    @staticmethod
    def context(request: HttpRequest, form: PasswordChangeForm) -> dict[str, Any]:
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
