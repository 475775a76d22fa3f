"""Firmware Management (OCTT 2.18, 2.19): UpdateFirmware and GetDiagnostics through the Station's
handlers against a local HTTP server and a minimal FTP server, each step's notification."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import socketserver
import threading
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ocpp.v16 import call

from ocppcfg.features import transfer
from ocppcfg.features.firmware import Firmware
from ocppcfg.models import FirmwareJob, OcppSettings
from tests.ocpp.test_features_fake import agent_fixture, in_, linked_fixture, wire  # noqa: F401

pytestmark = pytest.mark.asyncio

FIRMWARE = b"\x7fELF firmware image " * 100


class Files(BaseHTTPRequestHandler):
    files: dict[str, bytes]
    received: list[tuple[str, str, bytes]]
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _receive(self) -> None:
        self.hits.append(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/fail"):
            self.send_error(500)
            return
        self.received.append((self.command, self.path, body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = _receive

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def http() -> Iterator[tuple[str, type[Files]]]:
    handler = type("Handler", (Files,), {"files": {"/fw.bin": FIRMWARE, "/empty.bin": b""}, "received": [], "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


class Ftp(socketserver.StreamRequestHandler):
    """Just enough FTP for ftplib: login, TYPE, PASV, RETR, STOR."""

    files: dict[str, bytes]
    logins: list[tuple[str, str]]

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 ready")
        user, data = "", None
        while line := self.rfile.readline().decode().strip():
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "USER":
                user = arg
                self.reply("331 password")
            elif verb == "PASS":
                self.logins.append((user, arg))
                self.reply("230 in")
            elif verb == "TYPE":
                self.reply("200 ok")
            elif verb == "PASV":
                data = socket.create_server(("127.0.0.1", 0))
                port = data.getsockname()[1]
                self.reply(f"227 Passive (127,0,0,1,{port // 256},{port % 256})")
            elif verb in ("RETR", "STOR") and data is not None:
                if verb == "RETR" and arg not in self.files:
                    self.reply("550 no such file")
                    continue
                self.reply("150 opening")
                conn, _ = data.accept()
                with conn:
                    if verb == "RETR":
                        conn.sendall(self.files[arg])
                    else:
                        chunks = []
                        while chunk := conn.recv(65536):
                            chunks.append(chunk)
                        self.files[arg] = b"".join(chunks)
                data.close()
                data = None
                self.reply("226 done")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not here")


@pytest.fixture
def ftp() -> Iterator[tuple[str, type[Ftp]]]:
    handler = type("Handler", (Ftp,), {"files": {"/pub/fw.bin": FIRMWARE}, "logins": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ftp://fw%40user:s3cret@127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def state(settings, tmp_path: Path) -> Path:
    settings.WBM_OCPP_FIRMWARE_DIR = tmp_path / "firmware"
    settings.WBM_OCPP_DIAGNOSTICS_DIR = tmp_path / "diagnostics"
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    (settings.LOG_DIR / "wbm.log").write_text("2024-01-01 12:00:00 INFO ocpp connected\n")
    return tmp_path


async def until(probe: Callable[[], object], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if probe():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def update(location: str, **more: object) -> call.UpdateFirmware:
    return call.UpdateFirmware(location=location, retrieve_date=wire(in_(-1)), **more)


async def firmware_steps(fake, count: int) -> list[str]:
    await until(lambda: len(fake.statuses("FirmwareStatusNotification")) >= count)
    await asyncio.sleep(0.05)
    return fake.statuses("FirmwareStatusNotification")


async def test_tc_044_1_firmware_update_download_and_install(linked, http, state) -> None:
    fake, backend = linked
    base, _files = http
    assert (await backend.call(update(f"{base}/fw.bin"))) is not None
    assert await firmware_steps(fake, 4) == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert (state / "firmware" / "fw.bin").read_bytes() == FIRMWARE
    manifest = json.loads((state / "firmware" / "installed.json").read_text())
    assert manifest["size"] == len(FIRMWARE) and manifest["location"] == f"{base}/fw.bin"
    job = await fake.ctx.db(FirmwareJob.objects.get, kind="firmware")
    assert job.status == "Installed"
    assert fake.firmware.status()["firmware"]["status"] == "Installed"


async def test_tc_044_2_firmware_update_download_failed_after_the_retries(linked, http) -> None:
    fake, backend = linked
    base, files = http
    await backend.call(update(f"{base}/missing.bin", retries=2, retry_interval=0))
    assert await firmware_steps(fake, 2) == ["Downloading", "DownloadFailed"]
    assert files.hits == ["/missing.bin", "/missing.bin"]


async def test_tc_044_3_firmware_update_installation_failed(linked, http) -> None:
    fake, backend = linked
    base, _files = http
    await backend.call(update(f"{base}/empty.bin"))
    assert await firmware_steps(fake, 4) == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]


async def test_firmware_over_ftp_with_credentials_in_the_location(linked, ftp, state) -> None:
    fake, backend = linked
    base, server = ftp
    await backend.call(update(f"{base}/pub/fw.bin"))
    assert await firmware_steps(fake, 4) == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert server.logins == [("fw@user", "s3cret")]
    assert "s3cret" not in (state / "firmware" / "installed.json").read_text()


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "http://127.0.0.1/a b", "ftp:///no-host", "http://x/$(reboot)\n"]
)
async def test_other_schemes_and_odd_locations_are_refused_without_a_download(agent, location) -> None:
    await agent.firmware.update(location=location, retrieve_date=in_(-1), retries=1, retry_interval=0)
    await until(lambda: agent.statuses("FirmwareStatusNotification"))
    assert agent.statuses("FirmwareStatusNotification") == ["DownloadFailed"]


async def test_a_download_larger_than_the_limit_fails(agent, http, settings) -> None:
    settings.WBM_OCPP_FIRMWARE_MAX_BYTES = 100
    base, _files = http
    await agent.firmware.update(location=f"{base}/fw.bin", retrieve_date=in_(-1), retries=1, retry_interval=0)
    await until(lambda: "DownloadFailed" in agent.statuses("FirmwareStatusNotification"))


async def test_an_update_waits_for_its_retrieve_date(agent, http) -> None:
    base, files = http
    await agent.firmware.update(location=f"{base}/fw.bin", retrieve_date=in_(0.5), retries=1, retry_interval=0)
    await asyncio.sleep(0.2)
    assert files.hits == [] and agent.statuses("FirmwareStatusNotification") == []
    await until(lambda: "Installed" in agent.statuses("FirmwareStatusNotification"))


async def test_after_a_restart_an_installing_update_reports_its_outcome(agent) -> None:
    await agent.ctx.db(
        FirmwareJob.objects.create, kind="firmware", location="http://127.0.0.1/x.bin", status="Installing"
    )
    again = Firmware(agent)
    await again.start()
    assert agent.statuses("FirmwareStatusNotification") == ["InstallationFailed"]
    await again.stop()


async def test_a_triggered_status_is_idle_when_nothing_runs(agent) -> None:
    await agent.firmware.trigger("FirmwareStatusNotification")
    await agent.firmware.trigger("DiagnosticsStatusNotification")
    assert [(type(p).__name__, p.status) for p in agent.sent] == [
        ("FirmwareStatusNotification", "Idle"),
        ("DiagnosticsStatusNotification", "Idle"),
    ]


async def diagnostics_steps(fake, count: int) -> list[str]:
    await until(lambda: len(fake.statuses("DiagnosticsStatusNotification")) >= count)
    return fake.statuses("DiagnosticsStatusNotification")


async def test_tc_045_1_get_diagnostics_uploads_the_bundle_without_secrets(linked, http, state) -> None:
    """The upload is System Control's support bundle: the log lines of the period asked for and
    the configuration, with every planted secret redacted (by its stored value and by pattern)."""
    fake, backend = linked
    base, files = http
    secret = "very-secret-key"

    def secrets() -> None:
        stored = OcppSettings.load()
        stored.authorization_key = secret
        stored.backend_url = "wss://user:pw@csms.example/ocpp/CP_TEST"
        stored.save()

    await fake.ctx.db(secrets)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with (state / "logs" / "wbm.log").open("a") as log_file:  # the fixture's 2024 line is out of the period
        log_file.write(f"{now},001 INFO ocppcfg.agent: connecting with key {secret}\n")
    answer = await backend.call(
        call.GetDiagnostics(location=f"{base}/upload/", start_time=wire(in_(-3600)), stop_time=wire(in_(60)))
    )
    assert answer.file_name.startswith("diagnostics-CP_TEST-") and answer.file_name.endswith(".zip")
    assert await diagnostics_steps(fake, 2) == ["Uploading", "Uploaded"]
    method, path, body = files.received[0]
    assert (method, path) == ("POST", "/upload/")
    assert answer.file_name.encode() in body
    raw = body[body.index(b"PK\x03\x04") : body.rindex(b"\r\n--")]
    with zipfile.ZipFile(io.BytesIO(raw)) as bundle:
        names = set(bundle.namelist())
        texts = {name: bundle.read(name).decode() for name in names}
    assert {"README.txt", "logs/wbm.log", "services/ocpp.log", "configuration.json", "ocpp-messages.json"} <= names
    assert texts["logs/wbm.log"] == f"{now},001 INFO ocppcfg.agent: connecting with key [REDACTED]\n"
    assert not [name for name, text in texts.items() if secret in text or "pw@" in text]
    [ocpp_settings] = json.loads(texts["configuration.json"])["ocppcfg.OcppSettings"]
    assert ocpp_settings["authorization_key"] == "[REDACTED]"


async def test_tc_045_2_get_diagnostics_upload_failed(linked, http) -> None:
    fake, backend = linked
    base, _files = http
    await backend.call(call.GetDiagnostics(location=f"{base}/fail/", retries=2, retry_interval=0))
    assert await diagnostics_steps(fake, 2) == ["Uploading", "UploadFailed"]


async def test_diagnostics_over_ftp_and_http_put(agent, ftp, http, settings) -> None:
    base, server = ftp
    name = agent.firmware.prepare_diagnostics("u1", location=f"{base}/incoming/", retries=1, retry_interval=0)
    agent.firmware.begin_diagnostics("u1")
    assert await diagnostics_steps(agent, 2) == ["Uploading", "Uploaded"]
    assert server.files[f"/incoming/{name}"].startswith(b"PK")
    settings.WBM_OCPP_DIAGNOSTICS_HTTP_METHOD = "PUT"
    http_base, files = http
    agent.firmware.prepare_diagnostics("u2", location=f"{http_base}/put/", retries=1, retry_interval=0)
    agent.firmware.begin_diagnostics("u2")
    assert await diagnostics_steps(agent, 4) == ["Uploading", "Uploaded", "Uploading", "Uploaded"]
    assert files.received[0][0] == "PUT" and files.received[0][1].startswith("/put/diagnostics-")


async def test_locations_are_checked_before_anything_is_opened() -> None:
    assert transfer.check_location("https://h.example:8443/f.bin").hostname == "h.example"
    for bad in ("ftps://h/x", "gopher://h/", "http://h:99999/", "", "x" * 600, "http://h/\x00"):
        with pytest.raises(transfer.TransferError):
            transfer.check_location(bad)
    assert transfer.safe_location("ftp://u:p@h:21/dir/") == "ftp://h:21/dir/"
