"""A refused request is one line in the log support receives (who, what, the missing permission,
from where), never a traceback; a server error still logs its traceback."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse

from wbm.roles import Perm, Role


def _lines_about(caplog: pytest.LogCaptureFixture, url: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if url in r.getMessage()]


def _assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info or r.exc_text] == []
    assert "Traceback" not in caplog.text


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    return caplog


def test_a_refused_page_is_one_line_with_who_what_and_the_missing_permission(client_as, log):
    url = reverse("simulator:index")
    assert client_as(Role.USER).get(url).status_code == 403

    [line] = _lines_about(log, url)
    message = line.getMessage()
    assert message == (f"Refused GET {url} to user-t (role user): needs {Perm.SIMULATOR_USE.value}; from 127.0.0.1")
    _assert_no_traceback(log)


def test_a_refused_api_call_is_one_line_too(client_as, log):
    url = "/api/v1/simulator/chargepoints/1/plug_in/"
    assert client_as(Role.USER).post(url, {}, content_type="application/json").status_code == 403

    [line] = _lines_about(log, url)
    assert line.getMessage() == (
        f"Refused POST {url} to user-t (role user): needs {Perm.SIMULATOR_USE.value}; from 127.0.0.1"
    )
    _assert_no_traceback(log)


def test_a_guest_refused_on_the_api_is_logged_as_guest(db, log):
    url = "/api/v1/park/"
    assert Client().get(url).status_code == 401

    [line] = _lines_about(log, url)
    assert line.getMessage() == f"Refused GET {url} to guest (role guest): needs {Perm.PARK_VIEW.value}; from 127.0.0.1"


def test_a_control_character_in_the_path_cannot_forge_a_log_line(client_as, log):
    client_as(Role.USER).get("/api/v1/simulator/chargepoints/1/x%0AForged/")

    [line] = [r for r in log.records if r.getMessage().startswith("Refused")]
    assert "\n" not in line.getMessage() and "x\\nForged" in line.getMessage()


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", _boom), path("", include("wbm.urls"))]
handler500 = "wbm.errors.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_still_logs_its_traceback(db, log):
    client = Client(raise_request_exception=False)
    assert client.get("/boom/").status_code == 500

    [line] = _lines_about(log, "/boom/")
    assert line.levelno == logging.ERROR and line.exc_info is not None
    assert "RuntimeError: kaboom" in log.text and "Traceback" in log.text
