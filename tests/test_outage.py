"""The database or Redis gone: 503 saying which (wbm.outage), in this process with the failure
injected, and in scaled mode for real: redis-server (and, where Debian's PostgreSQL
server is installed, a throw-away PostgreSQL cluster) stopped under a running Daphne web process
and runtime process. Pages and the API answer 503 saying which dependency cannot be reached,
/healthz names it, and everything answers again by itself once it is back."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.scaledstack import postgres_cluster
from wbm.outage import outage_log, unreachable
from wbm.roles import Role

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RECOVERY_BUDGET_S = 5.0
# a session cookie, as a logged-in user's browser sends: the session is looked up in the database
SESSION = f"{settings.SESSION_COOKIE_NAME}=0123456789abcdefghijklmnopqrstuv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_until(what: str, condition: Callable[[], bool], proc: Any = None, timeout_s: float = 60) -> float:
    """Poll ``condition``; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process ended with {proc.returncode}")
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{what}: not after {timeout_s} s")
        time.sleep(0.1)
    return time.monotonic() - started


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class RedisServer:
    """A redis-server on a fixed port that a test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test.sh installs it)"
        self.argv = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*self.argv, "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until("redis-server", lambda: port_open(self.port), self.proc, timeout_s=15)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        wait_until("redis-server gone", lambda: not port_open(self.port), timeout_s=10)


@dataclass
class Stack:
    """One Daphne web process and the runtime (``runcontroller``) in scaled mode."""

    env: dict[str, str]
    tmp: Path
    web_port: int = 0
    token: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("loaddemo")
        self.token = self.manage("apitoken", "outage-test", "--role", "manufacturer").strip()
        controller = self.spawn("controller", [sys.executable, "manage.py", "runcontroller"])
        self.web_port = free_port()
        web = self.spawn(
            "web", [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.web_port), "wbm.asgi:application"]
        )
        wait_until("daphne", lambda: port_open(self.web_port), web)
        wait_until("runcontroller", lambda: "controller runtime running" in self.log("controller"), controller)
        wait_until("everything answers", self.all_ok, timeout_s=30)

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            stop(proc)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
        if path.startswith("/api/"):
            headers.setdefault("Authorization", f"Bearer {self.token}")
        req = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def all_ok(self) -> bool:
        return (
            self.get("/", Cookie=SESSION)[0] == 200
            and self.get("/api/v1/park/")[0] == 200
            and self.get("/healthz")[0] == 200
        )


def scaled_env(tmp: Path, redis_url: str, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    (tmp / "static").mkdir(exist_ok=True)
    env.update(
        {
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "WBM_STATE_DIR": str(tmp),
            "WBM_TICK_S": "0.5",
            "PYTHONUNBUFFERED": "1",
            "WBM_LOG_REPEAT_INTERVAL_S": "60",
        }
    )
    return env


def german_catalogue_has(msgid: str) -> str | None:
    """The German translation of ``msgid`` once the catalogue has it (the lead adds it)."""
    import gettext

    try:
        catalogue = gettext.GNUTranslations((ROOT / "locale/de/LC_MESSAGES/django.mo").open("rb"))
    except OSError:
        return None
    text = catalogue.gettext(msgid)
    return text if text != msgid else None


REDIS_DOWN = "The live data store (Redis) cannot be reached."
DATABASE_DOWN = "The database cannot be reached."


def assert_the_outage_answers(stack: Stack, dependency: str, sentence: str, failing_checks: set[str]) -> None:
    started = time.monotonic()
    status, headers, body = stack.get("/", Cookie=SESSION)
    assert time.monotonic() - started < 4, "a dead dependency must fail fast"
    assert status == 503, body[:2000]
    assert sentence in body
    assert "works again by itself" in body
    assert headers["Retry-After"] == "5"
    assert 'class="errorpage' in body

    status, _, body = stack.get("/", Cookie=f"{SESSION}; wbm_language=de")
    assert status == 503
    assert 'lang="de"' in body
    german = german_catalogue_has(sentence)
    if german is not None:  # until the lead adds the msgids, the page says it in English
        assert german in body and sentence not in body

    status, headers, body = stack.get("/api/v1/park/")
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    answer = json.loads(body)
    assert answer["code"] == "service_unavailable"
    assert answer["dependency"] == dependency
    assert answer["detail"].startswith(sentence)

    status, _, body = stack.get("/healthz", Accept="application/json")
    assert status == 503, body
    report = json.loads(body)
    assert report["status"] == "fail"
    assert {name for name, check in report["checks"].items() if not check["ok"]} == failing_checks
    status, _, body = stack.get("/healthz")
    assert (status, body) == (503, f"fail: {', '.join(sorted(failing_checks, key=list(report['checks']).index))}")


def assert_back_within_budget(stack: Stack, what: str) -> float:
    took = wait_until(f"everything answers 200 after {what} is back", stack.all_ok, timeout_s=30)
    print(f"\n{what} back: every page, the API and /healthz answer 200 after {took:.2f} s")
    assert took < RECOVERY_BUDGET_S, f"recovered only after {took:.1f} s"
    return took


def outage_lines(log: str, dependency_words: str) -> list[str]:
    return [line for line in log.splitlines() if f"{dependency_words} cannot be reached" in line]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.scaled
def test_redis_gone_pages_and_api_answer_503_and_come_back_by_themselves(redis_server, tmp_path):
    stack = Stack(env=scaled_env(tmp_path, redis_server.url, f"sqlite:///{tmp_path / 'db.sqlite3'}"), tmp=tmp_path)
    try:
        stack.start()
        redis_server.stop()
        assert_the_outage_answers(stack, "redis", REDIS_DOWN, {"channel_layer", "runtime"})
        for _ in range(5):
            assert stack.get("/", Cookie=SESSION)[0] == 503
        log = stack.log("web")
        lines = outage_lines(log, "Redis")
        assert len(lines) == 1, log[-3000:]  # one line for the outage, not one per request
        print("\n" + lines[0])
        assert "Traceback" not in log, log[-3000:]
        assert "ERROR django.request" not in log, log[-3000:]
        assert "healthz: fail: channel_layer" in log
        redis_server.start()
        assert_back_within_budget(stack, "Redis")
    finally:
        stack.close()
        if redis_server.proc is None or redis_server.proc.poll() is not None:
            redis_server.start()


@pytest.mark.scaled
def test_database_gone_pages_and_api_answer_503_and_come_back_by_themselves(redis_server, tmp_path):
    with postgres_cluster() as cluster:
        # a password in the URL (trust authentication ignores it): it must never reach the log
        url = cluster.url.replace("://wbm@", "://wbm:not-shown@")
        stack = Stack(env=scaled_env(tmp_path, redis_server.url, url), tmp=tmp_path)
        try:
            stack.start()
            cluster.stop()
            assert_the_outage_answers(stack, "database", DATABASE_DOWN, {"database"})
            log = stack.log("web")
            lines = outage_lines(log, "The database")
            assert len(lines) == 1, log[-3000:]
            print("\n" + lines[0])
            assert "Traceback" not in log, log[-3000:]
            assert "ERROR django.request" not in log, log[-3000:]
            assert "not-shown" not in log
            cluster.start()
            assert_back_within_budget(stack, "PostgreSQL")
        finally:
            stack.close()


# --- in this process: the failure injected where it happens --------------------------------------


class _PsycopgError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("from the driver")
        self.sqlstate = sqlstate


def _operational(sqlstate: str | None, text: str = "boom") -> Exception:
    from django.db import OperationalError

    error = OperationalError(text)
    error.__cause__ = _PsycopgError(sqlstate)
    return error


def test_which_errors_are_an_outage():
    import redis.exceptions
    from django.db import InterfaceError, OperationalError

    assert unreachable(redis.exceptions.ConnectionError("refused")) == "redis"
    assert unreachable(redis.exceptions.TimeoutError("timeout")) == "redis"
    assert unreachable(InterfaceError("connection already closed")) == "database"
    assert unreachable(_operational(None, "connection failed: refused")) == "database"  # a failed connect
    assert unreachable(_operational("57P01", "terminating connection due to administrator command")) == "database"
    assert unreachable(_operational("08006")) == "database"
    # faults of the request, not outages: they stay 500s
    assert unreachable(_operational("40001", "could not serialize access")) is None
    assert unreachable(OperationalError("no such table: wbm_thing")) is None
    assert unreachable(redis.exceptions.ResponseError("WRONGTYPE")) is None
    assert unreachable(ValueError("x")) is None


class _DeadCache:
    def get(self, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def dead_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    from wbm.runtime import bus

    monkeypatch.setattr(bus, "cache", _DeadCache())
    outage_log.reset()


def test_a_page_whose_view_meets_a_dead_redis_is_the_503_page(dead_redis, client_as, caplog):
    response = client_as(Role.USER).get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert REDIS_DOWN in body and "works again by itself" in body
    assert 'class="errorpage' in body and '<meta http-equiv="refresh" content="5">' in body
    # the plain page: nothing from the context processors (menu, user)
    assert "sidenav" not in body and "user-t" not in body
    client_as(Role.USER).get("/")
    assert [r.getMessage()[:27] for r in caplog.records if r.name == "wbm.outage"] == ["Redis cannot be reached (Co"]


def test_an_api_call_meeting_a_dead_redis_is_json_503(dead_redis, client_as):
    response = client_as(Role.MANUFACTURER).get("/api/v1/park/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = json.loads(response.content)
    assert body["code"] == "service_unavailable"
    assert body["dependency"] == "redis"
    assert body["detail"].startswith(REDIS_DOWN)


def test_a_page_asked_for_as_json_gets_the_json_answer(dead_redis, client_as):
    response = client_as(Role.USER).get("/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert json.loads(response.content)["dependency"] == "redis"


def test_a_database_gone_while_a_middleware_saves_the_session_is_503_not_500(client_as, monkeypatch):
    """Raised in SessionMiddleware on the way out: Django turns it into the handler500 answer
    right there (wbm.errors.server_error), which gives the 503."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError

    client = client_as(Role.USER)
    client.raise_request_exception = False

    def save(self: Any, must_create: bool = False) -> None:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(SessionStore, "save", save)
    outage_log.reset()
    response = client.get("/livez")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert DATABASE_DOWN in response.content.decode()
    response = client.get("/api/v1/me/")
    assert response.status_code == 503
    assert json.loads(response.content)["dependency"] == "database"


def test_other_errors_stay_500(client_as, monkeypatch):
    from wbm.dashboard import views

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "dashboard_context", broken)
    client = client_as(Role.USER)
    client.raise_request_exception = False
    assert client.get("/").status_code == 500
