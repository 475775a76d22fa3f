"""Browser test of the charge point configuration: create a configuration (conditional fields
appear and disappear as controlling choices change, an invalid value is shown at its field), then
export a configuration and import it to two charge points with the "-1", "-2" name extension.

Runs on a server of its own: it changes the demo park that other browser tests count on.
Screenshots land in test-artifacts/<test>/ (see tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import WbmServer, log_in_as
from wbm.roles import Role


def wrap(page: Page, field: str):
    return page.locator(f"#wrap-{field}")


def htmx_ready(page: Page) -> None:
    """htmx is loaded deferred: wait for it before changing a select that re-renders the form.

    Polled from here: ``page.wait_for_function`` evaluates its predicate inside the page once the
    first check fails, which the page's policy (no 'unsafe-eval') forbids."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + 10
    while not page.evaluate("window.htmx !== undefined && document.readyState === 'complete'"):
        assert time.monotonic() < deadline, "htmx did not load within 10 s"
        page.wait_for_timeout(50)


def test_configure_a_charge_point_then_import_a_file_to_two(
    page: Page, private_wbm_server: WbmServer, screenshot, tmp_path: Path
) -> None:
    server = private_wbm_server
    log_in_as(page, server.url, server.create_user("config-manufacturer", Role.MANUFACTURER))

    # --- the unconfigured charge point of the demo park: "Create configuration" ----------------
    page.goto(server.url + "/chargepoints/")
    page.get_by_role("link", name="Create configuration").click()
    expect(page.locator("#config-title")).to_have_text("Create configuration")
    htmx_ready(page)
    expect(page.locator("#section-iso15118")).to_have_count(0)  # a CHARX SEC-3100: no ISO 15118
    expect(wrap(page, "socket_outlet_type")).to_be_visible()
    expect(wrap(page, "derating_start_temp_c")).to_be_hidden()
    expect(wrap(page, "phase_rotation")).to_be_hidden()
    expect(page.locator("#section-monitoring")).to_contain_text("needs a configured energy measuring device")
    screenshot(page, "1-create-configuration")

    # conditional fields follow the controlling choices (the server re-renders the form)
    page.select_option("#id_connection_type", "connector")
    expect(wrap(page, "socket_outlet_type")).to_be_hidden()
    expect(wrap(page, "locking_mode")).to_be_hidden()
    expect(wrap(page, "status_d_rejection")).to_be_visible()
    page.select_option("#id_connection_type", "socket_outlet")
    expect(wrap(page, "socket_outlet_type")).to_be_visible()

    page.select_option("#id_derating_sensor", "ptc")
    expect(wrap(page, "ptc_terminating_resistor")).to_be_visible()
    expect(wrap(page, "derating_start_temp_c")).to_be_hidden()
    page.select_option("#id_derating_sensor", "pt1000")
    for field in (
        "derating_start_temp_c",
        "derating_stop_temp_c",
        "derating_start_current_a",
        "derating_stop_current_a",
    ):
        expect(wrap(page, field)).to_be_visible()
    expect(wrap(page, "ptc_terminating_resistor")).to_be_hidden()

    page.select_option("#id_release_mode", "ocpp")
    expect(wrap(page, "ocpp_connector_id")).to_be_visible()
    expect(wrap(page, "release_mode")).to_contain_text("OCPP backend")  # the manual's text for it
    page.select_option("#id_release_mode", "whitelist")
    expect(wrap(page, "ocpp_connector_id")).to_be_hidden()
    expect(wrap(page, "rfid_reader")).to_be_visible()
    expect(wrap(page, "rfid_timeout_s")).to_be_hidden()
    page.select_option("#id_rfid_reader", label="P1-03 (ev3000, position 3)")
    expect(wrap(page, "rfid_timeout_s")).to_be_visible()

    page.select_option("#id_meter_type", "eem_350")
    expect(wrap(page, "phase_rotation")).to_be_visible()
    expect(wrap(page, "overcurrent_detection")).to_be_visible()
    screenshot(page, "2-conditional-fields-shown")

    # an invalid value is shown at its field, the others keep what was entered
    page.fill("#id_name", "P2-02")
    page.fill("#id_location", "Visitor parking, bay 2")
    page.fill("#id_current_max_a", "40")
    page.fill("#id_derating_start_temp_c", "90")
    page.click("#save-config")
    expect(page.locator("#config-errors")).to_be_visible()
    expect(page.locator("#id_current_max_a-errors")).to_have_text("The hardware allows 6 A to 32 A.")
    expect(page.locator("#id_derating_start_temp_c-errors")).to_contain_text("below the stop temperature (80 °C)")
    expect(wrap(page, "current_max_a").locator(".field")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator("#id_name")).to_have_value("P2-02")
    expect(wrap(page, "derating_start_temp_c")).to_be_visible()  # still Pt 1000 after the reload
    screenshot(page, "3-invalid-full")
    page.locator("#wrap-current_max_a").scroll_into_view_if_needed()
    screenshot(page, "3-invalid-value-at-its-field", full_page=False)
    page.evaluate("window.scrollTo(0, 0)")

    page.fill("#id_current_max_a", "20")
    page.fill("#id_derating_start_temp_c", "50")
    page.click("#save-config")
    expect(page.locator(".messages")).to_contain_text("The configuration of “P2-02” was created.")
    expect(page.locator("#config-title")).to_have_text("Configuration · P2-02")
    expect(page.locator("#id_current_max_a")).to_have_value("20")
    expect(page.locator("#id_rfid_reader option:checked")).to_have_text("P1-03 (ev3000, position 3)")

    # --- export P1-02, import it to Visitor-01 and P2-02 with the name extension ------------------
    page.goto(server.url + "/chargepoints/")
    p1_02 = page.locator("tr", has=page.get_by_text("P1-02", exact=True))
    with page.expect_download() as download:
        p1_02.locator("a[id^=export-]").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.name == "chargepoint-P1-02.json"
    assert json.loads(exported.read_text())["config"]["name"] == "P1-02"

    page.click("#import-config")
    expect(page.get_by_role("heading", name="Import configuration")).to_be_visible()
    page.set_input_files("#id_file", str(exported))
    for name in ("Visitor-01", "P2-02"):
        page.locator("#import-targets tr", has=page.get_by_text(name, exact=True)).locator(
            "input[type=checkbox]"
        ).check()
    page.check("#id_suffix")
    screenshot(page, "4-import-selection")
    page.click("#import-preview")
    diffs = page.locator("section.diff")
    expect(diffs).to_have_count(2)
    expect(diffs.nth(0).locator(".newname")).to_have_text("P1-02-1")
    expect(diffs.nth(1).locator(".newname")).to_have_text("P1-02-2")
    expect(diffs.nth(0)).to_contain_text("Currently configured as “Visitor-01”.")
    expect(diffs.nth(0).locator("tr[data-field=name] .before")).to_have_text("Visitor-01")
    expect(diffs.nth(1).locator("tr[data-field=current_max_a] .after")).to_have_text("16")
    expect(page.locator("#import-confirm")).to_have_text("Write configuration to 2 charging points")
    screenshot(page, "5-import-preview")
    page.click("#import-confirm")

    expect(page.locator(".messages")).to_contain_text("imported to 2 charging points: P1-02-1, P1-02-2")
    expect(page.locator("#station-2")).to_contain_text("P1-02-1")
    expect(page.locator("#station-2")).to_contain_text("P1-02-2")
    expect(page.locator("#station-2")).not_to_contain_text("Visitor-01")
    page.locator("#station-2").scroll_into_view_if_needed()
    screenshot(page, "6-imported", full_page=False)
