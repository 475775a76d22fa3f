"""Scaled mode, for real: redis-server, the runtime in ``manage.py runcontroller``, the web under
Daphne and a Celery worker, each its own process, talking over Redis (channel layer, snapshot
cache, broker). Same code as embedded mode; only the environment differs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect as ws_connect

from tests.scaledstack import BIN, ROOT, free_port, port_open, stop, wait_until

pytestmark = pytest.mark.scaled


@dataclass
class Stack:
    env: dict[str, str]
    tmp: Path
    web_port: int = 0
    token: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def manage(self, *args: str) -> str:
        """A management command in scaled mode; returns its standard output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        status, text = self.request(method, "/api/v1" + path, body, token=self.token)
        return status, json.loads(text) if text else None


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (scripts/test.sh installs it)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until("redis-server", lambda: port_open(port), proc, timeout_s=15)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Database prepared, then runcontroller and one Daphne web process."""
    tmp = tmp_path_factory.mktemp("scaled")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "WBM_STATE_DIR": str(tmp),
            "WBM_TICK_S": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    s = Stack(env=env, tmp=tmp)
    s.manage("migrate", "--noinput", "-v0")
    s.manage("loaddemo")
    s.token = s.manage("apitoken", "scaled-test", "--role", "manufacturer").strip()
    try:
        controller = s.spawn("controller", [sys.executable, "manage.py", "runcontroller"])
        s.web_port = free_port()
        web = s.spawn("web", [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(s.web_port), "wbm.asgi:application"])
        wait_until("daphne", lambda: port_open(s.web_port), web)
        wait_until("runcontroller", lambda: "controller runtime running" in s.log("controller"), controller)
        yield s
    finally:
        for proc in reversed(list(s.procs.values())):
            stop(proc)


def ws_frames(stack: Stack) -> Any:
    return ws_connect(
        f"ws://127.0.0.1:{stack.web_port}/ws/dashboard/",
        origin=stack.url,  # type: ignore[arg-type]
        open_timeout=10,
    )


def receive_until(ws: Any, needle: str, timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        frame = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if needle in frame:
            return frame


def test_the_web_process_renders_the_park_the_controller_process_publishes(stack):
    wait_until("snapshot in redis", lambda: "Visitor-01" in stack.request("GET", "/")[1], timeout_s=20)
    status, body = stack.request("GET", "/")
    assert status == 200
    for name in ("P1-01", "P1-02", "P1-03", "Visitor-01"):
        assert name in body
    assert 'data-runtime="alive"' in body and 'data-reason="down"' not in body  # no "not running" banner


def test_a_simulator_command_travels_to_the_runtime_and_the_update_reaches_the_websocket(stack):
    status, park = stack.api("GET", "/park/")
    assert status == 200, park
    target = next(cp["id"] for cp in park["chargepoints"] if cp["name"] == "P1-02")
    with ws_frames(stack) as ws:
        first = ws.recv(timeout=15)
        assert f'id="cp-{target}"' in first and 'data-status="available"' in first
        # the WebSocket consumer of this web process is waiting on the channel layer while the
        # API call waits for the runtime's reply: both must be served
        status, state = stack.api(
            "POST", f"/simulator/chargepoints/{target}/plug_in/", {"phases": 3, "max_current_a": 16}
        )
        assert status == 200, state
        assert state["ocpp_status"] == "Charging"
        assert state["vehicle"]["phases"] == 3
        frame = receive_until(ws, f'<article id="cp-{target}" class="card st-charging"')
        assert 'data-testid="sum-charging">1<' in frame
    status, state = stack.api("POST", f"/simulator/chargepoints/{target}/plug_in/", {"phases": 3, "max_current_a": 16})
    assert status == 409, state
    assert state["code"] == "already_plugged"


def test_the_dashboard_socket_follows_every_publish_not_in_bursts(stack):
    """The web process's dashboard hub receives every publish while the process's consumers
    receive on their own channels too (a hub channel of its own prefix got nothing while a
    consumer held channels_redis's receive loop: frames came in bursts, seconds apart)."""
    with ws_frames(stack) as ws, ws_frames(stack) as other:
        ws.recv(timeout=15)
        other.recv(timeout=15)
        gaps: list[float] = []
        last = time.monotonic()
        deadline = last + 6
        while time.monotonic() < deadline:
            frame = ws.recv(timeout=5)
            if "data-seq=" in frame:  # an update of the hub (a tick is 0.5 s here)
                now = time.monotonic()
                gaps.append(now - last)
                last = now
        assert len(gaps) >= 6, gaps
        assert max(gaps) < 2.0, gaps


def test_restarting_the_controller_agent_keeps_the_web_answering(stack):
    def controller() -> dict[str, Any]:
        status, agents = stack.api("GET", "/system/agents/")
        assert status == 200, agents
        return next(a for a in agents if a["name"] == "controller")

    wait_until("controller running", lambda: controller()["state"] == "running", timeout_s=20)
    restarts = controller()["restarts"]
    status, body = stack.api("POST", "/system/agents/controller/restart/")
    assert status == 200, body
    assert stack.request("GET", "/")[0] == 200
    wait_until(
        "controller restarted",
        lambda: controller()["restarts"] > restarts and controller()["state"] == "running",
        timeout_s=20,
    )
    status, body = stack.api("GET", "/dashboard/")
    assert status == 200
    assert {cp["name"] for cp in body["chargepoints"]} >= {"P1-01", "P1-02", "P1-03", "Visitor-01"}


def test_without_the_runtime_process_operations_answer_503_and_are_not_done_later(stack):
    """The runtime is a separate process: when it is gone, pages still load, operations say why,
    and an operation the user was told failed does not happen once the runtime is back."""
    status, park = stack.api("GET", "/park/")
    target = next(cp["id"] for cp in park["chargepoints"] if cp["name"] == "P1-03")
    stop(stack.procs["controller"])
    status, body = stack.api("POST", f"/simulator/chargepoints/{target}/plug_in/", {"phases": 1, "max_current_a": 16})
    assert status == 503, body
    assert body["code"] == "runtime_unavailable"
    assert stack.request("GET", "/")[0] == 200
    restarted = stack.spawn("controller", [sys.executable, "manage.py", "runcontroller"])
    wait_until("runcontroller again", lambda: "controller runtime running" in stack.log("controller"), restarted)
    other = next(cp["id"] for cp in park["chargepoints"] if cp["name"] == "Visitor-01")
    # commands are served in order: once this one is answered, the queued one has been seen
    status, body = stack.api("POST", f"/simulator/chargepoints/{other}/plug_in/", {"phases": 1, "max_current_a": 16})
    assert status == 200, body
    status, state = stack.api("GET", f"/chargepoints/{target}/")
    assert status == 200, state
    assert state["vehicle"] is None
    assert state["ocpp_status"] == "Available"


def test_a_celery_worker_runs_tasks_from_the_redis_broker(stack):
    worker = stack.spawn(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "wbm",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
    )
    try:
        wait_until("celery worker", lambda: "ready." in stack.log("worker"), worker)
        out = stack.manage(
            "shell",
            "-c",
            (
                "from datetime import timedelta\n"
                "from django.contrib.sessions.backends.db import SessionStore\n"
                "from django.contrib.sessions.models import Session\n"
                "from django.utils import timezone\n"
                "from wbm.accounts.tasks import clear_expired_sessions\n"
                "s = SessionStore(); s.create()\n"
                "Session.objects.filter(pk=s.session_key).update(expire_date=timezone.now() - timedelta(days=1))\n"
                "print('deleted', clear_expired_sessions.delay().get(timeout=30))\n"
                "print('left', Session.objects.filter(pk=s.session_key).count())\n"
            ),
        )
        assert "deleted 1" in out
        assert "left 0" in out
        assert "wbm.accounts.tasks.clear_expired_sessions" in stack.log("worker")
    finally:
        stop(worker)
        stack.procs.pop("worker", None)
