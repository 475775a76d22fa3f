"""The login lockout fails closed: a failed login that cannot be recorded (disk full) is refused.

django-axes counts failed logins in the database. When that write fails, axes would either
answer 500 or (worse) let an attacker guess on without ever being counted. This handler refuses
the attempt instead (``wbm.accounts.views.lockout`` answers it: 503 with a clear message), and
refuses every further login attempt before the password is checked until a test write succeeds
again, so a right guess is not told from a wrong one while nothing is counted.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.db import DatabaseError, router, transaction
from django.http import HttpRequest

log = logging.getLogger("wbm.accounts")

UNRECORDABLE = "wbm_attempts_unrecordable"  # request attribute the lockout view looks at


class FailClosedDatabaseHandler(AxesDatabaseHandler):  # type: ignore[misc]
    _lock = threading.Lock()
    _broken = False  # the last failed attempt could not be recorded (this process)

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if FailClosedDatabaseHandler._broken and not self._can_record():
            self._refuse(request, credentials, "failed logins still cannot be recorded")
            return False
        allowed: bool = super().is_allowed(request, credentials)
        return allowed

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
        if request is not None and getattr(request, UNRECORDABLE, False):
            return  # refused above, before the password was checked
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except DatabaseError as error:
            with self._lock:
                FailClosedDatabaseHandler._broken = True
            self._refuse(request, credentials, f"the failed login cannot be recorded ({error})")

    def _refuse(self, request: Any, credentials: dict[str, Any] | None, why: str) -> None:
        log.error(
            "login refused for %r from %s: %s",
            get_client_username(request, credentials) if request is not None else None,
            getattr(request, "axes_ip_address", None),
            why,
        )
        if request is not None:
            setattr(request, UNRECORDABLE, True)
            request.axes_locked_out = True  # the axes middleware answers with the lockout view
            request.axes_credentials = credentials

    def _can_record(self) -> bool:
        """A real write (and its removal): does recording work again?"""
        try:
            probe = f"(wbm write probe {secrets.token_hex(8)})"
            with transaction.atomic(using=router.db_for_write(AccessAttempt)):
                AccessAttempt.objects.create(username=probe, user_agent=probe, failures_since_start=0)
            AccessAttempt.objects.filter(username=probe).delete()
        except DatabaseError:
            return False
        with self._lock:
            FailClosedDatabaseHandler._broken = False
        log.warning("failed logins can be recorded again; logins are possible again")
        return True
