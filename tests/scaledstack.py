"""Throw-away scaled-mode deployments for tests (no tests here).

Everything runs on 127.0.0.1, on free ports, in temporary directories, and is stopped at the end:
a PostgreSQL cluster of its own (``Postgres``), redis-server (``Redis``, can be stopped and
started again on the same port), nginx configured from ``deploy/nginx/wbm.conf`` (``Nginx``,
plain HTTP on its own port) and the WBM's processes (``Stack``: Daphne web processes with
``--proxy-headers`` as the systemd units run them, ``runcontroller``, the Celery worker and beat).

As in the deployment (``deploy/``), all WBM processes share one environment: ``WBM_SECRET_KEY``,
``DATABASE_URL``, ``REDIS_URL`` and one state directory (``WBM_STATE_DIR``: the simulated
hardware's file, the collected static files, celery beat's schedule). The static files are
collected with the deployment's storage (manifest, compressed) and nginx serves a public copy.

PostgreSQL refuses to run as root and nginx's workers drop to an unprivileged user, so when the
tests run as root (CI does) both run as such a user (``postgres`` if the Debian package created
it, else ``nobody``) in directories made for them outside pytest's private tmp directories.

Typical use, in a test module::

    @pytest.fixture(scope="module")
    def stack(tmp_path_factory):
        with scaled_stack(tmp_path_factory, webs=2, controllers=1) as s:
            yield s
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "wbm.conf"
START_TIMEOUT_S = 60
HOST = "127.0.0.1"

# --- small helpers ---------------------------------------------------------------------------

_handed_out: set[int] = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1, below the kernel's ephemeral range where possible, so that
    no outgoing connection takes it while a server is down (a server restarted on the same port
    after an outage finds it free). Never the same port twice in one test run."""
    for _ in range(200):
        port = 20000 + secrets.randbelow(12000)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = int(s.getsockname()[1])
    _handed_out.add(port)
    return port


def wait_until(
    what: str,
    condition: Callable[[], bool],
    proc: subprocess.Popen[bytes] | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process ended with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout_s} s")
        time.sleep(0.1)


