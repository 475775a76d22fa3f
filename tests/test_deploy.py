"""The documented deployment (``deploy/``, README "Scaled mode"), run for real: PostgreSQL, Redis,
two Daphne web processes with ``--proxy-headers`` behind nginx configured from
``deploy/nginx/wbm.conf``, the runtime, celery beat. Pages, static files and WebSockets go
through the proxy to both web processes; the login lockout sees each client's own address; the
nginx file (with TLS) and the systemd units are valid."""

from __future__ import annotations

import configparser
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from http.client import HTTPSConnection
from pathlib import Path

import pytest

from tests.scaledstack import (
    DEPLOY,
    HOST,
    NGINX_SITE,
    ROOT,
    Nginx,
    Stack,
    free_port,
    nginx_main,
    nginx_site,
    port_open,
    public_dir,
    receive_until,
    scaled_stack,
    wait_until,
)

pytestmark = pytest.mark.scaled

PASSWORD = "Proxy-lockout-2024"
WRONG = "Please enter a correct username and password"
LOCKED = "Too many failed login attempts"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with scaled_stack(tmp_path_factory, webs=2, controllers=1, beat=True) as s:
        yield s


def upstreams_seen(stack: Stack, path: str) -> set[str]:
    assert stack.nginx is not None
    return set(re.findall(rf'"GET {re.escape(path)} HTTP/1\.1" upstream=(\S+)', stack.nginx.access_log()))


# --- through the proxy -------------------------------------------------------------------------


def test_pages_go_through_nginx_to_both_web_processes(stack):
    wait_until("the park on the page", lambda: "Visitor-01" in stack.request("GET", "/")[1], timeout_s=20)
    for _ in range(6):
        status, body = stack.request("GET", "/")
        assert status == 200
        assert "P1-01" in body and "Visitor-01" in body
    ports = {f"{HOST}:{port}" for port in stack.web_ports.values()}
    wait_until("both web processes in nginx's access log", lambda: upstreams_seen(stack, "/") >= ports, timeout_s=5)
    assert upstreams_seen(stack, "/") == ports, "nginx spreads the requests over both Daphne processes"


def test_nginx_serves_the_collected_static_files_itself(stack):
    status, page = stack.request("GET", "/")
    assert status == 200
    # the manifest storage of the deployment: hashed names, collected into the state directory
    css = re.search(r'href="(/static/wbm/wbm\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links the hashed stylesheet"
    answer = stack.fetch("GET", css.group(1))
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/css"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    # nginx writes the access log line after the answer: under load the test reads it first
    wait_until("nginx's access log line", lambda: upstreams_seen(stack, css.group(1)), timeout_s=5)
    assert upstreams_seen(stack, css.group(1)) == {"-"}, "answered by nginx, not by a web process"


def test_the_dashboard_websocket_works_through_nginx(stack):
    with stack.ws("/ws/dashboard/") as ws:
        frame = receive_until(ws, 'id="cp-')
        assert "Visitor-01" in frame or "P1-01" in frame
        # the web processes (plain ``daphne``) compress the frames, and nginx lets them agree on it
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
    wait_until("the handshake in nginx's access log", lambda: upstreams_seen(stack, "/ws/dashboard/"), timeout_s=5)
    assert upstreams_seen(stack, "/ws/dashboard/") <= {f"{HOST}:{port}" for port in stack.web_ports.values()}


def test_a_websocket_from_a_foreign_origin_is_refused_through_nginx_too(stack):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus):
        connect(f"ws://{HOST}:{stack.nginx.port}/ws/dashboard/", origin="http://evil.example", proxy=None)  # type: ignore[arg-type]


def test_a_third_web_process_joins_after_an_nginx_reload(stack):
    """README: another wbm-web@PORT unit and a server line in the upstream, then a reload."""
    name = stack.start_web()
    stack.nginx.reload(list(stack.web_ports.values()))
    added = f"{HOST}:{stack.web_ports[name]}"

    def served_by_the_new_one() -> bool:
        # the old worker may still take a connection or two while it winds down
        assert stack.request("GET", "/livez")[0] == 200
        return added in upstreams_seen(stack, "/livez")

    wait_until("a request served by the new web process", served_by_the_new_one, timeout_s=10)


# --- the client address ------------------------------------------------------------------------


def attempts(stack: Stack, username: str) -> list[str]:
    """The addresses django-axes counted failed logins of ``username`` at."""
    out = stack.manage(
        "shell",
        "-v0",
        "-c",
        "from axes.models import AccessAttempt\n"
        f"for a in AccessAttempt.objects.filter(username={username!r}).order_by('ip_address'):\n"
        "    print(a.ip_address)\n",
    )
    return out.split()


def test_the_lockout_counts_each_client_at_its_own_address_behind_the_proxy(stack):
    stack.create_user("proxied", PASSWORD)
    attacker = stack.browser(source="127.0.0.2")
    for _ in range(4):
        answer = attacker.login("proxied", "wrong")
        assert answer.status == 200 and WRONG in answer.text
    answer = attacker.login("proxied", "wrong")
    assert answer.status == 429 and LOCKED in answer.text
    # locked from there, the right password too
    assert attacker.login("proxied", PASSWORD).status == 429
    # the user at another address is not: without the proxy headers every client would be
    # 127.0.0.1 (nginx) and share the lock
    colleague = stack.browser(source="127.0.0.3")
    answer = colleague.login("proxied", PASSWORD)
    assert answer.status == 302, answer.text[:500]
    assert "sessionid" in colleague.cookies
    assert attempts(stack, "proxied") == ["127.0.0.2"]


