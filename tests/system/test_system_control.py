"""System Control: status of the manual's applications, time, developer mode, bundles with
redaction, calibration law, module switch, and the API's parity with the pages."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings

from calibration import rules
from calibration import services as calibration_services
from chargepoints.models import ChargePointConfig, ChargingSession, Station
from moduleswitch import services as module_services
from wbm.audit import Actor
from wbm.roles import Role
from wbm.runtime import clock
from wbm.system import applications, bundle, osbackend, reboot
from wbm.system.agents import network_summary

ACTOR = Actor.system()


@pytest.fixture(autouse=True)
def _own_os_dir(tmp_path, settings):
    settings.STATE_DIR = tmp_path
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    clock.forget_offset()
    yield
    clock.forget_offset()


# --- status -------------------------------------------------------------------------------------
def test_the_manuals_applications_are_listed_with_version_and_agent(client_as, park):
    response = client_as(Role.USER).get("/api/v1/system/status/")
    assert response.status_code == 200
    titles = [a["title"] for a in response.json()["applications"]]
    assert titles == [
        "System Monitor",
        "Controller Agent",
        "OCPP 1.6J",
        "Modbus Client",
        "Modbus Server",
        "JupiCore",
        "Load Management",
        "Web Server",
    ]  # the Calibration Law Agent only when it runs
    assert all(a["version"].startswith(applications.wbm_version()) for a in response.json()["applications"])


def test_the_status_page_shows_versions_and_a_reboot_button_for_operators(client_as, park):
    page = client_as(Role.OPERATOR).get("/system/").content.decode()
    assert "Installed version" in page and "OCPP 1.6J" in page and "/system/reboot/" in page
    assert "/system/reboot/" not in client_as(Role.USER).get("/system/").content.decode()


def test_network_summary_lists_interfaces_without_loopback():
    assert all(nic["name"] != "lo" for nic in network_summary())


def test_reboot_without_a_restarter_is_refused_clearly(client_as, park):
    reboot.install(None)
    response = client_as(Role.OPERATOR).post("/system/reboot/", {"confirm": "on"})
    assert response.status_code == 200
    assert b"runtime" in response.content or b"restart itself" in response.content
    assert (
        client_as(Role.OPERATOR)
        .post("/api/v1/system/reboot/", {"confirm": False}, content_type="application/json")
        .status_code
        == 400
    )


# --- time ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["1970-01-01T00:00:00", "2100-01-01T00:00:00"])
def test_a_clock_in_1970_or_2100_is_refused_and_nothing_changes(client_as, when):
    client = client_as(Role.OPERATOR)
    response = client.post("/system/time/", {"action": "set", "utc": when})
    assert response.status_code == 200 and b"outside" in response.content
    api = client.put("/api/v1/system/time/", {"utc": when + "Z"}, content_type="application/json")
    assert api.status_code == 400 and "outside" in json.dumps(api.json())
    assert clock.system_offset_s() == 0.0 and osbackend.time_status().synchronized


def test_setting_the_time_moves_the_runtime_clock_and_clears_sync(client_as):
    client = client_as(Role.OPERATOR)
    assert client.post("/system/time/", {"action": "set", "utc": "2031-05-06T07:08:09"}).status_code == 302
    assert abs(clock.SystemClock().time() - datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC).timestamp()) < 5
    state = client.get("/api/v1/system/time/").json()
    assert state["utc"].startswith("2031-05-06") and state["synchronized"] is False and state["source"] == "manual"
    assert not osbackend.time_synchronized()
    client.put("/api/v1/system/time/", {"ntp": True}, content_type="application/json")
    assert osbackend.time_synchronized() and abs(clock.system_offset_s()) < 1


def test_the_pc_time_is_taken_from_the_browser(client_as):
    ms = int(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)
    assert client_as(Role.OPERATOR).post("/system/time/", {"action": "browser", "browser_ms": ms}).status_code == 302
    assert osbackend.time_status().source == "browser"
    assert client_as(Role.USER).post("/system/time/", {"action": "browser", "browser_ms": ms}).status_code == 403


# --- developer mode -----------------------------------------------------------------------------
def test_user_app_password_needs_the_current_one_and_shell_characters_stay_inert(client_as, tmp_path):
    client = client_as(Role.MANUFACTURER)
    nasty = "x'; rm -rf / #$(touch PWNED)`id`"
    wrong = client.post("/system/developer/", {"action": "change", "current": "nope", "new": nasty, "repeat": nasty})
    assert b"not correct" in wrong.content and not osbackend.user_app_check(nasty)
    ok = client.post("/system/developer/", {"action": "change", "current": "user", "new": nasty, "repeat": nasty})
    assert ok.status_code == 302
    assert osbackend.user_app_check(nasty) and not osbackend.user_app_check("user")
    stored = (tmp_path / "os" / "user-app.json").read_text()
    assert nasty not in stored and oct((tmp_path / "os" / "user-app.json").stat().st_mode)[-3:] == "600"
    assert not list(Path(".").glob("PWNED")) and not (tmp_path / "PWNED").exists()
    # RESET PASSWORD: the delivery state, only with the confirmation
    assert b"required" in client.post("/system/developer/", {"action": "reset"}).content.lower()
    assert osbackend.user_app_check(nasty)
    client.post("/system/developer/", {"action": "reset", "confirm": "on"})
    assert osbackend.user_app_check("user") and osbackend.user_app_changed_at() is None
    api = client.post(
        "/api/v1/system/developer/password/",
        {"current": "user", "new": "Another-pass-2024"},
        content_type="application/json",
    )
    assert api.status_code == 200 and osbackend.user_app_check("Another-pass-2024")
    assert client_as(Role.OPERATOR).get("/system/developer/").status_code == 403


# --- bundles ------------------------------------------------------------------------------------
SECRETS = {
    "authorization_key": "AuthKeySecret4242",
    "mqtt": "MqttPassw0rdSecret",
    "wlan": "WlanPskSecret99",
    "pin": "8642",
    "vpn": "-----BEGIN PRIVATE KEY-----\nVPNKEYMATERIALsecretLINEabcdefgh\n-----END PRIVATE KEY-----",
    "token": "wbm_tokenSecretValue1234567",
}


def _plant(settings_log_dir: Path) -> None:
    from mqttbridge.models import BridgeSettings
    from network.models import ModemSettings, WlanSettings
    from ocppcfg.models import ConfigurationValue, OcppSettings
    from vpn.models import VpnSettings

    OcppSettings.objects.update_or_create(pk=1, defaults={"authorization_key": SECRETS["authorization_key"]})
    ConfigurationValue.objects.update_or_create(
        key="AuthorizationKey", defaults={"value": SECRETS["authorization_key"]}
    )
    BridgeSettings.objects.update_or_create(pk=1, defaults={"password": SECRETS["mqtt"]})
    WlanSettings.objects.update_or_create(pk=1, defaults={"ap_password": SECRETS["wlan"]})
    ModemSettings.objects.update_or_create(pk=1, defaults={"sim_pin": SECRETS["pin"]})
    VpnSettings.objects.update_or_create(pk=1, defaults={"pasted": "client\n<key>\n" + SECRETS["vpn"] + "\n</key>\n"})
    (settings_log_dir / "wbm.log").write_text(
        "2026-11-28 10:00:00,000 INFO ocppcfg.link: connecting with AuthorizationKey="
        + SECRETS["authorization_key"]
        + "\n"
        "2026-11-28 10:00:01,000 WARNING mqttbridge.bridge: login failed password=" + SECRETS["mqtt"] + "\n"
        "2026-11-28 10:00:02,000 INFO wbm.access: Authorization: Bearer " + SECRETS["token"] + "\n"
        "2026-11-28 10:00:03,000 INFO vpn.agent: config " + SECRETS["vpn"].replace("\n", " ") + "\n"
        "2026-11-28 10:00:04,000 INFO network.agent: url ws://box:" + SECRETS["wlan"] + "@backend/ocpp\n"
        "2026-11-28 10:00:05,000 INFO chargepoints.controller: plain line\n"
    )
    (settings_log_dir / "wbm.log.1").write_text(
        "2026-11-27 09:00:00,000 ERROR ocppcfg.agent: pin: " + SECRETS["pin"] + "\n"
    )


def _zip_text(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_support_bundle_holds_no_secret(client_as, park, settings):
    _plant(settings.LOG_DIR)
    response = client_as(Role.USER).get("/system/logs/?download=support")
    assert response.status_code == 200 and int(response["Content-Length"]) > 0
    files = _zip_text(b"".join(response.streaming_content))
    assert {
        "README.txt",
        "status.json",
        "versions.json",
        "configuration.json",
        "ocpp-messages.json",
        "faults.json",
    } <= set(files)
    assert "services/ocpp.log" in files and "logs/wbm.log.1" in files
    everything = "\n".join(files.values())
    for secret in [*SECRETS.values(), "VPNKEYMATERIALsecretLINEabcdefgh"]:
        assert secret not in everything, secret
    assert "[REDACTED]" in files["configuration.json"] and "plain line" in files["services/controller.log"]
    assert "automation-service@phoenixcontact.de" in files["README.txt"]


def test_the_logs_bundle_has_one_file_per_service_and_is_redacted(client_as, park, settings):
    _plant(settings.LOG_DIR)
    response = client_as(Role.USER).get("/api/v1/system/logs/")
    files = _zip_text(b"".join(response.streaming_content))
    assert {"services/ocpp.log", "services/jupicore-mqtt.log", "services/controller.log"} <= set(files)
    assert not any(s in "\n".join(files.values()) for s in SECRETS.values())
    assert client_as(Role.GUEST).get("/api/v1/system/logs/").status_code == 401


def test_get_diagnostics_uses_the_same_redacted_bundle(park, settings, tmp_path):
    _plant(settings.LOG_DIR)
    path = bundle.diagnostics_write(tmp_path / "diag" / "d.zip", start=datetime(2026, 11, 28, tzinfo=UTC))
    files = _zip_text(path.read_bytes())
    assert "ERROR ocppcfg.agent" not in files["logs/wbm.log.1"]  # before startTime: left out
    assert not any(s in "\n".join(files.values()) for s in SECRETS.values())


def test_log_files_rotate_with_a_size_bound():
    handler: dict = settings.LOGGING["handlers"]["file"]  # type: ignore[index]
    assert handler["class"] == "logging.handlers.RotatingFileHandler"
    assert 0 < handler["maxBytes"] * (handler["backupCount"] + 1) <= 20 * 1024 * 1024


# --- calibration law ----------------------------------------------------------------------------
def test_calibration_findings_mark_non_compliant_red_and_warnings_yellow(client_as, park):
    cfg = ChargePointConfig.objects.first()
    assert cfg is not None
    cfg.calibration_abbreviation = ""
    cfg.save()
    found = rules.findings()
    mine = [f for f in found if f.scope == cfg.name]
    assert any(str(f.setting) == "Charge Point Abbreviation for Screen" and f.level == rules.Level.ERROR for f in mine)
    assert any(f.scope == "OCPP" and f.setting == "SignedDataFormat" for f in found)
    page = client_as(Role.MANUFACTURER).get("/system/calibration-law/").content.decode()
    assert 'class="finding-error"' in page and "finding-warning" in page
    assert client_as(Role.OPERATOR).get("/system/calibration-law/").status_code == 403
    api = client_as(Role.MANUFACTURER).get("/api/v1/system/calibration-law/").json()
    assert api["counts"]["errors"] == sum(1 for f in found if f.level == rules.Level.ERROR)


def test_switching_calibration_law_on_registers_its_agent_and_restarts(client_as, park):
    from calibration.agent import CalibrationLawAgent

    assert not CalibrationLawAgent.wanted()
    calls: list[str] = []
    reboot.install(lambda: calls.append("stop"))
    try:
        response = client_as(Role.MANUFACTURER).put(
            "/api/v1/system/calibration-law/", {"active": True}, content_type="application/json"
        )
    finally:
        reboot.install(None)
    assert response.status_code == 202
    assert CalibrationLawAgent.wanted() and calibration_services.calibration_law_active()


# --- module switch ------------------------------------------------------------------------------
def test_module_switch_parks_the_clients_and_comes_back(client_as, park):
    before = {(s.pk, s.hostname, s.kind) for s in Station.objects.all()}
    cps_before = ChargePointConfig.objects.count()
    assert len(before) > 1
    client = client_as(Role.MANUFACTURER)
    page = client.get("/system/module-switch/").content.decode()
    assert "192.168.5.1" in page and "reduced scope" in page.lower()
    assert client.post("/system/module-switch/", {"to": "client"}).status_code == 200  # no confirmation
    assert module_services.module_mode() == "server"
    response = client.put(
        "/api/v1/system/module-switch/", {"mode": "client", "confirm": True}, content_type="application/json"
    )
    assert response.status_code == 202
    assert module_services.module_mode() == "client"
    assert list(Station.objects.values_list("kind", flat=True)) == ["client"]
    reduced = client.get("/system/module-switch/").content.decode()  # the server does OCPP, LM, whitelist
    assert 'href="/ocpp/"' not in reduced and 'href="/whitelist/"' not in reduced and 'href="/system/"' in reduced
    assert (
        client.put(
            "/api/v1/system/module-switch/", {"mode": "client", "confirm": True}, content_type="application/json"
        ).status_code
        == 409
    )
    client.put("/api/v1/system/module-switch/", {"mode": "server", "confirm": True}, content_type="application/json")
    assert {(s.pk, s.hostname, s.kind) for s in Station.objects.all()} == before
    assert ChargePointConfig.objects.count() == cps_before and module_services.module_mode() == "server"
    assert 'href="/ocpp/"' in client.get("/system/module-switch/").content.decode()
    assert client_as(Role.OPERATOR).get("/system/module-switch/").status_code == 403


def test_restoring_keeps_charging_sessions_of_parked_stations(park):
    own = Station.objects.order_by("pk").first()
    assert own is not None
    station = Station.objects.exclude(pk=own.pk).first()
    assert station is not None
    other = station.chargepoints.first()
    assert other is not None
    ChargingSession.objects.create(
        chargepoint=other,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        meter_start_wh=1,
        meter_stop_wh=2,
        stop_reason="Local",
    )
    module_services.module_switch(to="client", actor=ACTOR)
    assert not ChargingSession.objects.filter(chargepoint_id=other.pk).exists()
    module_services.module_switch(to="server", actor=ACTOR)
    assert ChargingSession.objects.filter(chargepoint_id=other.pk).count() == 1


# --- reboot through the runtime, the Calibration Law Agent's registration ------------------------
def test_reboot_goes_through_the_runtime_and_leaves_a_mark(runtime):
    from wbm.runtime.commands import CommandRejected
    from wbm.system import services

    reboot.install(None)
    with pytest.raises(CommandRejected) as refused:
        services.system_reboot(actor=ACTOR)
    assert refused.value.code == "reboot_unavailable"
    stopped = threading.Event()
    reboot.install(stopped.set)
    try:
        services.system_reboot(actor=ACTOR, reason="test")
        assert stopped.wait(5), "the restarter was not called"
        assert reboot.requested() == "test"
        assert reboot.last_start_was_reboot(consume=True) == "test"
        assert reboot.last_start_was_reboot() == ""
    finally:
        reboot.install(None)


def test_the_calibration_law_agent_is_registered_and_shown_only_when_on(park):
    from calibration.agent import CalibrationLawAgent
    from wbm.registry import agent_classes
    from wbm.runtime.snapshot import AgentStatus

    agent_classes.cache_clear()
    try:
        assert CalibrationLawAgent not in agent_classes()
        osbackend.mode_set(calibration_services.MODE, "on")
        agent_classes.cache_clear()
        assert CalibrationLawAgent in agent_classes()
    finally:
        agent_classes.cache_clear()
    running = AgentStatus(name="calibration-law", title="", state="running", started_at=1.0, restarts=0, last_error="")
    on: Any = SimpleNamespace(agents=(running,))
    off: Any = SimpleNamespace(agents=())
    assert [row.application.key for row in applications.application_rows(on)][-1] == "calibration-law"
    assert "calibration-law" not in [row.application.key for row in applications.application_rows(off)]
