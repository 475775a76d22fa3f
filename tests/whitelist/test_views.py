"""The whitelist pages under the User role (the manual: User may edit whitelists)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ocppcfg.models import LocalAuthEntry, LocalAuthList
from tests.whitelist.conftest import add, fill
from wbm.roles import Role
from wbm.runtime.snapshot import ParkSnapshot, RecentScan
from whitelist.models import MAX_ENTRIES, WhitelistEntry

pytestmark = pytest.mark.django_db

HEADER = "type,tag,name,allow_charging,expires_at\n"


@pytest.fixture
def user(client_as):
    return client_as(Role.USER)


def form(**overrides):
    return {
        "type": "rfid",
        "tag": "0b:ad:ca:fe",
        "name": "Anna",
        "allow_charging": "on",
        "expires_at_0": "2030-12-31",
        "expires_at_1": "23:59",
        **overrides,
    }


def test_the_list_shows_entries_buttons_and_the_empty_ocpp_list(user):
    add("04A1B2C3", name="Anna")
    page = user.get("/whitelist/").content.decode()
    assert "04A1B2C3" in page and "Anna" in page
    assert 'id="new-entry"' in page and 'id="import-link"' in page and 'id="export-link"' in page
    assert "1 of 500" in page
    assert "No local authorization list received from the OCPP backend" in page


def test_the_ocpp_local_list_is_shown_separately_with_its_version(user):
    LocalAuthList.objects.create(pk=1, version=7)
    LocalAuthEntry.objects.create(id_tag="OCPPTAG1", status="Blocked")
    page = user.get("/whitelist/").content.decode()
    ocpp = page[page.index('id="ocpp-local-list"') :]
    assert "List version 7" in ocpp and "OCPPTAG1" in ocpp and "Blocked" in ocpp
    assert "OCPPTAG1" not in page[: page.index('id="ocpp-local-list"')]


def test_a_user_adds_an_entry_stored_normalised(user):
    response = user.post("/whitelist/add/", form())
    assert response.status_code == 302
    entry = WhitelistEntry.objects.get()
    assert (entry.tag, entry.name, entry.allow_charging) == ("0BADCAFE", "Anna", True)
    assert entry.expires_at.isoformat() == "2030-12-31T23:59:00+00:00"


def test_the_expiry_is_required_and_permanent_fills_it_in_one_click(user):
    page = user.post("/whitelist/add/", form(expires_at_0="", expires_at_1="")).content.decode()
    assert "Enter an expiry date and time" in page
    assert not WhitelistEntry.objects.exists()
    page = user.post("/whitelist/add/", form(expires_at_0="", expires_at_1="", permanent="1")).content.decode()
    assert 'value="2099-12-31"' in page and 'value="23:59"' in page and "0b:ad:ca:fe" in page
    assert not WhitelistEntry.objects.exists()  # only filled in, not saved


def test_a_duplicate_and_a_bad_tag_are_shown_at_the_field(user):
    add("0BADCAFE")
    assert "already on the whitelist" in user.post("/whitelist/add/", form(tag="0BADcafe")).content.decode()
    assert "hexadecimal" in user.post("/whitelist/add/", form(tag="XYZW")).content.decode()
    assert WhitelistEntry.objects.count() == 1


def test_the_501st_entry_is_refused_on_the_page(user):
    fill(MAX_ENTRIES)
    assert "whitelist-full" in user.get("/whitelist/add/").content.decode()
    page = user.post("/whitelist/add/", form(tag="DEADBEEF")).content.decode()
    assert "at most 500 entries" in page
    assert WhitelistEntry.objects.count() == MAX_ENTRIES


def test_edit_and_delete(user):
    entry = add("0BADCAFE", name="Old")
    assert user.post(f"/whitelist/{entry.pk}/edit/", form(name="New", allow_charging="")).status_code == 302
    entry.refresh_from_db()
    assert (entry.name, entry.allow_charging) == ("New", False)
    assert "Delete entry" in user.get(f"/whitelist/{entry.pk}/delete/").content.decode()
    assert user.post(f"/whitelist/{entry.pk}/delete/").status_code == 200  # asks first
    assert WhitelistEntry.objects.exists()
    assert user.post(f"/whitelist/{entry.pk}/delete/", {"confirm": "1"}).status_code == 302
    assert not WhitelistEntry.objects.exists()


def test_recent_scans_are_listed_and_taken_into_a_new_entry_with_one_click(user, monkeypatch):
    add("04A1B2C3")
    snapshot = ParkSnapshot(
        generated_at=0,
        runtime_started_at=0,
        chargepoints=(),
        recent_scans=(
            RecentScan(kind="rfid", tag="0BADCAFE", at=1_700_000_000, cp_id=3, cp_name="P1-03", accepted=False),
            RecentScan(kind="evccid", tag="00A0C9142A3F", at=1_700_000_000, cp_id=1, cp_name="P1-01", accepted=None),
            RecentScan(kind="rfid", tag="04A1B2C3", at=1_699_999_000, cp_id=3, cp_name="P1-03", accepted=True),
        ),
    )
    monkeypatch.setattr("whitelist.views.read_snapshot", lambda: snapshot)
    page = user.get("/whitelist/").content.decode()
    assert "/whitelist/add/?type=rfid&amp;tag=0BADCAFE" in page
    assert "/whitelist/add/?type=evccid&amp;tag=00A0C9142A3F" in page
    assert "refused" in page and "accepted" in page and "not checked" in page and "P1-03" in page
    assert "2023-11-14<br>22:13:20" in page  # date and time on two lines (the scan table fits 768 px)
    new = user.get("/whitelist/add/?type=evccid&tag=00A0C9142A3F").content.decode()
    assert 'value="00A0C9142A3F"' in new and '<option value="evccid" selected>' in new
    partial = user.get("/whitelist/?part=recent", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section class="panel" id="recent-scans"')


def test_search_and_sort_with_an_htmx_partial(user):
    add("AABB0001", name="Zoe")
    add("CCDD0002", name="Adam")
    partial = user.get("/whitelist/?q=zo&part=entries", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="entries"') and "AABB0001" in partial and "CCDD0002" not in partial
    page = user.get("/whitelist/?sort=-name").content.decode()
    assert page.index("Zoe") < page.index("Adam")


def test_export_downloads_csv(user):
    add("04A1B2C3", name="=evil()")
    response = user.get("/whitelist/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="whitelist-')
    assert response.content.decode().splitlines() == [
        "type,tag,name,allow_charging,expires_at",
        "rfid,04A1B2C3,'=evil(),yes,2040-01-01T00:00:00+00:00",
    ]


def upload(text, name="list.csv"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


def test_import_shows_the_changes_then_writes_them_on_confirm(user):
    add("04A1B2C3")
    text = HEADER + "rfid,BBBB0001,New,yes,2030-01-01T00:00:00Z\n"
    page = user.post("/whitelist/import/", {"file": upload(text), "mode": "replace"}).content.decode()
    assert "1 entry added" in page and "1 entry removed" in page and "04A1B2C3" in page
    assert WhitelistEntry.objects.get().tag == "04A1B2C3"  # nothing written yet
    fingerprint = page.split('name="fingerprint" value="')[1].split('"')[0]
    response = user.post(
        "/whitelist/import/", {"step": "confirm", "mode": "replace", "fingerprint": fingerprint, "document": text}
    )
    assert response.status_code == 302
    assert list(WhitelistEntry.objects.values_list("tag", flat=True)) == ["BBBB0001"]


def test_import_errors_name_row_and_column_and_nothing_is_written(user):
    text = HEADER + "rfid,BBBB0001,,yes,2030-01-01T00:00:00Z\nrfid,ZZ,,yes,2030-01-01T00:00:00Z\n"
    page = user.post("/whitelist/import/", {"file": upload(text), "mode": "add"}).content.decode()
    assert "nothing was written" in page and "Row 3, column “tag”" in page
    assert not WhitelistEntry.objects.exists()
    page = user.post("/whitelist/import/", {"file": upload(b"\xff\xfe\x00t"), "mode": "add"}).content.decode()
    assert "UTF-16" in page


def test_confirming_a_stale_preview_shows_it_again(user):
    text = HEADER + "rfid,BBBB0001,New,yes,2030-01-01T00:00:00Z\n"
    page = user.post("/whitelist/import/", {"file": upload(text), "mode": "replace"}).content.decode()
    fingerprint = page.split('name="fingerprint" value="')[1].split('"')[0]
    add("CCCC0001")
    page = user.post(
        "/whitelist/import/", {"step": "confirm", "mode": "replace", "fingerprint": fingerprint, "document": text}
    ).content.decode()
    assert "import-outdated" in page and "CCCC0001" in page
    assert list(WhitelistEntry.objects.values_list("tag", flat=True)) == ["CCCC0001"]


def test_a_guest_is_sent_to_login(client_as):
    assert client_as(Role.GUEST).get("/whitelist/").status_code == 302
