"""The Content-Security-Policy in a real browser: the pages work under it and chromium reports no
violation (neither a ``securitypolicyviolation`` event nor a console message) on the live
dashboard, the simulator (choosing another charge point submits the form), a charge point's
status page, the CHARX RFID/NFC board page and the API documentation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, wait_live
from wbm.roles import Role

# Runs before any script of each page (injected by the browser, not subject to the policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.reportCspViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber].join(" "));
});
"""


def watched_page(new_context: Callable[..., BrowserContext], violations: list[str]) -> Page:
    context = new_context()
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on(
        "console",
        lambda msg: (
            violations.append(f"console: {msg.text}")
            if re.search(r"Content Security Policy|Refused to", msg.text)
            else None
        ),
    )
    return page


def open_with_policy(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.fixture(scope="module")
def csp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    """A server of its own: the board page's LED must show a profile, whatever other tests did to
    the shared server's board settings."""
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-csp")).start()
    try:
        yield server
    finally:
        server.stop()


def test_the_pages_run_under_the_policy_without_violations(
    csp_server: WbmServer, new_context: Callable[..., BrowserContext]
) -> None:
    wbm_server = csp_server
    violations: list[str] = []
    page = watched_page(new_context, violations)

    # the dashboard with live values: the same-origin WebSocket is allowed by connect-src 'self'
    open_with_policy(page, wbm_server.url + "/")
    wait_live(page)

    maker = wbm_server.create_user("csp-maker", Role.MANUFACTURER)
    log_in_as(page, wbm_server.url, maker)

    # the simulator: choosing another charge point submits the form (data-autosubmit, page.js)
    open_with_policy(page, wbm_server.url + "/system/simulator/")
    option = page.locator("#sim-cp option", has_text="P1-03")
    value = option.get_attribute("value")
    page.locator("#sim-cp").select_option(value)
    expect(page).to_have_url(re.compile(rf"[?&]cp={value}\b"))
    expect(page.locator("#sim-cp option:checked")).to_contain_text("P1-03")
    wait_live(page)

    # a charge point's status page, live
    page.goto(wbm_server.url + "/chargepoints/")
    page.locator(f"#status-{value}").click()
    expect(page.get_by_test_id("title")).to_have_text("P1-03")
    wait_live(page)

    # the CHARX RFID/NFC board: its LED gets period and brightness without an inline style
    open_with_policy(page, wbm_server.url + "/chargepoints/rfid-board/")
    wait_live(page)
    leds = page.evaluate(
        "Array.from(document.querySelectorAll('.led[data-led-period]'),"
        " l => [l.dataset.ledPeriod, getComputedStyle(l).getPropertyValue('--led-period').trim()])"
    )
    assert leds and all(period == applied for period, applied in leds), leds

    # the API documentation (Swagger UI) renders the operations
    open_with_policy(page, wbm_server.url + "/api/v1/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("WBM API")

    # the language switch (data-autosubmit in the top bar) still submits
    page.goto(wbm_server.url + "/")
    page.locator("#language-select").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.wait_for_timeout(500)  # let a late report arrive (not a timing assertion)
    assert violations == []
