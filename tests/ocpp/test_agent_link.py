"""The OCPP agent's connection: Basic auth, TLS, a silent backend, outages with a killed runtime."""

from __future__ import annotations

import time

from ocppcfg.models import ConnectionEvent, MessageLog, OcppSettings, OutboxMessage, Transaction
from tests.ocpp.agent_env import BOX, boot, running, wait_until


def test_tc_085_basic_auth_valid_and_wrong(transactional_db, settings, monkeypatch, tmp_path) -> None:
    options = {"users": {BOX: "s3cret-pass"}}
    with running(settings, monkeypatch, tmp_path, csms_options=options, user=BOX, password="s3cret-pass") as env:
        boot(env)
        assert env.csms.handshakes[-1].user == BOX
        # TC_073: the backend changes the password; the next connection uses it
        env.csms.csms.users = {BOX: "new-pass-123"}
        answer = env.csms.call(BOX, "ChangeConfiguration", {"key": "AuthorizationKey", "value": "new-pass-123"})
        assert answer["status"] == "Accepted"
        wait_until(lambda: len([h for h in env.csms.handshakes if h.status == 101]) >= 2, 5, "a reconnect")
        assert OcppSettings.load().authorization_key == "new-pass-123"
        assert env.csms.violations == []


def test_tc_085_wrong_password_is_refused_and_shown(transactional_db, settings, monkeypatch, tmp_path) -> None:
    options = {"users": {BOX: "right"}}
    with running(settings, monkeypatch, tmp_path, csms_options=options, user=BOX, password="wrong") as env:
        status = wait_until(lambda: env.status().get("last_error") == "HTTP 401" and env.status(), 5, "HTTP 401")
        assert status["connected"] is False
        wait_until(lambda: ConnectionEvent.objects.filter(kind="failed", detail="HTTP 401").exists())


def test_tc_086_wss_with_the_uploaded_ca(transactional_db, settings, monkeypatch, tmp_path) -> None:
    with running(settings, monkeypatch, tmp_path, csms_options={"tls": True}, ca=True) as env:
        boot(env)
        assert env.agent.url_in_use.startswith("wss://")
        assert env.csms.violations == []


def test_wss_without_the_ca_fails_verification(transactional_db, settings, monkeypatch, tmp_path) -> None:
    with running(settings, monkeypatch, tmp_path, csms_options={"tls": True}, ca=False) as env:
        wait_until(lambda: env.status().get("last_error", "").startswith("TLS"), 5, "a TLS error")


def test_no_backend_url_idles(transactional_db, settings, monkeypatch, tmp_path) -> None:
    with running(settings, monkeypatch, tmp_path, url="") as env:
        status = wait_until(lambda: env.status().get("last_error") == "no backend URL" and env.status())
        assert status["connected"] is False


def test_silent_backend_ping_timeout_reconnects(transactional_db, settings, monkeypatch, tmp_path) -> None:
    keys = {"WebSocketPingInterval": "1", "WebSocketPingTimeout": "1"}
    with running(settings, monkeypatch, tmp_path, keys=keys) as env:
        boot(env)
        env.csms.silent(True)
        wait_until(lambda: ConnectionEvent.objects.filter(kind="ping_timeout").exists(), 8, "a ping timeout")
        env.csms.silent(False)
        wait_until(lambda: len([h for h in env.csms.handshakes if h.status == 101]) >= 2, 8, "a new connection")
        assert MessageLog.objects.count() <= 50


def test_new_backend_url_that_fails_keeps_the_old_one(transactional_db, settings, monkeypatch, tmp_path) -> None:
    with running(settings, monkeypatch, tmp_path) as env:
        boot(env)
        old = OcppSettings.load().backend_url
        answer = env.csms.call(BOX, "ChangeConfiguration", {"key": "NewBackendURL", "value": "ws://127.0.0.1:1/x/CP9"})
        assert answer["status"] == "Accepted"
        wait_until(lambda: ConnectionEvent.objects.filter(kind="url_changed").exists(), 8, "url_changed")
        wait_until(lambda: len(env.csms.calls("BootNotification")) >= 2, 8, "a boot at the old backend")
        assert OcppSettings.load().backend_url == old
        assert env.csms.violations == []


def test_tc_036_039_outage_with_kill_nothing_lost_nothing_duplicated(
    transactional_db, settings, monkeypatch, tmp_path
) -> None:
    """A transaction runs; the backend goes away; meanwhile meter values, a stop and a new
    offline transaction are queued; the runtime is killed and restarted during the outage; when
    the backend is back everything arrives once, in order, with the right transactionIds."""
    keys = {"MeterValueSampleInterval": "1", "AllowOfflineTxForUnknownId": "true"}
    with running(settings, monkeypatch, tmp_path, connectors=2, keys=keys) as env:
        boot(env)
        env.plug(0)
        env.card("AA01", 0)
        env.csms.wait_for("StartTransaction")
        wait_until(lambda: env.agent.active[1].transaction_id == 1, what="transactionId 1")
        env.csms.stop()  # the outage
        wait_until(lambda: not env.agent.connected, 5, "the disconnect")
        env.steps(4, 0.3)  # sampled meter values queue up
        env.plug(1)
        env.card("BB02", 1)  # offline: unknown id allowed
        wait_until(lambda: 2 in env.agent.active, 5, "the offline transaction")
        env.steps(3, 0.3)
        env.card("AA01", 0)  # offline stop of the first
        wait_until(lambda: 1 not in env.agent.active, 5, "the offline stop")
        queued = OutboxMessage.objects.count()
        assert queued >= 3  # the offline start, the offline stop, sampled meter values
        env.restart_runtime(kill=True)  # kill -9 during the outage
        time.sleep(0.5)
        env.csms.start()  # the backend is back (same port)
        # transaction 2 was open when the process died: stopped once (PowerLoss), after its start
        wait_until(lambda: OutboxMessage.objects.count() == 0, 15, "the queue to drain")
        starts = env.csms.calls("StartTransaction")
        stops = env.csms.calls("StopTransaction")
        assert [s["idTag"] for s in starts] == ["AA01", "BB02"]
        assert sorted((s["transactionId"], s["reason"]) for s in stops) == [(1, "Local"), (2, "PowerLoss")]
        values = env.csms.calls("MeterValues")
        assert values and all(v["transactionId"] in (1, 2) for v in values)
        unique_ids = [f.unique_id for f in env.csms.frames if f.message_type == 2 and f.direction == "cp->cs"]
        assert len(unique_ids) == len(set(unique_ids))
        assert Transaction.objects.filter(transaction_id__isnull=True).count() == 0
        assert env.csms.violations == []
