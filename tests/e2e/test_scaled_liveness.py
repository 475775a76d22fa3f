"""Scaled mode in a real browser: the runtime process dies, the open dashboard says so within
3 s and greys its values; a reload says so too; once a runtime runs again the page is live by
itself. Screenshots at 1280 and 768 px in English and German."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.scaledstack import Stack, scaled_stack

pytestmark = [pytest.mark.e2e, pytest.mark.scaled]

NOT_RUNNING = {
    "en": re.compile(r"Controller not running since \d\d:\d\d:\d\d"),
    "de": re.compile(r"Controller läuft seit \d\d:\d\d:\d\d nicht"),
}
LIVE = {"en": "Live", "de": "Live"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with scaled_stack(tmp_path_factory, webs=1, nginx=False, controllers=1, database="sqlite") as s:
        yield s


FADED = re.compile(r"^0(\.\d+)?$")  # any computed opacity below 1


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_dashboard_says_the_controller_is_not_running_and_greys_its_values(
    stack: Stack,
    lang: str,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    pages = {}
    for width in (1280, 768):
        context = new_context(viewport={"width": width, "height": 900})
        context.add_cookies([{"name": "wbm_language", "value": lang, "url": stack.url}])
        page = context.new_page()
        page.goto(stack.url + "/")
        expect(page.locator("#live-indicator")).to_have_text(LIVE[lang], timeout=15_000)
        pages[width] = page
    stack.kill("controller")
    killed = time.monotonic()
    for width, page in pages.items():
        expect(page.locator("#live-indicator")).to_have_text(NOT_RUNNING[lang], timeout=5_000)
        if width == 1280:
            assert time.monotonic() - killed <= 3.5  # the page's own redraw adds up to 0.5 s
        banner = page.locator("#stale-banner")
        expect(banner).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-live", "stale")
        # stale values fade; expect() retries, since a live update may replace the element meanwhile
        expect(page.get_by_test_id("sum-charging")).to_have_css("opacity", FADED)
        screenshot(page, f"not-running-{lang}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    reload = pages[1280]
    reload.reload()  # a fresh page says so from the start
    expect(reload.locator("#stale-banner")).to_be_visible()
    expect(reload.locator("body")).to_have_attribute("data-live", "stale")
    screenshot(reload, f"not-running-reloaded-{lang}")
    stack.start_controller("controller", wait_for="running")
    for page in pages.values():
        expect(page.locator("#live-indicator")).to_have_text(LIVE[lang], timeout=15_000)
        expect(page.locator("#stale-banner")).to_be_hidden()
        expect(page.get_by_test_id("sum-charging")).to_have_css("opacity", "1")
