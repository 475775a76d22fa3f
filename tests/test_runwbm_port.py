"""`manage.py runwbm` (and so `scripts/run.sh`) on a port that is taken: one clear line and a
non-zero exit within seconds, before any preparing; the address is announced only once the server
really listens."""

from __future__ import annotations

import hashlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 30  # generous for 2 shared cores; the refusal itself takes about a second


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private, empty state directory: runwbm must refuse before it touches the database."""
    (tmp_path / "static").mkdir()
    return {**os.environ, "WBM_STATE_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on which another program already listens."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_use_line(port: int) -> str:
    return f"Port {port} on 127.0.0.1 is already in use (another WBM?). Stop it or pass --port."


def run(argv: list[str], env: dict[str, str]) -> tuple[int, list[str], float]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    return done.returncode, (done.stdout + done.stderr).splitlines(), time.monotonic() - started


def test_a_taken_port_ends_runwbm_with_one_line_and_a_failure_status(env, taken_port):
    argv = [sys.executable, "manage.py", "runwbm", "--host", "127.0.0.1", "--port", str(taken_port), "--skip-prepare"]
    status, lines, _ = run(argv, env)

    assert status != 0
    assert lines == [in_use_line(taken_port)]  # nothing announced, no Twisted message, no traceback


def test_the_port_is_checked_before_the_state_directory_is_prepared(env, taken_port):
    status, lines, took_s = run([sys.executable, "manage.py", "runwbm", "--port", str(taken_port)], env)

    assert status != 0 and lines == [in_use_line(taken_port)]
    assert not (Path(env["WBM_STATE_DIR"]) / "wbm.sqlite3").exists(), "migrated for nothing"
    assert took_s < 15


def test_a_port_taken_after_the_check_still_ends_with_one_line(env, taken_port):
    # The race: the port is free when checked and taken when Twisted listens.
    script = (
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "from wbm.management.commands import runwbm;"
        "runwbm.check_listen = lambda host, port: None;"
        f"call_command('runwbm', host='127.0.0.1', port={taken_port}, skip_prepare=True)"
    )
    status, lines, _ = run([sys.executable, "-c", script], {**env, "DJANGO_SETTINGS_MODULE": "wbm.settings"})

    assert status != 0
    assert lines == [in_use_line(taken_port)]


def test_run_sh_passes_the_failure_on(env, taken_port):
    stamp = ROOT / ".venv" / ".requirements.sha256"
    lock = ROOT / "requirements.lock"
    if not stamp.exists() or stamp.read_text().strip() != hashlib.sha256(lock.read_bytes()).hexdigest():
        pytest.skip(".venv is not up to date with requirements.lock: run.sh would install packages first")
    status, lines, _ = run(["bash", "scripts/run.sh", "--port", str(taken_port)], env)

    assert status == 1
    assert lines == [in_use_line(taken_port)]


def test_the_address_is_announced_once_the_server_listens(env):
    port = free_port()
    argv = [sys.executable, "manage.py", "runwbm", "--host", "127.0.0.1", "--port", str(port), "--skip-prepare"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as ready:
            ready.register(proc.stdout, selectors.EVENT_READ)
            assert ready.select(timeout=TIMEOUT_S), "nothing announced"
            line = proc.stdout.readline()
        assert line.startswith(f"WBM (embedded mode) on http://127.0.0.1:{port}/")
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # listening at that moment
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
