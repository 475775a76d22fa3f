"""The CSV file: export, every bad file refused at its row and column, add vs replace, all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from tests.whitelist.conftest import ACTOR, add, fill
from wbm.models import ChangeRecord
from whitelist import csvio, services
from whitelist.models import MAX_ENTRIES, WhitelistEntry

pytestmark = pytest.mark.django_db

HEADER = "type,tag,name,allow_charging,expires_at\n"


def rows(*lines: str) -> bytes:
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


def errors(raw: bytes) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in csvio.parse_csv(raw).errors]


def snapshot() -> list[tuple[str, str, str, bool, datetime]]:
    return list(
        WhitelistEntry.objects.order_by("tag").values_list("type", "tag", "name", "allow_charging", "expires_at")
    )


def test_export_has_the_documented_header_and_iso_times_with_zone():
    add("04A1B2C3", name="Anna", expires_at=datetime(2030, 12, 31, 23, 59, tzinfo=UTC))
    add("00A0C9142A3F", type="evccid", allow=False)
    text = csvio.export_csv(WhitelistEntry.objects.order_by("tag"))
    assert text.splitlines()[0] == "type,tag,name,allow_charging,expires_at"
    assert "rfid,04A1B2C3,Anna,yes,2030-12-31T23:59:00+00:00" in text.splitlines()
    assert "evccid,00A0C9142A3F,,no,2040-01-01T00:00:00+00:00" in text.splitlines()


def test_export_then_replace_import_is_a_round_trip():
    add("04A1B2C3", name='Müller, "Hans"')
    add("00A0C9142A3F", type="evccid", allow=False)
    add("0BADCAFE", name='=HYPERLINK("http://x")')
    before = snapshot()
    raw = csvio.export_csv(WhitelistEntry.objects.all()).encode()
    WhitelistEntry.objects.all().delete()
    add("FFFF0000")
    plan = services.whitelist_import(raw=raw, mode=csvio.REPLACE, actor=ACTOR)
    assert len(plan.added) == 3 and [c.tag for c in plan.removed] == ["FFFF0000"]
    assert snapshot() == before


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_neutralised_on_export(value):
    add("0BADCAFE", name=value)
    records = list(csv.reader(io.StringIO(csvio.export_csv(WhitelistEntry.objects.all()), newline="")))
    assert records[1][2] == "'" + value


def test_a_formula_cell_in_an_import_is_refused_at_its_row_and_column():
    raw = rows("rfid,0BADCAFE,=cmd|' /C calc'!A0,yes,2030-01-01T00:00:00Z")
    parsed = csvio.parse_csv(raw)
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "name")]
    assert "formula" in str(parsed.errors[0]) and "Row 2, column “name”" in str(parsed.errors[0])


def test_an_apostrophe_keeps_a_formula_like_name_as_text():
    parsed = csvio.parse_csv(rows("rfid,0BADCAFE,'=not a formula,yes,2030-01-01T00:00:00Z"))
    assert parsed.errors == [] and parsed.rows[0].name == "=not a formula"


def test_accepts_a_utf8_bom_semicolons_and_any_zone():
    raw = "\ufefftype;tag;name;allow_charging;expires_at\r\nrfid;04:a1:b2:c3;Jörg;ja;2030-06-01T12:00:00+02:00\r\n"
    parsed = csvio.parse_csv(raw.replace(";ja;", ";yes;").encode())
    assert parsed.errors == []
    row = parsed.rows[0]
    assert (row.tag, row.name, row.expires_at) == ("04A1B2C3", "Jörg", datetime(2030, 6, 1, 10, 0, tzinfo=UTC))


def test_a_time_without_zone_is_utc():
    parsed = csvio.parse_csv(rows("rfid,04A1B2C3,,no,2030-06-01 12:00"))
    assert parsed.rows[0].expires_at == datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    assert parsed.rows[0].allow_charging is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (HEADER.encode() + b"rfid,04A1B2C3,M\xfcller,yes,2030-01-01T00:00:00Z\n", [(2, "")]),  # Latin-1
        ("type,tag\n".encode("utf-16"), [(0, "")]),  # UTF-16 with its BOM
        (b"typ,tag,name,allow_charging,expires_at\n", [(1, "type")]),
        (b"type,tag,name,allowed,expires_at\n", [(1, "allow_charging")]),
        (b"type,tag,name,allow_charging,expires_at,extra\n", [(1, "")]),
        (b"", [(1, "")]),
        (rows("rfid,04A1B2C3,,yes,31.12.2030"), [(2, "expires_at")]),
        (rows("rfid,04A1B2C3,,yes,2030-02-30T00:00:00Z"), [(2, "expires_at")]),
        (rows("card,04A1B2C3,,yes,2030-01-01T00:00:00Z"), [(2, "type")]),
        (rows("rfid,XYZ1,,yes,2030-01-01T00:00:00Z"), [(2, "tag")]),
        (rows("evccid,04A1B2C3,,yes,2030-01-01T00:00:00Z"), [(2, "tag")]),
        (rows("rfid,04A1B2C3,,maybe,2030-01-01T00:00:00Z"), [(2, "allow_charging")]),
        (rows("rfid,04A1B2C3,,yes"), [(2, "")]),
        (rows("rfid,04A1B2C3," + "x" * 61 + ",yes,2030-01-01T00:00:00Z"), [(2, "name")]),
        (
            rows(
                "rfid,04A1B2C3,,yes,2030-01-01T00:00:00Z",
                "rfid,AAAA0001,,yes,2030-01-01T00:00:00Z",
                "rfid,04:a1:b2:c3,,no,2031-01-01T00:00:00Z",
            ),
            [(4, "tag")],
        ),
        (HEADER.encode() + b'rfid,04A1B2C3,"unterminated,yes,2030-01-01T00:00:00Z\n', [(2, "")]),
        (HEADER.encode() + b"rfid,04A1\x00B2C3,,yes,2030-01-01T00:00:00Z\n", [(2, "")]),
    ],
    ids=[
        "latin1",
        "utf16",
        "header-type",
        "header-allow",
        "header-extra",
        "empty",
        "german-date",
        "impossible-date",
        "bad-type",
        "not-hex",
        "evcc-length",
        "bad-bool",
        "too-few-cells",
        "long-name",
        "duplicate",
        "open-quote",
        "nul",
    ],
)
def test_bad_files_are_refused_with_row_and_column(raw, expected):
    assert errors(raw) == expected


def test_a_duplicate_names_the_first_row():
    parsed = csvio.parse_csv(rows("rfid,04A1B2C3,,yes,2030-01-01T00:00:00Z", "rfid,04a1b2c3,,yes,2030-01-01T00:00:00Z"))
    assert "already in row 2" in parsed.errors[0].message


def test_every_row_error_is_reported_not_just_the_first():
    raw = rows("rfid,ZZ,,yes,2030-01-01T00:00:00Z", "rfid,04A1B2C3,,yes,never", "card,04A1B2C4,,x,2030-01-01T00:00:00Z")
    assert errors(raw) == [(2, "tag"), (3, "expires_at"), (4, "type"), (4, "allow_charging")]


def test_501_rows_are_refused_at_row_502():
    raw = rows(*(f"rfid,{i:08X},,yes,2030-01-01T00:00:00Z" for i in range(MAX_ENTRIES + 1)))
    assert errors(raw) == [(MAX_ENTRIES + 2, "")]
    assert "more than 500" in csvio.parse_csv(raw).errors[0].message


def test_500_rows_are_fine():
    raw = rows(*(f"rfid,{i:08X},,yes,2030-01-01T00:00:00Z" for i in range(MAX_ENTRIES)))
    assert len(csvio.parse_csv(raw).rows) == MAX_ENTRIES


@override_settings(WBM_MAX_UPLOAD_BYTES=1024)
def test_a_huge_file_is_refused_before_it_is_read():
    raw = rows(*(f"rfid,{i:08X},,yes,2030-01-01T00:00:00Z" for i in range(100)))
    parsed = csvio.parse_csv(raw)
    assert [(e.row, e.column) for e in parsed.errors] == [(0, "")] and "larger than 1 KiB" in parsed.errors[0].message


def test_a_bad_file_writes_nothing_in_either_mode():
    add("04A1B2C3", name="keep")
    before = snapshot()
    raw = rows("rfid,AAAA0001,,yes,2030-01-01T00:00:00Z", "rfid,AAAA0002,,yes,tomorrow")
    for mode in csvio.MODES:
        with pytest.raises(services.ImportRejected) as exc:
            services.whitelist_import(raw=raw, mode=mode, actor=ACTOR)
        assert [(e.row, e.column) for e in exc.value.plan.errors] == [(3, "expires_at")]
    assert snapshot() == before
    assert not ChangeRecord.objects.filter(action__startswith="whitelist.import").exists()


def test_add_preview_lists_added_and_changed_and_keeps_the_rest():
    add("04A1B2C3", name="Old name")
    add("AAAA0009", name="Untouched")
    raw = rows("rfid,04a1b2c3,New name,yes,2040-01-01T00:00:00Z", "rfid,BBBB0001,New,yes,2030-01-01T00:00:00Z")
    plan = services.whitelist_import_preview(raw=raw, mode=csvio.ADD)
    assert [c.tag for c in plan.added] == ["BBBB0001"]
    assert [(c.tag, c.fields) for c in plan.changed] == [("04A1B2C3", ("name",))]
    assert plan.removed == [] and plan.total_after == 3
    assert WhitelistEntry.objects.get(tag="04A1B2C3").name == "Old name"  # a preview writes nothing
    services.whitelist_import(raw=raw, mode=csvio.ADD, actor=ACTOR, fingerprint=plan.fingerprint)
    assert dict(WhitelistEntry.objects.values_list("tag", "name")) == {
        "04A1B2C3": "New name",
        "AAAA0009": "Untouched",
        "BBBB0001": "New",
    }
    assert ChangeRecord.objects.filter(action="whitelist.import.add").count() == 1


def test_replace_preview_lists_what_is_removed_and_applies_exactly_the_file():
    add("04A1B2C3")
    add("AAAA0009")
    raw = rows("rfid,04A1B2C3,,yes,2040-01-01T00:00:00Z", "evccid,00A0C9142A3F,Van,yes,2030-01-01T00:00:00Z")
    plan = services.whitelist_import_preview(raw=raw, mode=csvio.REPLACE)
    assert [c.tag for c in plan.removed] == ["AAAA0009"]
    assert [c.tag for c in plan.added] == ["00A0C9142A3F"]
    assert plan.unchanged == 1
    services.whitelist_import(raw=raw, mode=csvio.REPLACE, actor=ACTOR, fingerprint=plan.fingerprint)
    assert sorted(WhitelistEntry.objects.values_list("tag", flat=True)) == ["00A0C9142A3F", "04A1B2C3"]


def test_a_replace_with_no_entries_is_refused_and_the_list_stays():
    add("04A1B2C3")
    with pytest.raises(services.ImportRejected) as exc:
        services.whitelist_import(raw=HEADER.encode(), mode=csvio.REPLACE, actor=ACTOR)
    assert "no entries" in str(exc.value.plan.errors[0])
    assert WhitelistEntry.objects.count() == 1


def test_an_add_import_beyond_500_is_refused_and_nothing_written():
    fill(MAX_ENTRIES - 1)
    raw = rows("rfid,BBBB0001,,yes,2030-01-01T00:00:00Z", "rfid,BBBB0002,,yes,2030-01-01T00:00:00Z")
    with pytest.raises(services.ImportRejected) as exc:
        services.whitelist_import(raw=raw, mode=csvio.ADD, actor=ACTOR)
    assert "would hold 501 entries" in str(exc.value.plan.errors[0])
    assert WhitelistEntry.objects.count() == MAX_ENTRIES - 1


def test_a_replace_of_a_full_list_with_500_others_is_fine():
    fill(MAX_ENTRIES)
    raw = rows(*(f"evccid,{i:012X},,yes,2030-01-01T00:00:00Z" for i in range(MAX_ENTRIES)))
    plan = services.whitelist_import(raw=raw, mode=csvio.REPLACE, actor=ACTOR)
    assert len(plan.removed) == MAX_ENTRIES and len(plan.added) == MAX_ENTRIES
    assert set(WhitelistEntry.objects.values_list("type", flat=True)) == {"evccid"}


def test_applying_a_preview_after_the_list_changed_is_refused():
    raw = rows("rfid,BBBB0001,,yes,2030-01-01T00:00:00Z")
    plan = services.whitelist_import_preview(raw=raw, mode=csvio.REPLACE)
    add("CCCC0001")  # someone else, meanwhile
    with pytest.raises(services.ImportOutdated) as exc:
        services.whitelist_import(raw=raw, mode=csvio.REPLACE, actor=ACTOR, fingerprint=plan.fingerprint)
    assert [c.tag for c in exc.value.plan.removed] == ["CCCC0001"]  # the new preview shows it
    assert list(WhitelistEntry.objects.values_list("tag", flat=True)) == ["CCCC0001"]


def test_a_failure_while_writing_rolls_the_whole_import_back(monkeypatch):
    add("04A1B2C3")
    before = snapshot()
    raw = rows("rfid,BBBB0001,,yes,2030-01-01T00:00:00Z")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(WhitelistEntry.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        services.whitelist_import(raw=raw, mode=csvio.REPLACE, actor=ACTOR)
    assert snapshot() == before  # the removal of 04A1B2C3 was rolled back too
