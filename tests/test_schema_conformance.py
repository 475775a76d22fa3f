"""The OpenAPI schema tells the truth: schemathesis calls every operation of /api/v1/schema/ on a
live server (runwbm, a state directory of its own) with generated requests, once as a
Manufacturer (who may change and delete everything: a fresh server per run) and once as a Guest,
and fails on any 5xx and on any answer (status, body) the schema does not document."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.e2e.conftest import E2E_PASSWORD, WbmServer
from wbm.roles import Role

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 15  # per operation and run: every operation, bounded (the whole test stays under ~3 minutes)
LAST = ("DELETE /api/v1/auth/tokens/{id}/",)  # may revoke the run's own token: called after the others


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WbmServer]:
    # no REBOOT SYSTEM while the fuzzer calls every operation (it answers 409 then, documented)
    wbm = WbmServer(state_dir=tmp_path / "state", extra_env={"WBM_SYSTEM_RESTART": "0"}).start()
    try:
        yield wbm
    finally:
        wbm.stop()


def _token(server: WbmServer) -> str:
    server.create_user("schemacheck", Role.MANUFACTURER)
    request = urllib.request.Request(
        f"{server.url}/api/v1/auth/token/",
        data=json.dumps({"username": "schemacheck", "password": E2E_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["token"])


def _failures(server: WbmServer, *, as_guest: bool) -> list[str]:
    token = _token(server)  # the schema is for User and up; a Guest's calls carry no token
    schema = schemathesis.openapi.from_url(
        f"{server.url}/api/v1/schema/?format=json", headers={"Authorization": f"Bearer {token}"}
    )
    headers = {} if as_guest else {"Authorization": f"Bearer {token}"}
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label in LAST)
    assert len(operations) > 30, "the schema lost its operations"
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS, timeout=20)

        try:
            call()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    return failures


@pytest.mark.parametrize("as_guest", [False, True], ids=["manufacturer", "guest"])
def test_every_answer_of_the_api_is_documented(server: WbmServer, as_guest: bool) -> None:
    failures = _failures(server, as_guest=as_guest)
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + server.log_tail()