def port_open(port: int, host: str = HOST) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 15) -> None:
    """End a process: ``sig`` (SIGTERM), SIGKILL after ``timeout_s``."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def service_user() -> tuple[str, int, int] | None:
    """(name, uid, gid) to run PostgreSQL and nginx's workers as when this process is root;
    None when it is not (they then run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return name, entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, but neither the user postgres nor nobody exists")


def public_dir(prefix: str) -> Path:
    """A new directory in the system's temporary directory that the service user can enter
    (pytest's own are 0700, and the WBM's settings set the umask to 077)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def publish_static(source: Path, target: Path) -> None:
    """What the README's recipe does for nginx: a world-readable copy of the collected static
    files (the state directory itself is private to the WBM's user)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    for parent, dirs, files in os.walk(target):
        Path(parent).chmod(0o755)
        for name in dirs:
            Path(parent, name).chmod(0o755)
        for name in files:
            Path(parent, name).chmod(0o644)


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_bindir() -> Path:
    """The newest Debian PostgreSQL's bin directory (initdb, postgres, psql, pg_isready)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(found, key=lambda p: int(re.sub(r"\D", "", Path(p).parent.parent.name) or 0))
        return Path(newest).parent
    initdb = shutil.which("initdb")
    assert initdb, "PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)"
    return Path(initdb).resolve().parent


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own (``initdb -A trust -U postgres``) on 127.0.0.1:``port``,
    with the role ``wbm`` and the database ``wbm`` owned by it, as the README creates them.
    ``stop()`` and ``start()`` again keep the port and the data (a database outage)."""

    base: Path
    port: int
    bindir: Path
    user: tuple[str, int, int] | None
    proc: subprocess.Popen[bytes] | None = None

    ROLE = "wbm"
    DATABASE = "wbm"

    @property
    def url(self) -> str:
        """The DATABASE_URL of the WBM (role wbm, no password: the cluster trusts local clients)."""
        return f"postgres://{self.ROLE}@{HOST}:{self.port}/{self.DATABASE}"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @classmethod
    def create(cls) -> Postgres:
        user = service_user()
        base = public_dir("wbm-pg-")
        (base / "sock").mkdir()
        if user:
            for path in (base, base / "sock"):
                os.chown(path, user[1], user[2])
        pg = cls(base=base, port=free_port(), bindir=pg_bindir(), user=user)
        initdb = [str(pg.bindir / "initdb"), "-D", str(pg.data), "-A", "trust", "-U", "postgres"]
        done = subprocess.run(
            [*initdb, "-E", "UTF8", "--no-locale", "--no-sync"],
            capture_output=True,
            timeout=120,
            check=False,
            **pg._as_user(),
        )
        assert done.returncode == 0, f"initdb: {done.stderr.decode(errors='replace')[-2000:]}"
        return pg

    def _as_user(self) -> dict[str, Any]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.base)}
        if self.user is None:
            return {"cwd": self.base, "env": env}
        return {"cwd": self.base, "env": env, "user": self.user[1], "group": self.user[2], "extra_groups": []}

    def start(self) -> None:
        assert not self.running, "PostgreSQL is already running"
        log = (self.base / "postgres.log").open("ab")
        server = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        server += ["-k", str(self.base / "sock"), "-c", f"listen_addresses={HOST}"]
        # a test database: speed over durability
        server += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self.proc = subprocess.Popen(server, stdout=log, stderr=subprocess.STDOUT, **self._as_user())
        log.close()
        wait_until("PostgreSQL", self._ready, self.proc, timeout_s=30)

    def _ready(self) -> bool:
        return (
            subprocess.run(
                [str(self.bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)], check=False, timeout=10
            ).returncode
            == 0
        )

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions are ended, nothing is lost)."""
        if self.proc is not None:
            stop(self.proc, signal.SIGINT, timeout_s=20)
            self.proc = None

    def sql(self, *statements: str, database: str = "postgres") -> str:
        """Run statements as the superuser postgres; returns psql's output."""
        argv = [str(self.bindir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", HOST, "-p", str(self.port), "-U", "postgres", "-d", database]
        for statement in statements:
            argv += ["-c", statement]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"psql: {done.stderr[-2000:]}"
        return done.stdout

    def create_database(self) -> None:
        """What the README's recipe does: ``createuser wbm``, ``createdb -O wbm wbm``."""
        self.sql(f"CREATE ROLE {self.ROLE} LOGIN", f"CREATE DATABASE {self.DATABASE} OWNER {self.ROLE}")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """A running cluster with the role and database ``wbm``; removed afterwards."""
    pg = Postgres.create()
    try:
        pg.start()
        pg.create_database()
        yield pg
    finally:
        pg.close()


# --- Redis -------------------------------------------------------------------------------------


@dataclass
class Redis:
    """redis-server on 127.0.0.1:``port`` without persistence. ``stop()`` (or ``kill()``) and
    ``start()`` again use the same port: the WBM's processes keep their REDIS_URL."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running, "redis-server is already running"
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test.sh installs it)"
        argv = [binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*argv, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until("redis-server", lambda: port_open(self.port), self.proc, timeout_s=15)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL)
            self.proc = None


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[Redis]:
    server = Redis(workdir=workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- nginx -------------------------------------------------------------------------------------


def _block_around(lines: list[str], index: int) -> tuple[int, int]:
    """The first and last line of the top-level ``{ ... }`` block that holds ``lines[index]``."""
    start = index
    while not re.match(r"^\S.*\{\s*$", lines[start]):
        start -= 1
    depth = 0
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth == 0:
            return start, end
    raise ValueError("unbalanced braces")


def nginx_site(
    template: str,
    *,
    upstreams: list[int],
    port: int,
    static_dir: Path,
    tls: tuple[Path, Path] | None = None,
    redirect_port: int | None = None,
) -> str:
    """``deploy/nginx/wbm.conf`` for a test: the upstream servers on ``upstreams``, the static
    files from ``static_dir``, the main server on 127.0.0.1:``port``, with TLS from ``tls``
    (certificate, key) or plain HTTP without it; the port-80 redirect on ``redirect_port`` or
    left out. Fails when the file no longer has what it replaces."""

    def sub(pattern: str, replacement: str, text: str) -> str:
        new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count, f"deploy/nginx/wbm.conf: no line matches {pattern!r}"
        return new

    lines = template.splitlines()
    servers = [i for i, line in enumerate(lines) if re.match(r"^\s*server 127\.0\.0\.1:\d+", line)]
    assert servers, "deploy/nginx/wbm.conf: no upstream server 127.0.0.1:<port>"
    options = re.sub(r"^\s*server 127\.0\.0\.1:\d+", "", lines[servers[0]])
    indent = re.match(r"^\s*", lines[servers[0]]).group(0)  # type: ignore[union-attr]
    lines[servers[0] : servers[-1] + 1] = [f"{indent}server {HOST}:{p}{options}" for p in upstreams]

    redirect = next(i for i, line in enumerate(lines) if re.match(r"^\s*listen 80;", line))
    first, last = _block_around(lines, redirect)
    if redirect_port is None:
        del lines[first : last + 1]
    text = "\n".join(lines) + "\n"
    if redirect_port is not None:
        text = sub(r"^(\s*)listen 80;$", rf"\1listen {HOST}:{redirect_port};", text)
        text = sub(r"^\s*listen \[::\]:80;\n", "", text)
    text = sub(r"^\s*listen \[::\]:443 .*\n", "", text)
    if tls is None:
        text = sub(r"^(\s*)listen 443 ssl http2;$", rf"\1listen {HOST}:{port};", text)
        text = sub(r"^\s*ssl_.*\n", "", text)
    else:
        text = sub(r"^(\s*)listen 443 ssl http2;$", rf"\1listen {HOST}:{port} ssl http2;", text)
        text = sub(r"^(\s*ssl_certificate) \S+;$", rf"\1 {tls[0]};", text)
        text = sub(r"^(\s*ssl_certificate_key) \S+;$", rf"\1 {tls[1]};", text)
    return sub(r"alias /var/www/wbm/static/;", f"alias {static_dir}/;", text)


def nginx_main(site: str, workdir: Path) -> str:
    """A complete nginx.conf around ``site`` for a process of its own: in the foreground, pid,
    logs and temporary files under ``workdir``; as root its workers run as the service user."""
    user = service_user()
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        (f"user {user[0]} {_group_name(user[2])};\n" if user else "")
        + f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        + f"error_log {workdir / 'error.log'} notice;\n"
        + "events { worker_connections 256; }\n"
        + "http {\n"
        + "    include /etc/nginx/mime.types;\n"
        + "    default_type application/octet-stream;\n"
        + '    log_format wbm \'$remote_addr $status "$request" upstream=$upstream_addr '
        + 'xff="$http_x_forwarded_for"\';\n'
        + f"    access_log {workdir / 'access.log'} wbm;\n"
        + temp
        + "\n"
        + "\n".join(f"    {line}" if line else "" for line in site.splitlines())
        + "\n}\n"
    )


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def nginx_binary() -> str:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert binary, "nginx is not installed (scripts/test.sh installs Debian's nginx)"
    return binary


@dataclass
class Nginx:
    """nginx as the reverse proxy, from ``deploy/nginx/wbm.conf``, HTTP on 127.0.0.1:``port``
    in front of the Daphne processes on ``upstreams``. The access log names the upstream that
    answered each request (``upstream=127.0.0.1:PORT``) and the X-Forwarded-For it received."""

    workdir: Path
    upstreams: list[int]
    static_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def conf(self) -> Path:
        return self.workdir / "nginx.conf"

    def write_conf(self) -> None:
        site = nginx_site(NGINX_SITE.read_text(), upstreams=self.upstreams, port=self.port, static_dir=self.static_dir)
        self.conf.write_text(nginx_main(site, self.workdir))

    def argv(self) -> list[str]:
        return [nginx_binary(), "-p", str(self.workdir), "-e", str(self.workdir / "error.log"), "-c", str(self.conf)]

    def check(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on the configuration."""
        self.write_conf()
        return subprocess.run([*self.argv(), "-t"], capture_output=True, text=True, timeout=30, check=False)

    def start(self) -> None:
        self.write_conf()
        log = (self.workdir / "nginx.out").open("ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until("nginx", lambda: port_open(self.port), self.proc, timeout_s=15)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGQUIT)  # graceful
            self.proc = None

    def reload(self, upstreams: list[int] | None = None) -> None:
        """Write the configuration again (with other upstream ports) and reload it (SIGHUP), as
        ``systemctl reload nginx`` does; returns once the new workers run."""
        assert self.proc is not None and self.proc.poll() is None, "nginx is not running"
        if upstreams is not None:
            self.upstreams = upstreams
        before = self.error_log().count("start worker process")
        self.write_conf()
        self.proc.send_signal(signal.SIGHUP)
        wait_until("nginx reload", lambda: self.error_log().count("start worker process") > before, self.proc, 15)

    def access_log(self) -> str:
        path = self.workdir / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --- HTTP and WebSocket clients ----------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header's last value
    text: str
    cookies: list[str] = field(default_factory=list)  # every Set-Cookie header

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def http_request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
    timeout_s: float = 15,
) -> Response:
    """One request from the local address ``source`` (any 127.x.y.z works on Linux's loopback)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(
        parts.hostname or HOST,
        parts.port or 80,
        timeout=timeout_s,
        source_address=(source, 0) if source else None,
    )
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path or "/", body=body, headers=headers or {})
        answer = conn.getresponse()
        return Response(
            answer.status,
            {k.lower(): v for k, v in answer.getheaders()},
            answer.read().decode(errors="replace"),
            [v for k, v in answer.getheaders() if k.lower() == "set-cookie"],
        )
    finally:
        conn.close()


class Browser:
    """A cookie-keeping client from one local address: log in through the form (with its CSRF
    token), then pages and WebSockets with that session."""

    def __init__(self, base: str, source: str | None = None) -> None:
        self.base = base
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None, **kw: Any) -> Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = http_request(method, self.base + path, body=body, headers=headers, source=self.source, **kw)
        self._keep_cookies(answer)
        return answer

    def _keep_cookies(self, answer: Response) -> None:
        for raw in answer.cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, form: dict[str, str], **kw: Any) -> Response:
        """POST a form with the CSRF token of the page at ``path`` (fetched first)."""
        page = self.get(path, headers=kw.get("headers"))
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path} ({page.status})"
        return self.request("POST", path, form={"csrfmiddlewaretoken": match.group(1), **form}, **kw)

    def login(self, username: str, password: str, **kw: Any) -> Response:
        """The login form; 302 when logged in, 200 with the error, 429 when locked out."""
        return self.post_form("/accounts/login/", {"username": username, "password": password}, **kw)

    def ws(self, path: str = "/ws/dashboard/") -> ClientConnection:
        base = urlsplit(self.base)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        kwargs: dict[str, Any] = {"source_address": (self.source, 0)} if self.source else {}
        return ws_connect(
            f"ws://{base.netloc}{path}",
            origin=Origin(self.base),
            additional_headers=headers,
            proxy=None,
            open_timeout=10,
            **kwargs,
        )


def receive_until(ws: ClientConnection, needle: str, timeout_s: float = 15.0) -> str:
    """The first frame that contains ``needle`` (earlier frames are skipped)."""
    deadline = time.monotonic() + timeout_s
    while True:
        frame = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if needle in str(frame):
            return str(frame)


# --- the WBM's processes -------------------------------------------------------------------------


@dataclass
class Stack:
    """The WBM's processes in scaled mode, sharing one environment and state directory.

    Each process has a name (``web-1``, ``controller``, ``worker``, ...), its argv and a log
    (``<tmp>/<name>.log``; ``log(name)`` is what it wrote since its latest start). ``url`` is
    nginx when there is one, else the first web process."""

    env: dict[str, str]
    tmp: Path
    redis: Redis
    postgres: Postgres | None = None
    nginx: Nginx | None = None
    token: str = ""
    web_ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    argvs: dict[str, list[str]] = field(default_factory=dict)
    _log_start: dict[str, int] = field(default_factory=dict)

    # addresses and state

    @property
    def state_dir(self) -> Path:
        return Path(self.env["WBM_STATE_DIR"])

    @property
    def url(self) -> str:
        if self.nginx is not None:
            return self.nginx.url
        return self.web_url(next(iter(self.web_ports)))

    def web_url(self, name: str) -> str:
        """A web process directly, bypassing nginx."""
        return f"http://{HOST}:{self.web_ports[name]}"

    # management commands and processes

    def manage(self, *args: str, check: bool = True) -> str:
        """A management command with the stack's environment; returns its standard output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check:
            assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a process (its output appended to ``<tmp>/<name>.log``)."""
        assert not self.running(name), f"{name} is already running"
        path = self.tmp / f"{name}.log"
        self._log_start[name] = path.stat().st_size if path.exists() else 0
        with path.open("ab") as log:
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        self.argvs[name] = argv
        return proc

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def log(self, name: str, *, everything: bool = False) -> str:
        """What ``name`` wrote since its latest start (``everything``: since the first)."""
        path = self.tmp / f"{name}.log"
        if not path.exists():
            return ""
        with path.open("rb") as f:
            f.seek(0 if everything else self._log_start.get(name, 0))
            return f.read().decode(errors="replace")

    def wait_for_log(self, name: str, text: str, timeout_s: float = START_TIMEOUT_S) -> None:
        wait_until(f"{name}: {text!r}", lambda: text in self.log(name), self.procs.get(name), timeout_s)

    def stop(self, name: str) -> None:
        """SIGTERM (SIGKILL after 15 s), as systemd stops a unit."""
        if name in self.procs:
            stop(self.procs[name])

    def kill(self, name: str) -> None:
        """SIGKILL: the process dies on the spot (a crash, the OOM killer, a power cut of its host)."""
        if name in self.procs:
            stop(self.procs[name], signal.SIGKILL)

    def restart(self, name: str, *, wait_for: str | None = None) -> subprocess.Popen[bytes]:
        """Stop (if running) and start again with the same command line; a web process waits
        for its port, others for ``wait_for`` in their log when given."""
        self.stop(name)
        proc = self.spawn(name, self.argvs[name])
        if name in self.web_ports:
            port = self.web_ports[name]
            wait_until(name, lambda: port_open(port), proc)
        if wait_for:
            self.wait_for_log(name, wait_for)
        return proc

    def start_web(self, name: str | None = None, *, wait: bool = True) -> str:
        """A Daphne web process as ``wbm-web@.service`` runs it (``--proxy-headers``, 127.0.0.1);
        returns its name (``web-1``, ``web-2``, ...)."""
        name = name or f"web-{len(self.web_ports) + 1}"
        port = self.web_ports.get(name) or free_port()
        self.web_ports[name] = port
        daphne = [str(BIN / "daphne"), "--proxy-headers", "-b", HOST, "-p", str(port), "wbm.asgi:application"]
        proc = self.spawn(name, daphne)
        if wait:
            wait_until(name, lambda: port_open(port), proc)
        return name

    def start_controller(self, name: str = "controller", *, wait_for: str | None = "running") -> str:
        """``manage.py runcontroller``; waits until its log says ``controller runtime <wait_for>``
        ("running": it holds the lease; "waiting for the lease": a standby; None: no wait)."""
        proc = self.spawn(name, [sys.executable, "manage.py", "runcontroller"])
        if wait_for:
            wait_until(name, lambda: f"controller runtime {wait_for}" in self.log(name), proc)
        return name

    def start_worker(self, name: str = "worker") -> str:
        """The Celery worker as ``wbm-celery-worker.service`` runs it; waits until it is ready."""
        argv = [str(BIN / "celery"), "-A", "wbm", "worker", "--pool=solo", "--without-gossip", "--without-mingle"]
        self.spawn(name, [*argv, "-l", "info"])
        self.wait_for_log(name, "ready.")
        return name

    def start_beat(self, name: str = "beat") -> str:
        """celery beat as ``wbm-celery-beat.service`` runs it; waits until it started."""
        self.spawn(name, [str(BIN / "celery"), "-A", "wbm", "beat", "-l", "info"])
        self.wait_for_log(name, "beat: Starting")
        return name

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            stop(proc)

    # requests

    def fetch(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        source: str | None = None,
        base: str | None = None,
        timeout_s: float = 15,
    ) -> Response:
        """A request to ``url`` (or ``base``) from the local address ``source``; JSON body."""
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        return http_request(
            method, (base or self.url) + path, body=data, headers=sent, source=source, timeout_s=timeout_s
        )

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None, **kw: Any
    ) -> tuple[int, str]:
        answer = self.fetch(method, path, body=body, token=token, **kw)
        return answer.status, answer.text

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, **kw: Any) -> tuple[int, Any]:
        """``/api/v1<path>`` with the stack's Manufacturer token."""
        answer = self.fetch(method, "/api/v1" + path, body=body, token=self.token, **kw)
        try:
            return answer.status, answer.json()
        except ValueError:
            return answer.status, answer.text

    def browser(self, source: str | None = None, base: str | None = None) -> Browser:
        return Browser(base or self.url, source)

    def ws(
        self, path: str = "/ws/dashboard/", *, base: str | None = None, source: str | None = None
    ) -> ClientConnection:
        """A WebSocket as a guest's browser opens it (Origin = the page's own origin)."""
        return self.browser(source, base).ws(path)

    def create_user(self, username: str, password: str, role: str = "operator") -> None:
        """An account with a password that need not be changed (role: user, operator, manufacturer)."""
        self.manage(
            "shell",
            "-v0",
            "-c",
            "from django.contrib.auth.models import User\n"
            "from wbm.accounts.models import Profile\n"
            "from wbm.roles import Role\n"
            f"u, _ = User.objects.get_or_create(username={username!r})\n"
            f"u.set_password({password!r}); u.save()\n"
            f"Profile.objects.update_or_create(user=u, defaults={{'role': Role[{role.upper()!r}], "
            "'must_change_password': False})\n",
        )


def stack_env(tmp: Path, *, redis_url: str, database_url: str) -> dict[str, str]:
    """The environment every process of a stack shares (``/etc/wbm/wbm.env`` of the recipe)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "WBM_STATICFILES_STORAGE")}
    env.update(
        {
            "WBM_SECRET_KEY": secrets.token_urlsafe(50),
            "WBM_STATE_DIR": str(tmp / "state"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WBM_TICK_S": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextlib.contextmanager
def scaled_stack(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    webs: int = 2,
    nginx: bool = True,
    controllers: int = 1,
    worker: bool = False,
    beat: bool = False,
    database: str = "postgres",
    env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """A whole deployment: PostgreSQL (``database="sqlite"``: a SQLite file in the shared state
    directory instead) and Redis; then, as the README's recipe, migrate, loaddemo and
    collectstatic; a Manufacturer API token in ``stack.token``; ``webs`` Daphne processes
    (``web-1``, ...), nginx in front of them, ``controllers`` runcontrollers (``controller``,
    then ``controller-2``, ...: the first holds the lease, the others stand by), and the Celery
    worker and beat if asked. ``env`` adds or overrides variables. Everything stops afterwards."""
    tmp = tmp_path_factory.mktemp("scaled")
    with contextlib.ExitStack() as cleanup:
        redis = cleanup.enter_context(redis_server(tmp_path_factory.mktemp("redis")))
        pg = cleanup.enter_context(postgres_cluster()) if database == "postgres" else None
        database_url = pg.url if pg else f"sqlite:///{tmp / 'state' / 'wbm.sqlite3'}"
        s = Stack(env=stack_env(tmp, redis_url=redis.url, database_url=database_url), tmp=tmp, redis=redis, postgres=pg)
        s.env.update(env or {})
        cleanup.callback(s.close)
        s.manage("migrate", "--noinput", "-v0")
        s.manage("loaddemo")
        s.manage("collectstatic", "--noinput", "-v0")
        s.token = s.manage("apitoken", "scaled-test", "--role", "manufacturer").strip()
        names = [s.start_web(wait=False) for _ in range(webs)]
        for name in names:
            port = s.web_ports[name]
            wait_until(name, lambda port=port: port_open(port), s.procs[name])  # type: ignore[misc]
        if nginx and webs:
            www = public_dir("wbm-www-")
            cleanup.callback(shutil.rmtree, www, ignore_errors=True)
            publish_static(s.state_dir / "static", www / "static")
            workdir = public_dir("wbm-nginx-")
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            s.nginx = Nginx(workdir=workdir, upstreams=list(s.web_ports.values()), static_dir=www / "static")
            s.nginx.start()
            cleanup.callback(s.nginx.stop)
        for n in range(controllers):
            s.start_controller(
                "controller" if n == 0 else f"controller-{n + 1}", wait_for="running" if n == 0 else None
            )
        if worker:
            s.start_worker()
        if beat:
            s.start_beat()
        yield s
