"""Read-only access: User and Operator see a charge point's configuration (every value, nothing
to change), a POST stays refused; the API's documentation and schema need a login or a token."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from chargepoints.models import ChargePointConfig
from tests.chargepoints.test_config_views import free_cp, posted
from tests.conftest import cp_id
from wbm.roles import Role

READ_ONLY = "Read-only: only the Manufacturer can change the configuration."
CONTROLS = re.compile(r"<(?:input|select|textarea)\b[^>]*>")


def config_form(body: str) -> str:
    match = re.search(r'<form id="config-form".*?</form>', body, re.S)
    assert match, "the page has no configuration form"
    return match.group(0)


def editable_controls(form: str) -> list[str]:
    """Inputs a person could change (the CSRF token is hidden and not a value of the charge point)."""
    return [tag for tag in CONTROLS.findall(form) if " disabled" not in tag and 'type="hidden"' not in tag]


# --- the configuration page ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_user_and_operator_see_every_value_of_the_configuration_read_only(park, client_as, role):
    target = cp_id("P1-02")
    config = ChargePointConfig.objects.get(pk=target)
    response = client_as(role).get(f"/chargepoints/{target}/config/")
    assert response.status_code == 200
    body = response.content.decode()
    form = config_form(body)
    assert READ_ONLY in body
    assert '<h1 id="config-title">Configuration · P1-02</h1>' in body
    assert re.search(r'<input[^>]*name="name"[^>]*value="P1-02"[^>]*disabled', form)
    assert re.search(rf'<input[^>]*name="current_max_a"[^>]*value="{config.current_max_a}"[^>]*disabled', form)
    assert len(CONTROLS.findall(form)) > 20 and editable_controls(form) == []
    for control in ("save-config", "save-config-top", "import-link", "delete-link", "copy-form", "copy-from"):
        assert f'id="{control}"' not in body, control
    assert "hx-post" not in body  # no re-render of the form for a changed value either
    assert ">Save<" not in body
    assert 'id="export-link"' in body  # exporting is a read


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_user_and_operator_may_not_save_re_render_or_copy(park, client_as, role):
    client = client_as(role)
    target = cp_id("P1-02")
    url = f"/chargepoints/{target}/config/"
    assert client.post(url, posted("P1-02", current_max_a=10)).status_code == 403
    assert client.post(url, posted("P1-02", refresh="1"), HTTP_HX_REQUEST="true").status_code == 403
    assert ChargePointConfig.objects.get(pk=target).current_max_a == 16
    copied = client.get(f"{url}?copy_from={cp_id('P1-01')}").content.decode()
    assert "Values copied from" not in copied and 'value="P1-02"' in copied


def test_an_unconfigured_point_reads_as_not_configured_not_as_create(park, client_as):
    body = client_as(Role.USER).get(f"/chargepoints/{free_cp().pk}/config/").content.decode()
    assert '<h1 id="config-title">Configuration</h1>' in body and "Create configuration" not in body
    assert "factory default configuration: not configured" in body and READ_ONLY in body
    assert editable_controls(config_form(body)) == []


def test_the_manufacturer_still_edits(park, client_as):
    body = client_as(Role.MANUFACTURER).get(f"/chargepoints/{cp_id('P1-02')}/config/").content.decode()
    assert READ_ONLY not in body
    assert 'id="save-config"' in body and 'id="copy-form"' in body and 'id="delete-link"' in body
    assert editable_controls(config_form(body))


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_overview_and_status_link_the_configuration_for_reading(park, client_as, role):
    client = client_as(role)
    target = cp_id("P1-02")
    overview = client.get("/chargepoints/").content.decode()
    assert re.search(rf'<a [^>]*id="view-config-{target}" href="/chargepoints/{target}/config/"', overview)
    assert "View configuration" in overview
    assert f'id="view-config-{free_cp().pk}"' not in overview  # nothing to read there
    status = client.get(f"/chargepoints/{target}/").content.decode()
    assert re.search(rf'href="/chargepoints/{target}/config/" data-testid="op-view-config"', status)


def test_the_manufacturer_gets_configure_not_view(park, client_as):
    client = client_as(Role.MANUFACTURER)
    target = cp_id("P1-02")
    assert "view-config-" not in client.get("/chargepoints/").content.decode()
    status = client.get(f"/chargepoints/{target}/").content.decode()
    assert 'data-testid="op-config"' in status and 'data-testid="op-view-config"' not in status


# --- API documentation and schema ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/schema/"])
def test_a_guest_gets_no_api_documentation(db, url):
    response = Client().get(url)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json") and json.loads(response.content)["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_guests_browser_is_sent_from_the_docs_to_the_login(db):
    response = Client().get("/api/v1/docs/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/v1/docs/"


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR, Role.MANUFACTURER])
def test_every_logged_in_role_reads_the_api_documentation(client_as, role):
    client = client_as(role)
    docs = client.get("/api/v1/docs/", HTTP_ACCEPT="text/html")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200 and json.loads(schema.content)["openapi"].startswith("3.")


def test_software_reads_the_schema_with_a_token(db):
    out = io.StringIO()
    call_command("apitoken", "scada", "--role", "user", stdout=out)
    auth = {"Authorization": f"Bearer {out.getvalue().strip()}"}
    schema = Client().get("/api/v1/schema/?format=json", headers=auth)
    assert schema.status_code == 200 and "/api/v1/park/" in json.loads(schema.content)["paths"]
    assert Client().get("/api/v1/docs/", headers=auth).status_code == 200
    assert Client().get("/api/v1/schema/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
