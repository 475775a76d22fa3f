"""The write path: SIM state machine, the safety countdown (restore and confirm), ports and routes,
bad input through the pages and the API, and API parity with the pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from network import osbackend, services
from network.models import EthernetSettings, ModemSettings, PendingChange, PortRule, Route, RouteState, WlanSettings
from network.validation import Invalid
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role

pytestmark = pytest.mark.django_db
ACTOR = Actor(username="op", role=Role.OPERATOR, source="web")
STATIC = {"dhcp": False, "ip": "10.1.2.10", "netmask": "255.255.255.0", "gateway": "10.1.2.1"}


def _commit(django_capture_on_commit_callbacks, fn, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return fn(**kwargs)


# --- the SIM state machine ---------------------------------------------------------------------
def test_three_wrong_pins_ask_for_the_puk_and_the_puk_sets_a_new_pin(system_dir: Path):
    modem = osbackend.RenderingBackend(root=system_dir)
    assert modem.modem_status()["status"]["sim"] == "SIM PIN required"
    first = modem.modem_unlock("0000")
    assert (first.ok, first.sim, first.pin_attempts) == (False, "pin_required", 2)
    assert modem.modem_status()["status"]["sim"] == "Incorrect password"
    modem.modem_unlock("0001")
    third = modem.modem_unlock("0002")
    assert (third.sim, third.pin_attempts) == ("puk_required", 0)
    assert modem.modem_status()["status"]["sim"] == "SIM PUK required"
    assert modem.modem_unlock("1234").skipped  # the right PIN does not help any more
    assert not modem.modem_unlock("4321", "00000000").ok
    done = modem.modem_unlock("4321", osbackend.SIM_PUK)
    assert done.ok and done.sim == "ready"
    assert modem.modem_status()["status"]["sim"] == "READY"


def test_a_refused_pin_is_never_retried_automatically(system_dir: Path):
    modem = osbackend.RenderingBackend(root=system_dir)
    assert not modem.modem_unlock("9999").ok
    for _ in range(5):  # restarts of the modem service, saves: automatic attempts
        assert modem.modem_unlock("9999", automatic=True).skipped
        modem.modem_restart()
    assert modem.modem_status()["status"]["pin_attempts"] == 2  # still one attempt used, not a PUK lock


def test_ten_wrong_puks_block_the_sim(system_dir: Path):
    modem = osbackend.RenderingBackend(root=system_dir)
    for pin in ("0000", "0001", "0002"):
        modem.modem_unlock(pin)
    for i in range(10):
        result = modem.modem_unlock("1111", f"{i:08d}")
    assert result.sim == "blocked"
    assert modem.modem_status()["status"]["sim"] == "SIM failure"


def test_the_modem_connects_after_the_pin_and_counts_rx_and_tx(system_dir: Path):
    now = [1000.0]
    modem = osbackend.RenderingBackend(root=system_dir, clock=lambda: now[0])
    modem.apply_modem(
        osbackend.ModemConfig(
            service_active=True,
            sim_pin="1234",
            apn="internet",
            use_credentials=False,
            user="",
            password="",
            default_route=True,
            prefer_modem=False,
        )
    )
    assert modem.modem_status()["connection"]["status"] == "Connecting"
    now[0] += 13
    status = modem.modem_status()
    assert status["connection"]["status"] == "Connected" and status["status"]["registration"] == "Registered"
    assert status["connection"]["rx_bytes"] > status["connection"]["tx_bytes"] > 0
    assert status["status"]["apn"] == "internet"


def test_saving_a_wrong_pin_tries_it_once_only(django_capture_on_commit_callbacks, system_dir: Path):
    data = {"service_active": True, "sim_pin": "1111", "apn": "internet"}
    _commit(django_capture_on_commit_callbacks, services.modem_update, data=data, actor=ACTOR)
    _commit(django_capture_on_commit_callbacks, services.modem_update, data={**data, "apn": "internet2"}, actor=ACTOR)
    status = osbackend.RenderingBackend(root=system_dir).modem_status()["status"]
    assert status["pin_attempts"] == 2 and status["sim"] == "Incorrect password"
    result = services.modem_unlock(pin="1234", actor=ACTOR)
    assert result.ok and ModemSettings.load().sim_pin == "1234"


def test_the_modem_test_pings_a_validated_host(django_capture_on_commit_callbacks):
    with pytest.raises(Invalid):
        services.modem_test(host="127.0.0.1; reboot", actor=ACTOR)
    assert services.modem_test(host="127.0.0.1", actor=ACTOR).output == "modem not connected"


# --- the countdown ------------------------------------------------------------------------------
def test_an_unconfirmed_address_change_comes_back_by_itself(django_capture_on_commit_callbacks, system_dir: Path):
    saved = _commit(django_capture_on_commit_callbacks, services.ethernet_update, data=STATIC, actor=ACTOR)
    assert saved.pending is not None
    assert "Address=10.1.2.10/24" in (system_dir / "network/10-eth0.network").read_text()
    assert services.pending_expire() == []  # not yet
    restored = _commit(
        django_capture_on_commit_callbacks, services.pending_expire, now=timezone.now() + timedelta(seconds=91)
    )
    assert restored == ["ethernet"]
    assert EthernetSettings.load().dhcp is True
    assert "DHCP=ipv4" in (system_dir / "network/10-eth0.network").read_text()
    assert not PendingChange.objects.exists()
    assert ChangeRecord.objects.filter(action="network.ethernet.restore").exists()


def test_a_confirmed_change_stays(django_capture_on_commit_callbacks):
    _commit(django_capture_on_commit_callbacks, services.ethernet_update, data=STATIC, actor=ACTOR)
    assert services.pending_confirm(actor=ACTOR) == 1
    assert services.pending_expire(now=timezone.now() + timedelta(hours=1)) == []
    assert EthernetSettings.load().ip == "10.1.2.10"


def test_a_second_change_keeps_the_last_confirmed_state(django_capture_on_commit_callbacks):
    _commit(django_capture_on_commit_callbacks, services.ethernet_update, data=STATIC, actor=ACTOR)
    _commit(django_capture_on_commit_callbacks, services.ethernet_update, data={"ip": "10.1.2.11"}, actor=ACTOR)
    assert PendingChange.objects.count() == 1
    _commit(django_capture_on_commit_callbacks, services.pending_expire, now=timezone.now() + timedelta(seconds=200))
    assert EthernetSettings.load().dhcp is True


def test_host_name_and_dns_apply_without_a_countdown(django_capture_on_commit_callbacks, system_dir: Path):
    saved = _commit(
        django_capture_on_commit_callbacks,
        services.ethernet_update,
        data={"hostname": "ev3000-2", "dns": ["9.9.9.9"]},
        actor=ACTOR,
    )
    assert saved.changed and saved.pending is None
    assert (system_dir / "hostname").read_text() == "ev3000-2\n"


def test_closing_the_served_port_or_5555_runs_the_countdown_and_other_ports_do_not(
    django_capture_on_commit_callbacks, system_dir: Path
):
    ssh = PortRule.objects.get(port=22)
    assert (
        _commit(
            django_capture_on_commit_callbacks,
            services.port_set_open,
            pk=ssh.pk,
            open=False,
            actor=ACTOR,
            served_port=8000,
        ).pending
        is None
    )
    jupicore = PortRule.objects.get(port=5555)
    assert _commit(
        django_capture_on_commit_callbacks,
        services.port_set_open,
        pk=jupicore.pk,
        open=False,
        actor=ACTOR,
        served_port=8000,
    ).pending
    own = _commit(
        django_capture_on_commit_callbacks, services.port_add, port=8000, protocol="tcp", direction="in", actor=ACTOR
    )
    assert _commit(
        django_capture_on_commit_callbacks, services.port_set_open, pk=own.pk, open=False, actor=ACTOR, served_port=8000
    ).pending
    assert "5555" not in (system_dir / "nftables.conf").read_text()
    _commit(django_capture_on_commit_callbacks, services.pending_expire, now=timezone.now() + timedelta(seconds=91))
    assert PortRule.objects.get(port=5555).open
    assert not PortRule.objects.filter(port=8000).exists()  # added during the trial: the state before it comes back
    assert not PortRule.objects.get(port=22).open  # closed before the countdown began: stays closed
    assert "5555" in (system_dir / "nftables.conf").read_text()


def test_the_manuals_ports_cannot_be_removed_but_own_ones_can(django_capture_on_commit_callbacks):
    assert PortRule.objects.filter(builtin=True).count() == 12
    with pytest.raises(services.Refused):
        services.port_remove(pk=PortRule.objects.get(port=22).pk, actor=ACTOR)
    own = _commit(
        django_capture_on_commit_callbacks, services.port_add, port=9000, protocol="udp", direction="out", actor=ACTOR
    )
    with pytest.raises(Invalid):
        services.port_add(port=9000, protocol="udp", direction="out", actor=ACTOR)
    _commit(django_capture_on_commit_callbacks, services.port_remove, pk=own.pk, actor=ACTOR)
    assert not PortRule.objects.filter(port=9000).exists()


def test_switching_the_wlan_mode_runs_the_countdown(django_capture_on_commit_callbacks, system_dir: Path):
    _commit(
        django_capture_on_commit_callbacks,
        services.wlan_update,
        data={"enabled": True, "ap_password": "secret-pass"},
        actor=ACTOR,
    )
    services.pending_confirm(actor=ACTOR)
    saved = _commit(
        django_capture_on_commit_callbacks,
        services.wlan_update,
        data={"mode": "infra", "infra_ssid": "Workshop", "infra_password": "workshop-24"},
        actor=ACTOR,
    )
    assert saved.pending is not None
    assert (system_dir / "wpa_supplicant-wlan0.conf").exists()
    assert osbackend.RenderingBackend(root=system_dir).wlan_status()["status"] == "Connected"
    _commit(django_capture_on_commit_callbacks, services.pending_expire, now=timezone.now() + timedelta(seconds=91))
    assert WlanSettings.load().mode == "ap" and (system_dir / "hostapd.conf").exists()
    record = ChangeRecord.objects.filter(action="network.wlan.update").first()
    assert record is not None and "secret-pass" not in str(record.after) and "workshop-24" not in str(record.after)


def test_the_wlan_access_point_may_not_share_eth0s_subnet(django_capture_on_commit_callbacks):
    _commit(
        django_capture_on_commit_callbacks,
        services.ethernet_update,
        data={**STATIC, "ip": "192.168.10.5", "gateway": ""},
        actor=ACTOR,
    )
    with pytest.raises(Invalid) as exc:
        services.wlan_update(data={"enabled": True, "ap_password": "secret-pass"}, actor=ACTOR)
    assert "ap_network" in exc.value.errors


# --- routes ---------------------------------------------------------------------------------------
def test_routes_add_remove_until_restart_and_reactivate(django_capture_on_commit_callbacks, system_dir: Path):
    route = _commit(
        django_capture_on_commit_callbacks,
        services.route_add,
        data={
            "network": "10.50.0.0/16",
            "gateway": "192.168.1.1",
            "interface": "eth0",
            "metric": 5,
            "persistent": False,
        },
        actor=ACTOR,
    )
    assert "route replace 10.50.0.0/16 via 192.168.1.1 dev eth0 metric 5" in (system_dir / "routes.batch").read_text()
    _commit(django_capture_on_commit_callbacks, services.route_remove, pk=route.pk, persistently=False, actor=ACTOR)
    route.refresh_from_db()
    assert route.state == RouteState.REMOVED_UNTIL_RESTART  # still listed, for reactivation
    assert "route flush exact 10.50.0.0/16" in (system_dir / "routes.batch").read_text()
    _commit(django_capture_on_commit_callbacks, services.route_reactivate, pk=route.pk, actor=ACTOR)
    route.refresh_from_db()
    assert route.state == RouteState.ACTIVE


def test_a_restart_forgets_non_persistent_routes_and_brings_back_routes_removed_until_restart(
    django_capture_on_commit_callbacks,
):
    keep = _commit(
        django_capture_on_commit_callbacks,
        services.route_add,
        data={"network": "10.60.0.0/16", "gateway": "", "interface": "eth0", "metric": 0, "persistent": True},
        actor=ACTOR,
    )
    gone = _commit(
        django_capture_on_commit_callbacks,
        services.route_add,
        data={"network": "10.61.0.0/16", "gateway": "", "interface": "eth0", "metric": 0, "persistent": False},
        actor=ACTOR,
    )
    services.system_routes_sync()
    system = Route.objects.filter(origin="system").first()
    assert system is not None
    _commit(django_capture_on_commit_callbacks, services.route_remove, pk=system.pk, persistently=False, actor=ACTOR)
    system.refresh_from_db()
    assert system.state == RouteState.REMOVED  # a system route is persistent: removed persistently
    _commit(django_capture_on_commit_callbacks, services.routes_after_restart)
    assert Route.objects.filter(pk=keep.pk).exists() and not Route.objects.filter(pk=gone.pk).exists()


def test_removing_the_default_route_runs_the_countdown(django_capture_on_commit_callbacks):
    _commit(django_capture_on_commit_callbacks, services.ethernet_update, data={"hostname": "ev3000"}, actor=ACTOR)
    services.system_routes_sync()
    default = Route.objects.get(prefix=0, interface="eth0")
    saved = _commit(
        django_capture_on_commit_callbacks, services.route_remove, pk=default.pk, persistently=True, actor=ACTOR
    )
    assert saved.pending is not None
    _commit(django_capture_on_commit_callbacks, services.pending_expire, now=timezone.now() + timedelta(seconds=91))
    assert Route.objects.get(prefix=0, interface="eth0").state == RouteState.ACTIVE
