"""Every WebSocket route under every role connects as the one permission map says.

The routes are walked from ``wbm.routing.websocket_urlpatterns`` (through nested ``URLRouter``s
and middleware around a consumer), never listed here: a route added to that list, however the
list is collected from the apps, is in this matrix without anyone adding it, and a consumer that
declares no permission fails ``test_every_route_declares_its_permission`` with its name.

Expected answers, through the same stack as ``wbm.asgi`` (same-origin check, session, router):
- allowed (``role >= MIN_ROLE[consumer.required]``): the handshake is accepted;
- denied: the connection is closed with 4403 before it is accepted. Guest = no session.
A consumer without ``required`` refuses everybody, the Manufacturer included (deny by default).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, path
from django.urls.resolvers import RegexPattern

from tests.conftest import session_cookie
from wbm.asgi import application
from wbm.dashboard.consumers import DashboardConsumer, LiveConsumer
from wbm.roles import MIN_ROLE, Perm, Role
from wbm.routing import SameOriginValidator, websocket_urlpatterns

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
DENIED = 4403

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _configured_chargepoint() -> int:
    from chargepoints.models import ChargePoint

    return int(ChargePoint.objects.filter(config__isnull=False).order_by("pk").values_list("pk", flat=True)[0])


# How to make a value for a URL keyword argument, from the data the test loaded (the demo park).
KWARG_EXAMPLES: dict[str, Callable[[], object]] = {
    "pk": _configured_chargepoint,
}


class MissingExample(LookupError):
    """A route takes a keyword argument this module cannot make a value for."""


@dataclass(frozen=True)
class WsRoute:
    route: str  # "ws/chargepoints/<int:pk>/" (no leading slash)
    consumer: type | None  # None: the walk found no consumer class behind the route
    converters: tuple[tuple[str, Any], ...]
    regex: bool = False  # declared with re_path and real groups

    def __str__(self) -> str:
        return self.route

    @property
    def perm(self) -> Perm | None:
        return getattr(self.consumer, "required", None)

    def example_path(self) -> str:
        """The route with example values for its keyword arguments (call with the database)."""
        if self.regex:
            raise MissingExample(
                f"WebSocket route {self.route!r} is a regular expression: declare it with path() "
                f"or teach tests/test_ws_access_matrix.py to build an example path for it"
            )
        converters = dict(self.converters)

        def fill(match: re.Match[str]) -> str:
            name = match.group("name")
            if name not in KWARG_EXAMPLES:
                raise MissingExample(
                    f"WebSocket route {self.route!r} takes <{name}>, which has no example value: "
                    f"add one to KWARG_EXAMPLES in tests/test_ws_access_matrix.py"
                )
            value = KWARG_EXAMPLES[name]()
            converter = converters.get(name)
            return str(converter.to_url(value)) if converter is not None else str(value)

        return "/" + _PARAM.sub(fill, self.route)


def _consumer_class(app: Any) -> type | None:
    """The consumer behind an ASGI callable: ``as_asgi()`` records it; middleware wraps it."""
    for _ in range(10):
        if app is None:
            return None
        if hasattr(app, "consumer_class"):
            return app.consumer_class  # type: ignore[no-any-return]
        app = getattr(app, "inner", None) or getattr(app, "app", None) or getattr(app, "application", None)
    return None


def walk(
    patterns: Iterable[URLPattern], prefix: str = "", converters: dict[str, Any] | None = None
) -> Iterator[WsRoute]:
    """Every endpoint of a Channels routing list, recursively through nested ``URLRouter``s."""
    for pattern in patterns:
        part = str(pattern.pattern)
        regex = False
        if isinstance(pattern.pattern, RegexPattern):
            part = part.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
            regex = bool(re.search(r"[()\[\]\\*+?{}|.]", part))
        merged = {**(converters or {}), **(getattr(pattern.pattern, "converters", None) or {})}
        inner = getattr(pattern.callback, "routes", None)  # a nested URLRouter
        if inner is not None:
            for route in walk(inner, prefix + part, merged):
                yield WsRoute(route.route, route.consumer, route.converters, route.regex or regex)
            continue
        yield WsRoute(prefix + part, _consumer_class(pattern.callback), tuple(sorted(merged.items())), regex)


ROUTES = list(walk(websocket_urlpatterns))


async def _connect(app: Any, path_: str, role: Role) -> tuple[WebsocketCommunicator, bool, Any]:
    headers = list(SAME_ORIGIN)
    if role != Role.GUEST:
        headers += await database_sync_to_async(session_cookie)(role)
    communicator = WebsocketCommunicator(app, path_, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


# --- deny by default: every consumer declares what it requires ------------------------------


def test_the_walk_finds_the_websocket_routes():
    assert ROUTES, "wbm.routing.websocket_urlpatterns yields no route"
    assert any(r.consumer is DashboardConsumer for r in ROUTES)


def test_the_walk_follows_nested_routers_and_middleware():
    """A route added to the list, nested or wrapped, is walked (and so in the matrix)."""

    class Extra(LiveConsumer):
        required = Perm.SIMULATOR_USE

    extra = [
        *websocket_urlpatterns,
        path("ws/extra/", URLRouter([path("<int:pk>/", AuthMiddlewareStack(Extra.as_asgi()))])),
    ]
    routes = {r.route: r for r in walk(extra)}
    assert set(routes) == {r.route for r in ROUTES} | {"ws/extra/<int:pk>/"}
    assert routes["ws/extra/<int:pk>/"].consumer is Extra
    assert routes["ws/extra/<int:pk>/"].perm == Perm.SIMULATOR_USE


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_declares_its_permission(route: WsRoute):
    assert route.consumer is not None, (
        f"no consumer class found behind WebSocket route {route.route!r}: route it to "
        f"SomeConsumer.as_asgi() (middleware around it is fine)"
    )
    assert route.perm is not None, (
        f"{route.consumer.__module__}.{route.consumer.__qualname__} (ws /{route.route}) declares no "
        f"required permission, so it refuses everybody: set `required = Perm.X` from wbm/roles.py"
    )
    assert isinstance(route.perm, Perm) and route.perm in MIN_ROLE


# --- every route × every role ---------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: str(r.label))
@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_every_route_answers_each_role_as_the_permission_map_says(live_runtime, route: WsRoute, role: Role):
    try:
        url = await database_sync_to_async(route.example_path)()
    except MissingExample as exc:
        pytest.fail(str(exc))
    perm = route.perm
    allowed = perm is not None and role >= MIN_ROLE[perm]
    needs = f"needs {perm.value} = {MIN_ROLE[perm].label}" if perm is not None else "declares no permission"
    communicator, connected, code = await _connect(application, url, role)
    if allowed:
        assert connected, f"ws {url} ({needs}) refused {role.label} with {code} although the map allows it"
        await communicator.disconnect()  # re-raises anything the consumer raised meanwhile
    else:
        assert not connected, f"ws {url} ({needs}) accepted {role.label}"
        assert code == DENIED, f"ws {url} ({needs}) refused {role.label} with {code}, expected {DENIED}"


# --- a consumer that declares nothing --------------------------------------------------------


class UndeclaredConsumer(LiveConsumer):
    """Forgot ``required``: must refuse everybody."""


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_consumer_without_a_required_permission_refuses_even_a_manufacturer(caplog):
    # the stack of wbm.asgi around a routing list holding only this consumer
    app = SameOriginValidator(AuthMiddlewareStack(URLRouter([path("ws/undeclared/", UndeclaredConsumer.as_asgi())])))
    with caplog.at_level(logging.ERROR, logger="wbm.dashboard.consumers"):
        _communicator, connected, code = await _connect(app, "/ws/undeclared/", Role.MANUFACTURER)
    assert not connected
    assert code == DENIED
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "UndeclaredConsumer declares no required permission" in errors[0].getMessage()
