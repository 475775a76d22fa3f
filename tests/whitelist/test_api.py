"""/api/v1/whitelist/: the same rules as the pages."""

from __future__ import annotations

import pytest

from tests.whitelist.conftest import add, fill
from wbm.roles import Role
from whitelist.models import MAX_ENTRIES, WhitelistEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/whitelist/entries/"
ENTRY = {
    "type": "rfid",
    "tag": "0b:ad:ca:fe",
    "name": "Anna",
    "allow_charging": True,
    "expires_at": "2030-12-31T23:59:00+01:00",
}


@pytest.fixture
def api(client_as):
    return client_as(Role.USER)


def test_create_list_retrieve_update_delete(api):
    created = api.post(URL, ENTRY, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["tag"], body["expires_at"], body["expired"]) == ("0BADCAFE", "2030-12-31T22:59:00+00:00", False)
    pk = body["id"]
    assert [e["tag"] for e in api.get(URL, {"search": "0bad"}).json()] == ["0BADCAFE"]
    got = api.get(f"{URL}{pk}/")
    etag = got["ETag"]
    patched = api.patch(
        f"{URL}{pk}/", {"allow_charging": False}, content_type="application/json", headers={"If-Match": etag}
    )
    assert patched.status_code == 200 and patched.json()["allow_charging"] is False
    stale = api.put(f"{URL}{pk}/", ENTRY, content_type="application/json", headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert api.delete(f"{URL}{pk}/", headers={"If-Match": patched["ETag"]}).status_code == 204
    assert not WhitelistEntry.objects.exists()


def test_duplicates_bad_values_and_the_501st_are_refused(api):
    add("0BADCAFE")
    dup = api.post(URL, ENTRY, content_type="application/json")
    assert dup.status_code == 400 and "already on the whitelist" in dup.json()["errors"]["tag"][0]
    bad = api.post(URL, {**ENTRY, "tag": "XYZW", "expires_at": "soon"}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"expires_at"}
    bad = api.post(URL, {**ENTRY, "tag": "XYZW"}, content_type="application/json")
    assert bad.status_code == 400 and "hexadecimal" in bad.json()["errors"]["tag"][0]
    fill(MAX_ENTRIES - 1, start=1000)
    full = api.post(URL, {**ENTRY, "tag": "DEADBEEF"}, content_type="application/json")
    assert full.status_code == 409 and full.json()["code"] == "whitelist_full"
    assert WhitelistEntry.objects.count() == MAX_ENTRIES


def test_export_is_csv(api):
    add("04A1B2C3")
    response = api.get("/api/v1/whitelist/export/", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("type,tag,name,allow_charging,expires_at\r\n")


def test_import_dry_run_then_apply_with_its_fingerprint(api):
    add("04A1B2C3")
    csv = "type,tag,name,allow_charging,expires_at\nrfid,BBBB0001,,yes,2030-01-01T00:00:00Z\n"
    dry = api.post(
        "/api/v1/whitelist/import/", {"csv": csv, "mode": "replace", "dry_run": True}, content_type="application/json"
    )
    assert dry.status_code == 200
    plan = dry.json()
    assert plan["written"] is False and [c["tag"] for c in plan["removed"]] == ["04A1B2C3"]
    assert WhitelistEntry.objects.count() == 1
    applied = api.post(
        "/api/v1/whitelist/import/",
        {"csv": csv, "mode": "replace", "fingerprint": plan["fingerprint"]},
        content_type="application/json",
    )
    assert applied.status_code == 200 and applied.json()["written"] is True
    assert list(WhitelistEntry.objects.values_list("tag", flat=True)) == ["BBBB0001"]
    again = api.post(
        "/api/v1/whitelist/import/",
        {"csv": csv, "mode": "add", "fingerprint": plan["fingerprint"]},
        content_type="application/json",
    )
    assert again.status_code == 412


def test_import_errors_come_with_row_and_column(api):
    csv = "type,tag,name,allow_charging,expires_at\nrfid,ZZ,,yes,2030-01-01T00:00:00Z\n"
    response = api.post("/api/v1/whitelist/import/", {"csv": csv, "mode": "add"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["rows"][0] | {"message": ""} == {"row": 2, "column": "tag", "message": ""}
    assert not WhitelistEntry.objects.exists()


def test_recent_scans_and_the_ocpp_list(api):
    assert api.get("/api/v1/whitelist/recent-scans/").json() == []
    assert api.get("/api/v1/whitelist/ocpp-local-list/").json() == {"version": 0, "entries": []}


def test_a_guest_gets_401(client_as):
    assert client_as(Role.GUEST).get(URL).status_code in (401, 403)
