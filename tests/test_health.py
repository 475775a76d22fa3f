"""The liveness probe and the optional Server-Timing header."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


def test_the_health_probe_answers_ok_to_anyone(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Server-Timing" not in response  # off unless WBM_SERVER_TIMING is set


@override_settings(WBM_SERVER_TIMING=True)
def test_server_timing_reports_the_time_django_spent(db):
    response = Client().get("/healthz")
    name, duration = response["Server-Timing"].split(";dur=")
    assert name == "app"
    assert float(duration) > 0


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_the_asgi_server_timing_covers_the_whole_request():
    from channels.testing import HttpCommunicator
    from django.core.asgi import get_asgi_application

    from wbm.middleware import ServerTimingASGI

    communicator = HttpCommunicator(
        ServerTimingASGI(get_asgi_application()), "GET", "/healthz", headers=[(b"host", b"localhost")]
    )
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 200
    timing = dict(response["headers"])[b"server-timing"].decode()
    assert timing.startswith("asgi;dur=")
    assert float(timing.split("=")[1]) > 0
