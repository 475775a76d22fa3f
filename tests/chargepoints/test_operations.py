"""Operations of the status page, with the manual's role rules and their effect on the hardware."""

from __future__ import annotations

import re

import pytest

from chargepoints.models import ChargePoint
from tests.conftest import cp_id
from wbm.models import ChangeRecord
from wbm.roles import Role

HTMX = {"HTTP_HX_REQUEST": "true"}


def status_page(client, pk: int) -> str:
    return client.get(f"/chargepoints/{pk}/").content.decode()


def live(runtime, name: str):
    return runtime.step().chargepoint(cp_id(name))


def charging_at(runtime, name: str) -> None:
    pk = cp_id(name)
    assert runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)["ok"]
    if name == "P1-01":
        assert runtime.call("cp.release", cp=pk, allow=True)["ok"]
    runtime.step()
    state = live(runtime, name)
    assert state.iec_state == "C" and state.currents_a[0] > 0


# --- which buttons each role sees ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_user_and_operator_may_release_but_see_no_disable_or_unlock(runtime, client_as, role):
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    body = status_page(client_as(role), pk)
    assert 'data-testid="op-allow"' in body
    for hidden in ("op-disable", "op-enforce-unlock", "op-config", "op-import", "op-delete"):
        assert f'data-testid="{hidden}"' not in body, hidden
    assert 'data-testid="op-export"' in body  # exporting is a read


def test_manufacturer_sees_every_operation(runtime, client_as):
    pk = cp_id("P1-01")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    body = status_page(client_as(Role.MANUFACTURER), pk)
    for shown in ("op-allow", "op-disable", "op-enforce-unlock", "op-config", "op-import", "op-export", "op-delete"):
        assert f'data-testid="{shown}"' in body, shown


def test_release_button_only_when_a_vehicle_is_connected_and_the_mode_allows_it(runtime, client_as):
    client = client_as(Role.USER)
    body = status_page(client, cp_id("P1-01"))
    assert 'data-testid="op-allow"' not in body
    assert "Charging can be allowed when a vehicle is connected." in body
    runtime.call("sim.plug_in", cp=cp_id("P1-02"), phases=3, max_current_a=16)
    body = status_page(client, cp_id("P1-02"))  # permanent release: not from the web page
    assert 'data-testid="op-prohibit"' not in body and 'data-testid="release-hint"' in body


# --- the role rules on the POST endpoints ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_user_and_operator_may_not_disable_or_unlock(runtime, client_as, role):
    pk = cp_id("P1-01")
    client = client_as(role)
    assert client.post(f"/chargepoints/{pk}/availability/", {"enabled": "0"}, **HTMX).status_code == 403
    assert client.post(f"/chargepoints/{pk}/unlock/", {"enforce": "1"}, **HTMX).status_code == 403
    state = live(runtime, "P1-01")
    assert state.enabled and not state.unlock_enforced


def test_guest_is_sent_to_login_for_every_operation(runtime, client_as):
    pk = cp_id("P1-01")
    guest = client_as(Role.GUEST)
    for op, data in (
        ("release", {"allow": "1", "view": "status"}),
        ("availability", {"enabled": "0"}),
        ("unlock", {"enforce": "1"}),
    ):
        response = guest.post(f"/chargepoints/{pk}/{op}/", data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], op
    assert live(runtime, "P1-01").enabled


