"""Fixtures for the browser tests (Playwright + Debian's chromium against a real WBM server).

Run them in their own pytest invocation: ``.venv/bin/python -m pytest -m e2e -q`` (sync
Playwright keeps an event loop in the main thread, which breaks later pytest-asyncio tests of
the same process; ``scripts/test.sh`` already runs them separately). Every test in this folder
is marked ``e2e`` automatically.

What you get:

- ``wbm_server`` (session): one ``manage.py runwbm`` subprocess on a free port with a fresh
  state directory, so it migrates and loads the demo park itself, exactly like a new
  installation. It is a :class:`WbmServer`: ``.url`` is the base URL, ``.create_user(...)``
  adds or resets an account in *its* database, ``.stop()`` / ``.start()`` restart it on the
  same port with the same state.
- ``private_wbm_server`` (function): the same, but a server of the test's own, for tests that
  stop it or change global state.
- ``account``: ``account(Role.MANUFACTURER)`` makes a fresh, unique account on ``wbm_server``
  with the default password already changed; returns :class:`Account`. Tests that share the
  session server should log in with such accounts, never with the default ones (the first
  test that changes ``manufacturer``'s password would otherwise break the next one).
- ``login(page, server_url, account)`` / ``change_password(...)`` helpers (importable:
  ``from tests.e2e.conftest import login``).
- ``new_context`` / ``context`` / ``page`` (pytest-playwright) with a route guard on every
  context: any request to a host other than 127.0.0.1 is aborted and fails the test (proves
  the pages work offline); uncaught JavaScript errors fail the test too.
- ``screenshot(page, "name")``: saves ``test-artifacts/<test name>/name.png`` at the repo root
  (git-ignored) and returns the path.

Contexts default to a 1280x800 viewport, English and UTC; pass ``viewport=``/``locale=`` to
``new_context`` for others. ``expect`` waits up to 10 s (live values arrive within a tick).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from wbm.roles import Role

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
# STACK.md §9: Debian's chromium, no downloads, and no background connection attempts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1"}
E2E_PASSWORD = "Wallbox-e2e-2024!"  # not a default password, passes the validators
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20

expect.set_options(timeout=10_000)


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server process: a user's, with this state directory.

    The test process's own switches (tests/testenv.py) are dropped, so the server uses the real
    static files storage (whitenoise manifest) and embedded mode. ``WBM_TICK_S`` is shortened
    so live values move quickly."""
    env = dict(os.environ)
    for name in (
        "REDIS_URL",
        "DATABASE_URL",
        "WBM_STATICFILES_STORAGE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "WBM_STATE_DIR",
        "DJANGO_SETTINGS_MODULE",
        "WBM_DEBUG",
    ):
        env.pop(name, None)
    env.update({"WBM_STATE_DIR": str(state_dir), "WBM_TICK_S": "0.5", "PYTHONUNBUFFERED": "1", **extra})
    return env


@dataclass
class Account:
    username: str
    password: str
    role: Role


@dataclass
class WbmServer:
    """One ``manage.py runwbm`` process; start, stop and start again on the same port and state."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "server-output.log"

    def env(self) -> dict[str, str]:
        return server_env(self.state_dir, **self.extra_env)

    def start(self) -> WbmServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(PYTHON), "manage.py", "runwbm", "--host", self.host, "--port", str(self.port)],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runwbm exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return self
            except urllib.error.HTTPError:  # it answers, if with an error: the tests will tell
                return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"runwbm did not answer within {START_TIMEOUT_S} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server like an operator would (SIGTERM) and wait for it to end."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no output)"

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run a management command against this server's state directory."""
        result = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_user(
        self, username: str, role: Role, *, password: str = E2E_PASSWORD, must_change: bool = False, language: str = ""
    ) -> Account:
        """Create or reset an account (role, password, forced change, language) in this server's
        database. ``create_user("manufacturer", Role.MANUFACTURER, password="manufacturer",
        must_change=True)`` puts a default account back to its factory state."""
        spec = {
            "username": username,
            "role": int(role),
            "password": password,
            "must_change": must_change,
            "language": language,
        }
        self.manage("shell", "-c", _CREATE_USER, env={"WBM_E2E_USER": json.dumps(spec)})
        return Account(username, password, role)


