"""A process that cannot reach its database does not start: one line on stderr, no traceback,
no password, exit status 3 (wbm.startup)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from wbm.startup import EXIT_NO_DATABASE, describe_database, require_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "s3cret-pw"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(tmp_path: Path, database_url: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    (tmp_path / "static").mkdir(exist_ok=True)
    env.update({"WBM_STATE_DIR": str(tmp_path), "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **more})
    return env


def run(argv: list[str], env: dict[str, str], timeout_s: float = 30) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def the_refusal(output: str) -> str:
    lines = [line for line in output.splitlines() if "cannot reach the database" in line]
    assert len(lines) == 1, output
    assert "Traceback" not in output, output
    assert SECRET not in output, output
    return lines[0]


def test_a_web_process_that_cannot_reach_postgresql_does_not_start(tmp_path):
    env = environment(
        tmp_path,
        f"postgres://nobody:{SECRET}@127.0.0.1:{unused_port()}/wbm",
        REDIS_URL=f"redis://127.0.0.1:{unused_port()}/0",
    )
    argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(unused_port()), "wbm.asgi:application"]
    status, output, took = run(argv, env)
    assert status == EXIT_NO_DATABASE, output
    line = the_refusal(output)
    assert line.startswith("wbm: web process: cannot reach the database postgresql://nobody@127.0.0.1:")
    assert "(password hidden)" in line
    assert "Connection refused" in line
    assert line.endswith("; not starting")
    assert took < 15, f"took {took:.1f} s"


def test_a_celery_worker_that_cannot_reach_its_database_does_not_start(tmp_path):
    env = environment(tmp_path, f"postgres://nobody:{SECRET}@127.0.0.1:{unused_port()}/wbm")
    status, output, _ = run([str(BIN / "celery"), "-A", "wbm", "worker", "--pool=solo", "-l", "warning"], env)
    assert status == EXIT_NO_DATABASE, output
    assert the_refusal(output).startswith("wbm: celery worker: cannot reach the database postgresql://nobody@")


def test_embedded_mode_refuses_a_database_file_it_cannot_open(tmp_path):
    env = environment(tmp_path, f"sqlite:///{tmp_path / 'missing-dir' / 'wbm.sqlite3'}")
    argv = [sys.executable, "manage.py", "runwbm", "--port", str(unused_port()), "--skip-prepare"]
    status, output, _ = run(argv, env)
    assert status == EXIT_NO_DATABASE, output
    line = the_refusal(output)
    assert line.startswith(f"wbm: embedded WBM: cannot reach the database sqlite:///{tmp_path}/missing-dir/")
    assert "unable to open database file" in line


def test_a_reachable_database_passes_the_check():
    require_database("test")  # the test settings' SQLite file


def test_the_description_never_shows_the_password():
    cfg = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "wbm",
        "USER": "wbm",
        "PASSWORD": SECRET,
        "HOST": "db.example",
    }
    assert describe_database(cfg) == "postgresql://wbm@db.example/wbm (password hidden)"
    assert describe_database({**cfg, "PASSWORD": "", "PORT": 5433}) == "postgresql://wbm@db.example:5433/wbm"


def test_sqlite_is_described_by_its_file():
    cfg = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/wbm/wbm.sqlite3"}
    assert describe_database(cfg) == "sqlite:////srv/wbm/wbm.sqlite3"
