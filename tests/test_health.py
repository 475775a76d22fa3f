"""The probes (/livez bare, /healthz with a check per dependency) and the optional Server-Timing
header. Redis and a database that is gone: tests/test_outage.py."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.test import Client, override_settings

from wbm import health


def test_the_liveness_probe_answers_ok_to_anyone(db):
    response = Client().get("/livez")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Server-Timing" not in response  # off unless WBM_SERVER_TIMING is set


def test_the_health_probe_answers_ok_to_anyone_while_every_dependency_is(runtime):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_the_health_probe_in_json_reports_each_dependency(runtime):
    response = Client().get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "runtime"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["ms"] >= 0
    assert body["checks"]["channel_layer"]["backend"] == "in-memory"  # embedded mode
    assert body["checks"]["runtime"]["age_s"] == 0.0


def test_without_a_runtime_the_health_probe_fails_and_names_it(db):
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"fail: runtime"
    body = json.loads(Client().get("/healthz", HTTP_ACCEPT="application/json").content)
    assert body["status"] == "fail"
    assert body["checks"]["runtime"]["ok"] is False
    assert "no heartbeat" in body["checks"]["runtime"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_a_failing_database_check_is_named_with_its_error(runtime, monkeypatch):
    def broken() -> dict[str, object]:
        from django.db import OperationalError

        raise OperationalError("connection refused\nsecond line")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"fail: database"
    body = json.loads(Client().get("/healthz", HTTP_ACCEPT="application/json").content)
    assert body["checks"]["database"]["error"] == "OperationalError: connection refused"


def test_a_check_that_hangs_fails_as_a_timeout_and_the_probe_still_answers(runtime, monkeypatch):
    release = threading.Event()

    def hangs() -> dict[str, object]:
        release.wait(10)
        return {}

    monkeypatch.setitem(health.CHECKS, "channel_layer", hangs)
    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.3)
    started = time.monotonic()
    try:
        response = Client().get("/healthz", HTTP_ACCEPT="application/json")
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["channel_layer"]["ok"] is False
    assert "no answer within" in body["checks"]["channel_layer"]["error"]
    assert body["checks"]["database"]["ok"] is True


@override_settings(WBM_SERVER_TIMING=True)
def test_server_timing_reports_the_time_django_spent(db):
    response = Client().get("/livez")
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
        ServerTimingASGI(get_asgi_application()), "GET", "/livez", headers=[(b"host", b"localhost")]
    )
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 200
    timing = dict(response["headers"])[b"server-timing"].decode()
    assert timing.startswith("asgi;dur=")
    assert float(timing.split("=")[1]) > 0
