"""The OCPP pages in a real browser against runwbm and a test backend (``ThreadedCsms``): the
status page's connection goes green when the backend is there and red when it goes, and new
messages arrive live; the settings page shows the certificate upload only for wss://; a change
by the backend appears on the server variables page. Screenshots of the three pages at 1280 and
768 px in English and German: test-artifacts/<test>/ocpp-<page>-<lang>-<width>.png."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths, wait_live
from tests.ocpp.csms import ThreadedCsms
from wbm.roles import Role

CHARGE_BOX = "CB-E2E-01"


def api(server: WbmServer, path: str, body: Any = None, *, token: str, method: str = "") -> Any:
    request = urllib.request.Request(
        server.url + path,
        method=method or ("POST" if body is not None else "GET"),
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{path}: {exc.code} {exc.read()[:500]!r}") from None
    return json.loads(raw) if raw else None


def token_of(server: WbmServer, username: str, role: Role) -> str:
    who = server.create_user(username, role)
    request = urllib.request.Request(
        server.url + "/api/v1/auth/token/",
        method="POST",
        data=json.dumps({"username": who.username, "password": who.password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["token"])


@pytest.fixture(scope="module")
def csms() -> Iterator[ThreadedCsms]:
    backend = ThreadedCsms()
    backend.start()
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def ocpp_server(tmp_path_factory: pytest.TempPathFactory, csms: ThreadedCsms) -> Iterator[WbmServer]:
    """A park whose first two charge points are controlled via OCPP (connectors 1 and 2); the
    backend URL points at the test backend."""
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-ocpp-e2e"))
    server.start()
    try:
        maker = token_of(server, "ocpp-maker", Role.MANUFACTURER)
        park = api(server, "/api/v1/park/", token=maker)
        ids = [c["id"] for c in park["chargepoints"]]
        for pk, connector in zip(ids[:2], (1, 2), strict=True):
            api(
                server,
                f"/api/v1/chargepoints/{pk}/config/",
                {"release_mode": "ocpp", "ocpp_connector_id": connector},
                token=maker,
                method="PATCH",
            )
        operator = token_of(server, "ocpp-operator", Role.OPERATOR)
        api(
            server,
            "/api/v1/ocpp/settings/",
            {"backend_url": csms.url(CHARGE_BOX), "model": "AC-Park", "vendor": "WBM"},
            token=operator,
            method="PATCH",
        )
        yield server
    finally:
        server.stop()


def _open(
    new_context: Callable[..., BrowserContext], server: WbmServer, path: str, lang: str = "en", width: int = 1280
) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"ocpp-op-{lang}-{width}", Role.OPERATOR))
    page.goto(server.url + path)
    return page


def test_the_connection_goes_green_and_red_and_new_messages_arrive_live(
    ocpp_server: WbmServer, csms: ThreadedCsms, new_context, screenshot: Callable[..., Path]
):
    csms.wait_connected(CHARGE_BOX, timeout=30)
    page = _open(new_context, ocpp_server, "/ocpp/")
    wait_live(page)
    lamp = page.get_by_test_id("ocpp-connection")
    expect(lamp).to_have_attribute("data-connected", "true", timeout=20_000)
    expect(page.get_by_test_id("ocpp-registration")).to_contain_text("Accepted", timeout=20_000)
    expect(page.locator("[data-testid=ocpp-chargepoints] tbody tr")).to_have_count(2)
    expect(page.locator("#ocpp-messages-body tr[data-id]").first).to_be_visible(timeout=20_000)
    # a CALL from the backend: its CALL and CALLRESULT appear at the top without a reload
    csms.call(CHARGE_BOX, "GetConfiguration", {"key": ["HeartbeatInterval"]})
    expect(page.locator("#ocpp-messages-body tr[data-id]").first).to_contain_text("GetConfiguration", timeout=10_000)
    ids = [
        int(i) for i in page.locator("#ocpp-messages-body tr[data-id]").evaluate_all("r => r.map(e => e.dataset.id)")
    ]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    page.locator("#ocpp-messages-body tr[data-id] details").first.locator("summary").click()
    expect(page.locator("#ocpp-messages-body tr[data-id] details pre").first).to_be_visible()
    screenshot(page, "ocpp-status-connected-en-1280")
    # the backend goes away: red
    events = page.locator("#ocpp-timeline tbody tr")
    before = events.count()
    csms.stop()
    expect(lamp).to_have_attribute("data-connected", "false", timeout=20_000)
    # the timeline follows without a reload: the disconnect on top
    expect(events).not_to_have_count(before, timeout=20_000)
    expect(events.first).to_have_attribute("data-kind", re.compile("disconnected|failed"))
    screenshot(page, "ocpp-status-disconnected-en-1280")
    # and comes back: green again (the agent reconnects with its back-off)
    csms.start()
    csms.wait_connected(CHARGE_BOX, timeout=60)
    expect(lamp).to_have_attribute("data-connected", "true", timeout=30_000)
    assert csms.violations == []


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
@pytest.mark.parametrize("name", ["status", "settings", "variables"])
def test_the_ocpp_pages_fit_the_window_in_both_languages(
    ocpp_server: WbmServer,
    csms: ThreadedCsms,
    new_context,
    screenshot: Callable[..., Path],
    name: str,
    lang: str,
    width: int,
):
    path = {"status": "/ocpp/", "settings": "/ocpp/settings/", "variables": "/ocpp/variables/"}[name]
    page = _open(new_context, ocpp_server, path, lang, width)
    assert page.locator("html").get_attribute("lang") == lang
    if name != "settings":
        wait_live(page)
    if name == "status":
        expect(page.locator("#ocpp-messages-body tr[data-id]").first).to_be_visible(timeout=20_000)
        page.locator("#ocpp-messages-body tr[data-id] details").first.locator("summary").click()
    screenshot(page, f"ocpp-{name}-{lang}-{width}")
    used, inner = page_widths(page)
    assert used <= inner, f"the page is {used} px wide in a {inner} px window"
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main td, main th, main dd')]
            .filter(e => !e.closest('thead') || e.closest('thead').getBoundingClientRect().width > 4)  // reflowed: clipped
            .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')
            .map(e => e.textContent.trim().slice(0, 40))"""
    )
    assert overflowing == [], f"cells whose text is wider than the cell: {overflowing}"


