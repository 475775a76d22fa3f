"""The OCPP → Modbus page in a real browser against runwbm with its Modbus/TCP server on a port of
its own: a Modbus client connected shows up live in the server's state, the register map viewer
follows the charge point, a bad start address is refused in place and a good set is saved and used
by the server. Screenshots at 1280 and 768 px in English and German:
test-artifacts/<test>/modbus-<lang>-<width>.png."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pymodbus.client import ModbusTcpClient

from tests.e2e.conftest import WbmServer, free_port, log_in_as, page_widths, wait_live
from wbm.roles import Role

URL = "/ocpp/modbus/"


@pytest.fixture(scope="module")
def modbus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    port = free_port()
    server = WbmServer(
        state_dir=tmp_path_factory.mktemp("wbm-modbus-e2e"),
        extra_env={"WBM_MODBUS_HOST": "127.0.0.1", "WBM_MODBUS_PORT": str(port)},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _port(server: WbmServer) -> int:
    return int(server.extra_env["WBM_MODBUS_PORT"])


def _modbus_client(server: WbmServer) -> ModbusTcpClient:
    """A connected client; the agent starts listening a moment after the web answers."""
    deadline = time.monotonic() + 15
    while True:
        client = ModbusTcpClient("127.0.0.1", port=_port(server), timeout=3, retries=0)
        if client.connect():
            return client
        client.close()
        if time.monotonic() > deadline:
            raise AssertionError(f"no Modbus server on port {_port(server)}:\n{server.log_tail()}")
        time.sleep(0.3)


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    operator = server.create_user(f"modbus-op-{lang}-{width}", Role.OPERATOR)
    log_in_as(page, server.url, operator)
    page.goto(server.url + URL)
    return page


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("en", 768), ("de", 1280), ("de", 768)])
def test_the_modbus_page_fits_and_shows_a_client_live(
    modbus_server: WbmServer, new_context, screenshot: Callable[..., Path], lang: str, width: int
):
    client = _modbus_client(modbus_server)
    try:
        assert client.read_holding_registers(1299, count=1, device_id=1).registers[0] != 0  # X299 of P1-01
        page = _open(new_context, modbus_server, lang, width)
        wait_live(page)
        expect(page.locator("#modbus-server .badge")).to_have_class("badge st-running")
        expect(page.get_by_test_id("server-listen")).to_have_text(f"127.0.0.1:{_port(modbus_server)}")
        expect(page.get_by_test_id("server-clients")).to_contain_text("127.0.0.1")  # live, over the socket
        expect(page.get_by_test_id("value-X299")).to_have_text("A1")
        grouping = r"^\d{1,3}(\.\d{3})* Wh$" if lang == "de" else r"^\d{1,3}(,\d{3})* Wh$"
        expect(page.get_by_test_id("value-X250")).to_have_text(re.compile(grouping))  # the page's language
        expect(page.get_by_test_id("effective-1")).to_contain_text("1000")
        assert page.locator("html").get_attribute("lang") == lang
        screenshot(page, f"modbus-{lang}-{width}")
        width_used, inner = page_widths(page)
        assert width_used <= inner, f"the page is {width_used} px wide in a {inner} px window"
    finally:
        client.close()


def test_a_bad_address_is_refused_in_place_and_a_good_set_is_used_by_the_server(
    modbus_server: WbmServer, new_context, screenshot: Callable[..., Path]
):
    page = _open(new_context, modbus_server, "en", 1280)
    inputs = page.locator("#modbus-addresses input[name^=address_]")
    count = inputs.count()
    assert count >= 2
    inputs.nth(0).fill("1500")
    page.get_by_test_id("addresses-save").click()
    expect(page.get_by_test_id("addresses-invalid")).to_be_visible()
    first_errors = page.locator("#modbus-addresses .errorlist").first
    expect(first_errors).to_contain_text("integer multiple of 1000")
    # the others are -1: a manual one among them is mixed operation, said at each
    expect(page.locator("#modbus-addresses .errorlist")).to_have_count(count)
    expect(page.locator("#modbus-addresses .errorlist").nth(1)).to_contain_text("Mixed operation is not possible")
    expect(page.get_by_test_id("addresses-mixed")).to_contain_text("reachable via Modbus only if")
    screenshot(page, "modbus-errors-en-1280")
    # every charge point manual, in reverse order: P1-01 gets the highest block
    for i in range(count):
        inputs.nth(i).fill(str(1000 * (count - i)))
    page.get_by_test_id("addresses-save").click()
    expect(page.get_by_test_id("addresses-saved")).to_be_visible()
    expect(page.get_by_test_id("effective-1")).to_contain_text(str(1000 * count))
    expect(page.locator("#register-table tr[data-offset='299'] td").first).to_have_text(str(1000 * count + 299))
    screenshot(page, "modbus-saved-en-1280")
    client = _modbus_client(modbus_server)
    try:
        # the server was told on commit: P1-01's status word is now at its new block
        status = client.read_holding_registers(1000 * count + 299, count=1, device_id=1)
        assert not status.isError() and status.registers[0] == 0x4131  # "A1"
    finally:
        client.close()