def test_user_allows_and_prohibits_charging_from_the_status_page(runtime, client_as):
    pk = cp_id("P1-01")
    client = client_as(Role.USER)
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    response = client.post(f"/chargepoints/{pk}/release/", {"allow": "1", "view": "status"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="op-done"' in body and "Charging is allowed." in body
    # the groups and buttons come along out of band, showing the effect at once
    assert 'id="cp-status-groups" class="cp-groups" hx-swap-oob="true"' in body
    assert 'data-testid="op-prohibit"' in body
    runtime.step()
    assert live(runtime, "P1-01").iec_state == "C"
    client.post(f"/chargepoints/{pk}/release/", {"allow": "0", "view": "status"}, **HTMX)
    state = live(runtime, "P1-01")
    assert state.iec_state == "B" and not state.release


def test_refusal_is_shown_in_place(runtime, client_as):
    pk = cp_id("P1-01")  # no vehicle plugged in
    response = client_as(Role.USER).post(f"/chargepoints/{pk}/release/", {"allow": "1", "view": "status"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="op-error"' in body and "No vehicle is plugged in at P1-01." in body


def test_disable_sets_status_f_shows_error_and_aborts_charging(runtime, client_as):
    charging_at(runtime, "P1-02")
    pk = cp_id("P1-02")
    client = client_as(Role.MANUFACTURER)
    response = client.post(f"/chargepoints/{pk}/availability/", {"enabled": "0"}, **HTMX)
    body = response.content.decode()
    assert 'data-testid="op-done"' in body and 'data-testid="op-enable"' in body
    assert 'data-iec="F"' in body
    runtime.step()
    state = live(runtime, "P1-02")
    assert state.iec_state == "F" and state.dashboard_status == "error"
    assert state.currents_a == (0.0, 0.0, 0.0) and state.pwm_limit_a == 0
    dashboard = client_as(Role.GUEST).get("/").content.decode()
    assert re.search(rf'id="cp-{pk}" class="card st-error"', dashboard)
    assert ChargePoint.objects.get(pk=pk).enabled is False  # kept across restarts
    assert ChangeRecord.objects.filter(action="chargepoint.disable", username="manufacturer-t").exists()
    # enabling again: the permanent release lets the vehicle charge again, once the vehicle had
    # its 5 s to follow the PWM that was switched off
    client.post(f"/chargepoints/{pk}/availability/", {"enabled": "1"}, **HTMX)
    runtime.clock.advance(5)
    runtime.step()
    assert live(runtime, "P1-02").iec_state == "C"
    assert ChargePoint.objects.get(pk=pk).enabled is True


def test_enforce_unlocking_aborts_charging_and_unlocks_until_reverted(runtime, client_as):
    charging_at(runtime, "P1-01")
    pk = cp_id("P1-01")
    client = client_as(Role.MANUFACTURER)
    assert live(runtime, "P1-01").locked
    body = client.post(f"/chargepoints/{pk}/unlock/", {"enforce": "1"}, **HTMX).content.decode()
    assert 'data-testid="op-revert-unlock"' in body and 'data-testid="unlock-note"' in body
    runtime.step()
    state = live(runtime, "P1-01")
    assert state.unlock_enforced and not state.locked
    assert state.iec_state == "B" and state.currents_a == (0.0, 0.0, 0.0)
    client.post(f"/chargepoints/{pk}/unlock/", {"enforce": "0"}, **HTMX)
    state = live(runtime, "P1-01")
    assert not state.unlock_enforced and state.locked  # locks again on a connected vehicle


def test_plain_form_post_returns_to_the_status_page_with_the_outcome(runtime, client_as):
    pk = cp_id("P1-02")
    client = client_as(Role.MANUFACTURER)
    response = client.post(f"/chargepoints/{pk}/availability/", {"enabled": "0"})
    assert response.status_code == 302 and response["Location"] == f"/chargepoints/{pk}/"
    body = client.get(response["Location"]).content.decode()
    assert "The charging point is disabled" in body
    assert 'data-iec="F"' in body


def test_operations_are_refused_with_the_reason_when_the_runtime_is_down(park, client_as):
    pk = cp_id("P1-02")
    body = (
        client_as(Role.MANUFACTURER)
        .post(f"/chargepoints/{pk}/availability/", {"enabled": "0"}, **HTMX)
        .content.decode()
    )
    # written first, then told: the stored state waits for the runtime, and the page says so
    assert "Saved. The controller runtime is not reachable right now" in body
    assert ChargePoint.objects.get(pk=pk).enabled is False


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/phish", "/dashboard/"),
        ("//evil.example/phish", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
        ("/chargepoints/", "/chargepoints/"),
    ],
)
def test_the_release_form_goes_back_only_to_a_page_of_this_site(park, client_as, next_url, lands_on):
    """Regression: ``next`` was followed wherever it pointed (an open redirect)."""
    pk = cp_id("P1-01")
    response = client_as(Role.USER).post(f"/chargepoints/{pk}/release/", {"allow": "1", "next": next_url})
    assert response.status_code == 302 and response["Location"] == lands_on
