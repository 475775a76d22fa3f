"""The pages and the API: errors in place in the user's language, bad input in every text field,
and the API showing what the pages show (parity)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from network.models import EthernetSettings, ModemSettings, PendingChange, PortRule, Route
from wbm.roles import Role

pytestmark = pytest.mark.django_db
BAD = ["x;reboot", "a$(id)", "line\nbreak", "nul\x00", "x" * 301]


@pytest.fixture
def op(client_as) -> Client:
    return client_as(Role.OPERATOR)


def test_every_page_renders_its_status(op: Client):
    assert b"ETH1" in op.get("/network/").content
    assert b"Workshop" in op.get("/network/wlan/").content
    page = op.get("/network/ports/").content.decode()
    assert all(str(p) in page for p in (22, 80, 81, 443, 502, 1603, 1883, 2106, 5000, 5353, 5555, 9502))
    assert "SIM PIN required" in op.get("/network/modem/").content.decode()
    assert op.get("/network/routes/").status_code == 200
    assert op.get("/network/modem/?part=status").content.decode().count("modem-status") >= 1


def test_a_user_cannot_see_network_pages(client_as):
    assert client_as(Role.USER).get("/network/").status_code == 403


def test_errors_come_back_in_place_in_german(op: Client):
    op.cookies["django_language"] = "de"
    response = op.post(
        "/network/",
        {"dhcp": "", "ip": "192.168.5.7", "netmask": "255.255.255.0", "hostname": "ev3000"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    assert 'id="id_ip-errors"' in response.content.decode()
    assert not EthernetSettings.objects.filter(ip="192.168.5.7").exists()


@pytest.mark.parametrize("bad", BAD, ids=range(len(BAD)))
def test_bad_input_in_every_text_field_of_the_pages_is_refused(op: Client, bad: str):
    eth = {"dhcp": "", "ip": "10.1.2.10", "netmask": "255.255.255.0", "gateway": "10.1.2.1", "hostname": "ev3000"}
    for field in ("ip", "netmask", "gateway", "hostname", "dns1", "dns2", "dns3"):
        assert op.post("/network/", {**eth, field: bad}).status_code == 400, field
    wlan = {
        "enabled": "on",
        "mode": "ap",
        "ap_ssid": "ev",
        "ap_password": "secret-pass",
        "ap_encryption": "wpa2",
        "ap_network": "192.168.10.1/24",
        "ap_ip": "192.168.10.1",
        "dhcp_from": "192.168.10.100",
        "dhcp_to": "192.168.10.200",
        "band": "2.4",
        "country": "DE",
        "timeout_s": "0",
        "infra_country": "DE",
    }
    for field in ("ap_ssid", "ap_network", "ap_ip", "dhcp_from", "dhcp_to"):
        assert op.post("/network/wlan/", {**wlan, field: bad}).status_code == 400, field
    assert op.post("/network/wlan/", {**wlan, "mode": "infra", "infra_ssid": bad}).status_code == 400
    if "\n" in bad or "\x00" in bad or len(bad) > 63:
        assert op.post("/network/wlan/", {**wlan, "ap_password": bad}).status_code == 400
    modem = {"action": "save", "service_active": "on", "apn": "internet", "use_credentials": "on", "user": "u"}
    for field in ("apn", "user", "sim_pin"):
        assert op.post("/network/modem/", {**modem, field: bad}).status_code == 400, field
    assert op.post("/network/modem/", {"action": "test", "host": bad}).status_code == 400
    assert op.post("/network/modem/", {"action": "unlock", "pin": bad}).status_code == 400
    assert (
        op.post("/network/routes/", {"action": "add", "network": bad, "interface": "eth0", "metric": "0"}).status_code
        == 400
    )
    assert (
        op.post(
            "/network/routes/",
            {"action": "add", "network": "10.0.0.0/8", "gateway": bad, "interface": "eth0", "metric": "0"},
        ).status_code
        == 400
    )
    assert not ModemSettings.objects.filter(apn=bad).exists()
    assert not Route.objects.filter(destination="10.0.0.0").exists()


@pytest.mark.parametrize("bad", BAD, ids=range(len(BAD)))
def test_bad_input_in_every_text_field_of_the_api_is_refused(op: Client, bad: str):
    def patch(url: str, body: dict) -> int:
        return op.patch(url, json.dumps(body), content_type="application/json").status_code

    for field in ("ip", "netmask", "gateway", "hostname"):
        assert patch("/api/v1/network/ethernet/", {"dhcp": False, field: bad}) == 400, field
    assert patch("/api/v1/network/ethernet/", {"dns": [bad]}) == 400
    for field in ("ap_ssid", "ap_network", "ap_ip", "country"):
        assert patch("/api/v1/network/wlan/", {"enabled": True, "ap_password": "secret-pass", field: bad}) == 400, field
    for field in ("apn", "sim_pin"):
        assert patch("/api/v1/network/modem/", {field: bad}) == 400, field
    post = lambda url, body: op.post(url, json.dumps(body), content_type="application/json").status_code  # noqa: E731
    assert post("/api/v1/network/modem/test/", {"host": bad}) == 400
    assert post("/api/v1/network/modem/unlock/", {"pin": bad}) == 400
    assert post("/api/v1/network/routes/", {"network": bad, "interface": "eth0"}) == 400
    assert post("/api/v1/network/routes/", {"network": "10.0.0.0/8", "interface": bad}) == 400


def test_the_api_shows_what_the_pages_show(op: Client):
    page = op.get("/network/").content.decode()
    eth = op.get("/api/v1/network/ethernet/").json()
    assert eth["status"]["ipv4"] in page and eth["status"]["mac"] in page and eth["settings"]["hostname"] == "ev3000"
    wlan = op.get("/api/v1/network/wlan/").json()
    assert {n["ssid"] for n in wlan["scan"]} >= {"Workshop"} and "ap_password" not in wlan["settings"]
    ports = op.get("/api/v1/network/ports/").json()["ports"]
    assert len(ports) == PortRule.objects.count() == 12
    modem = op.get("/api/v1/network/modem/").json()
    assert modem["status"]["status"]["sim"] in op.get("/network/modem/").content.decode()
    assert "sim_pin" not in modem["settings"] and modem["status"]["device"]["imei"]


def test_the_api_writes_through_the_same_rules_and_countdown(op: Client):
    body = {"dhcp": False, "ip": "10.1.2.10", "netmask": "255.255.255.0", "gateway": "10.1.2.1"}
    doc = op.patch("/api/v1/network/ethernet/", json.dumps(body), content_type="application/json").json()
    assert [p["kind"] for p in doc["pending"]] == ["ethernet"]
    assert op.post("/api/v1/network/pending/confirm/").json() == []
    assert not PendingChange.objects.exists()
    port = op.post(
        "/api/v1/network/ports/",
        json.dumps({"port": 8443, "protocol": "tcp", "direction": "in"}),
        content_type="application/json",
    )
    assert port.status_code == 201
    own = PortRule.objects.get(port=8443)
    assert op.delete(f"/api/v1/network/ports/{own.pk}/").status_code == 200
    assert op.delete(f"/api/v1/network/ports/{PortRule.objects.get(port=22).pk}/").status_code == 409
    route = op.post(
        "/api/v1/network/routes/",
        json.dumps(
            {"network": "10.70.0.0/16", "gateway": "10.1.2.1", "interface": "eth0", "metric": 3, "persistent": True}
        ),
        content_type="application/json",
    )
    assert route.status_code == 201
    pk = Route.objects.get(destination="10.70.0.0").pk
    assert op.post(f"/api/v1/network/routes/{pk}/remove/", "{}", content_type="application/json").json()["routes"]
    assert Route.objects.get(pk=pk).state == "removed"
    op.post(f"/api/v1/network/routes/{pk}/reactivate/")
    assert Route.objects.get(pk=pk).state == "active"


def test_removing_a_persistent_route_on_the_page_asks_first(op: Client):
    route = Route.objects.create(destination="10.80.0.0", prefix=16, gateway="", interface="eth0", persistent=True)
    ask = op.post("/network/routes/", {"action": "remove", "pk": route.pk})
    assert b'data-testid="route-confirm"' in ask.content and Route.objects.get(pk=route.pk).state == "active"
    op.post("/network/routes/", {"action": "remove", "pk": route.pk, "how": "persistently"})
    assert Route.objects.get(pk=route.pk).state == "removed"
    assert b"route-reactivate" in op.get("/network/routes/").content


def test_the_page_shows_the_countdown_and_confirm_keeps_the_change(op: Client):
    op.post(
        "/network/",
        {"dhcp": "", "ip": "10.1.2.10", "netmask": "255.255.255.0", "gateway": "10.1.2.1", "hostname": "ev3000"},
    )
    page = op.get("/network/").content.decode()
    assert 'data-testid="net-pending"' in page
    op.post("/network/confirm/", {"next": "/network/"})
    assert not PendingChange.objects.exists()
    assert 'data-testid="net-pending"' not in op.get("/network/").content.decode()
