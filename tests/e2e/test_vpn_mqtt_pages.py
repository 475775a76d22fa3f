"""Network → OpenVPN and Network → MQTT Bridge in a real browser against runwbm with a local
Mosquitto of its own (``WBM_MQTT_LOCAL_URL``): a tap configuration is saved (the page says it
became tun), the simulated tunnel connects, Test VPN connection shows the log; the bridge is
configured with a wrong password (the page says so), a forwarding row is added and its information
pop-up shows the full topic. Screenshots at 1280 and 768 px in English and German:
test-artifacts/<test>/{vpn,mqtt}-<lang>-<width>.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths
from tests.mqtt.conftest import Broker
from wbm.roles import Role

CASES = [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)]
TAP_CONFIG = "client\ndev tap\nproto udp\nremote 198.51.100.20 1194\nnobind\n<ca>\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n</ca>\n"


@pytest.fixture(scope="module")
def brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, Broker]]:
    folder = tmp_path_factory.mktemp("e2e-mosquitto")
    local = Broker(folder).start()
    remote = Broker(folder, users={"station": "Right-pass-1"}).start()
    try:
        yield local, remote
    finally:
        local.stop()
        remote.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, brokers: tuple[Broker, Broker]) -> Iterator[WbmServer]:
    server = WbmServer(
        state_dir=tmp_path_factory.mktemp("wbm-vpn-mqtt-e2e"), extra_env={"WBM_MQTT_LOCAL_URL": brokers[0].url}
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int, url: str) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"net-op-{lang}-{width}-{url.count('mqtt')}", Role.OPERATOR))
    page.goto(server.url + url)
    return page


@pytest.mark.parametrize(("lang", "width"), CASES)
def test_openvpn_page(server: WbmServer, new_context, screenshot: Callable[..., Path], lang: str, width: int) -> None:
    page = _open(new_context, server, lang, width, "/network/openvpn/")
    page.locator("#id_config").fill(TAP_CONFIG)
    page.locator("#id_activation").select_option("activated")
    page.get_by_test_id("vpn-save").click()
    expect(page.get_by_test_id("vpn-note")).to_contain_text("tun")
    page.reload()
    expect(page.get_by_test_id("vpn-state").locator(".badge")).to_have_class("badge st-running")
    expect(page.get_by_test_id("vpn-server-ip")).to_have_text("198.51.100.20")
    expect(page.get_by_test_id("vpn-private-ip")).to_contain_text("10.8.0.")
    page.locator("#id_config").fill(TAP_CONFIG + "up /bin/sh\n")
    page.get_by_test_id("vpn-test").click()
    expect(page.get_by_test_id("vpn-test-log")).to_contain_text("up")
    screenshot(page, f"vpn-{lang}-{width}")
    scroll, inner = page_widths(page)
    assert scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"


@pytest.mark.parametrize(("lang", "width"), CASES)
def test_mqtt_bridge_page(
    server: WbmServer,
    brokers: tuple[Broker, Broker],
    new_context,
    screenshot: Callable[..., Path],
    lang: str,
    width: int,
) -> None:
    remote = brokers[1]
    page = _open(new_context, server, lang, width, "/network/mqtt/")
    expect(page.get_by_test_id("mqtt-local-state").locator(".badge")).to_have_class("badge st-running", timeout=15_000)
    page.locator("#id_host").fill("127.0.0.1")
    page.locator("#id_port").fill(str(remote.port))
    page.locator("#id_username").fill("station")
    page.locator("#id_password").fill("wrong-pass")
    page.locator("#id_station_name").fill("Test station")
    page.locator("#id_location").fill("Blomberg")
    page.get_by_test_id("mqtt-save").click()
    expect(page.get_by_test_id("mqtt-saved")).to_be_visible()
    rows = page.locator("input[name=local_topic]")
    before = rows.count()
    page.get_by_test_id("rows-add").click()
    expect(rows).to_have_count(before + 1)  # the new row is swapped in before it is filled
    page.locator(f"#local-{before}").fill("wbm/chargepoint/+/status")
    page.locator(f"#remote-{before}").fill(f"cp{lang}{width}/+/status")
    page.get_by_test_id("rows-save").click()
    expect(page.get_by_test_id("rows-saved")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("mqtt-remote-error")).to_be_visible(timeout=15_000)
    page.get_by_test_id(f"topic-info-{before}").locator("summary").click()
    expect(page.get_by_test_id(f"full-topic-{before}")).to_contain_text("CHARX/ev3000/")
    expect(page.get_by_test_id(f"full-topic-{before}")).to_contain_text(f"/cp{lang}{width}/+/status")
    screenshot(page, f"mqtt-{lang}-{width}")
    scroll, inner = page_widths(page)
    assert scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"
