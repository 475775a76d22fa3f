"""A real ``kill -9`` of the whole product (``manage.py runwbm``) during a backend outage in the
middle of a transaction (TC_036/038/039 with a power cut): the vehicle leaves and another
transaction starts while the backend is away (the issue's "2 minutes", a few seconds here), the
process is killed, started again, the backend comes back. Every StartTransaction, MeterValues and
StopTransaction arrives exactly once, in order, with the right transactionId (never -1, never
missing once known); the transaction open when the process died is stopped once, with PowerLoss.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ocpp.agent_env import wait_until
from tests.ocpp.csms import ThreadedCsms

ROOT = Path(__file__).resolve().parents[2]
BOX = "KILL9"
OUTAGE_S = 4.0  # the 2-minute outage, shortened
START_TIMEOUT_S = 60.0

SETUP = """
import json, os
from chargepoints.choices import ReleaseMode
from ocppcfg import variables
from ocppcfg.models import OcppSettings
from tests.factories import make_configured_chargepoint
cp = make_configured_chargepoint(release_mode=ReleaseMode.OCPP, ocpp_connector_id=1, rfid_reader="self", name="KILL9-CP")
OcppSettings.objects.update_or_create(pk=1, defaults={"backend_url": os.environ["KILL9_BACKEND"]})
variables.change(
    {"MeterValueSampleInterval": "1", "AllowOfflineTxForUnknownId": "true", "LocalAuthorizeOffline": "true"},
    origin="backend", by="test",
)
print(json.dumps({"cp": cp.pk}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Product:
    """``manage.py runwbm`` with its own state directory; started, killed, started again."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
        env.pop("WBM_STATICFILES_STORAGE", None)
        self.env = {
            **env,
            "WBM_STATE_DIR": str(state),
            "PYTHONUNBUFFERED": "1",
            "WBM_MODBUS_PORT": "0",
            "WBM_TICK_S": "0.5",
            "WBM_OCPP_BACKOFF_MIN_S": "0.1",
            "WBM_OCPP_BACKOFF_MAX_S": "0.5",
            "WBM_OCPP_CALL_TIMEOUT_S": "3",
            "WBM_OCPP_OPEN_TIMEOUT_S": "2",
            "WBM_OCPP_TICK_S": "0.2",
        }

    def manage(self, *args: str, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        log = (self.state / "server-output.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runwbm", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_tail()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"runwbm did not answer:\n{self.log_tail()}")

    def kill(self) -> None:
        """``kill -9``: no cleanup of any kind."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def sim(self, cp: int, op: str, **body: Any) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/simulator/chargepoints/{cp}/{op}/",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            assert response.status == 200

    def queued(self) -> int:
        with sqlite3.connect(self.state / "wbm.sqlite3", timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM ocppcfg_outboxmessage").fetchone()[0])

    def log_tail(self) -> str:
        path = self.state / "server-output.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-30:]) if path.exists() else ""


@pytest.fixture
def backend() -> Iterator[ThreadedCsms]:
    with ThreadedCsms() as csms:
        yield csms


@pytest.fixture
def product(tmp_path: Path) -> Iterator[Product]:
    running = Product(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_kill_9_during_an_outage_nothing_lost_nothing_duplicated(product: Product, backend: ThreadedCsms) -> None:
    product.manage("migrate", "--noinput", "-v", "0")
    cp = json.loads(product.manage("shell", "-c", SETUP, KILL9_BACKEND=backend.url(BOX)).strip().splitlines()[-1])["cp"]
    product.token = product.manage("apitoken", "kill9-driver", "--role", "manufacturer").strip().splitlines()[-1]
    product.token = product.token.split()[-1]
    product.start()
    backend.wait_for("BootNotification", timeout=30)
    backend.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=10)

    product.sim(cp, "plug_in", phases=3, max_current_a=16)
    product.sim(cp, "rfid", tag="AA000001")
    assert backend.wait_for("StartTransaction", timeout=10)["idTag"] == "AA000001"
    backend.wait_for("MeterValues", lambda p: p.get("transactionId") == 1, timeout=10)

    backend.stop()  # the backend goes away in the middle of the transaction
    time.sleep(OUTAGE_S / 2)  # meter values of transaction 1 queue up
    product.sim(cp, "unplug")  # stopped offline (EVDisconnected)
    product.sim(cp, "plug_in", phases=3, max_current_a=16)
    product.sim(cp, "rfid", tag="BB000002")  # started offline: unknown ids allowed
    time.sleep(OUTAGE_S / 2)  # meter values of transaction 2 queue up
    queued = product.queued()
    assert queued >= 3, product.log_tail()  # at least the stop, the offline start, a MeterValues

    product.kill()  # kill -9 during the outage
    product.start()
    time.sleep(1.0)
    backend.start()  # back, same port
    wait_until(lambda: len(backend.calls("StopTransaction")) >= 2, 30, "both StopTransactions")
    wait_until(lambda: product.queued() == 0, 15, "the queue to drain")
    time.sleep(1.0)  # nothing more comes for these transactions

    # A CALL whose answer was lost with the connection is sent again with its unique id (the
    # backend recognises it): at most the one in flight when the backend went away.
    from_cp: list[Any] = []
    seen: dict[str | None, Any] = {}
    for frame in (f for f in backend.frames if f.message_type == 2 and f.direction == "cp->cs"):
        if frame.unique_id in seen:
            assert frame.raw == seen[frame.unique_id].raw, "one unique id, two messages"
            continue
        seen[frame.unique_id] = frame
        from_cp.append(frame)
    repeated = len([f for f in backend.frames if f.message_type == 2 and f.direction == "cp->cs"]) - len(from_cp)
    assert repeated <= 1, f"{repeated} CALLs arrived twice"
    flow = [
        (f.action, f.payload)
        for f in from_cp
        if f.action in ("StartTransaction", "MeterValues", "StopTransaction")
        and not (f.action == "MeterValues" and "transactionId" not in f.payload)
    ]
    starts = [p for a, p in flow if a == "StartTransaction"]
    stops = [p for a, p in flow if a == "StopTransaction"]
    assert [s["idTag"] for s in starts] == ["AA000001", "BB000002"]
    assert [(s["transactionId"], s["reason"]) for s in stops] == [(1, "EVDisconnected"), (2, "PowerLoss")]
    for tx_id in (1, 2):
        positions = [
            i
            for i, (a, p) in enumerate(flow)
            if p.get("transactionId") == tx_id
            or (a == "StartTransaction" and p["idTag"] == ("AA000001" if tx_id == 1 else "BB000002"))
        ]
        actions = [flow[i][0] for i in positions]
        assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction", actions
        assert set(actions[1:-1]) <= {"MeterValues"}, actions
        samples = [flow[i][1]["meterValue"][0]["timestamp"] for i in positions if flow[i][0] == "MeterValues"]
        assert samples == sorted(samples) and len(samples) == len(set(samples)), "out of order or twice"
    assert all(p["transactionId"] in (1, 2) for a, p in flow if a != "StartTransaction")
    assert len([p for a, p in flow if a == "MeterValues" and p["transactionId"] == 2]) >= 1
    assert backend.violations == []
