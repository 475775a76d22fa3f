"""Browser tests of the Charge Point Status page and the CHARX RFID/NFC board page (issue 3):
live values without reloading, the operations with their effect, the board's profile table
following the connection type. Screenshots land in test-artifacts/<test>/."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths, wait_live
from wbm.roles import Role


def api(server: WbmServer, path: str, body: dict[str, object] | None = None, *, token: str = "") -> object:
    request = urllib.request.Request(
        server.url + path,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def chargepoint_id(server: WbmServer, token: str, name: str) -> int:
    park = api(server, "/api/v1/park/", token=token)
    return next(c["id"] for c in park["chargepoints"] if c["name"] == name)  # type: ignore[index]


def field(page: Page, testid: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="{testid}"]')


def test_status_page_follows_the_vehicle_live_and_disable_shows_error(
    wbm_server: WbmServer,
    account: Callable[..., object],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    maker = account(Role.MANUFACTURER)
    token = api(wbm_server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})["token"]
    pk = chargepoint_id(wbm_server, token, "P1-02")
    page = new_context().new_page()
    log_in_as(page, wbm_server.url, maker)
    page.goto(wbm_server.url + "/chargepoints/")
    page.locator(f"#status-{pk}").click()
    expect(page.get_by_test_id("title")).to_have_text("P1-02")
    wait_live(page)
    page.evaluate("window.__noReload = 'still here'")
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^A "))
    api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/plug_in/", {"phases": 3, "max_current_a": 16}, token=token)
    expect(field(page, "status")).to_have_text(re.compile(r"Charging"))
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^C "))
    expect(field(page, "charging-power")).not_to_have_text("0.00 kW")
    screenshot(page, "charging-1280")
    page.get_by_test_id("op-disable").click()
    expect(page.get_by_test_id("op-done")).to_contain_text("disabled")
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^F "))
    expect(field(page, "status")).to_have_text(re.compile(r"Error"))
    expect(field(page, "currents")).to_have_text("0.0 A | 0.0 A | 0.0 A")
    page.get_by_test_id("op-enable").click()
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^C "))
    assert page.evaluate("window.__noReload") == "still here"
    api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/unplug/", {}, token=token)
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^A "))
    page.set_viewport_size({"width": 820, "height": 1100})
    width, inner = page_widths(page)
    assert width <= inner
    screenshot(page, "idle-820")


def test_user_releases_charging_and_sees_iso15118_session(
    wbm_server: WbmServer,
    account: Callable[..., object],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    maker = account(Role.MANUFACTURER)
    user = account(Role.USER)
    token = api(wbm_server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})["token"]
    pk = chargepoint_id(wbm_server, token, "P1-01")
    page = new_context().new_page()
    log_in_as(page, wbm_server.url, user)
    page.goto(f"{wbm_server.url}/chargepoints/{pk}/")
    wait_live(page)
    expect(page.get_by_test_id("op-disable")).to_have_count(0)
    api(
        wbm_server,
        f"/api/v1/simulator/chargepoints/{pk}/plug_in/",
        {"phases": 1, "max_current_a": 32, "hlc": True, "evcc_id": "00A0C9142A3F"},
        token=token,
    )
    page.get_by_test_id("op-allow").click()
    expect(page.get_by_test_id("op-done")).to_have_text("Charging is allowed.")
    expect(field(page, "iso-progress")).to_have_text("Start")
    expect(field(page, "iso-evcc")).to_have_text("00A0C9142A3F")
    expect(field(page, "iso-mode")).to_have_text("AC_single_phase_core")
    screenshot(page, "iso15118")
    page.get_by_test_id("op-prohibit").click()
    expect(field(page, "iec-state")).to_have_text(re.compile(r"^B "))
    api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/unplug/", {}, token=token)


def test_rfid_board_profile_table_follows_the_connection_type(
    wbm_server: WbmServer,
    account: Callable[..., object],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    maker = account(Role.MANUFACTURER)
    page = new_context().new_page()
    log_in_as(page, wbm_server.url, maker)
    page.goto(wbm_server.url + "/chargepoints/")
    page.get_by_role("link", name="CHARX RFID/NFC Board").click()
    wait_live(page)
    rows = page.locator("table.boardprofiles tbody tr")
    expect(rows).to_have_count(14)
    expect(page.get_by_test_id("firmware")).to_have_text("1.2.4")
    expect(page.get_by_test_id("active-profile")).to_have_text("Ready for operation, no vehicle connected")
    page.get_by_test_id("connection-type").select_option("1:n")
    expect(rows).to_have_count(7)
    page.get_by_label("Backend online: LED colour").select_option("blue")
    page.get_by_label("Buzzer volume (%)").fill("35")
    page.get_by_test_id("board-save").click()
    expect(page.get_by_test_id("board-saved")).to_be_visible()
    expect(page.get_by_test_id("connection-type")).to_have_value("1:n")
    screenshot(page, "board-1n")
    page.reload()
    expect(page.get_by_label("Backend online: LED colour")).to_have_value("blue")
    expect(page.get_by_label("Buzzer volume (%)")).to_have_value("35")
    page.get_by_test_id("connection-type").select_option("1:1")
    expect(rows).to_have_count(14)
    period = page.get_by_label("Vehicle connected, charging process active: Period (ms)")
    period.fill("50")
    page.get_by_test_id("board-save").click()  # the server refuses a period below 100 ms, at the field
    expect(page.get_by_test_id("board-invalid")).to_be_visible()
    period = page.get_by_label("Vehicle connected, charging process active: Period (ms)")
    error_id = period.evaluate("el => el.id") + "-errors"
    expect(page.locator(f"#{error_id}")).to_contain_text("100")
    expect(page.get_by_test_id("board-saved")).to_have_count(0)
