"""The Load Management page in a real browser against runwbm: the status live (agent running,
limiting, monitored charging points, currents, the chart, the allocation per charging point
and phase with its reason), a bad fuse refused in place and a good configuration saved.
Screenshots of status and configuration at 1280 and 768 px in English and German:
test-artifacts/<test>/loadmgmt-<lang>-<width>.png and loadmgmt-config-<lang>-<width>.png."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths, wait_live
from wbm.roles import Role

URL = "/loadmanagement/"


def api(server: WbmServer, path: str, body: dict[str, Any] | None = None, *, token: str, method: str = "") -> Any:
    request = urllib.request.Request(
        server.url + path,
        method=method or ("POST" if body is not None else "GET"),
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


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
def lm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    """A park whose load circuit (20 A) holds P1-02 and Visitor-01, both charging a 3-phase car."""
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-loadmgmt-e2e"))
    server.start()
    try:
        maker = token_of(server, "lm-maker", Role.MANUFACTURER)
        park = api(server, "/api/v1/park/", token=maker)
        ids = {c["name"]: c["id"] for c in park["chargepoints"]}
        assigned = [ids["P1-02"], ids["Visitor-01"]]
        operator = token_of(server, "lm-operator", Role.OPERATOR)
        api(
            server,
            "/api/v1/loadmgmt/config/",
            {"park_name": "Garage Nord", "fuse_a": 20, "chargepoints": assigned},
            token=operator,
            method="PATCH",
        )
        for pk in assigned:
            api(
                server,
                f"/api/v1/simulator/chargepoints/{pk}/plug_in/",
                {"phases": 3, "max_current_a": 32},
                token=maker,
            )
        yield server
    finally:
        server.stop()


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"lm-op-{lang}-{width}", Role.OPERATOR))
    page.goto(server.url + URL)
    return page


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_the_status_shows_the_allocation_and_why_and_the_page_fits(
    lm_server: WbmServer, new_context, screenshot: Callable[..., Path], lang: str, width: int
):
    page = _open(new_context, lm_server, lang, width)
    wait_live(page)
    expect(page.get_by_test_id("lm-active")).to_have_class("badge st-running")
    expect(page.get_by_test_id("lm-monitored")).to_have_text("2", timeout=15_000)
    expect(page.locator("[data-testid=lm-points] tbody tr")).to_have_count(2)
    # 20 A for two 3-phase cars: 10 A each, bound by the load circuit fuse
    expect(page.get_by_test_id("lm-limiting")).to_contain_text("Yes" if lang == "en" else "Ja", timeout=15_000)
    first = page.locator("[data-testid=lm-points] tbody tr").first
    # the reason in the page's language, also after the live updates
    reason = "the load circuit fuse" if lang == "en" else "die Absicherung des Laststromkreises"
    expect(first.locator("[data-testid^=lm-reason-]")).to_have_text(reason, timeout=15_000)
    page.wait_for_timeout(2500)  # a few live updates later
    expect(first.locator("[data-testid^=lm-reason-]")).to_have_text(reason)
    expect(page.locator("#lm-chart .uplot")).to_have_count(1, timeout=15_000)  # the vendored chart drew
    assert page.locator("html").get_attribute("lang") == lang
    screenshot(page, f"loadmgmt-{lang}-{width}")
    page.locator("#lm-config").scroll_into_view_if_needed()
    expect(page.get_by_test_id("lm-assign")).to_be_visible()
    screenshot(page, f"loadmgmt-config-{lang}-{width}", full_page=False)
    used, inner = page_widths(page)
    assert used <= inner, f"the page is {used} px wide in a {inner} px window"


def test_a_bad_fuse_is_refused_in_place_and_the_meter_fields_follow_the_connection(
    lm_server: WbmServer, new_context, screenshot: Callable[..., Path]
):
    page = _open(new_context, lm_server, "en", 1280)
    page.locator("#id_meter_connection").select_option("tcp")
    expect(page.locator("#id_meter_ip")).to_be_visible()  # re-rendered for TCP/IP
    page.locator("#id_meter_ip").fill("192.168.5.20")
    page.locator("#id_meter_type").select_option("eem_em377")
    page.locator("#id_higher_fuse_a").fill("63")
    page.locator("#id_fuse_a").fill("0")
    page.get_by_test_id("lm-save").click()
    expect(page.get_by_test_id("lm-invalid")).to_be_visible()
    expect(page.locator("#id_fuse_a-errors")).to_contain_text("at least 1 A")
    expect(page.locator("#id_meter_ip-errors")).to_contain_text("reserved")
    screenshot(page, "loadmgmt-errors-en-1280")
    page.locator("#id_fuse_a").fill("25")
    page.locator("#id_meter_ip").fill("10.0.0.77")
    page.get_by_test_id("lm-save").click()
    expect(page.get_by_test_id("lm-saved")).to_be_visible()
    # the meter does not answer (nobody at 10.0.0.77): energy management offline, fallback
    expect(page.get_by_test_id("lm-offline")).to_be_visible(timeout=20_000)
    page.goto(lm_server.url + "/dashboard/")
    expect(page.get_by_test_id("lm-offline-banner")).to_be_visible()
    screenshot(page, "dashboard-lm-offline-en-1280")
    # back to no measuring device: the banner goes by itself
    page.goto(lm_server.url + URL)
    page.locator("#id_meter_connection").select_option("none")
    expect(page.locator("#id_meter_ip")).to_have_count(0)
    page.locator("#id_fuse_a").fill("20")
    page.get_by_test_id("lm-save").click()
    expect(page.get_by_test_id("lm-saved")).to_be_visible()
    page.goto(lm_server.url + "/dashboard/")
    expect(page.get_by_test_id("lm-offline-banner")).to_have_count(0, timeout=10_000)
