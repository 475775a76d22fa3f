"""The OpenVPN page and /api/v1/vpn/: saving a pasted configuration (0600 file, tap → tun told),
the import rules (pasted text first deleted, size and UTF-8, only the name shown afterwards,
never returned), Test VPN connection with unsaved values, Delete, the audit without content,
the agent told after the commit, and the simulated tunnel under each activation mode."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.vpn.test_config import GOOD
from vpn import osbackend, services
from vpn.choices import Activation, Source
from vpn.models import VpnSettings
from wbm.audit import Actor
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime import commands

URL = "/network/openvpn/"
API = "/api/v1/vpn/"
SECRET = "MIGH"  # a line of the private key in GOOD


@pytest.fixture(autouse=True)
def state(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.STATE_DIR = tmp_path
    return tmp_path / "system" / "openvpn" / "client.conf"


@pytest.fixture
def sent(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    names: list[str] = []

    def call(command: commands.Command) -> dict[str, Any]:
        names.append(command.name)
        return {"ok": True}

    monkeypatch.setattr(commands, "call", call)
    return names


def test_pasted_configuration_is_saved_0600_tap_changed_and_agent_told(
    client_as, state, sent, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"action": "save", "config": GOOD.replace("dev tun", "dev tap"), "activation": "activated"}
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert "changed to “tun”" in body
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    assert "dev tun" in state.read_text() and "dev tap" not in state.read_text()
    assert sent == ["vpn.reload"]
    stored = VpnSettings.objects.get()
    assert stored.source == Source.PASTE and stored.activation == Activation.ACTIVATED
    record = ChangeRecord.objects.get(action="vpn.settings.update")
    assert SECRET not in str(record.before) + str(record.after)
    # the pasted configuration stays visible and editable
    assert SECRET in client.get(URL).content.decode()


def test_refused_directive_is_named_with_its_line_and_nothing_is_written(client_as, state) -> None:  # type: ignore[no-untyped-def]
    response = client_as(Role.OPERATOR).post(
        URL, {"action": "save", "config": GOOD.replace("verb 3", "up /bin/sh"), "activation": "activated"}
    )
    assert response.status_code == 400
    assert "Line 13" in response.content.decode() and "“up”" in response.content.decode()
    assert not state.exists()
    assert not VpnSettings.objects.filter(source=Source.PASTE).exists()


def test_import_needs_the_pasted_text_deleted_first_and_then_shows_only_the_name(client_as, state, sent) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    services.vpn_settings_update(activation="deactivated", text=GOOD, actor=Actor.system())
    upload = SimpleUploadedFile("office.ovpn", GOOD.encode())
    response = client.post(URL, {"action": "import", "import-file": upload, "import-activation": "activated"})
    assert response.status_code == 400
    assert "Delete the pasted configuration" in response.content.decode()
    client.post(URL, {"action": "delete"})
    assert not state.exists()
    upload = SimpleUploadedFile("C:\\Users\\me\\office.ovpn", GOOD.encode())
    response = client.post(URL, {"action": "import", "import-file": upload, "import-activation": "activated"})
    assert response.status_code == 200, response.content.decode()[:2000]
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    page = client.get(URL).content.decode()
    assert "office.ovpn" in page and SECRET not in page and "C:" not in page
    document = client.get(API).json()
    assert document["config"] is None and document["import_name"] == "office.ovpn" and SECRET not in str(document)
    assert VpnSettings.objects.get().pasted == ""  # the content is in the 0600 file only
    # pasting over an imported file is refused too: delete first
    with pytest.raises(services.VpnRefused):
        services.vpn_settings_update(activation="activated", text=GOOD, actor=Actor.system())
    # the activation mode can still be changed
    response = client.post(URL, {"action": "save", "activation": "on_request"})
    assert response.status_code == 200 and VpnSettings.objects.get().activation == "on_request"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"client\n\xff\xfe\n", "UTF-8"),
        (b"#" * (64 * 1024 + 1), "64 KiB"),
        (GOOD.replace("verb 3", "plugin /usr/lib/x.so").encode(), "plugin"),
        (b"\x00\x01binary", "control"),
    ],
)
def test_bad_files_are_refused(client_as, state, raw: bytes, fragment: str) -> None:  # type: ignore[no-untyped-def]
    response = client_as(Role.OPERATOR).post(
        URL, {"action": "import", "import-file": SimpleUploadedFile("x.ovpn", raw), "import-activation": "activated"}
    )
    assert response.status_code == 400
    assert fragment in response.content.decode()
    assert not state.exists()


def test_test_connection_uses_the_unsaved_values_and_shows_a_log(client_as, state) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    response = client.post(URL, {"action": "test", "config": GOOD, "activation": "deactivated"})
    body = response.content.decode()
    assert "Initialization Sequence Completed" in body and 'data-testid="vpn-test-log"' in body
    assert not state.exists()  # nothing saved
    bad = client.post(
        URL, {"action": "test", "config": GOOD.replace("verb 3", "script-security 2"), "activation": "deactivated"}
    )
    assert "Exiting due to fatal error" in bad.content.decode()
    api = client.post(API + "test/", {"config": GOOD}, content_type="application/json").json()
    assert api["connected"] is True and any("Initialization" in line for line in api["log"])


def test_api_parity_put_import_delete(client_as, state, sent) -> None:  # type: ignore[no-untyped-def]
    client = client_as(Role.OPERATOR)
    refused = client.put(
        API,
        {"activation": "activated", "config": GOOD.replace("verb 3", "setenv A b")},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "setenv" in str(refused.json()["errors"])
    done = client.put(API, {"activation": "activated", "config": GOOD}, content_type="application/json").json()
    assert done["config_source"] == "paste" and done["config"].startswith("# a client")
    blocked = client.post(API + "import/", {"file_name": "x.ovpn", "content": GOOD}, content_type="application/json")
    assert blocked.status_code == 400
    client.delete(API)
    done = client.post(
        API + "import/",
        {"file_name": "x.ovpn", "content": GOOD, "activation": "on_request"},
        content_type="application/json",
    ).json()
    assert done["import_name"] == "x.ovpn" and done["config"] is None and done["activation"] == "on_request"
    assert client_as(Role.USER).get(API).status_code == 403


@pytest.mark.parametrize("bad", ["a;reboot", "x\ny", "x\x00y", "\udcff", "x" * 300, "$(id)", "activated "])
def test_bad_activation_values_are_refused(client_as, bad: str) -> None:  # type: ignore[no-untyped-def]
    response = client_as(Role.OPERATOR).put(API, {"activation": bad}, content_type="application/json")
    assert response.status_code == 400


def test_the_simulated_tunnel_follows_the_activation_mode(runtime, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vpn.selectors import AGENT

    def state_now() -> dict[str, Any]:
        snapshot = runtime.runtime.snapshot
        return (snapshot.agent_state(AGENT) if snapshot else None) or {}

    services.vpn_settings_update(activation="activated", text=GOOD, actor=Actor.system())
    state = state_now()
    assert state["connected"] and state["server_ip"] == "198.51.100.20" and state["private_ip"].startswith("10.8.0.")
    services.vpn_settings_update(activation="on_request", actor=Actor.system())
    assert not state_now()["connected"]
    assert runtime.call("vpn.request", connect=True)["connected"] is True
    services.vpn_settings_update(activation="deactivated", actor=Actor.system())
    assert not state_now()["connected"]
    services.vpn_config_delete(actor=Actor.system())
    assert not state_now()["configured"]
    assert osbackend.backend().read_config() is None
