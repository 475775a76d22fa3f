"""API tokens: stored as a hash, shown once, expire, end with a password change and the logout;
owners (and Operators for service accounts) list and revoke them; the must-change-password gate
holds for tokens as for sessions."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, make_user
from tests.routes import all_routes
from wbm.accounts.models import ApiToken
from wbm.models import ChangeRecord
from wbm.roles import Role


def _login_token(username: str, password: str = PASSWORD) -> dict:
    response = Client().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _apitoken(*args: str) -> str:
    out = StringIO()
    call_command("apitoken", *args, stdout=out)
    return out.getvalue().strip()


def _get(path: str, token: str, scheme: str = "Bearer"):
    return Client().get(path, HTTP_AUTHORIZATION=f"{scheme} {token}")


def _delete(path: str, token: str):
    return Client().delete(path, HTTP_AUTHORIZATION=f"Bearer {token}")


# --- stored as a hash, shown once ---------------------------------------------------------------


def test_only_the_hash_is_stored_and_each_login_gets_its_own_token(db):
    make_user(Role.OPERATOR, username="op")
    first, second = _login_token("op"), _login_token("op")
    assert first["token"] != second["token"]
    stored = ApiToken.objects.get(pk=first["id"])
    assert stored.digest == hashlib.sha256(first["token"].encode()).hexdigest()
    assert first["token"] not in str(list(ApiToken.objects.values()))
    for scheme in ("Bearer", "Token"):
        assert _get("/api/v1/me/", first["token"], scheme).json()["username"] == "op"
    listed = _get("/api/v1/auth/tokens/", first["token"]).json()
    assert {t["id"] for t in listed} == {first["id"], second["id"]}
    assert all("token" not in t and "digest" not in t for t in listed)
    assert ApiToken.objects.get(pk=first["id"]).last_used_at is not None


# --- expiry -------------------------------------------------------------------------------------


def test_a_token_expires_after_the_configured_days(db, settings):
    settings.WBM_TOKEN_TTL_DAYS = 7
    make_user(Role.USER, username="u")
    data = _login_token("u")
    token = ApiToken.objects.get(pk=data["id"])
    assert token.expires_at - token.created_at == timedelta(days=7)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _get("/api/v1/me/", data["token"])
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has expired. Get a new one.", "code": "token_expired"}


def test_the_default_lifetime_is_ninety_days_and_apitoken_days_sets_another(db):
    assert settings.WBM_TOKEN_TTL_DAYS == 90
    key = _apitoken("scada", "--role", "operator", "--days", "3")
    token = ApiToken.objects.get(digest=ApiToken.digest_of(key))
    assert token.kind == "service" and token.expires_at - token.created_at == timedelta(days=3)


# --- revoked by a password change and by the logout ---------------------------------------------


def test_a_password_change_ends_every_token_of_the_account(db):
    user = make_user(Role.USER, username="u")
    data = _login_token("u")
    browser = Client()
    browser.force_login(user)
    new = "a-much-longer-secret-42"
    response = browser.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    response = _get("/api/v1/me/", data["token"])
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked. Get a new one.", "code": "token_revoked"}
    assert _get("/api/v1/me/", _login_token("u", new)["token"]).status_code == 200


def test_the_logout_ends_the_api_login_tokens_but_not_the_service_tokens(db):
    user = make_user(Role.OPERATOR, username="op")
    data = _login_token("op")
    service = _apitoken("scada")
    browser = Client()
    browser.force_login(user)
    assert browser.post("/accounts/logout/").status_code == 302
    assert _get("/api/v1/me/", data["token"]).json()["code"] == "token_revoked"
    assert _get("/api/v1/me/", service).status_code == 200


def test_an_unknown_token_is_refused(db):
    response = _get("/api/v1/me/", "wbm_not-a-token")
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"


# --- list and revoke ----------------------------------------------------------------------------


def test_the_owner_revokes_a_token_of_their_own_but_not_one_of_someone_else(db):
    make_user(Role.USER, username="u")
    make_user(Role.USER, username="v")
    mine, other = _login_token("u"), _login_token("v")
    assert _delete(f"/api/v1/auth/tokens/{other['id']}/", mine["token"]).status_code == 404
    assert _get("/api/v1/me/", other["token"]).status_code == 200
    spare = _login_token("u")
    assert _delete(f"/api/v1/auth/tokens/{spare['id']}/", mine["token"]).status_code == 204
    assert _get("/api/v1/me/", spare["token"]).json()["code"] == "token_revoked"
    states = {t["id"]: t["state"] for t in _get("/api/v1/auth/tokens/", mine["token"]).json()}
    assert states == {mine["id"]: "active", spare["id"]: "revoked"}
    record = ChangeRecord.objects.get(action="api.token.revoke")
    assert (record.username, record.source) == ("u", "api") and spare["token"] not in str(record.after)


def test_an_operator_lists_and_revokes_the_tokens_of_service_accounts_a_user_does_not(db):
    service = _apitoken("scada", "--role", "user")
    make_user(Role.OPERATOR, username="op")
    make_user(Role.USER, username="u")
    make_user(Role.MANUFACTURER, username="maker")
    operator, user = _login_token("op"), _login_token("u")
    maker = _login_token("maker")
    service_id = ApiToken.objects.get(digest=ApiToken.digest_of(service)).pk
    listed = {(t["username"], t["kind"]) for t in _get("/api/v1/auth/tokens/", operator["token"]).json()}
    assert listed == {("op", "login"), ("scada", "service")}  # not the Manufacturer's own token
    assert {t["username"] for t in _get("/api/v1/auth/tokens/", user["token"]).json()} == {"u"}
    assert _delete(f"/api/v1/auth/tokens/{service_id}/", user["token"]).status_code == 404
    assert _delete(f"/api/v1/auth/tokens/{maker['id']}/", operator["token"]).status_code == 404
    assert _delete(f"/api/v1/auth/tokens/{service_id}/", operator["token"]).status_code == 204
    assert _get("/api/v1/me/", service).json()["code"] == "token_revoked"


# --- the must-change-password gate holds for tokens ----------------------------------------------


def test_a_token_of_an_account_that_must_change_its_password_is_refused_on_every_api_route(park):
    user = make_user(Role.MANUFACTURER, username="maker")
    data = _login_token("maker")
    user.profile.must_change_password = True
    user.profile.save()
    checked = 0
    for route in all_routes():
        if not route.is_api or route.name == "api:token":  # the login itself takes no token
            continue
        url = route.example_url(pk=data["id"]) if "pk" in route.kwarg_names else route.example_url()
        for method in route.methods:
            response = Client().generic(
                method.upper(), url, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {data['token']}"
            )
            assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"
            assert response.json()["code"] == "password_change_required", f"{method.upper()} {url}"
            checked += 1
    assert checked > 20
    assert User.objects.get(username="maker").api_tokens.get().revoked_at is None  # nothing was revoked


# --- the DRF tokens of earlier versions ----------------------------------------------------------


def test_the_migration_drops_the_plaintext_drf_tokens(transactional_db):
    migration = importlib.import_module("wbm.accounts.migrations.0002_apitoken")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('0123456789abcdef0123456789abcdef01234567', 1)")
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', %s)",
            [timezone.now()],
        )
    with connection.schema_editor() as editor:
        migration.drop_drf_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("days", ["0", "-3"])
def test_apitoken_refuses_a_lifetime_below_one_day(db, days):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--days"):
        _apitoken("scada", "--days", days)
    assert not ApiToken.objects.exists()