def test_the_certificate_upload_shows_only_for_wss(ocpp_server: WbmServer, new_context):
    page = _open(new_context, ocpp_server, "/ocpp/settings/")
    upload = page.get_by_test_id("ocpp-certificate-upload")
    expect(upload).to_be_hidden()
    page.locator("#id_backend_url").fill("wss://backend.example/ocpp/CB-1")
    expect(upload).to_be_visible()
    page.locator("#id_backend_url").fill("ws://backend.example/ocpp/CB-1; reboot")
    expect(upload).to_be_hidden()
    page.get_by_test_id("ocpp-settings-save").click()
    expect(page.get_by_test_id("ocpp-settings-invalid")).to_be_visible()
    expect(page.locator("#id_backend_url-errors")).to_contain_text("spaces")
    expect(page.locator("#id_authorization_key")).to_have_value("")


def test_a_change_by_the_backend_appears_on_the_server_variables_page(
    ocpp_server: WbmServer, csms: ThreadedCsms, new_context
):
    csms.wait_connected(CHARGE_BOX, timeout=60)
    page = _open(new_context, ocpp_server, "/ocpp/variables/")
    wait_live(page)
    field = page.locator("#id_v_HeartbeatInterval")
    expect(field).to_have_value("300")
    notice = page.get_by_test_id("ocpp-variables-notice")
    expect(notice).to_be_hidden()
    answer = csms.call(CHARGE_BOX, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "240"})
    assert answer["status"] == "Accepted"
    expect(field).to_have_value("240", timeout=15_000)
    # while the user edits, the table stays and a notice says so
    page.locator("#id_v_MeterValueSampleInterval").fill("30")
    csms.call(CHARGE_BOX, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "200"})
    expect(notice).to_be_visible(timeout=15_000)
    expect(page.locator("#id_v_MeterValueSampleInterval")).to_have_value("30")
    page.locator("#ocpp-variables-reload").click()
    expect(field).to_have_value("200", timeout=10_000)
    expect(notice).to_be_hidden()
