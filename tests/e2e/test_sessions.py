"""The Sessions page and a session's detail in a real browser against runwbm: a history recorded
before (with a power curve), a vehicle charging now whose session the dashboard card links to,
its chart growing from the Session Recorder's samples (every second here). Screenshots at 1280
and 768 px in English and German: test-artifacts/<test>/sessions-*.png, session-*.png."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths
from wbm.roles import Role

_HISTORY = """
import json
from datetime import UTC, datetime, timedelta
from chargepoints.models import ChargePoint, ChargingSession
from ledger.models import SessionSample
cps = {cp.config.name: cp for cp in ChargePoint.objects.filter(config__isnull=False).select_related("config")}
start = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
made = []
for n in range(24):
    began = start + timedelta(days=2 * n, hours=n % 5)
    cp = cps[["P1-01", "P1-02", "P1-03", "Visitor-01"][n % 4]]
    made.append(ChargingSession.objects.create(
        chargepoint=cp, started_at=began, ended_at=began + timedelta(minutes=45 + 7 * n),
        meter_start_wh=2_000_000 + 30_000 * n, meter_stop_wh=2_000_000 + 30_000 * n + 4_000 + 900 * n,
        id_tag="04A1B2C3D4E5F6" if n % 3 == 0 else ("" if n % 3 == 1 else "1A2B3C4D"),
        evcc_id="00A0C9142A3F" if n % 3 == 1 else "",
        released_by=["whitelist", "user", "user,whitelist"][n % 3],
        stop_reason=["EVDisconnected", "Local", "PowerLoss"][n % 3]))
curve = made[-1]
energy = 0.0
rows = []
for m in range(0, 200):
    power = 11000.0 if m < 120 else max(0.0, 11000.0 - 120 * (m - 120))
    energy += power / 60
    rows.append(SessionSample(session=curve, at=curve.started_at + timedelta(minutes=m), power_w=power, energy_wh=energy))
SessionSample.objects.bulk_create(rows)
print(json.dumps({"curve": curve.pk, "p1": cps["P1-01"].pk}))
"""


@pytest.fixture(scope="module")
def sessions_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-sessions-e2e"), extra_env={"WBM_SESSION_SAMPLE_S": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def world(sessions_server: WbmServer) -> dict[str, int]:
    ids: dict[str, int] = json.loads(sessions_server.manage("shell", "-c", _HISTORY).strip().splitlines()[-1])
    maker = sessions_server.create_user("sessions-maker", Role.MANUFACTURER)
    token = _api(sessions_server, "/api/v1/auth/token/", {"username": maker.username, "password": maker.password})[
        "token"
    ]
    p1 = ids["p1"]
    plug = {"phases": 3, "max_current_a": 16, "hlc": True, "evcc_id": "0A1B2C3D4E5F"}
    _api(sessions_server, f"/api/v1/simulator/chargepoints/{p1}/plug_in/", plug, token=token)
    _api(sessions_server, f"/api/v1/chargepoints/{p1}/release/", {"allow": True}, token=token)
    return ids


def _api(server: WbmServer, path: str, body: dict[str, object], *, token: str = "") -> dict[str, object]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        answer: dict[str, object] = json.load(response)
    return answer


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"sessions-user-{lang}-{width}", Role.USER))
    return page


_WIDEST = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _fits(page: Page) -> None:
    width, inner = page_widths(page)
    assert width <= inner, f"the page is wider than the window ({width} > {inner} px): {page.evaluate(_WIDEST)}"


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_sessions_list_detail_chart_and_the_running_session(
    sessions_server: WbmServer,
    world: dict[str, int],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[..., Path],
    lang: str,
    width: int,
):
    page = _open(new_context, sessions_server, lang, width)
    page.goto(sessions_server.url + "/sessions/")
    expect(page.locator("#sessions-table tbody tr")).to_have_count(25)  # 24 recorded + the running one
    expect(page.locator("#totals-by-month")).to_contain_text("01/2026")
    expect(page.locator("#sessions-table")).to_contain_text("Demo card")  # the whitelist name of the tag
    _fits(page)
    screenshot(page, f"sessions-{lang}-{width}")

    page.locator("#id_tag").fill("demo")
    page.locator("#filter-apply").click()
    expect(page.locator("#sessions-table tbody tr")).to_have_count(8)
    _fits(page)
    screenshot(page, f"sessions-filtered-{lang}-{width}")

    page.goto(sessions_server.url + f"/sessions/{world['curve']}/")
    expect(page.locator("#session-chart canvas")).to_have_count(1)
    expect(page.locator("#chart-note")).to_contain_text("200")
    _fits(page)
    screenshot(page, f"session-chart-{lang}-{width}")

    # the dashboard card of the charging vehicle links to its running session
    page.goto(sessions_server.url + "/")
    link = page.locator(f"#session-link-{world['p1']}")
    link.click()
    expect(page.get_by_test_id("session-evcc")).to_have_text("0A1B2C3D4E5F")
    expect(page.locator("#session-live")).to_be_visible()
    expect(page.get_by_test_id("live-power")).to_contain_text("kW")
    expect(page.locator("#session-chart canvas")).to_have_count(1)
    page.wait_for_timeout(6000)  # a live poll, and the recorder's samples meanwhile
    _fits(page)
    screenshot(page, f"session-running-{lang}-{width}")
