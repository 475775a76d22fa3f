"""Two tabs (or two API clients) editing the same charge point: the second save, made from what
was read before the first one saved, is refused with what changed; nothing is overwritten."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from chargepoints.models import ChargePoint, ChargePointConfig, RfidBoard
from tests.chargepoints.test_config_views import posted
from tests.chargepoints.test_rfid_board import form_data
from tests.conftest import cp_id
from wbm.roles import Role

URL = "/chargepoints/{pk}/config/"
BOARD_URL = "/chargepoints/rfid-board/"


def revision_in(html: str) -> str:
    found = re.findall(r'name="revision" value="(\d+)"', html)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def tabs(park, client_as):
    """Two browser tabs of the Manufacturer: one session."""
    first = client_as(Role.MANUFACTURER)
    second = Client()
    second.cookies = first.cookies
    return first, second


def test_the_second_tab_is_refused_with_the_changed_field_and_the_first_value_is_kept(tabs):
    first, second = tabs
    pk = cp_id("P1-01")
    url = URL.format(pk=pk)
    read_first = revision_in(first.get(url).content.decode())
    read_second = revision_in(second.get(url).content.decode())
    assert first.post(url, posted("P1-01", current_max_a=20, revision=read_first)).status_code == 302

    response = second.post(url, posted("P1-01", location="Bay 9", revision=read_second))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this configuration meanwhile" in body and "by manufacturer-t" in body
    assert "these settings changed: Charge current maximum (A)." in body
    assert 'value="Bay 9"' in body  # the second tab's values are shown again
    config = ChargePointConfig.objects.get(pk=pk)
    assert (config.current_max_a, config.location) != (20, "Bay 9")
    assert config.current_max_a == 20  # the first tab's change stands

    # the page now carries the current revision: saving again overwrites knowingly
    again = second.post(url, posted("P1-01", location="Bay 9", revision=revision_in(body)))
    assert again.status_code == 302
    assert ChargePointConfig.objects.get(pk=pk).location == "Bay 9"


def test_the_conditional_fields_rerender_keeps_the_revision_read(tabs):
    first, _second = tabs
    pk = cp_id("P1-01")
    url = URL.format(pk=pk)
    read = revision_in(first.get(url).content.decode())
    ChargePointConfig.objects.filter(pk=pk).update(revision=int(read) + 5)  # someone saved since
    body = first.post(url, posted("P1-01", refresh="1", revision=read), HTTP_HX_REQUEST="true").content.decode()
    assert revision_in(body) == read


def test_two_tabs_creating_the_same_configuration_the_second_does_not_overwrite(tabs):
    first, second = tabs
    free = ChargePoint.objects.get(station__hostname="ev3000-2", position=2)
    url = URL.format(pk=free.pk)
    read_first = revision_in(first.get(url).content.decode())
    read_second = revision_in(second.get(url).content.decode())
    base = {k: v for k, v in posted("P1-02", controller_uid=free.device_uid).items() if k != "ocpp_connector_id"}
    assert first.post(url, {**base, "name": "Tab-A", "revision": read_first}).status_code == 302

    body = second.post(url, {**base, "name": "Tab-B", "revision": read_second}).content.decode()
    assert "Someone else saved this configuration meanwhile" in body and "Name" in body
    assert ChargePointConfig.objects.get(pk=free.pk).name == "Tab-A"


# --- the API -------------------------------------------------------------------------------------


def call(client, method: str, path: str, body: Any = None, **headers: str):
    data = "" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json", **headers)


def test_the_api_refuses_a_stale_etag_with_412_naming_the_field_and_accepts_the_current_one(tabs):
    first, second = tabs
    api = f"/api/v1/chargepoints/{cp_id('P1-01')}/config/"
    stale = second.get(api)["ETag"]
    assert call(first, "PATCH", api, {"current_max_a": 20}, HTTP_IF_MATCH=first.get(api)["ETag"]).status_code == 200

    refused = call(second, "PATCH", api, {"location": "Bay 9"}, HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert refused.json()["changed"] == [{"field": "current_max_a", "label": "Charge current maximum (A)"}]
    assert call(second, "DELETE", api, HTTP_IF_MATCH=stale).status_code == 412
    assert second.get(api).json()["config"]["location"] != "Bay 9"

    current = second.get(api)["ETag"]
    assert current == refused["ETag"] != stale
    accepted = call(second, "PATCH", api, {"location": "Bay 9"}, HTTP_IF_MATCH=current)
    assert accepted.status_code == 200 and accepted.json()["config"]["location"] == "Bay 9"
    assert accepted["ETag"] != current


def test_the_api_without_if_match_keeps_last_write_wins(tabs):
    first, _second = tabs
    api = f"/api/v1/chargepoints/{cp_id('P1-01')}/config/"
    first.get(api)
    call(first, "PATCH", api, {"current_max_a": 20})
    assert call(first, "PATCH", api, {"location": "Bay 9"}).status_code == 200


# --- the CHARX RFID/NFC board page ---------------------------------------------------------------


def test_the_second_tab_on_the_board_page_is_refused_with_the_changed_setting(tabs):
    first, second = tabs
    board = cp_id("P1-03")
    read_first = revision_in(first.get(BOARD_URL).content.decode())
    read_second = revision_in(second.get(BOARD_URL).content.decode())
    saved = first.post(
        BOARD_URL, form_data(board, "1:1", **{f"b{board}-buzzer_volume_pct": 80, "revision": read_first})
    )
    assert saved.status_code == 302

    body = second.post(
        BOARD_URL, form_data(board, "1:1", **{f"b{board}-buzzer_volume_pct": 20, "revision": read_second})
    ).content.decode()
    assert "Someone else saved the settings of this board meanwhile" in body
    assert "these settings changed: Buzzer volume (%)." in body
    assert RfidBoard.objects.get(pk=board).buzzer_volume_pct == 80

    again = second.post(
        BOARD_URL, form_data(board, "1:1", **{f"b{board}-buzzer_volume_pct": 20, "revision": revision_in(body)})
    )
    assert again.status_code == 302 and RfidBoard.objects.get(pk=board).buzzer_volume_pct == 20
