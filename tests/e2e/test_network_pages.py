"""The Network pages in a real browser against runwbm: every page fits at 1280 and 768 px in
English and German (screenshots: test-artifacts/<test>/network-<page>-<lang>-<width>.png), a bad
address is refused in place, and an unconfirmed address change comes back by itself (the network
agent, with a short ``WBM_NETWORK_CONFIRM_S``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths
from wbm.roles import Role

PAGES = ("", "wlan/", "ports/", "modem/", "routes/")


@pytest.fixture(scope="module")
def network_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-network-e2e"), extra_env={"WBM_NETWORK_CONFIRM_S": "4"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"net-op-{lang}-{width}", Role.OPERATOR))
    return page


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_every_network_page_fits_in_both_languages(
    network_server: WbmServer, new_context, screenshot: Callable[..., Path], lang: str, width: int
):
    page = _open(new_context, network_server, lang, width)
    for sub in PAGES:
        page.goto(f"{network_server.url}/network/{sub}")
        assert page.locator("html").get_attribute("lang") == lang
        expect(page.locator("h1")).to_be_visible()
        screenshot(page, f"network-{sub.strip('/') or 'ethernet'}-{lang}-{width}")
        used, inner = page_widths(page)
        assert used <= inner, f"/network/{sub} is {used} px wide in a {inner} px window"
    page.goto(f"{network_server.url}/network/modem/")
    expect(page.get_by_test_id("modem-sim")).to_contain_text("SIM")


def test_a_reserved_address_is_refused_in_place(network_server: WbmServer, new_context, screenshot):
    page = _open(new_context, network_server, "en", 1280)
    page.goto(f"{network_server.url}/network/")
    page.locator("#id_dhcp").uncheck()
    page.locator("#id_ip").fill("192.168.5.20")
    page.get_by_test_id("eth-save").click()
    expect(page.locator("#id_ip-errors")).to_contain_text("192.168.4.x and 192.168.5.x are reserved")
    screenshot(page, "network-ethernet-error")


def test_an_unconfirmed_address_change_comes_back_by_itself(network_server: WbmServer, new_context, screenshot):
    page = _open(new_context, network_server, "en", 1280)
    page.goto(f"{network_server.url}/network/")
    page.locator("#id_dhcp").uncheck()
    page.locator("#id_ip").fill("10.1.2.10")
    page.locator("#id_netmask").fill("255.255.255.0")
    page.locator("#id_gateway").fill("10.1.2.1")
    page.get_by_test_id("eth-save").click()
    expect(page.get_by_test_id("net-pending")).to_be_visible()
    expect(page.get_by_test_id("eth-ipv4")).to_contain_text("10.1.2.10")
    screenshot(page, "network-countdown")
    expect(page.get_by_test_id("net-pending")).to_have_count(0, timeout=15_000)  # the agent restored it
    page.reload()
    expect(page.get_by_test_id("eth-ipv4")).to_contain_text("DHCP")
    expect(page.locator("#id_dhcp")).to_be_checked()


def test_a_wrong_sim_pin_counts_down_and_is_said(network_server: WbmServer, new_context):
    page = _open(new_context, network_server, "en", 1280)
    page.goto(f"{network_server.url}/network/modem/")
    page.locator("#id_pin").fill("0000")
    page.get_by_test_id("modem-unlock-btn").click()
    expect(page.locator(".messages")).to_contain_text("2 attempts left")
    expect(page.get_by_test_id("modem-sim")).to_have_text("Incorrect password")
