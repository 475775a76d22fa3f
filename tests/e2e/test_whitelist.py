"""The whitelist in a real browser against runwbm: an unknown card presented at P1-03 (release
mode "By Local Whitelist") is refused and listed as recently scanned; one click takes it into a
new entry, "Permanent" fills in the expiry, and presented again it releases charging.
Screenshots at 1280 and 768 px in English and German: test-artifacts/<test>/whitelist-<lang>-<width>.png."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths
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


def _token(server: WbmServer, account: Callable[..., object]) -> str:
    maker = account(Role.MANUFACTURER)
    answer = api(server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})  # type: ignore[attr-defined]
    return answer["token"]  # type: ignore[index]


def _state(server: WbmServer, token: str, pk: int) -> dict[str, object]:
    return api(server, f"/api/v1/chargepoints/{pk}/", token=token)  # type: ignore[return-value]


def test_an_unknown_card_taken_from_recently_scanned_releases_charging_next_time(
    wbm_server: WbmServer,
    account: Callable[..., object],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    token = _token(wbm_server, account)
    park = api(wbm_server, "/api/v1/park/", token=token)
    pk = next(c["id"] for c in park["chargepoints"] if c["name"] == "P1-03")  # type: ignore[index]
    tag = "E2E" + secrets.token_hex(4).upper()[:5]  # hexadecimal, new in this server's database
    api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/plug_in/", {"phases": 3, "max_current_a": 16}, token=token)
    try:
        api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/rfid/", {"tag": tag.lower()}, token=token)
        assert _state(wbm_server, token, pk)["ocpp_status"] == "Preparing"  # refused: not on the list

        page = new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in_as(page, wbm_server.url, account(Role.USER))  # type: ignore[arg-type]
        page.goto(wbm_server.url + "/whitelist/")
        scan = page.locator(f'#recent-scans tr.scan[data-tag="{tag}"]').first
        expect(scan).to_contain_text("P1-03")
        expect(scan).to_contain_text("refused")
        scan.locator("a.take-scan").click()  # one click: a new entry with the tag filled in
        expect(page.locator("#id_tag")).to_have_value(tag)
        page.locator("#id_name").fill("E2E card")
        page.locator("#permanent").click()
        expect(page.locator("#id_expires_at_0")).to_have_value("2099-12-31")
        screenshot(page, "new-entry-en-1280")
        page.locator("#save-entry").click()
        expect(page.locator(f'#entries tr[data-tag="{tag}"]')).to_contain_text("E2E card")

        api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/rfid/", {"tag": tag}, token=token)
        expect_status = _state(wbm_server, token, pk)["ocpp_status"]
        assert expect_status in ("Charging", "SuspendedEV"), expect_status
        page.reload()
        expect(page.locator(f'#recent-scans tr.scan[data-tag="{tag}"]').first).to_contain_text("accepted")
        screenshot(page, "accepted-en-1280")
    finally:
        api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/unplug/", {}, token=token)


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_the_whitelist_page_fits_in_english_and_german(
    wbm_server: WbmServer,
    account: Callable[..., object],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
    lang: str,
    width: int,
) -> None:
    token = _token(wbm_server, account)
    park = api(wbm_server, "/api/v1/park/", token=token)
    pk = next(c["id"] for c in park["chargepoints"] if c["name"] == "P1-03")  # type: ignore[index]
    api(wbm_server, f"/api/v1/simulator/chargepoints/{pk}/rfid/", {"tag": "0BADCAFE"}, token=token)
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": wbm_server.url}])
    page = context.new_page()
    log_in_as(page, wbm_server.url, account(Role.USER))  # type: ignore[arg-type]
    page.goto(wbm_server.url + "/whitelist/")
    assert page.locator("html").get_attribute("lang") == lang
    expect(page.locator("#entries")).to_contain_text("04A1B2C3D4E5F6")
    expect(page.locator("#ocpp-local-list")).to_be_visible()
    screenshot(page, f"whitelist-{lang}-{width}")
    used, inner = page_widths(page)
    assert used <= inner, f"the page is {used} px wide in a {inner} px window"
    page.goto(wbm_server.url + "/whitelist/add/")
    screenshot(page, f"whitelist-new-{lang}-{width}")
    used, inner = page_widths(page)
    assert used <= inner
    page.goto(wbm_server.url + "/whitelist/import/")
    screenshot(page, f"whitelist-import-{lang}-{width}")
    used, inner = page_widths(page)
    assert used <= inner
