from __future__ import annotations

from tests.conftest import cp_id
from wbm.roles import Role


def test_dashboard_shows_configured_chargepoints_live(runtime, client_as):
    response = client_as(Role.GUEST).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "P1-01" in body and "Visitor-01" in body
    result = runtime.call("sim.plug_in", cp=cp_id("P1-02"), phases=3, max_current_a=16, ventilation=False)
    assert result["ok"], result
    runtime.step()
    body = client_as(Role.GUEST).get("/").content.decode()
    assert 'data-testid="sum-charging">1<' in body
