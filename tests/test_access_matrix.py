"""Every URL and every API route under every role answers as the one permission map says.

The routes come from the URL resolver, so a route added anywhere is walked automatically and a
route that declares no permission fails here with its name (deny by default).

Expected answers:
- allowed: anything but a refusal: no 401/403, no redirect to the login page, no 404 (the example
  object exists), no 5xx; 405 only for a method the view does not handle, 400/409 for the empty
  body of a write are fine.
- denied, page: Guest → 302 to the login page (with ``next``); a logged-in role → the styled 403.
- denied, API: Guest → 401 JSON; a logged-in role → 403 JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tests.conftest import make_user
from tests.routes import OWNED_BY_CALLER, MissingExample, Route, all_routes, pk_candidates
from wbm.roles import MIN_ROLE, Perm, Role

ROUTES = all_routes()


def _login_path() -> str:
    return reverse(settings.LOGIN_URL)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _call(client: Client, route: Route, method: str, url: str) -> HttpResponse:
    if route.is_api:
        body = "{}" if method != "get" else None
        return client.generic(method.upper(), url, data=body or "", content_type="application/json")
    if method == "get":
        return client.get(url)
    if method == "post":
        return client.post(url, {})
    return client.generic(method.upper(), url, data="", content_type="application/x-www-form-urlencoded")


def _json(response: HttpResponse) -> dict[str, Any] | None:
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _redirects_to_login(response: HttpResponse) -> bool:
    return (
        response.status_code in (301, 302, 303, 307, 308)
        and urlparse(response.get("Location", "")).path == _login_path()
    )


def _check_allowed(route: Route, method: str, url: str, response: HttpResponse, unsupported: bool) -> str | None:
    status = response.status_code
    if status in (401, 403):
        return f"refused with {status} although the map allows it"
    if _redirects_to_login(response):
        return "redirected to the login page although the map allows it"
    if status == 404:
        return (
            "404: the example object does not exist or the view cannot find it "
            "(give the route a better example in tests/routes.py, or fix the view)"
        )
    if status == 405 and not unsupported:
        return "405 although the view handles this method"
    if status >= 500:
        return f"server error {status}"
    return None


def _check_denied(
    route: Route, method: str, url: str, role: Role, response: HttpResponse, unsupported: bool
) -> str | None:
    status = response.status_code
    if unsupported and status == 405:
        return None  # the method does not exist here for anybody
    if route.is_api:
        expected = 401 if role == Role.GUEST else 403
        data = _json(response)
        if status != expected:
            return f"expected {expected} JSON for a refused API call, got {status}"
        if data is None or not data.get("detail"):
            return f"the {status} answer is not JSON with a 'detail' message: {response.content[:200]!r}"
        return None
    if role == Role.GUEST:
        if not _redirects_to_login(response):
            return f"expected a redirect to the login page for a Guest, got {status} {response.get('Location', '')}"
        next_url = parse_qs(urlparse(response["Location"]).query).get("next", [""])[0]
        if urlparse(next_url).path != urlparse(url).path:
            return f"the login redirect does not come back here (next={next_url!r})"
        return None
    if status != 403:
        return f"expected the styled 403 page, got {status}"
    body = response.content.decode()
    if 'class="errorpage' not in body or "<html" not in body:
        return "the 403 answer is not the styled error page"
    return None


# --- deny by default: every route declares what it requires ---------------------------------


def test_the_resolver_walk_finds_pages_and_api_routes():
    routes = {r.route for r in ROUTES}
    assert "" in routes and "api/v1/park/" in routes and "api/v1/schema/" in routes
    assert "system/simulator/" in routes and "api/v1/simulator/chargepoints/<int:pk>/<str:op>/" in routes


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_declares_its_permission(route: Route):
    for method in route.methods:
        perm = route.perm_for(method)
        assert perm is not None, (
            f"{method.upper()} /{route.route} ({route} → {route.view_label}) declares no required "
            f"permission: set `required = Perm.X` (and `required_by_method` for writes) from wbm/roles.py"
        )
        assert isinstance(perm, Perm), f"{route}: {perm!r} is not a wbm.roles.Perm"
        assert perm in MIN_ROLE


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_has_an_example_url(db, route: Route):
    from chargepoints.demo import load_demo_park

    load_demo_park()
    try:
        url = route.example_url()
    except MissingExample as exc:
        pytest.fail(str(exc))
    assert url.startswith("/")


# --- every route × every role ----------------------------------------------------------------


def _example_url(route: Route, probe: Client) -> str:
    """The route's URL with an object the view accepts: of the candidates for ``pk`` the first
    one a Manufacturer can GET without a 404 (e.g. a charge point that has an RFID board)."""
    if "pk" not in route.kwarg_names:
        return route.example_url()
    candidates = pk_candidates(route)
    if route.handles("get") is False:
        return route.example_url(pk=candidates[0])
    for pk in candidates:
        url = route.example_url(pk=pk)
        if _call(probe, route, "get", url).status_code != 404:
            return url
    return route.example_url(pk=candidates[0])  # every candidate is 404: the walk reports it


@pytest.mark.parametrize("role", list(Role), ids=lambda r: str(r.label))
def test_every_route_answers_each_role_as_the_permission_map_says(runtime, role: Role):
    user = make_user(role) if role != Role.GUEST else None
    probe = make_user(Role.MANUFACTURER, username="matrix-probe")
    # reads first, deletes last, so that a write cannot hide a read; a write looks its object up
    # again (an earlier write may have deleted it)
    order = {"get": 0, "delete": 2}
    calls = sorted(((route, method) for route in ROUTES for method in route.methods), key=lambda c: order.get(c[1], 1))
    read_urls: dict[Route, str] = {}
    failures: list[str] = []
    checked = 0
    for route, method in calls:
        perm = route.perm_for(method)
        if perm is None:
            continue  # reported by test_every_route_declares_its_permission
        try:
            if route.name in OWNED_BY_CALLER:  # the caller's own object (a Guest's: the probe's)
                url = route.example_url(pk=OWNED_BY_CALLER[route.name](user or probe))
            elif method != "get":
                url = _example_url(route, _client(probe))
            elif route not in read_urls:
                url = read_urls[route] = _example_url(route, _client(probe))
            else:
                url = read_urls[route]
        except MissingExample as exc:
            failures.append(str(exc))
            continue
        allowed = role >= MIN_ROLE[perm]
        label = f"{method.upper()} {url} [{route}, needs {perm.value} = {MIN_ROLE[perm].label}]"
        handles = route.handles(method)
        try:
            if handles is None:  # function view: does the method exist at all?
                handles = _call(_client(probe), route, method, url).status_code != 405
            response = _call(_client(user), route, method, url)
        except Exception as exc:  # one broken view must not hide the others
            failures.append(f"{label}: raised {exc!r}")
            continue
        checked += 1
        problem = (
            _check_allowed(route, method, url, response, not handles)
            if allowed
            else _check_denied(route, method, url, role, response, not handles)
        )
        if problem:
            failures.append(f"{label} as {role.label}: {problem}")
    assert checked >= len(ROUTES), "the walk called fewer routes than exist"
    assert not failures, f"{len(failures)} route(s) answer {role.label} wrongly:\n" + "\n".join(failures)
