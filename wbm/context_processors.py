from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from wbm.dashboard.liveness import ALIVE, current_view, scaled
from wbm.menu import navigation
from wbm.roles import allowed_perms, role_of


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: the menu for this role and what the role may do."""
    user = getattr(request, "user", None)
    profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
    # While a default password is in use nothing but changing it is possible: no menu.
    locked_to_password_change = bool(profile and profile.must_change_password)
    return {
        "nav": [] if locked_to_password_change else navigation(user, request.path),
        "role": role_of(user),
        "can": allowed_perms(user),
        "LANGUAGES": settings.LANGUAGES,
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        # is the live state current (wbm.dashboard.liveness.RuntimeView)? Scaled mode asks the
        # cache, once per page and only when the page shows it; embedded mode shows it as now
        "liveness": SimpleLazyObject(lambda: current_view() if scaled() else ALIVE),
    }