_CREATE_USER = """
import json, os
from django.contrib.auth.models import User
from wbm.accounts.models import Profile
spec = json.loads(os.environ["WBM_E2E_USER"])
user, _ = User.objects.get_or_create(username=spec["username"])
user.set_password(spec["password"])
user.save()
Profile.objects.update_or_create(user=user, defaults={
    "role": spec["role"], "must_change_password": spec["must_change"], "language": spec["language"]})
"""


@pytest.fixture(scope="session")
def wbm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    """The shared server of the session (fresh state directory, demo park loaded by itself)."""
    server = WbmServer(state_dir=tmp_path_factory.mktemp("wbm-e2e-state"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_wbm_server(tmp_path: Path) -> Iterator[WbmServer]:
    """A server of this test's own: stop it, restart it, change whatever you like."""
    server = WbmServer(state_dir=tmp_path / "wbm-state")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def account(wbm_server: WbmServer, request: pytest.FixtureRequest) -> Callable[..., Account]:
    """``account(Role.OPERATOR)``: a new account on the session server, password already set."""
    made: list[str] = []

    def make(role: Role, **kwargs: Any) -> Account:
        test = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]  # unique per test
        username = f"{role.label.lower()}-{test}-{len(made)}"
        made.append(username)
        return wbm_server.create_user(username, role, **kwargs)

    return make


# --- browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


# Defaults of every context; ``new_context(viewport=...)`` overrides them one by one.
CONTEXT_DEFAULTS: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US", "timezone_id": "UTC"}


@dataclass
class PageProblems:
    offsite: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def guard(self, context: BrowserContext) -> None:
        def route(route: Any) -> None:
            if urlparse(route.request.url).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                self.offsite.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        context.on("page", lambda p: p.on("pageerror", lambda exc: self.page_errors.append(str(exc))))


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext], page_problems: PageProblems
) -> Iterator[Callable[..., BrowserContext]]:
    """pytest-playwright's factory plus the offline guard and the JavaScript error check."""

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**{**CONTEXT_DEFAULTS, **kwargs})
        page_problems.guard(context)
        return context

    yield make
    assert page_problems.offsite == [], f"requests that left the box: {page_problems.offsite}"
    assert page_problems.page_errors == [], f"uncaught JavaScript errors: {page_problems.page_errors}"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(page, "dashboard-1280")`` → test-artifacts/<test>/dashboard-1280.png."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


# --- steps a user takes ----------------------------------------------------------------------


def login(page: Page, server_url: str, username: str, password: str) -> None:
    """Log in through the person icon of the top bar, from the dashboard."""
    if not page.url.startswith(server_url):
        page.goto(server_url + "/")
    page.locator("#login-link").click()
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#id_password").press("Enter")
    expect(page.locator("#usermenu-toggle")).to_contain_text(username)


def change_password(page: Page, old: str, new: str) -> None:
    """Fill the password change form the page shows."""
    page.locator("#id_old_password").fill(old)
    page.locator("#id_new_password1").fill(new)
    page.locator("#id_new_password2").fill(new)
    page.locator("#id_new_password2").press("Enter")
    expect(page.locator("#id_new_password2")).to_have_count(0)


def logout(page: Page) -> None:
    page.locator("#usermenu-toggle").click()
    page.locator("#logout-button").click()
    expect(page.locator("#login-link")).to_be_visible()


def log_in_as(page: Page, server_url: str, who: Account) -> None:
    """Log in with an account whose password needs no change (see the ``account`` fixture)."""
    login(page, server_url, who.username, who.password)


def wait_live(page: Page) -> None:
    """Wait until a live page's WebSocket delivers values (the indicator says live)."""
    expect(page.locator("body")).to_have_attribute("data-live", "live")


def page_widths(page: Page) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the document: the layout fits when the first is not larger."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    return int(width), int(inner)


# --- collection ------------------------------------------------------------------------------

_HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


__all__ = [
    "Account",
    "WbmServer",
    "change_password",
    "free_port",
    "log_in_as",
    "login",
    "logout",
    "page_widths",
    "server_env",
    "wait_live",
]
