"""Browser tests of issue 2: the live dashboard seen by a Guest while the Manufacturer drives the
simulator, the forced password change, the language switch, the stale indicator with automatic
reconnection, the layouts at laptop and tablet width, and the menu of each role.

Screenshots land in test-artifacts/<test>/ (see tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import (
    Account,
    WbmServer,
    change_password,
    log_in_as,
    login,
    logout,
    page_widths,
    wait_live,
)
from wbm.menu import MenuItem, menu
from wbm.roles import MIN_ROLE, Role

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Ladepark-Nord-7!"
HHMMSS = re.compile(r"\b\d\d:\d\d:\d\d\b")
FADED = re.compile(r"^0(\.\d+)?$")  # any computed opacity below 1


def card(page: Page, name: str) -> Locator:
    """The dashboard card of the charge point called ``name``."""
    return page.locator("#cp-cards article.card").filter(
        has=page.locator(".name", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
    )


def count(page: Page, testid: str) -> int:
    return int(page.get_by_test_id(testid).inner_text().strip())


def mark_page(page: Page) -> None:
    """Mark the document; the mark survives htmx swaps but not a reload."""
    page.evaluate("window.__noReload = 'still here'")


def was_not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__noReload") == "still here"


# --- the main scenario ---------------------------------------------------------------


def test_manufacturer_plugs_in_vehicle_and_guest_sees_charging_live(
    private_wbm_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    # A server of its own, as freshly installed: default accounts and the demo park untouched
    # by other tests.
    wbm_server = private_wbm_server

    guest = new_context().new_page()
    guest.goto(wbm_server.url + "/")
    wait_live(guest)
    p1_02 = card(guest, "P1-02")
    expect(p1_02.get_by_test_id("status")).to_have_text("Available")
    charging_before = count(guest, "sum-charging")
    available_before = count(guest, "sum-available")
    mark_page(guest)
    screenshot(guest, "1-guest-before")

    maker = new_context().new_page()
    maker.goto(wbm_server.url + "/")
    login(maker, wbm_server.url, "manufacturer", "manufacturer")
    # A default password must be changed before anything else is possible.
    expect(maker.locator("#id_old_password")).to_be_visible()
    screenshot(maker, "2-forced-password-change")
    maker.goto(wbm_server.url + "/system/")
    expect(maker.locator("#id_old_password")).to_be_visible()
    change_password(maker, "manufacturer", NEW_PASSWORD)
    expect(maker.locator("#usermenu-toggle")).to_contain_text("manufacturer")

    # System Control → Simulator, through the menu.
    maker.locator("#sidenav").get_by_role("link", name="System Control").click()
    maker.locator("#sidenav").get_by_role("link", name="Simulator").click()
    expect(maker.locator("h1")).to_contain_text("Simulator")
    option = maker.locator("#sim-cp option", has_text="P1-02")
    maker.locator("#sim-cp").select_option(option.get_attribute("value"))
    expect(maker.locator("#sim-cp option:checked")).to_contain_text("P1-02")
    maker.locator("#form-plug_in").get_by_role("button", name="Plug in vehicle").click()
    expect(maker.locator("#sim-ok")).to_be_visible()
    screenshot(maker, "3-simulator-plugged-in")

    # The guest's page follows without a reload: P1-02 permanently released → charging.
    expect(p1_02.get_by_test_id("status")).to_have_text("Charging")
    expect(p1_02).to_have_attribute("data-status", "charging")
    expect(guest.get_by_test_id("sum-charging")).to_have_text(str(charging_before + 1))
    expect(guest.get_by_test_id("sum-available")).to_have_text(str(available_before - 1))
    expect(p1_02.get_by_test_id("power")).not_to_have_text("0.00 kW")
    assert was_not_reloaded(guest)
    screenshot(guest, "4-guest-after")

    # Unplugging brings it back, again live (and leaves the park as it was).
    maker.locator("#unplug").click()
    expect(p1_02.get_by_test_id("status")).to_have_text("Available")
    expect(guest.get_by_test_id("sum-charging")).to_have_text(str(charging_before))
    assert was_not_reloaded(guest)


def test_default_password_cannot_be_kept(
    wbm_server: WbmServer, new_context: Callable[..., BrowserContext], screenshot: Callable[..., Path]
) -> None:
    wbm_server.create_user("e2e-default", Role.USER, password="user-e2e", must_change=True)
    page = new_context().new_page()
    login(page, wbm_server.url, "e2e-default", "user-e2e")
    page.locator("#id_old_password").fill("user-e2e")
    page.locator("#id_new_password1").fill("operator")
    page.locator("#id_new_password2").fill("operator")
    page.locator("#id_new_password2").press("Enter")
    expect(page.locator(".errorlist")).to_contain_text("default password")
    screenshot(page, "default-password-refused")
    expect(page.locator("#id_old_password")).to_be_visible()


# --- language --------------------------------------------------------------------------------


def choose_language(page: Page, label: str) -> None:
    with page.expect_navigation():
        page.locator("#language-select").select_option(label=label)


def test_language_choice_persists_across_reload_and_login(
    wbm_server: WbmServer,
    account: Callable[..., Account],
    new_context: Callable[..., BrowserContext],
) -> None:
    who = account(Role.USER)
    page = new_context().new_page()
    log_in_as(page, wbm_server.url, who)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    choose_language(page, "Deutsch")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#language-select option:checked")).to_have_text("Deutsch")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#language-select option:checked")).to_have_text("Deutsch")
    logout(page)
    expect(page.locator("html")).to_have_attribute("lang", "de")  # the cookie stays

    # Another browser knows nothing yet; the profile brings German back at login.
    other = new_context().new_page()
    other.goto(wbm_server.url + "/")
    expect(other.locator("html")).to_have_attribute("lang", "en")
    log_in_as(other, wbm_server.url, who)
    expect(other.locator("html")).to_have_attribute("lang", "de")
    expect(other.locator("#language-select option:checked")).to_have_text("Deutsch")

    choose_language(other, "English")
    expect(other.locator("html")).to_have_attribute("lang", "en")
    other.reload()
    expect(other.locator("html")).to_have_attribute("lang", "en")


def test_german_pages_speak_german(
    wbm_server: WbmServer,
    account: Callable[..., Account],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    """Needs the German catalogue (locale/de): the menu, the top bar and the dashboard in German."""
    page = new_context().new_page()
    page.goto(wbm_server.url + "/")
    choose_language(page, "Deutsch")
    wait_live(page)
    expect(page.locator("#login-link")).to_contain_text("Anmelden")
    expect(page.locator("#live-indicator")).not_to_contain_text("Live connection")
    log_in_as(page, wbm_server.url, account(Role.USER))
    nav = page.locator("#sidenav")
    expect(nav).to_contain_text("Ladestationen")
    expect(nav).not_to_contain_text("Charging Stations")
    expect(nav).not_to_contain_text("Load Management")
    expect(nav).not_to_contain_text("System Control")
    page.locator("#usermenu-toggle").click()
    expect(page.locator("#logout-button")).to_have_text(re.compile(r"\s*Abmelden\s*"))
    expect(page.locator("#park-summary")).not_to_contain_text("Available")
    screenshot(page, "dashboard-de")


# --- stale indicator and reconnection --------------------------------------------------------


def test_page_shows_stale_data_while_server_is_down_and_recovers_by_itself(
    private_wbm_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    server = private_wbm_server
    page = new_context().new_page()
    page.goto(server.url + "/")
    wait_live(page)
    banner = page.locator("#stale-banner")
    expect(banner).to_be_hidden()
    expect(page.locator("#live-indicator")).to_have_text("Live")
    mark_page(page)

    server.stop()
    # the runtime's agents stop one by one (the controller last, still publishing), so the last
    # frame may come some seconds after the stop began; stale 2.5 s after that
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner.locator("[data-stale-since]")).to_have_text(HHMMSS)
    expect(page.locator("#live-indicator")).to_have_text(re.compile(r"Stale since \d\d:\d\d:\d\d"))
    expect(page.locator("body")).to_have_attribute("data-live", "stale")
    expect(page.get_by_test_id("sum-charging")).to_have_css("opacity", FADED)  # stale values fade
    screenshot(page, "1-stale")

    server.start()  # same port, same state directory
    expect(banner).to_be_hidden(timeout=30_000)
    expect(page.locator("#live-indicator")).to_have_text("Live")
    expect(page.get_by_test_id("sum-charging")).to_have_css("opacity", "1")
    screenshot(page, "2-recovered")

    # ... and the values are live again: a vehicle plugged in over the API shows up.
    maker = server.create_user("e2e-maker", Role.MANUFACTURER)
    token = api(server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})["token"]
    cp = next(c for c in api(server, "/api/v1/park/", token=token)["chargepoints"] if c["name"] == "P1-02")
    api(server, f"/api/v1/simulator/chargepoints/{cp['id']}/plug_in/", {"phases": 3, "max_current_a": 16}, token=token)
    expect(card(page, "P1-02").get_by_test_id("status")).to_have_text("Charging")
    assert was_not_reloaded(page)


def api(server: WbmServer, path: str, body: dict[str, object] | None = None, *, token: str = "") -> dict:
    request = urllib.request.Request(
        server.url + path,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# --- layouts ---------------------------------------------------------------------------------

VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "tablet": {"width": 768, "height": 1024}}


def assert_fits(page: Page) -> None:
    width, inner = page_widths(page)
    assert width <= inner, f"{page.url}: the page is {width} px wide in a {inner} px window"


@pytest.mark.parametrize("form_factor", list(VIEWPORTS))
def test_pages_fit_laptop_and_tablet(
    form_factor: str,
    wbm_server: WbmServer,
    account: Callable[..., Account],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    viewport = VIEWPORTS[form_factor]
    guest = new_context(viewport=viewport).new_page()
    guest.goto(wbm_server.url + "/")
    wait_live(guest)
    assert_fits(guest)
    screenshot(guest, f"dashboard-guest-{form_factor}")
    guest.locator("#login-link").click()
    expect(guest.locator("#id_username")).to_be_visible()
    assert_fits(guest)
    screenshot(guest, f"login-{form_factor}")
    response = guest.goto(wbm_server.url + "/no/such/page/")
    assert response is not None and response.status == 404
    expect(guest.locator(".errorpage")).to_be_visible()
    assert_fits(guest)
    screenshot(guest, f"404-{form_factor}")

    page = new_context(viewport=viewport).new_page()
    log_in_as(page, wbm_server.url, account(Role.MANUFACTURER))
    for name, path in (("dashboard", "/"), ("simulator", "/system/simulator/"), ("system-status", "/system/")):
        response = page.goto(wbm_server.url + path)
        assert response is not None and response.status == 200
        if name == "dashboard":
            wait_live(page)
        assert_fits(page)
        screenshot(page, f"{name}-{form_factor}")
    if form_factor == "tablet":
        # the menu is behind the menu button
        expect(page.locator("#sidenav")).to_be_hidden()
        page.locator(".navtoggle").click()
        expect(page.locator("#sidenav")).to_be_visible()
        assert_fits(page)
        screenshot(page, f"menu-open-{form_factor}", full_page=False)

    user = new_context(viewport=viewport).new_page()
    log_in_as(user, wbm_server.url, account(Role.USER))
    response = user.goto(wbm_server.url + "/system/simulator/")
    assert response is not None and response.status == 403
    expect(user.locator(".errorpage")).to_be_visible()
    assert_fits(user)
    screenshot(user, f"403-{form_factor}")


# --- the menu of each role -------------------------------------------------------------------


def expected_menu(role: Role) -> list[tuple[str, list[str]]]:
    """Top-level titles and their sub-entries a role may open, from the one permission map."""

    def may(item: MenuItem) -> bool:
        return role >= MIN_ROLE[item.perm]

    with translation.override("en"):
        return [(str(item.title), [str(c.title) for c in item.children if may(c)]) for item in menu() if may(item)]


def url_of(item_title: str, child_title: str | None = None) -> str:
    for item in menu():
        if str(item.title) == item_title:
            if child_title is None:
                return reverse(item.url_name)
            return next(reverse(c.url_name) for c in item.children if str(c.title) == child_title)
    raise KeyError(item_title)


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR, Role.MANUFACTURER], ids=lambda r: r.label.lower())
def test_menu_shows_exactly_what_the_role_may_open(
    role: Role,
    wbm_server: WbmServer,
    account: Callable[..., Account],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    expected = expected_menu(role)
    titles = [title for title, _ in expected]
    # The manual's role table, independent of the map: what must (not) be there.
    assert ("Network" in titles) == (role >= Role.OPERATOR)
    assert ("Simulator" in dict(expected)["System Control"]) == (role == Role.MANUFACTURER)

    page = new_context().new_page()
    log_in_as(page, wbm_server.url, account(role))
    top = page.locator("#sidenav > ul > li > a")
    expect(top).to_have_text(titles)
    screenshot(page, f"menu-{role.label.lower()}")
    for title, children in expected:
        response = page.goto(wbm_server.url + url_of(title))
        assert response is not None and response.status == 200, f"{role.label} cannot open {title}"
        shown = page.locator("#sidenav > ul > li > a.active + ul a")
        expect(shown).to_have_text(children)
        for child in children:
            response = page.goto(wbm_server.url + url_of(title, child))
            assert response is not None and response.status == 200, f"{role.label} cannot open {title} → {child}"
            expect(page.locator("#sidenav a.active", has_text=child)).to_have_count(1)


def test_guest_menu_is_the_dashboard_only(wbm_server: WbmServer, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto(wbm_server.url + "/")
    expect(page.locator("#sidenav > ul > li > a")).to_have_text(["Dashboard"])
    page.goto(wbm_server.url + "/system/")  # a Guest is asked to log in
    expect(page.locator("#id_username")).to_be_visible()
    assert "/accounts/login/" in page.url
