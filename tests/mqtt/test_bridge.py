"""The MQTT publisher and bridge agents against two real Mosquitto brokers (local and remote):
the publisher's topics, forwarding in both directions with the ``<prefix>/<device type>/<device
id>`` hierarchy, the ``config`` and ``VPN_Connection_State`` topics, the OpenVPN "On Request"
command, reconnect after the remote broker restarts, a wrong password (shown on the page) and TLS
with an uploaded test CA."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from chargepoints.demo import load_demo_park
from mqttbridge import services
from mqttbridge.selectors import BRIDGE_AGENT, bridge_settings_get
from tests.conftest import RuntimeThread
from tests.mqtt.conftest import make_ca
from vpn import services as vpn_services
from vpn.choices import Activation
from wbm.audit import Actor
from wbm.roles import Role
from wbm.runtime import local

ACTOR = Actor.system()
VALID_VPN = "client\ndev tap\nproto udp\nremote 203.0.113.7 1194\n<ca>\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n</ca>\n"


def deliver(publish, watcher, topic: str, payload: bytes, attempts: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Publish until ``watcher`` sees ``payload`` on ``topic`` (at most ``attempts`` times)."""
    for attempt in range(attempts):
        publish()
        try:
            watcher.wait_for(topic, timeout=4.0, payload=lambda p: p == payload)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def wait_for(probe, timeout: float = 8.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out (last: {last!r})")


@pytest.fixture
def runtime_with_local(
    transactional_db, settings, broker_factory, watchers, tmp_path
) -> Iterator[tuple[RuntimeThread, object]]:  # type: ignore[no-untyped-def]
    settings.STATE_DIR = tmp_path / "state"
    settings.STATE_DIR.mkdir()
    local_broker = broker_factory()
    settings.WBM_MQTT_LOCAL_URL = local_broker.url
    load_demo_park()
    # subscribed before the runtime starts: the currents are not retained
    local_broker.first_watcher = watchers(local_broker.port, "wbm/#")  # type: ignore[attr-defined]
    rt = RuntimeThread()
    try:
        yield rt, local_broker
    finally:
        rt.close()
        local.set_current(None)


def bridge_state(rt: RuntimeThread) -> dict:
    snapshot = rt.runtime.snapshot
    return (snapshot.agent_state(BRIDGE_AGENT) if snapshot else None) or {}


def configure(port: int, **extra: object) -> str:
    services.bridge_settings_update(
        data={
            "host": "127.0.0.1",
            "port": port,
            "prefix": "CHARX",
            "station_name": "Test station",
            "location": "Blomberg",
            **extra,
        },
        actor=ACTOR,
    )
    return bridge_settings_get().device_id


def test_publisher_forwarding_both_ways_config_vpn_command_and_reconnect(runtime_with_local, broker_factory, watchers):  # type: ignore[no-untyped-def]
    rt, local_broker = runtime_with_local
    remote = broker_factory()
    on_local = local_broker.first_watcher
    # the publisher: retained park and charge point states
    park = on_local.wait_for("wbm/park")
    assert park[2] is False or park[2] is True
    assert {"available", "charging", "total_power_w"} <= set(json.loads(park[1]))
    status_topic = wait_for(
        lambda: next(
            (t for t, _p, _r in list(on_local.messages) if t.endswith("/status") and t.startswith("wbm/chargepoint/")),
            None,
        )
    )
    cp = status_topic.split("/")[2]
    assert json.loads(on_local.wait_for(status_topic)[1])["iec_state"] in "ABCDEF"
    on_local.wait_for(f"wbm/chargepoint/{cp}/energy")
    on_local.wait_for(f"wbm/chargepoint/{cp}/currents")

    device_id = configure(remote.port)
    base = f"CHARX/ev3000/{device_id}"
    services.bridge_rows_replace(
        rows=[
            {"local_topic": "wbm/chargepoint/+/status", "remote_topic": "cp/+/status", "direction": "out"},
            {"local_topic": "wbm/ext/setpoint", "remote_topic": "setpoint", "direction": "in"},
            {"local_topic": "wbm/shared/note", "remote_topic": "note", "direction": "both"},
        ],
        actor=ACTOR,
    )
    # the configuration with its three rows is in force, both sides subscribed
    wait_for(
        lambda: (
            bridge_state(rt).get("rows") == 3
            and bridge_state(rt)["remote"]["connected"]
            and bridge_state(rt)["local"]["connected"]
        ),
        timeout=15,
    )
    on_remote = watchers(remote.port, f"{base}/#")
    config = json.loads(on_remote.wait_for(f"{base}/config")[1])
    assert config == {"device-type": "ev3000", "id": device_id, "name": "Test station", "location": "Blomberg"}
    try:
        on_remote.wait_for(f"{base}/VPN_Connection_State", timeout=12)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; bridge: {bridge_state(rt)}") from None
    assert json.loads(on_remote.wait_for(f"{base}/VPN_Connection_State")[1]) == {
        "vpn_status": "not connected",
        "vpn_ip": "",
    }
    on_local.wait_for("wbm/config")
    # local → remote, per charge point (the "+")
    assert json.loads(on_remote.wait_for(f"{base}/cp/{cp}/status")[1])["iec_state"] in "ABCDEF"
    # remote → local
    on_remote.publish(f"{base}/setpoint", b"16")
    assert on_local.wait_for("wbm/ext/setpoint")[1] == b"16"
    # both directions, without echo loops
    # QoS 0 both ways: a message that meets a side while it re-subscribes may be lost (counted as
    # dropped), so each direction is tried up to three times; the echo check below still holds
    deliver(lambda: on_local.publish("wbm/shared/note", b"from local"), on_remote, f"{base}/note", b"from local")
    deliver(lambda: on_remote.publish(f"{base}/note", b"from remote"), on_local, "wbm/shared/note", b"from remote")
    time.sleep(0.3)
    assert sum(1 for t, p, _r in on_remote.messages if t == f"{base}/note" and p == b"from local") <= 3  # no echo loop
    assert sum(1 for t, p, _r in on_local.messages if t == "wbm/shared/note" and p == b"from remote") <= 3

    # OpenVPN "On Request" over the remote broker's command topic
    vpn_services.vpn_settings_update(activation=Activation.ON_REQUEST, text=VALID_VPN, actor=ACTOR)
    on_remote.publish(f"{base}/command", json.dumps({"vpn": "connect"}))
    state = json.loads(on_remote.wait_for(f"{base}/VPN_Connection_State", payload=lambda p: b'"connected"' in p)[1])
    assert state["vpn_ip"].startswith("10.8.0.")
    on_remote.publish(f"{base}/command", b"vpn_disconnect")
    on_remote.wait_for(f"{base}/VPN_Connection_State", payload=lambda p: b"not connected" in p and p != b"")

    # the remote broker restarts: the bridge reconnects by itself
    remote.stop()
    wait_for(lambda: not bridge_state(rt).get("remote", {}).get("connected"))
    remote.start()
    wait_for(lambda: bridge_state(rt).get("remote", {}).get("connected"), timeout=15)
    again = watchers(remote.port, f"{base}/#")
    again.publish(f"{base}/setpoint", b"20")
    assert on_local.wait_for("wbm/ext/setpoint", payload=lambda p: p == b"20")[1] == b"20"


def test_wrong_password_is_shown_and_the_right_one_connects(runtime_with_local, broker_factory, client_as):  # type: ignore[no-untyped-def]
    rt, _local = runtime_with_local
    remote = broker_factory(users={"station": "Right-pass-1"})
    configure(remote.port, username="station", password="wrong-pass")
    error = wait_for(lambda: bridge_state(rt).get("remote", {}).get("error"), timeout=15)
    assert "user name or password" in error
    page = client_as(Role.OPERATOR).get("/network/mqtt/").content.decode()
    assert "user name or password" in page
    assert "wrong-pass" not in page
    configure(remote.port, username="station", password="Right-pass-1")
    wait_for(lambda: bridge_state(rt).get("remote", {}).get("connected"))


def test_tls_with_the_uploaded_ca_and_an_untrusted_one(runtime_with_local, broker_factory, watchers, tmp_path):  # type: ignore[no-untyped-def]
    rt, _local_broker = runtime_with_local
    ca = make_ca(tmp_path)
    remote = broker_factory(tls=(ca.ca, ca.cert, ca.key))
    other = make_ca(tmp_path / "..", name="Other Test CA")
    services.bridge_certificate_upload(name="other.pem", raw=other.ca_pem, actor=ACTOR)
    device_id = configure(remote.port)
    error = wait_for(lambda: bridge_state(rt).get("remote", {}).get("error"))
    assert "certificate" in error
    services.bridge_certificate_upload(name="broker-ca.pem", raw=ca.ca_pem, actor=ACTOR)
    wait_for(lambda: bridge_state(rt).get("remote", {}).get("connected"), timeout=15)
    assert bridge_state(rt)["tls"] is True
    on_remote = watchers(remote.port, f"CHARX/ev3000/{device_id}/#", ca=ca.ca)
    on_remote.wait_for(f"CHARX/ev3000/{device_id}/config")
