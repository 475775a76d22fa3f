"""The OCPP agent and System Control: the system clock set by hand in OCPP timestamps, NTP for
AvailabilityOnlyWhenTimeSynchronized, the backend's time held back during a session, the shared
redacting support bundle as the GetDiagnostics upload, transactions stopped with Reboot after
REBOOT SYSTEM."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chargepoints.models import ChargingSession
from ocppcfg.models import OcppSettings
from tests.ocpp.agent_env import BOX, Env, boot, running, wait_until
from tests.ocpp.test_octt_core import charging, stepping
from wbm.runtime import clock
from wbm.runtime.claims import Kind, Source
from wbm.system import osbackend, reboot

SET_BY_HAND = datetime(2031, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def state_dir(settings, tmp_path: Path) -> Iterator[Path]:
    """The simulated OS (clock offset, reboot mark) in this test's state directory; the clock's
    cached offset is forgotten on both sides so no other test sees this one's time."""
    settings.STATE_DIR = str(tmp_path)
    clock.forget_offset()
    yield tmp_path
    clock.forget_offset()


def test_a_time_set_by_hand_is_the_start_transaction_timestamp(transactional_db, settings, monkeypatch, tmp_path):
    osbackend.time_set(when=SET_BY_HAND, source="manual")
    with running(settings, monkeypatch, tmp_path) as env:
        boot(env)
        charging(env)
        [start] = env.csms.calls("StartTransaction")
        assert start["timestamp"].startswith("2031-05-04T10:0")
        statuses = env.csms.calls("StatusNotification")
        assert all(s["timestamp"].startswith("2031-05-04T10:0") for s in statuses)
        assert env.csms.violations == []


def test_availability_only_when_time_synchronized_is_met_by_ntp_before_any_backend_time(
    transactional_db, settings, monkeypatch, tmp_path
):
    osbackend.time_sync_enable()  # System Control → Time: NTP on, synchronized
    keys = {"AvailabilityOnlyWhenTimeSynchronized": "true"}
    options = {"cp_response_timeout_s": 1.0}
    with running(settings, monkeypatch, tmp_path, keys=keys, csms_options=options) as env:
        env.csms.silent(True)  # the boot goes unanswered: no backend time
        env.csms.wait_for("BootNotification", timeout=10)
        env.steps(4)
        assert not env.agent.time_synced
        assert not env.rt.runtime.claims.has(env.cps[0], Kind.BLOCK, Source.OCPP, "inoperative_time")
        assert env.rt.step().chargepoint(env.cps[0]).ocpp_status == "Available"
        osbackend.time_set(when=datetime.now(UTC), source="manual")  # by hand: no longer synchronized
        stepping(
            env,
            lambda: env.rt.runtime.claims.has(env.cps[0], Kind.BLOCK, Source.OCPP, "inoperative_time"),
            what="the block once the clock is set by hand",
        )
        env.csms.silent(False)
        assert env.csms.violations == []


def test_a_backend_time_during_a_session_waits_for_its_end(transactional_db, settings, monkeypatch, tmp_path):
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    with running(settings, monkeypatch, tmp_path) as env:
        boot(env)
        assert abs(env.agent.time_offset_s) < 60  # the boot's time
        charging(env)
        env.csms.respond("Heartbeat", lambda _: {"currentTime": ahead})
        env.rt.run(env.agent.heartbeat())
        assert abs(env.agent.time_offset_s) < 60  # AllowTimeSyncDuringSession is false
        env.unplug(0)
        env.csms.wait_for("StopTransaction")
        wait_until(lambda: abs(env.agent.time_offset_s - 3600) < 60, what="the held-back time applied")
        assert env.csms.violations == []


class _Uploads(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_the_diagnostics_upload_contains_no_planted_secret(transactional_db, settings, monkeypatch, tmp_path):
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    secret = "planted-Authorization-Key-42"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    (settings.LOG_DIR / "wbm.log").write_text(f"{now},001 INFO ocppcfg.agent: basic auth CP1:{secret}\n")
    handler = type("Handler", (_Uploads,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with running(settings, monkeypatch, tmp_path, user="CP1", password=secret) as env:
            boot(env)
            assert OcppSettings.load().authorization_key == secret
            location = f"http://127.0.0.1:{server.server_address[1]}/upload/"
            answer = env.csms.call(BOX, "GetDiagnostics", {"location": location, "retries": 1})
            notified = wait_until(
                lambda: [p["status"] for p in env.csms.calls("DiagnosticsStatusNotification")][1:],
                10,
                "the upload's outcome",
            )
            assert notified == ["Uploaded"]
            assert env.csms.violations == []
    finally:
        server.shutdown()
        server.server_close()
    [body] = handler.received
    assert answer["fileName"].encode() in body
    raw = body[body.index(b"PK\x03\x04") : body.rindex(b"\r\n--")]
    with zipfile.ZipFile(io.BytesIO(raw)) as bundle:
        texts = {name: bundle.read(name).decode() for name in bundle.namelist()}
    assert "configuration.json" in texts and "logs/wbm.log" in texts
    assert [name for name, text in texts.items() if secret in text] == []
    assert "[REDACTED]" in texts["logs/wbm.log"]


def _reboot_mark() -> None:
    """What REBOOT SYSTEM leaves before the process stops cleanly."""
    reboot.install(lambda: None)
    try:
        assert reboot.request("test")
    finally:
        reboot.install(None)


def test_after_reboot_system_an_open_transaction_stops_once_with_reboot(
    transactional_db, settings, monkeypatch, tmp_path
):
    settings.WBM_SYSTEM_RESTART = True
    with running(settings, monkeypatch, tmp_path) as env:
        boot(env)
        tx_id = charging(env)
        _reboot_mark()
        env.restart_runtime()  # the clean stop and start of REBOOT SYSTEM; the vehicle stays
        stop = env.csms.wait_for("StopTransaction", timeout=8)
        assert stop["reason"] == "Reboot" and stop["transactionId"] == tx_id
        assert reboot.last_start_was_reboot() == ""  # read once, by the runtime's start
        env.steps(4, 0.2)
        env.rt.drain()
        assert len(env.csms.calls("StopTransaction")) == 1
        sessions = _sessions(env)
        assert [(s.stop_reason, s.ended_at is None) for s in sessions] == [("Reboot", False), ("", True)]
        assert env.csms.violations == []


def _sessions(env: Env) -> list[Any]:
    return list(ChargingSession.objects.filter(chargepoint_id=env.cps[0]).order_by("id"))