def test_a_client_cannot_choose_its_address_with_its_own_forwarded_header(stack):
    stack.create_user("spoofer", PASSWORD)
    liar = stack.browser(source="127.0.0.4")
    for _ in range(5):
        answer = liar.login("spoofer", "wrong", headers={"X-Forwarded-For": "10.9.9.9"})
    assert answer.status == 429
    assert attempts(stack, "spoofer") == ["127.0.0.4"], "counted at its real address, not at 10.9.9.9"
    # so another header does not get it out of the lock either
    assert liar.login("spoofer", PASSWORD, headers={"X-Forwarded-For": "10.1.1.1"}).status == 429
    # and claiming the address of someone else locks nobody else
    assert stack.browser(source="127.0.0.5").login("spoofer", PASSWORD).status == 302


# --- celery beat -------------------------------------------------------------------------------


def test_celery_beat_keeps_its_schedule_in_the_state_directory(stack):
    wait_until("beat's schedule file", lambda: any(stack.state_dir.glob("celerybeat-schedule*")), timeout_s=20)
    assert not list(ROOT.glob("celerybeat-schedule*")), "nothing written into the checkout"


# --- the files of deploy/ ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate() -> Iterator[tuple[Path, Path]]:
    where = public_dir("wbm-tls-")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    key.chmod(0o644)  # nginx's master reads it; a throw-away key
    yield cert, key
    shutil.rmtree(where, ignore_errors=True)


def test_the_nginx_site_with_tls_passes_nginx_t_and_serves_https(stack, certificate):
    """deploy/nginx/wbm.conf as it is, TLS included, only ports and paths swapped."""
    workdir = public_dir("wbm-nginx-tls-")
    proxy = Nginx(workdir=workdir, upstreams=list(stack.web_ports.values()), static_dir=stack.nginx.static_dir)
    redirect_port = free_port()
    site = nginx_site(
        NGINX_SITE.read_text(),
        upstreams=proxy.upstreams,
        port=proxy.port,
        static_dir=proxy.static_dir,
        tls=certificate,
        redirect_port=redirect_port,
    )
    proxy.conf.write_text(nginx_main(site, workdir))
    checked = subprocess.run([*proxy.argv(), "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
    proc = subprocess.Popen(proxy.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until("nginx with TLS", lambda: port_open(proxy.port) and port_open(redirect_port), proc, timeout_s=15)
        context = ssl.create_default_context(cafile=str(certificate[0]))
        context.check_hostname = False
        conn = HTTPSConnection(HOST, proxy.port, context=context, timeout=15)
        conn.request("GET", "/", headers={"Host": f"{HOST}:{proxy.port}"})
        answer = conn.getresponse()
        assert answer.status == 200
        assert "Visitor-01" in answer.read().decode()
        conn.close()
        redirected = stack.fetch("GET", "/some/page?x=1", base=f"http://{HOST}:{redirect_port}")
        assert redirected.status == 301
        assert redirected.headers["location"] == f"https://{HOST}/some/page?x=1"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)


UNITS = ["wbm-web@.service", "wbm-controller@.service", "wbm-celery-worker.service", "wbm-celery-beat.service"]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "wbm.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_systemd_units_run_what_the_tests_run_with_the_shared_environment():
    env = env_example()
    assert set(env) >= {"WBM_SECRET_KEY", "WBM_STATE_DIR", "DATABASE_URL", "REDIS_URL", "WBM_ALLOWED_HOSTS"}
    assert env["WBM_HTTPS"] == "1"
    commands = {}
    for name in UNITS:
        service = unit(name)["Service"]
        assert service["User"] == "wbm"
        assert service["EnvironmentFile"] == "/etc/wbm/wbm.env"
        assert service["WorkingDirectory"] == "/opt/wbm"
        assert service["Restart"] == "always"
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
        assert service["ReadWritePaths"] == env["WBM_STATE_DIR"], "the state directory is writable"
        assert unit(name)["Install"]["WantedBy"] == "wbm.target"
        commands[name] = service["ExecStart"]
    web = commands["wbm-web@.service"]
    assert web == "/opt/wbm/.venv/bin/daphne --proxy-headers -b 127.0.0.1 -p %i wbm.asgi:application"
    assert commands["wbm-controller@.service"].endswith("manage.py runcontroller")
    assert " worker " in commands["wbm-celery-worker.service"]
    assert commands["wbm-celery-beat.service"].endswith("celery -A wbm beat -l info")
    # the proxy's upstream ports are the web units' instances of the README
    ports = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", NGINX_SITE.read_text(), flags=re.MULTILINE)
    assert ports == ["8001", "8002"]


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """The units with the checkout in place of /opt/wbm (verify wants the programs to exist)."""
    for path in (DEPLOY / "systemd").iterdir():
        text = path.read_text().replace("/opt/wbm", str(ROOT))
        name = path.name.replace("@.service", "@8001.service") if path.name == "wbm-web@.service" else path.name
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if re.search(r"Unknown|Failed|ignoring|not executable|Invalid|bad-setting", line)
    ]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr
