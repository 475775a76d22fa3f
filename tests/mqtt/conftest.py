"""Real Mosquitto brokers for the MQTT tests: each on a free port of 127.0.0.1, with its
configuration in the test's tmp directory; anonymous, with a password file
(``mosquitto_passwd -b``) or with TLS from a test CA made with ``cryptography``. A broker can be
stopped and started again on the same port (the bridge's reconnect)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """One mosquitto process."""

    directory: Path
    port: int = field(default_factory=free_port)
    users: dict[str, str] = field(default_factory=dict)
    tls: tuple[Path, Path, Path] | None = None  # ca, cert, key
    extra: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.directory / f"mosquitto-{self.port}.conf"

    def write_conf(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "log_dest stderr"]
        if os.geteuid() == 0:  # as root mosquitto switches to the user "mosquitto", who cannot read tmp
            lines.append("user root")
        if self.users:
            pw = self.directory / f"passwd-{self.port}"
            pw.unlink(missing_ok=True)
            for user, password in self.users.items():
                assert MOSQUITTO_PASSWD, "mosquitto_passwd is needed for a broker with users"
                flags = ["-c"] if not pw.exists() else []
                subprocess.run(
                    [MOSQUITTO_PASSWD, *flags, "-b", str(pw), user, password], check=True, capture_output=True
                )
            pw.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            ca, cert, key = self.tls
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}", "require_certificate false"]
        self.conf.write_text("\n".join(lines) + "\n" + self.extra)

    def start(self) -> Broker:
        self.write_conf()
        self.log = (self.directory / f"mosquitto-{self.port}.log").open("ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {(self.directory / f'mosquitto-{self.port}.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise RuntimeError("mosquitto did not listen")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    started: list[Broker] = []

    def make(**kwargs: Any) -> Broker:
        broker = Broker(tmp_path, **kwargs).start()
        started.append(broker)
        return broker

    yield make
    for broker in started:
        broker.stop()


@dataclass
class TestCa:
    ca_pem: bytes
    ca: Path
    cert: Path
    key: Path


def make_ca(directory: Path, name: str = "WBM Test CA") -> TestCa:
    """A CA and a server certificate for 127.0.0.1 (and localhost) signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    paths = TestCa(
        ca_pem, directory / f"{name[:8].replace(' ', '')}-ca.pem", directory / "server.pem", directory / "server.key"
    )
    paths.ca.write_bytes(ca_pem)
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class Watcher:
    """A paho client in its own thread that records what arrives on ``topics``; can publish."""

    def __init__(
        self, port: int, *topics: str, username: str | None = None, password: str | None = None, ca: Path | None = None
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"watcher-{port}-{id(self):x}")
        if username:
            self.client.username_pw_set(username, password)
        if ca:
            self.client.tls_set(ca_certs=str(ca))
        subscribed = threading.Event()

        def on_connect(client, userdata, flags, reason, properties):  # type: ignore[no-untyped-def]
            for topic in topics:
                client.subscribe(topic)
            subscribed.set()

        def on_message(client, userdata, message):  # type: ignore[no-untyped-def]
            with self.lock:
                self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(5), "the watcher did not connect"
        time.sleep(0.1)  # the SUBACK

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(
        self, topic: str, timeout: float = 8.0, payload: Callable[[bytes], bool] | None = None
    ) -> tuple[str, bytes, bool]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if message[0] == topic and (payload is None or payload(message[1])):
                        return message
            time.sleep(0.05)
        with self.lock:
            seen = sorted({m[0] for m in self.messages})
        raise AssertionError(f"nothing on {topic} within {timeout} s; seen: {seen[:20]}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def watchers() -> Iterator[Callable[..., Watcher]]:
    made: list[Watcher] = []

    def make(*args: Any, **kwargs: Any) -> Watcher:
        watcher = Watcher(*args, **kwargs)
        made.append(watcher)
        return watcher

    yield make
    for watcher in made:
        watcher.close()
