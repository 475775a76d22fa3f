"""The OCPP pages' write path: the backend URL rules, the settings saved all or nothing with the
key write-only and the certificate checked, variables all or nothing, the agent told after the
commit and the change recorded without secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocppcfg import services, variables
from ocppcfg.certificates import CertificateError, check_certificate, describe
from ocppcfg.models import ConfigurationValue, OcppSettings
from tests.ocpp.test_pages import SECRET, make_pem
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

ACTOR = Actor(username="op", role=Role.OPERATOR, source="web")


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


@pytest.mark.parametrize(
    "url",
    [
        "ws://testserver.net:8080/chargeboxid",
        "wss://backend.example/ocpp/CB-0001",
        "ws://192.168.1.20:9000/steve/websocket/CentralSystemService/CP_1",
        "ws://[::1]:9000/CB-1",
        "WSS://Backend.Example/CB.1~x",
    ],
)
def test_good_backend_urls_pass(url):
    assert services.backend_url_problem(url) == ""


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ws://h/CB;reboot", "characters"),
        ("ws://h/CB&&id", "characters"),
        ("ws://h/$(id)", "characters"),
        ("ws://h/`id`", "characters"),
        ("ws://h/CB|sh", "characters"),
        ("ws://h/CB>x", "characters"),
        ("ws://h/CB\nx", "spaces"),
        ("ws://h/CB 1", "spaces"),
        (" ws://h/CB", "spaces"),
        ("http://h/CB", "ws:// or wss://"),
        ("https://h/CB", "ws:// or wss://"),
        ("h/CB", "ws:// or wss://"),
        ("ws:/h/CB", "ws:// or wss://"),
        ("ws://h", "charge box ID"),
        ("ws://h/", "charge box ID"),
        ("ws://h/CB?x=1", "characters"),
        ("ws://:80/CB", "host"),
        ("ws://u:p@h/CB", "AuthorizationUser"),
        ("ws://h:0/CB", "port"),
        ("ws://h:70000/CB", "port"),
        ("ws://h/" + "C" * 49, "too long"),
        ("ws://h/CBé", "letters, digits"),
    ],
)
def test_bad_backend_urls_say_why(url, fragment):
    assert fragment in str(services.backend_url_problem(url))


def test_a_save_writes_once_records_without_the_key_and_reloads_after_commit(
    db, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        saved = services.ocpp_settings_update(
            data={"backend_url": "ws://h:9000/CB-7", "authorization_key": SECRET, "model": "M"}, actor=ACTOR
        )
    assert saved.changed and saved.told and sent == ["ocpp.reload"]
    record = ChangeRecord.objects.get(action="ocpp.settings.update")
    assert SECRET not in json.dumps([record.before, record.after])
    after = record.after or {}
    assert after["authorization_key"] == "changed" and after["backend_url"] == "ws://h:9000/CB-7"
    with django_capture_on_commit_callbacks(execute=True):
        again = services.ocpp_settings_update(
            data={"backend_url": "ws://h:9000/CB-7", "authorization_key": ""}, actor=ACTOR
        )
    assert not again.changed and sent == ["ocpp.reload"]


def test_one_bad_value_writes_nothing(db, sent):
    services.ocpp_settings_update(data={"backend_url": "ws://h/CB-1", "model": "Good"}, actor=ACTOR)
    with pytest.raises(services.SettingsInvalid) as caught:
        services.ocpp_settings_update(
            data={"backend_url": "ws://h/CB-2", "model": "M" * 21, "authorization_key": SECRET}, actor=ACTOR
        )
    assert set(caught.value.errors) == {"model"}
    stored = OcppSettings.load()
    assert (stored.backend_url, stored.model, stored.authorization_key) == ("ws://h/CB-1", "Good", "")


def test_a_key_with_control_characters_or_too_long_is_refused(db, sent):
    for key in ("a\x00b", "k" * 41):
        with pytest.raises(services.SettingsInvalid) as caught:
            services.ocpp_settings_update(data={"authorization_key": key}, actor=ACTOR)
        assert "authorization_key" in caught.value.errors


def test_the_certificate_needs_wss_and_a_valid_pem(db, sent):
    with pytest.raises(services.SettingsInvalid):
        services.ocpp_settings_update(data={"backend_url": "ws://h/CB"}, actor=ACTOR, certificate=make_pem())
    services.ocpp_settings_update(data={"backend_url": "wss://h/CB"}, actor=ACTOR, certificate=make_pem(cn="X CA"))
    info = describe(OcppSettings.load().ca_certificate)
    assert info is not None and info.subject == "CN=X CA" and not info.expired
    services.ocpp_settings_update(data={}, actor=ACTOR, delete_certificate=True)
    assert describe(OcppSettings.load().ca_certificate) is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "not_pem"),
        (b"\xff\xfe garbage", "not_pem"),
        (b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----", "not_certificate"),
        (b"-----BEGIN CERTIFICATE-----" + b"A" * 70_000, "too_large"),
    ],
)
def test_check_certificate_refuses_what_is_no_usable_certificate(raw, code):
    with pytest.raises(CertificateError) as caught:
        check_certificate(raw)
    assert caught.value.code == code


def test_an_expired_certificate_is_refused():
    with pytest.raises(CertificateError) as caught:
        check_certificate(make_pem(expired=True))
    assert caught.value.code == "expired"


def test_variables_are_all_or_nothing_with_every_bad_key_named(db, sent):
    with pytest.raises(services.VariablesInvalid) as caught:
        services.ocpp_variables_update(
            changes={"HeartbeatInterval": "60", "MaxCurrent": "81", "GetConfigurationMaxKeys": "5", "Nope": "1"},
            actor=ACTOR,
        )
    assert caught.value.codes == {"MaxCurrent": "invalid", "GetConfigurationMaxKeys": "readonly", "Nope": "unknown"}
    assert not ConfigurationValue.objects.exists() and sent == []


def test_a_variables_change_is_recorded_with_the_key_masked(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.ocpp_variables_update(changes={"AuthorizationKey": SECRET, "FreeMode": True}, actor=ACTOR)
    assert stored == {"AuthorizationKey": SECRET, "FreeMode": "true"}
    assert variables.visible_values()["AuthorizationKey"] == "****"
    record = ChangeRecord.objects.get(action="ocpp.variables.update")
    assert SECRET not in json.dumps([record.before, record.after]) and (record.after or {})["FreeMode"] == "true"
    assert sent == ["ocpp.reload"]
