"""The locking mode "Remote control": the socket is locked and unlocked from outside — the REST API
and the status page (issue: it could not be operated at all)."""

from __future__ import annotations

import json

from chargepoints.models import ChargePointConfig
from tests.conftest import cp_id
from wbm.models import ChangeRecord
from wbm.roles import Role

HTMX = {"HTTP_HX_REQUEST": "true"}


def remote(runtime, name: str) -> int:
    pk = cp_id(name)
    ChargePointConfig.objects.filter(pk=pk).update(connection_type="socket_outlet", locking_mode="remote")
    assert runtime.call("config.reload")["ok"]
    return pk


def post(client, url: str, data: dict) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_the_api_locks_and_unlocks_a_remote_controlled_socket(runtime, client_as):
    pk = remote(runtime, "P1-02")
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    assert runtime.step().chargepoint(pk).locked is False  # nobody locked it: remote control waits
    user = client_as(Role.USER)
    locked = post(user, f"/api/v1/chargepoints/{pk}/lock/", {"locked": True})
    assert locked.status_code == 200 and locked.json()["locked"] is True and locked.json()["remote_locking"] is True
    unlocked = post(user, f"/api/v1/chargepoints/{pk}/lock/", {"locked": False})
    assert unlocked.json()["locked"] is False
    actions = list(ChangeRecord.objects.filter(object_id=str(pk)).values_list("action", flat=True))
    assert "chargepoint.lock" in actions and "chargepoint.unlock" in actions
    assert post(client_as(Role.GUEST), f"/api/v1/chargepoints/{pk}/lock/", {"locked": True}).status_code in (401, 403)
    assert post(user, f"/api/v1/chargepoints/{pk}/lock/", {"locked": "maybe"}).status_code == 400


def test_a_socket_that_locks_by_itself_refuses_remote_locking(runtime, client_as):
    pk = cp_id("P1-01")  # locks on EV connected
    response = post(client_as(Role.USER), f"/api/v1/chargepoints/{pk}/lock/", {"locked": False})
    assert response.status_code == 409
    assert "Remote control" in response.json()["detail"]


def test_the_status_page_offers_lock_and_unlock_in_remote_control_only(runtime, client_as):
    pk = remote(runtime, "P1-02")
    user = client_as(Role.USER)
    page = user.get(f"/chargepoints/{pk}/").content.decode()
    assert 'data-testid="op-lock-socket"' in page
    body = user.post(f"/chargepoints/{pk}/lock/", {"locked": "1"}, **HTMX).content.decode()
    assert "The socket is locked." in body and 'data-testid="op-unlock-socket"' in body
    other = user.get(f"/chargepoints/{cp_id('P1-01')}/").content.decode()
    assert "op-lock-socket" not in other and "op-unlock-socket" not in other
