"""A live WebSocket lives no longer than the session it was opened in, and gets no more than
that session may see.

Every ``LiveConsumer`` joins two channel-layer groups: one named for its session (the key hashed,
so no session key sits in the channel layer) and one for its account. Logging out closes the
session's sockets; a password change closes every socket of the account (the other sessions are
no longer valid; the page that changed it goes on to the next page, which opens new ones).
Whatever ends a session without a request here (expiry, an account disabled or given another
role elsewhere) is caught by each socket re-checking its session every ``WBM_SOCKET_RECHECK_S``
seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest

from wbm.roles import allowed_perms

SESSION_ENDED = "session.ended"  # the channel-layer message; LiveConsumer.session_ended closes
SESSION_ENDED_CLOSE_CODE = 4401  # WebSocket close code of a socket whose session ended


def socket_perms(user: Any) -> frozenset[str]:
    """What a live socket of ``user`` may receive (call it from a worker thread: it reads the
    profile). An account still on its default password sees what a Guest sees, as on the pages
    and the API, where it can do nothing but change that password."""
    profile = getattr(user, "profile", None) if getattr(user, "is_authenticated", False) else None
    if profile is not None and profile.must_change_password:
        return allowed_perms(None)
    return allowed_perms(user)


def session_group(session_key: str) -> str:
    """The channel-layer group of every socket opened in the session ``session_key``."""
    return "wbm-session-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_group(user_id: int) -> str:
    """The channel-layer group of every socket of one account, in any session."""
    return f"wbm-user-{user_id}"


def sockets_close(*, groups: Iterable[str]) -> None:
    """Close every live socket in ``groups`` once the current transaction commits (at once
    outside one), so a socket never outlives a change that was written."""
    names = tuple(groups)

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for name in names:
            async_to_sync(layer.group_send)(name, {"type": SESSION_ENDED})

    transaction.on_commit(send)


def session_still_grants(*, session_key: str, user_id: int, can: frozenset[str]) -> bool:
    """Whether the session ``session_key`` is still logged in as ``user_id`` and still grants
    exactly ``can`` (as ``socket_perms``). False once it expired or was logged out, when the
    account was disabled or deleted, its password changed in another session, its role changed,
    or it has to change its password again."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    request = HttpRequest()
    request.session = store
    user = auth.get_user(request)  # verifies the session's password hash and that the account is active
    return bool(user.is_authenticated and user.pk == user_id and socket_perms(user) == can)
