"""REBOOT SYSTEM in embedded mode: ``runwbm`` stops cleanly and runs again by itself (same
process id, same port, a new runtime start, no "did not stop cleanly" warning)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(state: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "REDIS_URL",
            "DATABASE_URL",
            "WBM_STATICFILES_STORAGE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DJANGO_SETTINGS_MODULE",
            "WBM_DEBUG",
        )
    }
    env.update({"WBM_STATE_DIR": str(state), "WBM_TICK_S": "0.5", "PYTHONUNBUFFERED": "1"})
    return env


def _get(url: str, token: str = "", method: str = "GET", body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _wait_for_runtime(base: str, token: str, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status, body = _get(f"{base}/api/v1/system/status/", token)
            apps = {a["key"]: a for a in body.get("applications", [])}
            if status == 200 and apps.get("controller", {}).get("state") == "running":
                return body
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the WBM did not come up")


def test_reboot_system_stops_cleanly_and_comes_back_by_itself(tmp_path):
    state, port = tmp_path / "state", _free_port()
    state.mkdir()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "out.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runwbm", "--port", str(port)],
        cwd=ROOT,
        env=_env(state),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (state / "wbm.sqlite3").exists() or _port_closed(port):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "out.log").read_text()
            time.sleep(0.3)
        made = subprocess.run(
            [sys.executable, "manage.py", "apitoken", "reboot-op", "--role", "operator"],
            cwd=ROOT,
            env=_env(state),
            capture_output=True,
            text=True,
            check=True,
        )
        token = next(w for w in made.stdout.split() if w.startswith("wbm_")).strip("\"',")
        first = _wait_for_runtime(base, token)
        started = {a["key"]: a["started_at"] for a in first["applications"]}["controller"]
        status, answer = _get(f"{base}/api/v1/system/reboot/", token, "POST", b'{"confirm": true}')
        assert (status, answer) == (202, {"restarting": True})
        time.sleep(1.5)
        second = _wait_for_runtime(base, token)
        assert proc.poll() is None, "the process ended instead of coming back"
        again = {a["key"]: a["started_at"] for a in second["applications"]}["controller"]
        assert again > started
        output = (tmp_path / "out.log").read_text()
        assert "system restart: starting again" in output or output.count("WBM (embedded mode)") >= 2
        assert "did not stop cleanly" not in output
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
