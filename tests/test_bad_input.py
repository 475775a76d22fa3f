"""Bad input gets a clear message (translated on pages, JSON on the API) and changes nothing:
an unknown charge point, an impossible state change, invalid values, a role too low."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import cp_id, make_user
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime.bus import read_snapshot

UNKNOWN_CP = 99999
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
# English message → German words the translation must contain (locale/de)
NO_VEHICLE_EN, NO_VEHICLE_DE = "No vehicle is plugged in at P1-01.", "An P1-01 ist kein Fahrzeug angesteckt."
INVALID_EN, INVALID_DE = "Some values are not valid.", "Einige Werte sind ungültig."
ROLE_EN, ROLE_DE = "Your role does not allow this operation.", "Ihre Rolle erlaubt diese Aktion nicht."
NO_CP_EN, NO_CP_DE = f"There is no charging point {UNKNOWN_CP}.", f"Es gibt keinen Ladepunkt {UNKNOWN_CP}."


def _state(pk: int) -> dict[str, Any]:
    """What a person could notice at a charge point."""
    cp = read_snapshot().chargepoint(pk)
    assert cp is not None
    return {
        k: getattr(cp, k)
        for k in (
            "vehicle",
            "iec_state",
            "error_code",
            "error_info",
            "rfid",
            "release",
            "enabled",
            "digital_inputs",
            "analog_inputs_v",
            "temperature_c",
        )
    }


class Unchanged:
    """Asserts that the park state and the audit trail are the same after the block."""

    def __init__(self, *pks: int) -> None:
        self.pks = pks

    def __enter__(self) -> Unchanged:
        self.before = {pk: _state(pk) for pk in self.pks}
        self.records = ChangeRecord.objects.count()
        self.agents = [(a.name, a.restarts) for a in read_snapshot().agents]
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        assert {pk: _state(pk) for pk in self.pks} == self.before
        assert ChangeRecord.objects.count() == self.records, "a refused request left an audit record"
        assert [(a.name, a.restarts) for a in read_snapshot().agents] == self.agents


def _manufacturer() -> Client:
    client = Client()
    client.force_login(make_user(Role.MANUFACTURER))
    return client


def _sim(client: Client, pk: int, op: str, data: dict[str, Any] | None = None, **extra: Any):
    return client.post(
        f"/api/v1/simulator/chargepoints/{pk}/{op}/", data or {}, content_type="application/json", **extra
    )


# --- unknown charge point ---------------------------------------------------------------------


def test_simulator_api_with_an_unknown_charge_point_is_404_json(runtime):
    with Unchanged(cp_id("P1-01")):
        response = _sim(_manufacturer(), UNKNOWN_CP, "plug_in", {"phases": 3, "max_current_a": 16})
    assert response.status_code == 404
    assert response.json() == {"detail": NO_CP_EN, "code": "not_found"}


def test_simulator_api_with_an_unknown_operation_is_404_json(runtime):
    with Unchanged(cp_id("P1-01")):
        response = _sim(_manufacturer(), cp_id("P1-01"), "teleport")
    assert response.status_code == 404 and response.json()["detail"]


def test_simulator_page_with_an_unknown_charge_point_is_the_styled_404(runtime):
    client = _manufacturer()
    response = client.get(f"/system/simulator/?cp={UNKNOWN_CP}")
    assert response.status_code == 404 and 'class="errorpage' in response.content.decode()
    with Unchanged(cp_id("P1-01")):
        response = client.post("/system/simulator/", {"cp": UNKNOWN_CP, "op": "unplug"})
    assert response.status_code == 404 and 'class="errorpage' in response.content.decode()


# --- impossible state changes -----------------------------------------------------------------


def test_unplug_without_a_vehicle_is_409_with_a_clear_message(runtime):
    pk = cp_id("P1-01")
    with Unchanged(pk):
        response = _sim(_manufacturer(), pk, "unplug")
    assert response.status_code == 409
    assert response.json() == {"detail": NO_VEHICLE_EN, "code": "no_vehicle"}


def test_a_second_plug_in_is_409(runtime):
    pk = cp_id("P1-01")
    client = _manufacturer()
    assert _sim(client, pk, "plug_in", {"phases": 1, "max_current_a": 16}).status_code == 200
    with Unchanged(pk):
        response = _sim(client, pk, "plug_in", {"phases": 3, "max_current_a": 32})
    assert response.status_code == 409
    assert response.json()["code"] == "already_plugged" and "P1-01" in response.json()["detail"]


def test_unplug_without_a_vehicle_on_the_simulator_page_is_shown_in_place(runtime):
    pk = cp_id("P1-01")
    client = _manufacturer()
    with Unchanged(pk):
        response = client.post("/system/simulator/", {"cp": pk, "op": "unplug"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps the panel with the refusal in it
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="sim-panel">'), "the htmx answer is the panel only"
    assert 'id="sim-error"' in body and NO_VEHICLE_EN in body
    with Unchanged(pk):
        response = client.post("/system/simulator/", {"cp": pk, "op": "unplug"})  # without JavaScript
    assert response.status_code == 200 and NO_VEHICLE_EN in response.content.decode()
    assert "<html" in response.content.decode()


# --- invalid values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "data", "field"),
    [
        ("plug_in", {"phases": 3, "max_current_a": 2}, "max_current_a"),
        ("plug_in", {"phases": 2, "max_current_a": 16}, "phases"),
        ("plug_in", {"phases": 3}, "max_current_a"),
        ("rfid", {"tag": "xyz"}, "tag"),
        ("temperature", {"celsius": "hot"}, "celsius"),
    ],
)
def test_invalid_values_are_400_naming_the_field(runtime, op: str, data: dict[str, Any], field: str):
    pk = cp_id("P1-03")
    with Unchanged(pk):
        response = _sim(_manufacturer(), pk, op, data)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == INVALID_EN and body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert body["errors"][field][0]["message"]


def test_invalid_values_on_the_simulator_page_show_at_the_field(runtime):
    pk = cp_id("P1-03")
    client = _manufacturer()
    with Unchanged(pk):
        response = client.post(
            "/system/simulator/",
            {"cp": pk, "op": "plug_in", "plug_in-phases": "2", "plug_in-max_current_a": "2"},
            HTTP_HX_REQUEST="true",
        )
        rfid = client.post("/system/simulator/", {"cp": pk, "op": "rfid", "rfid-tag": "xyz"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_plug_in-phases-errors"' in body and 'id="id_plug_in-max_current_a-errors"' in body
    assert "Ensure this value is greater than or equal to 6." in body
    assert 'id="id_rfid-tag-errors"' in rfid.content.decode()


def test_an_unknown_simulator_operation_on_the_page_is_400(runtime):
    with Unchanged(cp_id("P1-01")):
        response = _manufacturer().post("/system/simulator/", {"cp": cp_id("P1-01"), "op": "teleport"})
    assert response.status_code == 400 and 'class="errorpage' in response.content.decode()


# --- a role too low ---------------------------------------------------------------------------


def test_a_guest_calling_an_operator_api_route_is_401(runtime):
    with Unchanged(cp_id("P1-01")):
        response = Client().post("/api/v1/system/agents/controller/restart/", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated" and response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_user_calling_an_operator_api_route_is_403(runtime, client_as):
    with Unchanged(cp_id("P1-01")):
        response = client_as(Role.USER).post(
            "/api/v1/system/agents/controller/restart/", content_type="application/json"
        )
    assert response.status_code == 403
    assert response.json() == {"detail": ROLE_EN, "code": "permission_denied"}


def test_an_operator_restarts_the_service_and_it_is_audited(runtime, client_as):
    """The same route works for the role it is meant for (so the refusals above are the role's)."""
    before = read_snapshot().agent("controller").restarts
    response = client_as(Role.OPERATOR).post(
        "/api/v1/system/agents/controller/restart/", content_type="application/json"
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    runtime.step()
    assert read_snapshot().agent("controller").restarts == before + 1
    assert ChangeRecord.objects.filter(action="system.service.restart", username="operator-t").exists()


def test_restarting_an_unknown_service_is_refused_with_a_clear_message(runtime, client_as):
    with Unchanged(cp_id("P1-01")):
        response = client_as(Role.OPERATOR).post(
            "/api/v1/system/agents/warp-drive/restart/", content_type="application/json"
        )
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no service named “warp-drive”."


# --- messages in German -----------------------------------------------------------------------


def test_refusals_are_translated(runtime, client_as):
    """Accept-Language: de (the API) and the wbm_language cookie (pages) switch the messages."""
    pk = cp_id("P1-01")
    client = _manufacturer()
    with Unchanged(pk):
        no_vehicle = _sim(client, pk, "unplug", **GERMAN).json()["detail"]
        invalid = _sim(client, pk, "plug_in", {"phases": 3, "max_current_a": 2}, **GERMAN).json()
        no_cp = _sim(client, UNKNOWN_CP, "unplug", **GERMAN).json()["detail"]
        role = (
            client_as(Role.USER)
            .post("/api/v1/system/agents/controller/restart/", content_type="application/json", **GERMAN)
            .json()["detail"]
        )
    assert no_vehicle == NO_VEHICLE_DE
    assert invalid["detail"] == INVALID_DE
    assert invalid["errors"]["max_current_a"][0]["message"] != "Ensure this value is greater than or equal to 6."
    assert no_cp == NO_CP_DE
    assert role == ROLE_DE
    # the simulator page, by cookie
    client.cookies["wbm_language"] = "de"
    page = client.post("/system/simulator/", {"cp": pk, "op": "unplug"}, HTTP_HX_REQUEST="true").content.decode()
    assert NO_VEHICLE_DE in page and NO_VEHICLE_EN not in page
