"""What a new password may be, and how many guesses of the current one the change page allows."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import PASSWORD, make_user
from wbm.roles import Role

PASSWORD_PAGE = "/accounts/password/"
NEW_PASSWORD = "Ladepark-Nord-2024"
CONTAINS = "This password contains a default password or your user name."
LOCKED = "Too many failed login attempts"


def _change(client: Client, old: str, new: str):
    return client.post(PASSWORD_PAGE, {"old_password": old, "new_password1": new, "new_password2": new})


def _logged_in_client(username: str, *, address: str = "10.9.8.7", must_change: bool = False) -> Client:
    make_user(Role.OPERATOR, username=username, must_change=must_change)
    client = Client(REMOTE_ADDR=address)
    client.force_login(User.objects.get(username=username))
    return client


# --- no default password or user name in disguise -----------------------------------------------


@pytest.mark.parametrize("new", ["user1234", "USER-2024-x", "9876operator!", "Manufacturer#Nord", "my-ladepark-ost-99"])
def test_a_password_containing_a_default_password_or_the_user_name_is_refused(db, new: str):
    client = _logged_in_client("ladepark-ost", must_change=True)
    response = _change(client, PASSWORD, new)
    assert response.status_code == 200
    assert CONTAINS in response.content.decode()
    user = User.objects.get(username="ladepark-ost")
    assert user.check_password(PASSWORD) and user.profile.must_change_password


def test_the_default_account_user_cannot_take_user1234(db):
    client = Client()
    client.post("/accounts/login/", {"username": "user", "password": "user"})
    response = _change(client, "user", "user1234")
    assert response.status_code == 200 and CONTAINS in response.content.decode()
    assert User.objects.get(username="user").check_password("user")


def test_a_password_of_ones_own_is_accepted(db):
    client = _logged_in_client("ladepark-ost", must_change=True)
    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(username="ladepark-ost").check_password(NEW_PASSWORD)


# --- guessing the current password ---------------------------------------------------------------


def test_wrong_current_passwords_lock_the_change_like_the_login(db):
    client = _logged_in_client("op-guess")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _change(client, "guess", NEW_PASSWORD)
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    response = _change(client, "guess", NEW_PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert LOCKED in body and "15 minutes" in body
    assert 'id="lockout-message"' in body
    # while locked even the right current password changes nothing
    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert User.objects.get(username="op-guess").check_password(PASSWORD)
    # and the login of that user name from that address is locked as well
    login = Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"username": "op-guess", "password": PASSWORD})
    assert login.status_code == 429


def test_the_change_lock_is_per_address(db):
    client = _logged_in_client("op-guess")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _change(client, "guess", NEW_PASSWORD)
    other = Client(REMOTE_ADDR="10.9.8.8")
    other.force_login(User.objects.get(username="op-guess"))
    assert _change(other, PASSWORD, NEW_PASSWORD).status_code == 302
