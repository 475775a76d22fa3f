"""Browser tests of the layouts (issue "Charging Stations, finished"): at a laptop's 1280 px and a
tablet's 768 px, in English and in German, the pages an installer sees first fit the window. Nothing
scrolls sideways, no element with text sticks out of its box, no word is broken in the middle, no
select cuts off its value, numbers with a unit stay on one line, and the forced password change is
a centred card (not squeezed into the menu's column).

A park of its own (one server for this module): a vehicle charging, one paused, a fault, so the
pages show their longest texts. Screenshots: test-artifacts/<test>/<page>-<lang>-<width>.png."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, login, page_widths, wait_live
from wbm.roles import Role

LANGUAGES = ("en", "de")
WIDTHS = (1280, 768)
CASES = [(lang, width) for lang in LANGUAGES for width in WIDTHS]
FRESH_PASSWORD = "user-e2e"  # a default-style password the account must change

# --- what the browser measures ------------------------------------------------------------------

# Every visible element with text (or a form control) inside the window and inside its parent's
# box; a box whose content is wider than the box itself. Boxes that scroll on purpose and
# visually hidden text (sr-only) are left out.
OVERFLOWS_JS = """() => {
  const problems = [];
  const shown = (el) => {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 || r.height > 0;
  };
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const hidden = (el) => {
    for (let a = el; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.clip !== 'auto' || cs.clipPath !== 'none' || a.classList.contains('sr-only')) return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  for (const el of document.body.querySelectorAll('*')) {
    const control = el.matches('input:not([type=hidden]), select, textarea, button');
    if (!control && !(el.textContent || '').trim()) continue;
    if (['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName) || el.closest('svg')) continue;
    if (!shown(el) || hidden(el)) continue;
    const cs = getComputedStyle(el);
    if (cs.position === 'absolute' || cs.position === 'fixed') continue;
    const r = el.getBoundingClientRect();
    let scroller = null;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) if (scrolls(a)) { scroller = a; break; }
    if (!scroller && (r.right > window.innerWidth + 1 || r.left < -1))
      problems.push(`${name(el)} leaves the window (${Math.round(r.left)}..${Math.round(r.right)} px)`);
    const p = el.parentElement;
    if (p && p !== document.body && p !== scroller && shown(p) && !['inline', 'contents'].includes(getComputedStyle(p).display)) {
      const pr = p.getBoundingClientRect();
      if (r.right > pr.right + 1 || r.left < pr.left - 1)
        problems.push(`${name(el)} sticks out of ${name(p)} by ${Math.round(Math.max(r.right - pr.right, pr.left - r.left))} px`);
    }
    if (!scrolls(el) && cs.overflowX === 'visible' && cs.display !== 'inline' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      problems.push(`${name(el)} holds ${el.scrollWidth} px of content in ${el.clientWidth} px`);
  }
  return problems;
}"""

# Words of the page drawn on more than one line ("OverCurrentFailur / e"). A line may break after
# a hyphen or a slash, and where the page allows it (<wbr> splits a word into two text nodes).
BROKEN_WORDS_JS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, option, .sr-only, [hidden]') || !el.getClientRects().length) continue;
    const re = /[^\\s\\-–\\/]+[\\-–\\/]?/g;
    for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""

# Selects whose chosen option is wider than the room the select gives it.
CUT_SELECTS_JS = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const s of document.querySelectorAll('main select')) {
    if (!s.getClientRects().length || s.selectedIndex < 0) continue;
    const cs = getComputedStyle(s);
    canvas.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const text = s.options[s.selectedIndex].text;
    const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;  // 20 px: the arrow
    if (canvas.measureText(text).width > room + 1) cut.push(`${s.id || s.name}: "${text}"`);
  }
  return cut;
}"""

# Numbers with their unit in table cells drawn on more than one line ("0.00 / kW").
WRAPPED_NUMBERS_JS = """() => [...document.querySelectorAll('main td.num')]
  .filter((td) => td.textContent.trim() && td.getClientRects().length)
  .filter((td) => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top))).size > 1;
  })
  .map((td) => td.textContent.trim())"""


def assert_layout_holds(page: Page, what: str) -> None:
    width, inner = page_widths(page)
    document_width = page.evaluate("document.documentElement.scrollWidth")
    assert document_width <= inner and width <= inner, f"{what}: {document_width} px wide in a {inner} px window"
    assert page.evaluate(OVERFLOWS_JS) == [], f"{what}: text out of its box"
    assert page.evaluate(BROKEN_WORDS_JS) == [], f"{what}: words broken in the middle"
    assert page.evaluate(CUT_SELECTS_JS) == [], f"{what}: select values cut off"
    assert page.evaluate(WRAPPED_NUMBERS_JS) == [], f"{what}: numbers wrapped"


# --- the park of this module ----------------------------------------------------------------------


def api(server: WbmServer, path: str, body: dict[str, object] | None = None, *, token: str = "") -> Any:
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


@pytest.fixture(scope="module")
def park_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    """A server of this module whose park is busy: P1-01 with a fault, P1-02 charging, P1-03 with a
    vehicle waiting for its card, Visitor-01 with a paused vehicle talking ISO 15118."""
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-layouts")).start()
    try:
        maker = server.create_user("layout-maker", Role.MANUFACTURER)
        token = api(server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})["token"]
        ids = {c["name"]: c["id"] for c in api(server, "/api/v1/park/", token=token)["chargepoints"]}

        def sim(name: str, op: str, body: dict[str, object]) -> None:
            api(server, f"/api/v1/simulator/chargepoints/{ids[name]}/{op}/", body, token=token)

        sim("P1-01", "fault", {"code": "OverCurrentFailure", "info": ""})
        sim("P1-02", "plug_in", {"phases": 3, "max_current_a": 16})
        sim("P1-03", "plug_in", {"phases": 1, "max_current_a": 16})
        sim("Visitor-01", "plug_in", {"phases": 3, "max_current_a": 32, "hlc": True})
        sim("Visitor-01", "vehicle", {"action": "pause"})
        server.ids = ids  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


def browser_page(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": server.url}])
    return context.new_page()


# --- the four pages, in both languages, at both widths -------------------------------------------


@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def test_first_pages_fit_laptop_and_tablet(
    lang: str,
    width: int,
    park_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    # The forced password change: the first page every installer sees.
    fresh = park_server.create_user(f"fresh-{lang}-{width}", Role.USER, password=FRESH_PASSWORD, must_change=True)
    page = browser_page(new_context, park_server, lang, width)
    login(page, park_server.url, fresh.username, fresh.password)
    expect(page.locator("#password-forced")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    card = page.locator(".auth .panel").bounding_box()
    assert card is not None
    inner = page.evaluate("window.innerWidth")
    assert card["width"] >= min(400, inner - 40), f"the card is squeezed to {card['width']} px"
    assert abs(card["x"] + card["width"] / 2 - inner / 2) <= 2, "the card is not centred"
    screenshot(page, f"password-{lang}-{width}")
    assert_layout_holds(page, f"forced password change ({lang}, {width} px)")

    maker = park_server.create_user(f"layout-{lang}-{width}", Role.MANUFACTURER)
    page = browser_page(new_context, park_server, lang, width)
    login(page, park_server.url, maker.username, maker.password)
    for name, path, live in (
        ("overview", "/chargepoints/", False),
        ("rfidboard", "/chargepoints/rfid-board/", True),
        ("system", "/system/", True),
    ):
        response = page.goto(park_server.url + path)
        assert response is not None and response.status == 200
        if live:
            wait_live(page)
        screenshot(page, f"{name}-{lang}-{width}")
        assert_layout_holds(page, f"{path} ({lang}, {width} px)")
    started = page.get_by_test_id("web-started").inner_text()
    assert started.endswith(" UTC") and started != "–", f"the web server's start: {started!r}"


# --- the pages with the cosmetic problems of the issue ------------------------------------------


@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def test_status_network_and_configuration_show_long_values_whole(
    lang: str,
    width: int,
    park_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
) -> None:
    """A fault code on the status page, MAC addresses on Network, long options on the
    configuration page: each whole, inside its box."""
    maker = park_server.create_user(f"cosmetic-{lang}-{width}", Role.MANUFACTURER)
    page = browser_page(new_context, park_server, lang, width)
    login(page, park_server.url, maker.username, maker.password)
    faulted = park_server.ids["P1-01"]  # type: ignore[attr-defined]
    for name, path, live in (
        ("status-fault", f"/chargepoints/{faulted}/", True),
        ("network", "/network/", False),
        ("config", f"/chargepoints/{faulted}/config/", False),
    ):
        response = page.goto(park_server.url + path)
        assert response is not None and response.status == 200
        if live:
            wait_live(page)
            expect(page.get_by_test_id("error")).to_contain_text("OverCurrentFailure")
        screenshot(page, f"{name}-{lang}-{width}")
        assert_layout_holds(page, f"{path} ({lang}, {width} px)")


@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def test_read_only_configuration_and_import_preview_fit(
    lang: str,
    width: int,
    park_server: WbmServer,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """The configuration as a User sees it (read-only) and the import preview of a file from a
    module with ISO 15118 onto one without it: whole, inside the screen, in both languages."""
    ids = park_server.ids  # type: ignore[attr-defined]
    user = park_server.create_user(f"reader-{lang}-{width}", Role.USER)
    page = browser_page(new_context, park_server, lang, width)
    login(page, park_server.url, user.username, user.password)
    response = page.goto(park_server.url + f"/chargepoints/{ids['P1-02']}/config/")
    assert response is not None and response.status == 200
    expect(page.locator("#id_current_max_a")).to_be_disabled()
    expect(page.get_by_role("button", name=re.compile("Save|Speichern"))).to_have_count(0)
    screenshot(page, f"config-readonly-{lang}-{width}")
    assert_layout_holds(page, f"read-only configuration ({lang}, {width} px)")

    maker = park_server.create_user(f"importer-{lang}-{width}", Role.MANUFACTURER)
    token = api(park_server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})["token"]
    exported = tmp_path / "chargepoint-P1-01.json"
    exported.write_text(
        json.dumps(api(park_server, f"/api/v1/chargepoints/{ids['P1-01']}/config/export/", token=token))
    )
    page = browser_page(new_context, park_server, lang, width)
    login(page, park_server.url, maker.username, maker.password)
    page.goto(park_server.url + "/chargepoints/import/")
    page.set_input_files("#id_file", str(exported))
    for name in ("P1-02", "P1-03"):
        page.locator("#import-targets tr", has=page.get_by_text(name, exact=True)).locator(
            "input[type=checkbox]"
        ).check()
    page.check("#id_suffix")
    page.click("#import-preview")
    expect(page.locator("section.diff")).to_have_count(2)
    expect(page.locator("section.diff").first).to_contain_text("ISO 15118")
    screenshot(page, f"import-preview-{lang}-{width}")
    assert_layout_holds(page, f"import preview ({lang}, {width} px)")
