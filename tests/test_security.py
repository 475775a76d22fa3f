"""Security basics: CSRF everywhere, body size limits, styled 403/404/500 (JSON on the API), the
deployment check, secure cookies over HTTPS, the generated secret key, and an offline API docs
page and templates."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from drf_spectacular.validation import validate_schema

from tests.conftest import PASSWORD, cp_id, make_user
from tests.routes import all_routes
from wbm.middleware import RequestSizeLimitMiddleware
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime.bus import read_snapshot

BASE_DIR = Path(settings.BASE_DIR)


def _styled(response: HttpResponse, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert 'class="errorpage' in body and f'<div class="code">{status}</div>' in body, "not the styled page"
    return body


# --- CSRF -------------------------------------------------------------------------------------


def test_a_post_without_csrf_token_gets_the_styled_403_and_changes_nothing(db):
    user = make_user(Role.USER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/accounts/language/", {"language": "de", "next": "/"})
    body = _styled(response, 403)
    assert "Form expired" in body and "Reload the page and try again." in body
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.get(pk=user.pk).profile.language == ""


def test_the_csrf_page_is_translated(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.USER))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    body = _styled(client.post("/accounts/language/", {"language": "en"}), 403)
    assert '<html lang="de">' in body
    assert "Form expired" not in body and "Formular abgelaufen" in body


def test_login_without_csrf_token_is_refused(db):
    make_user(Role.USER, username="csrf-login")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "csrf-login", "password": PASSWORD})
    _styled(response, 403)
    assert "_auth_user_id" not in client.session


def test_a_form_with_its_csrf_token_goes_through(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.USER))
    page = client.get("/chargepoints/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post("/accounts/language/", {"language": "de", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_a_session_api_post_without_csrf_is_refused_but_a_token_needs_none(runtime):
    pk = cp_id("P1-02")
    user = make_user(Role.MANUFACTURER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/api/v1/simulator/chargepoints/{pk}/plug_in/"
    response = client.post(url, {"phases": 3, "max_current_a": 16}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert read_snapshot().chargepoint(pk).vehicle is None
    assert not ChangeRecord.objects.filter(action__startswith="simulator.").exists()
    # the same call with a token (no cookie, so nothing to forge) goes through
    token = (
        Client()
        .post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json")
        .json()["token"]
    )
    response = Client(enforce_csrf_checks=True).post(
        url, {"phases": 3, "max_current_a": 16}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200, response.content
    assert read_snapshot().chargepoint(pk).vehicle is not None


# --- body size --------------------------------------------------------------------------------


def test_an_oversized_form_gets_the_styled_413_and_changes_nothing(db):
    user = make_user(Role.USER)
    client = Client()
    client.force_login(user)
    big = "x" * (settings.WBM_MAX_REQUEST_BYTES + 1)
    response = client.post("/accounts/language/", {"language": "de", "next": big})
    body = _styled(response, 413)
    assert "Request too large" in body and "at most" in body
    assert User.objects.get(pk=user.pk).profile.language == ""


def test_an_oversized_api_body_gets_413_json(db):
    big = json.dumps({"username": "x" * (settings.WBM_MAX_REQUEST_BYTES + 1), "password": "y"})
    response = Client().post("/api/v1/auth/token/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and response.json()["detail"]


def test_the_413_page_is_translated(db):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.post("/accounts/language/", {"next": "x" * (settings.WBM_MAX_REQUEST_BYTES + 1)})
    body = _styled(response, 413)
    assert "Request too large" not in body and "Anfrage zu groß" in body


@pytest.mark.parametrize(
    ("path_", "size", "refused"),
    [
        ("/accounts/language/", 1024 * 1024, False),
        ("/accounts/language/", 1024 * 1024 + 1, True),
        ("/system/import/", 2 * 1024 * 1024, False),  # uploads have their own, larger limit
        ("/system/import/", 2 * 1024 * 1024 + 1, True),
        ("/api/v1/system/software/", 2 * 1024 * 1024 + 1, True),
    ],
)
def test_size_limits(path_: str, size: int, refused: bool):
    middleware = RequestSizeLimitMiddleware(lambda request: HttpResponse("passed"))
    request = RequestFactory().post(path_, data=b"", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = str(size)
    response = middleware(request)
    assert (response.status_code == 413) == refused


# --- error pages ------------------------------------------------------------------------------


def test_an_unknown_url_gets_the_styled_404_page(db):
    body = _styled(Client().get("/no/such/page/"), 404)
    assert "Page not found" in body


def test_the_404_page_is_translated(db):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    body = _styled(client.get("/no/such/page/"), 404)
    assert "Page not found" not in body and "Seite nicht gefunden" in body


def test_an_unknown_api_url_gets_json_404(db):
    response = Client().get("/api/v1/no/such/route/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["detail"]


def test_a_refused_page_gets_the_styled_403(client_as):
    body = _styled(client_as(Role.USER).get("/network/"), 403)
    assert "Access denied" in body


def test_the_403_page_is_translated(client_as):
    client = client_as(Role.USER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    body = _styled(client.get("/network/"), 403)
    assert "Access denied" not in body and "Zugriff verweigert" in body


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("kaboom: internal detail that must not reach the browser")


urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom/", _boom),
    path("", include("wbm.urls")),
]
handler500 = "wbm.errors.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_gets_the_styled_500_page_without_details(db):
    client = Client()
    client.raise_request_exception = False
    body = _styled(client.get("/boom/"), 500)
    assert "Internal error" in body and "kaboom" not in body and "Traceback" not in body


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_on_the_api_is_json(db):
    client = Client()
    client.raise_request_exception = False
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error" and "kaboom" not in response.content.decode()


# --- deployment: check --deploy, HTTPS cookies, secret key ------------------------------------


def _run(code_or_args: list[str], state_dir: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    # as a deployment would start it: none of the test run's switches (tests/testenv.py)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WBM_") and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update({"WBM_STATE_DIR": str(state_dir), "DJANGO_SETTINGS_MODULE": "wbm.settings", **env_extra})
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_is_clean_with_https(tmp_path: Path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path / "state", WBM_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


HTTPS_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
)


def _settings_of(state_dir: Path, **env: str) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k, None) for k in {HTTPS_SETTINGS!r}}}))"
    )
    result = _run(["-c", code], state_dir, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_https_every_cookie_is_secure(db, tmp_path: Path):
    https = _settings_of(tmp_path / "state", WBM_HTTPS="1")
    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"] and https["LANGUAGE_COOKIE_SECURE"]
    assert https["SECURE_SSL_REDIRECT"] and int(https["SECURE_HSTS_SECONDS"]) > 0
    plain = _settings_of(tmp_path / "state")
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["SECURE_SSL_REDIRECT"]
    https["SECURE_PROXY_SSL_HEADER"] = tuple(https["SECURE_PROXY_SSL_HEADER"])
    make_user(Role.USER, username="tls-user")
    with override_settings(**https):
        client = Client()
        assert client.get("/accounts/login/").status_code == 301, "plain HTTP is redirected to HTTPS"
        page = client.get("/accounts/login/", secure=True)
        assert page.cookies["csrftoken"]["secure"]
        response = client.post("/accounts/login/", {"username": "tls-user", "password": PASSWORD}, secure=True)
        assert response.status_code == 302
        assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]
        assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]
        response = client.post("/accounts/language/", {"language": "de", "next": "/"}, secure=True)
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"]
        assert "max-age" in client.get("/", secure=True).get("Strict-Transport-Security", "")


def test_the_secret_key_is_generated_once_into_the_state_dir(tmp_path: Path):
    state = tmp_path / "fresh-state"
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    first = _run(["-c", code], state)
    assert first.returncode == 0, first.stderr
    key_file = state / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50 and key_file.read_text().strip() == key
    second = _run(["-c", code], state)
    assert second.stdout.strip().splitlines()[-1] == key, "the key is reused on the next start"
    other = _run(["-c", code], tmp_path / "other-state")
    assert other.stdout.strip().splitlines()[-1] != key, "each installation gets its own key"


def test_no_secret_key_in_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=BASE_DIR, capture_output=True, text=True, check=True).stdout
    tracked = files.splitlines()
    assert tracked, "git ls-files listed nothing"
    assert not [f for f in tracked if "secret_key" in Path(f).name or f.startswith("var/")]
    assert not re.search(r"^\s*SECRET_KEY\s*=\s*['\"]", (BASE_DIR / "wbm" / "settings.py").read_text(), re.M)


# --- API schema and docs, offline ------------------------------------------------------------


def test_the_api_schema_is_valid_openapi_and_lists_the_api(client_as):
    response = client_as(Role.USER).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    documented = {re.sub(r"\{[^}]+\}", "{}", p) for p in schema["paths"]}  # spectacular renames pk → id
    for route in all_routes():
        # the generic simulator route is documented as one path per operation (each with its body)
        if route.is_api and route.name not in ("api:schema", "api:docs", "api:simulator"):
            templ = "/" + re.sub(r"<[^>]+>", "{}", route.route)
            assert templ in documented, f"{templ} is missing from the OpenAPI schema"
    for needed in ("/api/v1/park/", "/api/v1/chargepoints/{}/", "/api/v1/simulator/chargepoints/{}/plug_in/"):
        assert needed in documented


ASSET_ATTR = re.compile(r"""(?:src|href|action|poster|srcset|data|formaction)\s*=\s*["']([^"']+)["']""", re.I)


def _external_urls(text: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)  # line comments of JS
    found = [m for m in ASSET_ATTR.findall(text) if re.match(r"(?:https?:)?//", m.strip())]
    found += re.findall(r"""url\(\s*["']?((?:https?:)?//[^"')]+)""", text)
    found += re.findall(r"""@import\s+["']((?:https?:)?//[^"']+)""", text)
    found += re.findall(r"https?://(?!www\.w3\.org/)[^\s\"'<>)]+", text)
    return sorted(set(found))


def test_the_api_docs_page_uses_only_local_files(client_as):
    response = client_as(Role.USER).get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _external_urls(html) == []
    # the initialising script is its own request (?script=), for the Content-Security-Policy
    assets = [a for a in ASSET_ATTR.findall(html) if not a.startswith("/api/v1/docs/?")]
    assert assets and all(a.startswith("/static/") for a in assets), assets
    script = client_as(Role.USER).get("/api/v1/docs/?script=").content.decode()
    assert _external_urls(script) == []
    # Swagger UI asks validator.swagger.io unless told not to
    assert '"validatorUrl": null' in script
    for asset in assets:
        found = finders.find(asset.removeprefix(settings.STATIC_URL))
        assert found, f"{asset} is not a static file of this installation"
        if asset.endswith(".css"):
            assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", Path(found).read_text(errors="replace")), asset


def _project_files() -> list[Path]:
    from django.apps import apps

    roots = [BASE_DIR / "templates", BASE_DIR / "static"]
    for config in apps.get_app_configs():
        app_path = Path(config.path)
        if BASE_DIR in app_path.parents and ".venv" not in app_path.parts:
            roots += [app_path / "templates", app_path / "static"]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.is_file() and p.suffix in {".html", ".css", ".js", ".svg"}]
    return sorted(set(files))


def test_no_template_or_static_file_loads_anything_from_another_host():
    files = _project_files()
    assert any(f.name == "base.html" for f in files) and any(f.suffix == ".js" for f in files)
    offenders = {
        str(f.relative_to(BASE_DIR)): urls for f in files if (urls := _external_urls(f.read_text(errors="replace")))
    }
    assert offenders == {}
