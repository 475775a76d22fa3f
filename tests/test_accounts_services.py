"""Account writes go through services and land in the audit trail with the role's stable key,
whatever language the session speaks, and without any secret."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from tests.conftest import PASSWORD, make_user
from wbm.accounts.services import account_language_set
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role

NEW_PASSWORD = "Ladepark-Nord-2024"
PASSWORD_PAGE = "/accounts/password/"
LANGUAGE_PAGE = "/accounts/language/"
ROLES = [Role.USER, Role.OPERATOR, Role.MANUFACTURER]


def _change_password(client: Client, old: str, new: str, next_url: str = ""):
    return client.post(
        PASSWORD_PAGE, {"old_password": old, "new_password1": new, "new_password2": new, "next": next_url}
    )


def _german(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def _record_text(record: ChangeRecord) -> str:
    fields = (record.username, record.role, record.source, record.action, record.object_id)
    return " ".join(str(value) for value in (*fields, record.before, record.after))


def _german_label(role: Role) -> str:
    with translation.override("de"):
        return str(role.label)


def test_the_german_labels_differ_from_the_keys():
    """Guards the tests below: a German session would otherwise record the same text either way."""
    assert [_german_label(role) for role in ROLES] == ["Benutzer", "Betreiber", "Hersteller"]


# --- password -----------------------------------------------------------------------------------


def test_a_password_change_on_the_page_is_audited_with_the_role_key_and_no_secret(client_as):
    client = client_as(Role.OPERATOR)
    response = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    record = ChangeRecord.objects.get(action="password.change")
    user = User.objects.get(username="operator-t")
    assert (record.username, record.role, record.source) == ("operator-t", "operator", "web")
    assert record.object_type == "User" and record.object_id == str(user.pk)
    text = _record_text(record)
    for secret in (NEW_PASSWORD, PASSWORD, user.password, user.password.split("$")[-1]):
        assert secret not in text


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name.lower())
def test_a_german_session_changing_its_password_records_the_role_key(client_as, role: Role):
    client = _german(client_as(role))
    response = _change_password(client, PASSWORD, NEW_PASSWORD, next_url="/accounts/profile/")
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert "Ihr Passwort wurde geändert." in client.get("/accounts/profile/").content.decode()
    record = ChangeRecord.objects.get(action="password.change")
    assert record.role == role.name.lower()
    assert record.role != _german_label(role)


def test_the_forced_first_login_change_still_works_and_is_recorded(db):
    client = Client()
    assert client.post("/accounts/login/", {"username": "user", "password": "user"}).status_code == 302
    assert client.get("/chargepoints/")["Location"].startswith(PASSWORD_PAGE)
    response = _change_password(client, "user", NEW_PASSWORD, next_url="/chargepoints/")
    assert response.status_code == 302 and response["Location"] == "/chargepoints/"
    page = client.get("/chargepoints/")
    assert page.status_code == 200, "the session survives the change and the pages open"
    assert "Your password has been changed." in page.content.decode()
    user = User.objects.get(username="user")
    assert user.check_password(NEW_PASSWORD) and not user.profile.must_change_password
    record = ChangeRecord.objects.get(action="password.change")
    assert (record.username, record.role, record.object_type) == ("user", "user", "User")
    assert record.before == {"must_change_password": True} and record.after == {"must_change_password": False}
    assert NEW_PASSWORD not in _record_text(record) and user.password not in _record_text(record)


def test_a_refused_password_change_records_nothing(client_as):
    client = client_as(Role.USER)
    response = _change_password(client, PASSWORD, "operator")  # a default password
    assert response.status_code == 200
    assert not ChangeRecord.objects.exists()
    assert User.objects.get(username="user-t").check_password(PASSWORD)


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name.lower())
def test_a_german_session_changing_its_language_records_the_role_key(client_as, role: Role):
    client = _german(client_as(role))
    response = client.post(LANGUAGE_PAGE, {"language": "de", "next": "/chargepoints/"})
    assert response.status_code == 302 and response["Location"] == "/chargepoints/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    username = f"{role.name.lower()}-t"
    assert User.objects.get(username=username).profile.language == "de"
    record = ChangeRecord.objects.get(action="language.change")
    assert (record.username, record.role, record.source) == (username, role.name.lower(), "web")
    assert record.role != _german_label(role)
    assert record.before == {"language": ""} and record.after == {"language": "de"}


def test_switching_back_to_english_is_recorded_and_the_same_language_is_not(client_as):
    client = client_as(Role.OPERATOR)
    client.post(LANGUAGE_PAGE, {"language": "de", "next": "/"})
    client.post(LANGUAGE_PAGE, {"language": "de", "next": "/"})
    assert ChangeRecord.objects.filter(action="language.change").count() == 1
    response = client.post(LANGUAGE_PAGE, {"language": "en", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert User.objects.get(username="operator-t").profile.language == "en"
    assert ChangeRecord.objects.filter(action="language.change").count() == 2


def test_a_guest_language_switch_records_nothing(db):
    response = Client().post(LANGUAGE_PAGE, {"language": "de", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert not ChangeRecord.objects.exists()


@pytest.mark.parametrize("language", ["xx", "fr", "", "de-at"])
def test_the_language_service_refuses_an_unknown_language(db, language: str):
    user = make_user(Role.OPERATOR)
    with pytest.raises(ValidationError) as refused:
        account_language_set(user=user, language=language, actor=Actor.system())
    assert refused.value.code == "invalid_choice"
    assert refused.value.messages == [f"Select a valid choice. {language} is not one of the available choices."]
    assert User.objects.get(pk=user.pk).profile.language == ""
    assert user.profile.language == ""
    assert not ChangeRecord.objects.exists()


# --- API accounts (manage.py apitoken) -----------------------------------------------------------


def test_apitoken_creates_an_api_account_and_records_it_without_the_token(db):
    out = StringIO()
    call_command("apitoken", "scada", "--role", "operator", stdout=out)
    token = out.getvalue().strip()
    user = User.objects.get(username="scada")
    assert not user.has_usable_password()
    assert user.profile.role == Role.OPERATOR and not user.profile.must_change_password
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.json() == me.json() | {"username": "scada", "role": "operator"}
    record = ChangeRecord.objects.get(action="account.api.create")
    assert (record.role, record.source, record.after) == ("manufacturer", "system", {"role": "operator"})
    assert token not in _record_text(record)
    # run again with another role: a new token (the first stays valid), role updated, recorded as an update
    out = StringIO()
    call_command("apitoken", "scada", "--role", "user", stdout=out)
    assert out.getvalue().strip() != token
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").json()["role"] == "user"
    record = ChangeRecord.objects.get(action="account.api.update")
    assert record.before == {"role": "operator"} and record.after == {"role": "user"}


def test_apitoken_refuses_an_account_that_signs_in_with_a_password(db):
    make_user(Role.OPERATOR, username="technik")
    with pytest.raises(CommandError, match="technik signs in with a password"):
        call_command("apitoken", "technik", "--role", "manufacturer", stdout=StringIO())
    assert User.objects.get(username="technik").profile.role == Role.OPERATOR
    assert not ChangeRecord.objects.exists()


# --- existing audit rows ------------------------------------------------------------------------


def test_the_migration_turns_recorded_labels_into_keys(db):
    migration = importlib.import_module("wbm.migrations.0002_changerecord_role_keys")
    stored = ["Betreiber", "Operator", "Hersteller", "Manufacturer", "Benutzer", "User", "Gast", "Guest", ""]
    for role in stored:
        ChangeRecord.objects.create(role=role, source="web", action="test")
    migration.labels_to_keys(apps, None)
    assert list(ChangeRecord.objects.order_by("pk").values_list("role", flat=True)) == [
        "operator",
        "operator",
        "manufacturer",
        "manufacturer",
        "user",
        "user",
        "guest",
        "guest",
        "",
    ]
