"""CSV export (page and API) and /api/v1/sessions/: same filters, same records."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.test import Client

from chargepoints.models import ChargePoint
from ledger.csvexport import HEADER
from tests.conftest import make_user
from tests.ledger.history import add_samples, record_session, utc
from wbm.roles import Role
from whitelist.models import WhitelistEntry


@pytest.fixture
def history(park):
    cache.clear()
    p1, p2 = ChargePoint.objects.filter(config__isnull=False).order_by("pk")[:2]
    WhitelistEntry.objects.update_or_create(
        tag="04A1B2C3D4E5F6", defaults={"name": '=HYPERLINK("http://x")', "expires_at": utc(2035, 1, 1)}
    )
    return (
        p1,
        p2,
        {
            "jan": record_session(
                p1, started_at=utc(2026, 1, 10, 8), energy_wh=12_345, id_tag="04a1b2c3d4e5f6", released_by="whitelist"
            ),
            "feb": record_session(
                p2,
                started_at=utc(2026, 2, 3, 18),
                energy_wh=2_000,
                id_tag="-1+2",
                released_by="user,modbus",
                stop_reason="Remote",
            ),
            "running": record_session(p2, started_at=utc(2026, 2, 4, 7), minutes=None, evcc_id="00A0C9142A3F"),
        },
    )


def _client(role: Role = Role.USER) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="sessions-')
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert tuple(reader.fieldnames or ()) == HEADER
    return list(reader)


def test_the_export_has_the_documented_header_iso_times_with_zone_and_values(history):
    _p1, _p2, s = history
    rows = _rows(_client().get("/sessions/export.csv"))
    assert [int(r["session_id"]) for r in rows] == [s["running"].pk, s["feb"].pk, s["jan"].pk]
    jan = rows[-1]
    assert jan["started_at"] == "2026-01-10T08:00:00+00:00" and jan["ended_at"] == "2026-01-10T09:00:00+00:00"
    assert jan["duration_s"] == "3600" and jan["energy_wh"] == "12345" and jan["energy_kwh"] == "12.345"
    assert (
        jan["chargepoint"] == "P1-01" and jan["released_by"] == "whitelist" and jan["stop_reason"] == "EVDisconnected"
    )
    running = rows[0]
    assert running["ended_at"] == "" and running["energy_wh"] == "" and running["evcc_id"] == "00A0C9142A3F"


def test_formula_cells_are_neutralised(history):
    rows = _rows(_client().get("/sessions/export.csv"))
    jan, feb = rows[-1], rows[1]
    assert jan["whitelist_name"] == '\'=HYPERLINK("http://x")', "the name matched case-insensitively, neutralised"
    assert feb["id_tag"] == "'-1+2" and feb["released_by"] == "user;modbus"


def test_the_export_is_the_filtered_set(history):
    p1, _p2, s = history
    rows = _rows(_client().get(f"/sessions/export.csv?chargepoint={p1.pk}"))
    assert [int(r["session_id"]) for r in rows] == [s["jan"].pk]
    rows = _rows(_client().get("/api/v1/sessions/export.csv?since=2026-02-01&running=true"))
    assert [int(r["session_id"]) for r in rows] == [s["running"].pk]


def test_the_list_page_links_the_export_with_its_filter(history):
    p1, _p2, _s = history
    body = _client().get(f"/sessions/?chargepoint={p1.pk}&tag=x").content.decode()
    assert f'href="/sessions/export.csv?chargepoint={p1.pk}&amp;tag=x"' in body


def test_api_list_filters_and_pages(history):
    _p1, p2, s = history
    client = _client()
    data = client.get("/api/v1/sessions/?limit=2").json()
    assert data["count"] == 3 and [r["id"] for r in data["results"]] == [s["running"].pk, s["feb"].pk]
    assert data["newer"] is None and data["older"] == s["feb"].pk and data["previous"] is None
    rest = client.get(data["next"]).json()
    assert [r["id"] for r in rest["results"]] == [s["jan"].pk] and rest["older"] is None
    assert rest["newer"] == s["jan"].pk
    feb = data["results"][1]
    assert feb["released_by"] == ["user", "modbus"] and feb["stop_reason"] == "Remote" and feb["energy_wh"] == 2000
    assert feb["stop_reason_text"] == "Stopped remotely"
    by_cp = client.get(f"/api/v1/sessions/?chargepoint={p2.pk}&running=true").json()
    assert [r["id"] for r in by_cp["results"]] == [s["running"].pk] and by_cp["results"][0]["energy_wh"] is None
    tagged = client.get("/api/v1/sessions/?tag=04A1B2C3D4E5F6").json()
    assert [r["id"] for r in tagged["results"]] == [s["jan"].pk]


def test_api_refuses_bad_filters_as_json(history):
    response = _client().get("/api/v1/sessions/?since=2026-02-01&until=2026-01-01")
    assert response.status_code == 400 and response.json()["code"] == "invalid" and "until" in response.json()["errors"]
    assert _client().get("/api/v1/sessions/?limit=0").status_code == 400


def test_api_detail_has_the_samples(history):
    _p1, _p2, s = history
    add_samples(s["feb"], [7000, 11000])
    data = _client().get(f"/api/v1/sessions/{s['feb'].pk}/").json()
    assert [x["power_w"] for x in data["samples"]] == [7000, 11000]
    assert data["samples"][0]["at"].startswith("2026-02-03T18:00:00")
    assert _client().get("/api/v1/sessions/999999/").status_code == 404


def test_api_totals(history):
    p1, _p2, _s = history
    data = _client().get("/api/v1/sessions/totals/").json()
    assert data["overall"] == {"key": "", "name": "", "count": 3, "energy_wh": 14_345, "duration_s": 7200}
    assert [m["key"] for m in data["by_month"]] == ["2026-02", "2026-01"]
    assert {t["key"]: t["count"] for t in data["by_tag"]} == {"04a1b2c3d4e5f6": 1, "-1+2": 1, "00A0C9142A3F": 1}
    assert data["other_tags"] is None
    only = _client().get(f"/api/v1/sessions/totals/?chargepoint={p1.pk}").json()
    assert only["overall"]["energy_wh"] == 12_345


def test_api_needs_a_user(history):
    assert Client().get("/api/v1/sessions/").status_code == 401
    assert Client().get("/api/v1/sessions/export.csv", HTTP_ACCEPT="text/csv").status_code == 401
