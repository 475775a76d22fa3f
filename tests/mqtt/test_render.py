"""The rendered Mosquitto bridge configuration is accepted by the real ``mosquitto`` (started
briefly on a free port), and a real Mosquitto bridge with it forwards the way the agent does."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from mqttbridge import services
from mqttbridge.selectors import bridge_settings_get
from tests.mqtt.conftest import MOSQUITTO, free_port, make_ca
from wbm.audit import Actor

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()
ROOT = "user root\n" if os.geteuid() == 0 else ""  # see conftest.Broker


@pytest.fixture(autouse=True)
def state(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.STATE_DIR = tmp_path
    return tmp_path / "system" / "mosquitto"


def start_with(tmp_path: Path, bridge: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    conf = tmp_path / f"main-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{ROOT}{bridge}")
    log = tmp_path / f"main-{port}.log"
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf), "-v"], stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return proc, port, log


def runs(proc: subprocess.Popen[bytes], seconds: float = 0.7) -> bool:
    time.sleep(seconds)
    alive = proc.poll() is None
    proc.terminate()
    proc.wait(timeout=5)
    return alive


def test_rendered_bridge_config_is_accepted_by_mosquitto_and_a_bad_one_is_not(state, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = make_ca(tmp_path)
    services.bridge_settings_update(
        data={
            "host": "127.0.0.1",
            "port": free_port(),
            "username": "station",
            "password": "S3cret!#x",
            "prefix": "CHARX",
        },
        actor=ACTOR,
    )
    services.bridge_certificate_upload(name="ca.pem", raw=ca.ca_pem, actor=ACTOR)
    services.bridge_rows_replace(
        rows=[
            {"local_topic": "wbm/chargepoint/+/status", "remote_topic": "cp/+/status", "direction": "out"},
            {"local_topic": "wbm/ext/setpoint", "remote_topic": "setpoint", "direction": "in"},
            {"local_topic": "+/x", "remote_topic": "y/+/x", "direction": "both"},
        ],
        actor=ACTOR,
    )
    text = (state / "bridge.conf").read_text()
    assert (state / "bridge.conf").stat().st_mode & 0o777 == 0o600
    assert "bridge_cafile" in text and "remote_password S3cret!#x" in text
    assert "topic +/status out 0 wbm/chargepoint/ CHARX/ev3000/" in text
    proc, _port, log = start_with(tmp_path, text)
    assert runs(proc), log.read_text()
    bad, _port, log = start_with(tmp_path, text.replace(" out 0 ", " sideways 0 ", 1))
    assert not runs(bad), "mosquitto accepted a bad direction: the check would prove nothing"


def test_a_real_mosquitto_bridge_with_the_rendered_config_forwards_like_the_agent(
    state, tmp_path, broker_factory, watchers
) -> None:  # type: ignore[no-untyped-def]
    remote = broker_factory()
    services.bridge_settings_update(data={"host": "127.0.0.1", "port": remote.port, "prefix": "CHARX"}, actor=ACTOR)
    services.bridge_rows_replace(
        rows=[{"local_topic": "wbm/chargepoint/+/status", "remote_topic": "cp/+/status", "direction": "out"}],
        actor=ACTOR,
    )
    device = bridge_settings_get().device_id
    proc, port, _log = start_with(tmp_path, (state / "bridge.conf").read_text())
    try:
        on_remote = watchers(remote.port, "CHARX/#")
        time.sleep(0.5)  # the bridge connects
        on_local = watchers(port, "wbm/#")
        on_local.publish("wbm/chargepoint/3/status", b'{"status":"charging"}', retain=True)
        on_remote.wait_for(f"CHARX/ev3000/{device}/cp/3/status")
    finally:
        proc.terminate()
        proc.wait(timeout=5)
