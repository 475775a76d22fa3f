"""The liveness probe and the optional Server-Timing header."""

from __future__ import annotations

from django.test import Client, override_settings


def test_the_health_probe_answers_ok_to_anyone(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Server-Timing" not in response      # off unless WBM_SERVER_TIMING is set


@override_settings(WBM_SERVER_TIMING=True)
def test_server_timing_reports_the_time_django_spent(db):
    response = Client().get("/healthz")
    name, duration = response["Server-Timing"].split(";dur=")
    assert name == "app"
    assert float(duration) > 0
