"""The WBM answers only under its own names (DNS rebinding), and every response carries a
Content-Security-Policy that the templates keep to (no inline script, handler or style)."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.http.request import validate_host
from django.test import Client, override_settings

from tests.conftest import make_user
from tests.routes import MissingExample, all_routes, pk_candidates
from wbm.hosts import allowed_hosts
from wbm.roles import Role
from wbm.routing import SameOriginValidator

BASE_DIR = Path(settings.BASE_DIR)

# --- hosts ------------------------------------------------------------------------------------


def test_a_page_asked_for_under_a_foreign_name_gets_400(client):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/api/v1/park/", HTTP_HOST="evil.example:8000").status_code == 400


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "192.168.5.1", socket.gethostname()]
)
def test_the_controllers_own_names_and_addresses_are_answered(db, client, host):
    assert client.get("/", HTTP_HOST=host).status_code == 200


def test_every_interface_address_is_allowed():
    import psutil

    ipv4 = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == socket.AF_INET]
    assert ipv4
    for address in ipv4:
        assert validate_host(address, settings.ALLOWED_HOSTS), address


def test_wbm_allowed_hosts_adds_names_to_the_controllers_own():
    hosts = allowed_hosts("ev3000.example.com, .park.example")
    assert "127.0.0.1" in hosts and "192.168.5.1" in hosts
    assert validate_host("ev3000.example.com", hosts)
    assert validate_host("wallbox.park.example", hosts)
    assert not validate_host("evil.example", hosts)
    assert "*" not in allowed_hosts("")


def test_any_host_stays_possible_but_start_up_warns(caplog):
    with override_settings(ALLOWED_HOSTS=allowed_hosts("*")), caplog.at_level(logging.WARNING, "wbm.security"):
        apps.get_app_config("wbm").ready()
    assert "DNS rebinding" in caplog.text
    caplog.clear()
    apps.get_app_config("wbm").ready()
    assert caplog.text == ""


async def _accept_every_socket(scope, receive, send) -> None:
    """Stands for the routes behind the validator: accepts, then waits for the close."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def _handshake(host: bytes, origin: bytes) -> bool:
    communicator = WebsocketCommunicator(
        SameOriginValidator(_accept_every_socket), "/ws/dashboard/", headers=[(b"host", host), (b"origin", origin)]
    )
    connected, _ = await communicator.connect(timeout=5)
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.asyncio
async def test_a_websocket_from_a_rebound_foreign_name_is_refused():
    # DNS rebinding: the attacker's page and the socket both carry the attacker's name
    assert not await _handshake(b"evil.example", b"http://evil.example")
    assert not await _handshake(b"evil.example:8000", b"http://evil.example:8000")


@pytest.mark.asyncio
async def test_a_websocket_from_the_controllers_own_page_is_accepted():
    assert await _handshake(b"testserver", b"http://testserver")
    assert await _handshake(b"127.0.0.1:8000", b"http://127.0.0.1:8000")


# --- Content-Security-Policy ------------------------------------------------------------------


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


def test_the_policy_allows_only_this_origin_and_no_inline_code(client):
    policy = _directives(client.get("/accounts/login/"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'self'"
    assert policy["object-src"] == "'none'"


def test_every_page_and_api_answer_carries_the_policy(park):
    manufacturer = Client(raise_request_exception=False)
    manufacturer.force_login(make_user(Role.MANUFACTURER))
    guest = Client(raise_request_exception=False)
    missing: list[str] = []
    checked = 0
    for route in all_routes():
        if "get" not in route.methods:
            continue
        try:
            url = (
                route.example_url() if "pk" not in route.kwarg_names else route.example_url(pk=pk_candidates(route)[0])
            )
        except MissingExample:
            continue  # the access matrix reports it
        for who, client in (("manufacturer", manufacturer), ("guest", guest)):
            response = client.get(url)
            checked += 1
            if "Content-Security-Policy" not in response:
                missing.append(f"{who} GET {url} ({response.status_code})")
    for url in ("/no-such-page/", "/static/wbm/wbm.css"):
        if "Content-Security-Policy" not in guest.get(url):
            missing.append(f"guest GET {url}")
    assert checked > 40
    assert missing == []


def test_the_other_security_headers_stay(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_api_docs_run_under_the_same_policy(client_as):
    user = client_as(Role.USER)
    response = user.get("/api/v1/docs/")
    assert response.status_code == 200
    assert _directives(response)["script-src"] == "'self'"
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html) and "<style" not in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    init = next(s for s in scripts if "script" in s.split("?", 1)[-1])
    script = user.get(init.replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()  # offline: no validator.swagger.io


# --- templates --------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=|<style\b", re.I)
EVAL_IN_HTMX = re.compile(r"""hx-trigger=["'][^"']*\[|hx-on|hx-vars|(?:hx-vals)=["']\s*(?:js|javascript):""", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _templates() -> list[Path]:
    roots = [BASE_DIR / "templates"]
    for config in apps.get_app_configs():
        path = Path(config.path)
        if BASE_DIR in path.parents and ".venv" not in path.parts:
            roots.append(path / "templates")
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*.html"))


def test_no_template_has_inline_script_handlers_styles_or_eval():
    templates = _templates()
    assert len(templates) > 20
    found: list[str] = []
    for path in templates:
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", "", path.read_text(), flags=re.S)
        for kind, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("event handler attribute", EVENT_HANDLER),
            ("inline style", INLINE_STYLE),
            ("htmx expression needing eval", EVAL_IN_HTMX),
            ("javascript: URL", JS_URL),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {kind}: {match.group(0)[:80]}")
    assert found == []


def test_htmx_is_told_not_to_inject_styles_or_eval(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false}\'>' in html
