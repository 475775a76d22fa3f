"""The login lockout fails closed: while a failed login cannot be recorded (disk full), every
login attempt is refused with a clear message (page and API), logged, and the right password does
not get through either; once recording works again, logins work again."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from axes.models import AccessAttempt
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, make_user
from wbm.accounts.lockout import FailClosedDatabaseHandler
from wbm.roles import Role

MESSAGE = (
    "The login is not possible right now: the controller cannot record failed attempts "
    "(storage full?). Try again later."
)
ADDRESS = "10.9.8.7"


@pytest.fixture(autouse=True)
def _recording_works_at_first() -> Iterator[None]:
    FailClosedDatabaseHandler._broken = False
    yield
    FailClosedDatabaseHandler._broken = False


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    def full(*args: object, **kwargs: object) -> None:
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(AccessAttempt, "save", full)
    yield monkeypatch


def _login(client: Client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _token(client: Client, username: str, password: str):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json"
    )


def test_a_login_that_cannot_be_counted_is_refused_and_the_right_password_too(db, disk_full, caplog):
    make_user(Role.OPERATOR, username="op-full")
    client = Client(REMOTE_ADDR=ADDRESS)

    with caplog.at_level(logging.ERROR, logger="wbm.accounts"):
        response = _login(client, "op-full", "wrong")
    assert response.status_code == 503
    body = response.content.decode()
    assert MESSAGE in body and 'id="lockout-message"' in body
    assert any("login refused for 'op-full'" in r.getMessage() and ADDRESS in r.getMessage() for r in caplog.records)

    # nothing is counted, so nothing may be guessed: the right password is refused as well
    response = _login(client, "op-full", PASSWORD)
    assert response.status_code == 503 and MESSAGE in response.content.decode()
    assert not _logged_in(client)


def test_the_api_token_fails_closed_with_503_json(db, disk_full):
    make_user(Role.OPERATOR, username="api-full")
    client = Client(REMOTE_ADDR=ADDRESS)
    response = _token(client, "api-full", "wrong")
    assert response.status_code == 503
    assert response.json() == {"detail": MESSAGE, "code": "login_unavailable"}
    response = _token(client, "api-full", PASSWORD)
    assert response.status_code == 503 and "token" not in response.json()


def test_logins_work_again_once_failures_can_be_recorded(db, disk_full):
    make_user(Role.OPERATOR, username="op-back")
    client = Client(REMOTE_ADDR=ADDRESS)
    assert _login(client, "op-back", "wrong").status_code == 503
    disk_full.undo()  # space freed

    response = _login(client, "op-back", "wrong")
    assert response.status_code == 200 and MESSAGE not in response.content.decode()
    assert AccessAttempt.objects.get(username="op-back").failures_since_start == 1
    assert not AccessAttempt.objects.exclude(username="op-back").exists(), "the write probe leaves nothing"
    assert _login(client, "op-back", PASSWORD).status_code == 302 and _logged_in(client)
