"""What the pages give the stylesheet so they fit a laptop and a tablet in both languages: tables
that name every value when their rows become blocks, identifiers that may wrap between their
words, selects that get the room their options need, and states said for what they are.

The widths themselves are checked in a browser (tests/e2e/test_layouts.py)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import psutil
from django.conf import settings

from chargepoints.choices import IecState, OcppErrorCode
from chargepoints.models import ChargePoint
from chargepoints.templatetags.chargepoint_labels import WIDE_CHOICE_CHARS, breakable
from tests.conftest import cp_id
from wbm.roles import Role

CSS = Path(settings.BASE_DIR) / "static" / "wbm" / "wbm.css"


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _rows(body: str, table_class: str) -> list[str]:
    tables = re.findall(rf'<table class="[^"]*\b{table_class}\b[^"]*".*?</table>', body, re.S)
    assert tables, f"no table.{table_class}"
    return [row for table in tables for row in re.findall(r"<tr id=.*?</tr>", table, re.S)]


def _css_rule(selector: str) -> str:
    """The declarations of the first rule whose selector list contains ``selector``."""
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    for selectors, declarations in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selector in [s.strip() for s in selectors.split(",")]:
            return declarations
    raise AssertionError(f"no rule for {selector} in {CSS.name}")


# --- Charging Stations overview and CHARX RFID/NFC board: rows that become blocks -------------


def test_overview_rows_name_every_value_for_the_narrow_layout(runtime, client_as):
    body = _get(client_as(Role.MANUFACTURER), "/chargepoints/")
    assert '<div class="reflow-box"><table class="reflow overview">' in body
    rows = _rows(body, "overview")
    assert len(rows) == ChargePoint.objects.count()
    for row in rows:
        labels = re.findall(r'<td[^>]*data-label="([^"]+)"', row)
        assert labels == ["Position", "Device", "IEC 61851-1", "Power"], row
        for part in ("cp-name", "cp-state", "cp-config"):
            assert f'<td class="{part}">' in row, (part, row)


def test_overview_explains_the_iec_state_letter(runtime, client_as):
    body = _get(client_as(Role.USER), "/chargepoints/")
    row = re.search(rf'<tr id="overview-cp-{cp_id("P1-01")}".*?</tr>', body, re.S)
    assert row and f'<abbr title="{IecState.A.label}">A</abbr>' in row.group(0)


def test_rfid_board_profiles_name_every_setting_for_the_narrow_layout(park, client_as):
    body = _get(client_as(Role.MANUFACTURER), "/chargepoints/rfid-board/")
    assert '<div class="reflow-box"><table class="boardprofiles reflow" data-testid="profiles">' in body
    rows = _rows(body, "boardprofiles")
    assert rows
    for row in rows:
        assert '<td class="profile">' in row
        labels = re.findall(r'<td[^>]*data-label="([^"]+)"', row)
        assert labels == [
            "LED mode",
            "LED colour",
            "Brightness (%)",
            "Period (ms)",
            "Min. brightness (%)",
            "Max. brightness (%)",
        ], row


# --- configuration: a select whose options do not fit one column gets two ---------------------


def test_selects_with_long_options_get_two_columns(park, client_as):
    body = _get(client_as(Role.MANUFACTURER), f"/chargepoints/{cp_id('P1-01')}/config/")
    wraps = re.findall(r'<div class="(fieldwrap[^"]*)" id="wrap-([a-z0-9_]+)"', body)
    classes = {name: cls.split() for cls, name in wraps}
    for name in ("controller_uid", "meter_type", "socket_outlet_type", "locking_mode"):
        assert "wide" in classes[name], (name, classes[name])
    for name in ("status_d_rejection", "name", "current_max_a"):
        assert "wide" not in classes[name], (name, classes[name])
    assert _css_rule(".fieldwrap.wide") and "span 2" in _css_rule(".fieldwrap.wide")
    assert len("Bei Fahrzeug verbunden – getrennt") > WIDE_CHOICE_CHARS  # the German that was cut off


# --- identifiers wrap between their words, faults are explained --------------------------------


def test_breakable_marks_word_boundaries_and_escapes():
    assert breakable("OverCurrentFailure") == "Over<wbr>Current<wbr>Failure"
    assert breakable("EVCommunicationError") == "EV<wbr>Communication<wbr>Error"
    assert breakable("SEQUENCE_TIMEOUT") == "SEQUENCE_<wbr>TIMEOUT"
    assert breakable("abcDef<x>") == "abc<wbr>Def&lt;x&gt;"


def test_fault_code_wraps_between_its_words_and_is_explained(runtime, client_as):
    pk = cp_id("P1-02")
    runtime.call("sim.fault", cp=pk, code="OverCurrentFailure", info="")
    client = client_as(Role.MANUFACTURER)
    status = _get(client, f"/chargepoints/{pk}/")
    fault = re.search(r'<dd class="err-text fault" data-testid="error">(.*?)</dd>', status, re.S)
    assert fault, "the fault is not a full-width row"
    assert "Over<wbr>Current<wbr>Failure" in fault.group(1)
    assert str(OcppErrorCode.OVER_CURRENT_FAILURE.label) in fault.group(1)
    simulator = _get(client, f"/system/simulator/?cp={pk}")
    assert "Over<wbr>Current<wbr>Failure" in simulator
    assert str(OcppErrorCode.OVER_CURRENT_FAILURE.label) in simulator


def test_status_page_values_may_wrap_but_not_inside_a_word():
    assert "anywhere" not in _css_rule(".cp-groups dl.kv dd")


# --- network: a MAC address fits beside its label ----------------------------------------------


def test_network_interfaces_get_cards_wide_enough_for_a_mac_address(db, client_as):
    body = _get(client_as(Role.OPERATOR), "/network/")
    assert '<div class="grid2 netcards">' in body
    assert "400px" in _css_rule(".netcards")


# --- System Control / Status and Load Management ----------------------------------------------


def test_web_server_row_shows_when_the_web_process_started(runtime, client_as):
    body = _get(client_as(Role.USER), "/system/")
    cell = re.search(r'data-testid="web-started">([^<]*)<', body)
    assert cell, "no start time in the Web Server row"
    started = datetime.fromtimestamp(psutil.Process(os.getpid()).create_time(), tz=UTC)
    assert cell.group(1) == f"{started:%H:%M:%S} UTC"


def test_only_a_failed_agent_is_shown_as_an_alarm():
    assert "--err" in _css_rule(".st-failed")
    assert "--err" not in _css_rule(".st-stopped")
    assert "--warn" in _css_rule(".st-restarting")


# --- small things -------------------------------------------------------------------------------


def test_numbers_in_tables_do_not_wrap():
    """ "0.00 kW" stays on one line in the overview."""
    assert "white-space: nowrap" in _css_rule("td.num")


def test_page_without_menu_uses_the_whole_row():
    """The forced password change has no menu; its card must not land in the menu's column."""
    rule = _css_rule(".layout > main:first-child")
    assert "grid-column: 1 / -1" in rule
