"""Browser tests of issue 13: the dashboard after many changes equals the runtime's snapshot
(compact updates, counted times), a lost frame is repaired by the next, and the grouped and
filtered dashboard at 1280 and 768 px in English and German (screenshots in test-artifacts/)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from tests.e2e.conftest import Account, WbmServer, log_in_as, page_widths, wait_live
from tests.e2e.test_live_dashboard import api
from wbm.roles import Role
from wbm.templatetags.wbm import kw, kwh

pytestmark = pytest.mark.e2e


def _token(server: WbmServer, who: Account) -> str:
    return str(api(server, "/api/v1/auth/token/", {"username": who.username, "password": who.password})["token"])


def _dom(page: Page) -> dict[str, dict[str, str]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#cp-cards article.card')].map(card => [
            card.id.slice(3), Object.fromEntries([
                ['status', card.dataset.status],
                ...[...card.querySelectorAll('[data-live]')].map(el => [el.dataset.live, el.textContent.trim()]),
            ])]))"""
    )


def _seconds(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def _mismatches(dom: dict[str, dict[str, str]], park: dict) -> list[str]:
    problems = []
    with translation.override("en"):
        for cp in (c for c in park["chargepoints"] if c["configured"]):
            shown = dom.get(str(cp["id"]))
            if shown is None:
                problems.append(f"{cp['name']}: no card")
                continue
            meter = cp.get("meter") or {}
            power = kw(meter.get("power_w")) if cp["meter_configured"] else "–"
            energy = kwh(cp["session_energy_wh"]) if cp["meter_configured"] and cp["plugged_since"] else "–"
            expected = {"status": cp["dashboard_status"], "power": power, "energy": energy}
            for key, value in expected.items():
                if shown[key] != value:
                    problems.append(f"{cp['name']} {key}: page {shown[key]!r}, API {value!r}")
            for key, field in (("charging", "charging_s"), ("plugin", "plugin_s")):
                if abs(_seconds(shown[key]) - int(cp[field])) > 2:  # the page counts on by itself
                    problems.append(f"{cp['name']} {key}: page {shown[key]}, API {cp[field]} s")
    return problems


def test_after_ten_seconds_of_changes_the_page_equals_the_runtimes_snapshot(
    private_wbm_server: WbmServer, new_context: Callable[..., BrowserContext]
) -> None:
    server = private_wbm_server
    page = new_context().new_page()
    page.goto(server.url + "/")
    wait_live(page)
    token = _token(server, server.create_user("scale-maker", Role.MANUFACTURER))
    park = api(server, "/api/v1/park/", token=token)
    ids = [cp["id"] for cp in park["chargepoints"] if cp["configured"]]
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < 10:  # plug in, pause, resume, fault, clear, unplug
        cp = ids[step % len(ids)]
        action = step // len(ids) % 4
        path = f"/api/v1/simulator/chargepoints/{cp}/"
        if action == 0:
            api(server, path + "plug_in/", {"phases": 3, "max_current_a": 16}, token=token)
        elif action == 1:
            api(server, path + "vehicle/", {"action": "pause"}, token=token)
        elif action == 2:
            api(server, path + "vehicle/", {"action": "start"}, token=token)
        else:
            api(server, path + "unplug/", {}, token=token)
        step += 1
        time.sleep(0.4)
    # the page and the API at the same snapshot (they tick every second): a few tries
    problems: list[str] = []
    for _ in range(10):
        park = api(server, "/api/v1/park/", token=token)
        problems = _mismatches(_dom(page), park)
        if not problems:
            break
        time.sleep(0.3)
    assert not problems, problems


def test_a_lost_frame_is_repaired_by_the_next(
    wbm_server: WbmServer, new_context: Callable[..., BrowserContext], account: Callable[..., Account]
) -> None:
    token = _token(wbm_server, account(Role.MANUFACTURER))
    cp = next(c for c in api(wbm_server, "/api/v1/park/", token=token)["chargepoints"] if c["name"] == "Visitor-01")
    dropped: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if not dropped and re.search(rf'<article id="cp-{cp["id"]}"[^>]*data-status="error"', text):
                dropped.append(text)  # lost on the way
                return
            ws.send(message)

        server.on_message(from_server)

    page = new_context().new_page()
    page.route_web_socket(re.compile(r".*/ws/dashboard/$"), route)
    page.goto(wbm_server.url + "/")
    wait_live(page)
    card = page.locator(f"#cp-{cp['id']}")
    try:
        api(
            wbm_server,
            f"/api/v1/simulator/chargepoints/{cp['id']}/fault/",
            {"code": "GroundFailure", "info": ""},
            token=token,
        )
        expect(card).to_have_attribute("data-status", "error")
        assert dropped, "the frame with the fault never came"
    finally:
        api(wbm_server, f"/api/v1/simulator/chargepoints/{cp['id']}/clear_fault/", {}, token=token)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_grouped_and_filtered_dashboard_at_laptop_and_tablet_width(
    wbm_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    account: Callable[..., Account],
    screenshot: Callable[..., Path],
    language: str,
) -> None:
    for width in (1280, 768):
        page = new_context(viewport={"width": width, "height": 900}, locale=language).new_page()
        log_in_as(page, wbm_server.url, account(Role.OPERATOR))
        page.goto(wbm_server.url + "/")
        wait_live(page)
        stations = page.locator("#cp-cards .station")
        assert stations.count() >= 2
        screenshot(page, f"{language}-{width}-grouped")
        page.locator("#cp-filter select[name=station]").select_option(index=1)
        expect(stations.nth(1)).to_be_hidden()
        page.locator("#cp-filter input[name=q]").fill("P1-02")
        expect(page.locator("#cp-cards article.card:visible")).to_have_count(1)
        assert "q=P1-02" in page.url
        scroll, inner = page_widths(page)
        assert scroll <= inner
        screenshot(page, f"{language}-{width}-filtered")
        page.locator("#cp-filter input[name=q]").fill("no such charging point")
        expect(page.locator("#no-match")).to_be_visible()
        page.close()
