"""System Control pages in a real browser against runwbm: Status, Time, Log Files, Developer
Mode, Calibration Law and Module Switch fit at 1280 and 768 px in English and German
(screenshots: test-artifacts/<test>/system-<page>-<lang>-<width>.png); the browser's local time
shows beside the UTC time, and a clock in 2100 is refused in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import Account, WbmServer, log_in_as, page_widths
from wbm.roles import Role

PAGES = (
    ("status", "/system/"),
    ("time", "/system/time/"),
    ("logs", "/system/logs/"),
    ("developer", "/system/developer/"),
    ("calibration", "/system/calibration-law/"),
    ("moduleswitch", "/system/module-switch/"),
    ("reboot", "/system/reboot/"),
)


@pytest.fixture(scope="module")
def system_server(wbm_server: WbmServer) -> WbmServer:
    """The session's shared server: these tests change nothing another test could see."""
    return wbm_server


@pytest.fixture(scope="module")
def manufacturer(wbm_server: WbmServer) -> Account:
    """One account for the module (making one runs a process; logging in is quick)."""
    return wbm_server.create_user("sys-pages-manufacturer", Role.MANUFACTURER)


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, who: Account, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, who)
    return page


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_every_system_page_fits_in_both_languages(
    system_server: WbmServer, manufacturer: Account, new_context, screenshot: Callable[..., Path], lang: str, width: int
):
    page = _open(new_context, system_server, manufacturer, lang, width)
    for name, url in PAGES:
        page.goto(f"{system_server.url}{url}")
        assert page.locator("html").get_attribute("lang") == lang
        expect(page.locator("h1")).to_be_visible()
        if name == "status":
            expect(page.get_by_test_id("app-row").first).to_be_visible()
        screenshot(page, f"system-{name}-{lang}-{width}")
        used, inner = page_widths(page)
        assert used <= inner, f"{url} is {used} px wide in a {inner} px window"


def test_time_shows_the_browser_clock_and_refuses_2100(
    system_server: WbmServer, manufacturer: Account, new_context, screenshot
):
    page = _open(new_context, system_server, manufacturer, "en", 1280)
    page.goto(f"{system_server.url}/system/time/")
    expect(page.get_by_test_id("browser-now")).not_to_have_text("–")
    page.locator("#id_utc").fill("2100-01-01T00:00:00")
    page.get_by_test_id("time-set-btn").click()
    expect(page.locator("#id_utc-errors, .errorlist, .field-error").first).to_contain_text("outside")
    screenshot(page, "system-time-2100-refused")


def test_the_support_bundle_downloads_with_progress(
    system_server: WbmServer, manufacturer: Account, new_context, screenshot, tmp_path
):
    page = _open(new_context, system_server, manufacturer, "en", 1280)
    page.goto(f"{system_server.url}/system/logs/")
    with page.expect_download() as info:
        page.get_by_test_id("download-support").click()
    saved = tmp_path / "bundle.zip"
    info.value.save_as(saved)
    expect(page.locator("#download-status")).to_have_text("Download complete.")
    screenshot(page, "system-logs-downloaded")
    import zipfile

    with zipfile.ZipFile(saved) as archive:
        assert "README.txt" in archive.namelist() and "status.json" in archive.namelist()


def test_calibration_law_shows_red_and_yellow_rows(
    system_server: WbmServer, manufacturer: Account, new_context, screenshot
):
    page = _open(new_context, system_server, manufacturer, "de", 1280)
    page.goto(f"{system_server.url}/system/calibration-law/")
    expect(page.locator("tr.finding-error").first).to_be_visible()
    expect(page.locator("tr.finding-warning").first).to_be_visible()
    red = page.locator("tr.finding-error td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    yellow = page.locator("tr.finding-warning td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert red != yellow and red != "rgba(0, 0, 0, 0)"
