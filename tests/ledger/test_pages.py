"""The Sessions page and a session's detail: filters, totals, pages, roles, both languages."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from chargepoints.models import ChargePoint
from tests.conftest import make_user
from tests.ledger.history import add_samples, record_session, utc
from wbm.roles import Role
from whitelist.models import WhitelistEntry


@pytest.fixture
def history(park):
    cache.clear()
    p1, p2 = ChargePoint.objects.filter(config__isnull=False).order_by("pk")[:2]
    WhitelistEntry.objects.update_or_create(
        tag="04A1B2C3D4E5F6", defaults={"name": "Fleet car 7", "expires_at": utc(2035, 1, 1)}
    )
    sessions = {
        "jan1": record_session(
            p1, started_at=utc(2026, 1, 10, 8), energy_wh=12_000, id_tag="04A1B2C3D4E5F6", released_by="whitelist"
        ),
        "jan2": record_session(
            p2,
            started_at=utc(2026, 1, 20, 9),
            energy_wh=3_000,
            id_tag="DEADBEEF",
            released_by="user",
            stop_reason="PowerLoss",
        ),
        "feb": record_session(
            p1,
            started_at=utc(2026, 2, 3, 18),
            minutes=120,
            energy_wh=20_000,
            evcc_id="00A0C9142A3F",
            released_by="user,whitelist",
        ),
        "running": record_session(p2, started_at=utc(2026, 2, 4, 7), minutes=None),
    }
    return p1, p2, sessions


def _client(role: Role, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    if role != Role.GUEST:
        client.force_login(make_user(role))
    client.cookies["wbm_language"] = language
    return client


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_the_page_lists_every_session_newest_first_with_what_it_recorded(history):
    _p1, _p2, s = history
    body = _client(Role.USER).get("/sessions/").content.decode()
    order = [int(m) for m in re.findall(r'id="session-(\d+)"', body)]
    assert order == [s["running"].pk, s["feb"].pk, s["jan2"].pk, s["jan1"].pk]
    text = _text(body.encode())
    assert "Fleet car 7" in text, "the whitelist name of the tag"
    assert "00A0C9142A3F" in text and "(EVCC ID)" in text
    assert "running" in text and "Power loss" in text and "Vehicle disconnected" in text
    assert "Web page / API, Local whitelist" in text
    assert "12.00 kWh" in text and "4 sessions" in text


def test_the_page_in_german_translates_labels(history):
    text = _text(_client(Role.USER, "de").get("/sessions/").content)
    assert "Stromausfall" in text and "Fahrzeug getrennt" in text and "Ladepunkt" in text
    assert "Power loss" not in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=04a1b2c3d4e5f6", {"jan1"}),  # any case
        ("tag=04:A1:B2:C3:D4:E5:F6", {"jan1"}),  # separators
        ("tag=fleet", {"jan1"}),  # part of the whitelist name
        ("tag=00a0c9142a3f", {"feb"}),  # the EVCC ID
        ("since=2026-02-01", {"feb", "running"}),
        ("until=2026-01-20", {"jan1", "jan2"}),
        ("since=2026-01-15&until=2026-02-03", {"jan2", "feb"}),
    ],
)
def test_filters_narrow_the_list(history, query, expected):
    _p1, _p2, s = history
    body = _client(Role.USER).get(f"/sessions/?{query}").content.decode()
    shown = {int(m) for m in re.findall(r'id="session-(\d+)"', body)}
    assert shown == {s[k].pk for k in expected}


def test_filter_by_chargepoint(history):
    p1, _p2, s = history
    body = _client(Role.USER).get(f"/sessions/?chargepoint={p1.pk}").content.decode()
    assert {int(m) for m in re.findall(r'id="session-(\d+)"', body)} == {s["jan1"].pk, s["feb"].pk}


def test_an_inverted_period_is_refused_in_place(history):
    response = _client(Role.USER).get("/sessions/?since=2026-02-01&until=2026-01-01")
    assert response.status_code == 200
    assert "The end of the period lies before its start." in response.content.decode()


def test_totals_per_tag_and_month_are_of_the_filtered_set(history):
    p1, _p2, _s = history
    body = _client(Role.USER).get(f"/sessions/?chargepoint={p1.pk}").content.decode()
    by_month = _text(body.split('id="totals-by-month"')[1].encode())
    assert "02/2026 1 20.00 kWh 2:00:00" in by_month and "01/2026 1 12.00 kWh 1:00:00" in by_month
    by_tag = _text(body.split('id="totals-by-tag"')[1].split('id="totals-by-month"')[0].encode())
    assert "00A0C9142A3F 1 20.00 kWh" in by_tag and "04A1B2C3D4E5F6 Fleet car 7 1 12.00 kWh" in by_tag
    assert "32.00 kWh" in _text(body.split('id="totals-overall"')[1].split("</section>")[0].encode())


def test_keyset_pages_walk_the_whole_history(park):
    cache.clear()
    cp = ChargePoint.objects.filter(config__isnull=False).first()
    made = [
        record_session(cp, started_at=utc(2026, 1, 1, 0) + i * (utc(2026, 1, 1, 1) - utc(2026, 1, 1, 0)))
        for i in range(120)
    ]
    client, seen, url = _client(Role.USER), [], "/sessions/"
    while url:
        body = client.get(url).content.decode()
        seen += [int(m) for m in re.findall(r'id="session-(\d+)"', body)]
        older = re.search(r'id="page-older" href="([^"]+)"', body)
        url = "/sessions/" + older.group(1).replace("&amp;", "&") if older else ""
    assert seen == [s.pk for s in reversed(made)]
    back = client.get(f"/sessions/?newer={made[59].pk}").content.decode()
    assert [int(m) for m in re.findall(r'id="session-(\d+)"', back)] == [s.pk for s in reversed(made[60:110])]


def test_the_dashboard_link_opens_the_running_session(history):
    _p1, p2, s = history
    response = _client(Role.USER).get(f"/sessions/?chargepoint={p2.pk}&running=1")
    assert response.status_code == 302 and response["Location"] == f"/sessions/{s['running'].pk}/"


@pytest.mark.parametrize("role", [Role.GUEST, Role.USER, Role.OPERATOR, Role.MANUFACTURER])
def test_user_and_up_see_sessions(history, role):
    response = _client(role).get("/sessions/")
    if role == Role.GUEST:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 200


def test_the_detail_carries_the_chart_data(history):
    _p1, _p2, s = history
    add_samples(s["feb"], [7000, 11000, 0, 11000])
    body = _client(Role.USER).get(f"/sessions/{s['feb'].pk}/").content.decode()
    chart = json.loads(re.search(r'data-chart="([^"]*)"', body).group(1).replace("&quot;", '"'))
    assert chart["p"] == [7.0, 11.0, 0.0, 11.0] and len(chart["t"]) == 4 and chart["e"][-1] > chart["e"][0]
    assert "vendor/uplot/uPlot.iife.min.js" in body and "<script>" not in body and "style=" not in body
    assert "4 samples" in _text(body.encode())


def test_the_detail_of_a_session_without_samples_says_why(history):
    _p1, _p2, s = history
    text = _text(_client(Role.USER, "en").get(f"/sessions/{s['jan1'].pk}/").content)
    assert "No samples" in text


def test_an_unknown_session_is_404(history):
    assert _client(Role.USER).get("/sessions/999999/").status_code == 404


def test_the_menu_has_sessions_under_charging_stations(history):
    body = _client(Role.USER).get("/sessions/").content.decode()
    nav = body.split('id="sidenav"')[1].split("</nav>")[0]
    assert 'href="/sessions/" class="active"' in nav
    with translation.override("de"):
        body = _client(Role.USER, "de").get("/sessions/").content.decode()
    assert 'href="/sessions/"' in body


def test_the_rows_escape_what_users_typed(history):
    """The table rows and totals are built in Python (ledger.rendering): names still escaped."""
    p1, _p2, _s = history
    WhitelistEntry.objects.filter(tag="04A1B2C3D4E5F6").update(name='<b>Fleet & "car"</b>')
    p1.config.name = "<i>Bay</i>"
    p1.config.save()
    cache.clear()
    body = _client(Role.USER).get("/sessions/").content.decode()
    table = body.split('id="sessions-table"')[1].split("</table>")[0]
    assert "<b>" not in table and "<i>" not in table
    assert "&lt;b&gt;Fleet &amp; &quot;car&quot;&lt;/b&gt;" in table and "&lt;i&gt;Bay&lt;/i&gt;" in table
    by_tag = body.split('id="totals-by-tag"')[1].split("</table>")[0]
    assert "&lt;b&gt;Fleet &amp; &quot;car&quot;&lt;/b&gt;" in by_tag and "<b>" not in by_tag
    select = body.split('name="chargepoint"')[1].split("</select>")[0]
    assert "&lt;i&gt;Bay&lt;/i&gt;" in select and "<i>" not in select
