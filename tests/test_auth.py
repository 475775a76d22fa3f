"""Login with the manual's default accounts, the forced password change, logout, lockout after
failed logins, session expiry, language, and API tokens."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD, make_user
from tests.routes import all_routes
from wbm.accounts.middleware import EXEMPT_PREFIXES
from wbm.roles import Role

NEW_PASSWORD = "Ladepark-Nord-2024"
LOGIN = "/accounts/login/"
PASSWORD_PAGE = "/accounts/password/"
WRONG_LOGIN_EN = "Please enter a correct username and password"
WRONG_LOGIN_DE = "Bitte Benutzername und Passwort eingeben"


def _login(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _change(client: Client, old: str, new: str, next_url: str = ""):
    return client.post(
        PASSWORD_PAGE, {"old_password": old, "new_password1": new, "new_password2": new, "next": next_url}
    )


# --- default accounts and the forced first change ---------------------------------------------


@pytest.mark.parametrize(
    ("username", "role"), [("user", Role.USER), ("operator", Role.OPERATOR), ("manufacturer", Role.MANUFACTURER)]
)
def test_default_accounts_exist_with_the_manuals_passwords(db, username: str, role: Role):
    user = User.objects.get(username=username)
    assert user.check_password(username)
    assert user.profile.role == role
    assert user.profile.must_change_password


def test_login_as_user_works_then_every_page_asks_for_a_new_password(park):
    client = Client()
    response = _login(client, "user", "user")
    assert response.status_code == 302 and _logged_in(client)
    checked = 0
    for route in all_routes():
        url = route.example_url()
        if url.startswith(EXEMPT_PREFIXES):
            continue  # the password page itself, logout and the language switch stay usable
        response = client.get(url)
        checked += 1
        if route.is_api:
            assert response.status_code == 403, url
            assert response.json()["code"] == "password_change_required", url
        else:
            assert response.status_code == 302, url
            location = urlparse(response["Location"])
            assert location.path == PASSWORD_PAGE, f"{url} → {response['Location']}"
    assert checked > 10
    page = client.get(PASSWORD_PAGE)
    assert page.status_code == 200
    assert 'id="password-forced"' in page.content.decode()


@pytest.mark.parametrize("new", ["manufacturer", "Operator", "user"])
def test_the_new_password_cannot_be_a_default_password(db, new: str):
    client = Client()
    _login(client, "user", "user")
    response = _change(client, "user", new)
    assert response.status_code == 200
    assert "This is a default password. Choose a password of your own." in response.content.decode()
    user = User.objects.get(username="user")
    assert user.check_password("user") and user.profile.must_change_password
    assert client.get("/chargepoints/").status_code == 302


def test_the_new_password_cannot_be_the_user_name(db):
    make_user(Role.OPERATOR, username="ladepark-technik", must_change=True)
    client = Client()
    _login(client, "ladepark-technik", PASSWORD)
    response = _change(client, PASSWORD, "ladepark-technik")
    assert response.status_code == 200
    assert "This is a default password. Choose a password of your own." in response.content.decode()
    assert User.objects.get(username="ladepark-technik").check_password(PASSWORD)


def test_after_the_change_pages_work_and_only_the_new_password_logs_in(db):
    client = Client()
    _login(client, "user", "user")
    response = _change(client, "user", NEW_PASSWORD, next_url="/chargepoints/")
    assert response.status_code == 302 and response["Location"] == "/chargepoints/"
    assert _logged_in(client), "changing the password keeps the session"
    page = client.get("/chargepoints/")
    assert page.status_code == 200
    assert "Your password has been changed." in page.content.decode()
    user = User.objects.get(username="user")
    assert not user.profile.must_change_password
    assert _login(Client(), "user", "user").status_code == 200  # the old one is refused
    assert _login(Client(), "user", NEW_PASSWORD).status_code == 302


def test_password_change_from_the_profile(client_as):
    client = client_as(Role.OPERATOR)
    profile = client.get("/accounts/profile/")
    assert profile.status_code == 200
    body = profile.content.decode()
    assert 'name="old_password"' in body and "operator-t" in body and "Operator" in body
    response = _change(client, PASSWORD, NEW_PASSWORD, next_url="/accounts/profile/")
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert "Your password has been changed." in client.get("/accounts/profile/").content.decode()
    assert User.objects.get(username="operator-t").check_password(NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(client_as):
    client = client_as(Role.USER)
    response = _change(client, "not-my-password", NEW_PASSWORD)
    assert response.status_code == 200
    assert 'id="id_old_password-errors"' in response.content.decode()
    assert User.objects.get(username="user-t").check_password(PASSWORD)


# --- logout -----------------------------------------------------------------------------------


def test_logout_is_a_post_and_ends_the_session(client_as):
    client = client_as(Role.USER)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/accounts/profile/").status_code == 200, "a GET must not log out"
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not _logged_in(client)
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and urlparse(response["Location"]).path == LOGIN


# --- wrong password and lockout ---------------------------------------------------------------


def test_a_wrong_password_shows_a_clear_message_and_changes_nothing(db):
    client = Client()
    response = _login(client, "operator", "wrong")
    assert response.status_code == 200
    assert WRONG_LOGIN_EN in response.content.decode()
    assert not _logged_in(client)
    user = User.objects.get(username="operator")
    assert user.check_password("operator") and user.last_login is None


def test_a_wrong_password_message_is_translated(db):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    body = _login(client, "operator", "wrong").content.decode()
    assert WRONG_LOGIN_DE in body and WRONG_LOGIN_EN not in body


def test_five_failures_lock_the_user_name_from_that_address(db):
    make_user(Role.OPERATOR, username="op-lock")
    attacker = Client(REMOTE_ADDR="10.20.30.40")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(attacker, "op-lock", "wrong")
        assert response.status_code == 200 and WRONG_LOGIN_EN in response.content.decode()
    response = _login(attacker, "op-lock", "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed login attempts" in body and "15 minutes" in body
    assert 'id="lockout-message"' in body, "the lockout shows on the styled login page"
    # even the right password is refused while locked
    response = _login(attacker, "op-lock", PASSWORD)
    assert response.status_code == 429 and not _logged_in(attacker)
    # another user name from that address still works, and this one from another address
    make_user(Role.USER, username="colleague")
    assert _login(Client(REMOTE_ADDR="10.20.30.40"), "colleague", PASSWORD).status_code == 302
    assert _login(Client(REMOTE_ADDR="10.20.30.41"), "op-lock", PASSWORD).status_code == 302


def test_the_lockout_message_is_translated(db):
    make_user(Role.OPERATOR, username="op-lock-de")
    client = Client(REMOTE_ADDR="10.20.30.50")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, "op-lock-de", "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed login attempts" not in body
    assert "gesperrt" in body and "15" in body  # "... für 15 Minuten gesperrt."


def test_api_token_failures_lock_out_too(db):
    make_user(Role.OPERATOR, username="api-lock")
    client = Client(REMOTE_ADDR="10.20.30.60")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/api/v1/auth/token/", {"username": "api-lock", "password": "wrong"}, content_type="application/json"
        )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    response = client.post(
        "/api/v1/auth/token/", {"username": "api-lock", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429 and "token" not in response.json()


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_last_thirty_idle_minutes_and_every_request_extends_them():
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_a_request_slides_the_session_expiry(client_as):
    client = client_as(Role.USER)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get("/chargepoints/").status_code == 200
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry > timezone.now() + timedelta(minutes=settings.SESSION_IDLE_MINUTES - 1)


def test_the_session_ends_after_inactivity(client_as):
    client = client_as(Role.USER)
    assert client.get("/chargepoints/").status_code == 200
    key = client.session.session_key
    # 31 idle minutes later
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(minutes=1))
    response = client.get("/chargepoints/")
    assert response.status_code == 302 and urlparse(response["Location"]).path == LOGIN
    assert client.get("/api/v1/me/").json()["role"] == "guest"


# --- language ---------------------------------------------------------------------------------


def test_language_switch_sets_the_cookie_and_the_profile_and_applies_at_next_login(client_as):
    client = client_as(Role.USER)
    response = client.post("/accounts/language/", {"language": "de", "next": "/chargepoints/"})
    assert response.status_code == 302 and response["Location"] == "/chargepoints/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert User.objects.get(username="user-t").profile.language == "de"
    assert '<html lang="de">' in client.get("/chargepoints/").content.decode()
    # another browser without the cookie: the login brings the language back
    browser = Client()
    assert '<html lang="en">' in browser.get(LOGIN).content.decode()
    response = _login(browser, "user-t", PASSWORD)
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert '<html lang="de">' in browser.get("/chargepoints/").content.decode()


def test_a_guest_switches_language_by_cookie_only(db):
    client = Client()
    response = client.post("/accounts/language/", {"language": "de", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert '<html lang="de">' in client.get("/").content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client_as):
    client = client_as(Role.USER)
    response = client.post("/accounts/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:index")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.get(username="user-t").profile.language == ""


def test_language_switch_is_a_post(client_as):
    client = client_as(Role.USER)
    assert client.get("/accounts/language/?language=de").status_code == 405
    assert User.objects.get(username="user-t").profile.language == ""


# --- API tokens -------------------------------------------------------------------------------


def _token(client: Client, username: str, password: str):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )


def test_token_for_a_user_who_changed_the_password(db):
    make_user(Role.MANUFACTURER, username="maker")
    response = _token(Client(), "maker", PASSWORD)
    assert response.status_code == 200
    data = response.json()
    assert data["role"] == "manufacturer" and len(data["token"]) >= 20
    for header in (f"Bearer {data['token']}", f"Token {data['token']}"):
        me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
        assert me.status_code == 200, header
        assert me.json()["username"] == "maker" and me.json()["role"] == "manufacturer"
    assert _token(Client(), "maker", PASSWORD).json()["token"] != data["token"], "a new token per login"


def test_token_refused_for_a_wrong_password(db):
    make_user(Role.MANUFACTURER, username="maker")
    response = _token(Client(), "maker", "wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials" and response.json()["detail"]


def test_token_refused_while_the_default_password_is_in_use(db):
    response = _token(Client(), "manufacturer", "manufacturer")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_an_invalid_token_is_401(db):
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401 and response.json()["detail"]


def test_no_menu_is_offered_while_the_default_password_must_be_changed(db):
    from django.test import Client

    client = Client()
    assert client.post("/accounts/login/", {"username": "manufacturer", "password": "manufacturer"}).status_code == 302
    page = client.get("/accounts/password/").content.decode()
    assert 'id="sidenav"' not in page
    assert "/system/simulator/" not in page
