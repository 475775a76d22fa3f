"""The CHARX RFID/NFC board: the manual's profile matrix, validation, the active profile, roles."""

from __future__ import annotations

import dataclasses
import re

import pytest

from chargepoints.choices import RfidBoardProfile as P
from chargepoints.models import ChargePointConfig, RfidBoard, RfidLedProfile
from chargepoints.rfidboard import MATRIX, active_profile, profiles_for
from tests.conftest import cp_id
from wbm.models import ChangeRecord
from wbm.roles import Role
from wbm.runtime.snapshot import ChargePointState, Vehicle

URL = "/chargepoints/rfid-board/"
HTMX = {"HTTP_HX_REQUEST": "true"}

# --- the manual's table, profile by profile ---------------------------------------------------------

STANDALONE = [
    P.READY,
    P.CHARGING,
    P.WAITING_AUTHORIZATION,
    P.RESERVED,
    P.SUSPENDED_EV,
    P.SUSPENDED_EVSE,
    P.NOT_READY,
    P.WAITING_CARD,
    P.RFID_ACCEPTED,
    P.RFID_REJECTED,
]
ONE_TO_ONE = [
    P.READY,
    P.BACKEND_ONLINE_AVAILABLE,
    P.BACKEND_OFFLINE_AVAILABLE,
    P.CHARGING,
    P.WAITING_AUTHORIZATION,
    P.AUTHORIZATION_ONGOING,
    P.COMPLETED,
    P.RESERVED,
    P.SUSPENDED_EV,
    P.SUSPENDED_EVSE,
    P.NOT_READY,
    P.WAITING_CARD,
    P.RFID_ACCEPTED,
    P.RFID_REJECTED,
]
ONE_TO_N = [
    P.BACKEND_ONLINE,
    P.WAITING_AUTHORIZATION,
    P.OFFLINE,
    P.NOT_READY,
    P.WAITING_CARD,
    P.RFID_ACCEPTED,
    P.RFID_REJECTED,
]


@pytest.mark.parametrize(
    ("connection_type", "expected"), [("standalone", STANDALONE), ("1:1", ONE_TO_ONE), ("1:n", ONE_TO_N)]
)
def test_each_connection_type_uses_exactly_the_manuals_profiles_in_its_order(connection_type, expected):
    assert profiles_for(connection_type) == expected


def test_every_profile_is_used_by_some_connection_type_and_booting_is_not_offered():
    assert all(MATRIX[p] for p in P)
    assert "booting" not in P.values and not any("boot" in str(p.label).lower() for p in P)


# --- the active profile, from the live state ---------------------------------------------------------

BASE = ChargePointState(
    id=1,
    station_id=1,
    position=1,
    configured=True,
    name="P",
    location="",
    iec_state="A",
    ocpp_status="Available",
    dashboard_status="available",
    local_bus="connected",
    pwm_limit_a=0.0,
    currents_a=(0.0, 0.0, 0.0),
    meter_configured=False,
    meter=None,
    session_energy_wh=None,
    charging_s=0,
    plugin_s=0,
    plugged_since=None,
    enabled=True,
    release=False,
    release_mode="whitelist",
    locked=False,
    unlock_enforced=False,
    reserved=False,
    vehicle=None,
    rfid="",
    temperature_c=22.0,
    temperature_configured=False,
    error_code="NoError",
    error_info="",
    digital_inputs=(),
    digital_outputs=(),
    analog_inputs_v=(),
    iso15118=None,
)
CAR = Vehicle(phases=3, max_current_a=16, ventilation=False, mode="requesting")


def cp(**changes) -> ChargePointState:
    return dataclasses.replace(BASE, **changes)


@pytest.mark.parametrize(
    ("state", "one_to_one", "standalone"),
    [
        (cp(), P.READY, P.READY),
        (
            cp(vehicle=CAR, ocpp_status="Preparing", dashboard_status="occupied"),
            P.WAITING_AUTHORIZATION,
            P.WAITING_AUTHORIZATION,
        ),
        (cp(vehicle=CAR, ocpp_status="Charging", dashboard_status="charging", iec_state="C"), P.CHARGING, P.CHARGING),
        (cp(vehicle=CAR, ocpp_status="SuspendedEV", dashboard_status="occupied"), P.SUSPENDED_EV, P.SUSPENDED_EV),
        (cp(vehicle=CAR, ocpp_status="SuspendedEVSE", dashboard_status="occupied"), P.SUSPENDED_EVSE, P.SUSPENDED_EVSE),
        # stand-alone has no "completed" profile: the nearest it has
        (cp(vehicle=CAR, ocpp_status="Finishing", dashboard_status="occupied"), P.COMPLETED, P.SUSPENDED_EV),
        (cp(reserved=True, ocpp_status="Reserved", dashboard_status="reserved"), P.RESERVED, P.RESERVED),
        (
            cp(enabled=False, iec_state="F", ocpp_status="Unavailable", dashboard_status="error"),
            P.NOT_READY,
            P.NOT_READY,
        ),
        (cp(error_code="GroundFailure", ocpp_status="Faulted", dashboard_status="error"), P.NOT_READY, P.NOT_READY),
        (cp(configured=False), P.NOT_READY, P.NOT_READY),
    ],
    ids=[
        "idle",
        "waiting",
        "charging",
        "suspended-ev",
        "suspended-evse",
        "finishing",
        "reserved",
        "disabled",
        "fault",
        "unconfigured",
    ],
)
def test_active_profile_follows_the_charge_point(state, one_to_one, standalone):
    assert active_profile("1:1", [state]) == one_to_one
    assert active_profile("standalone", [state]) == standalone


def test_card_events_win_for_one_second_and_teach_in_waits_for_a_card():
    charging = cp(vehicle=CAR, ocpp_status="Charging", dashboard_status="charging")
    assert active_profile("1:1", [charging], rfid_event="accepted") == P.RFID_ACCEPTED
    assert active_profile("1:n", [charging], rfid_event="rejected") == P.RFID_REJECTED
    assert active_profile("standalone", [charging], waiting_card=True) == P.WAITING_CARD


def test_backend_profiles_only_with_ocpp_and_a_known_backend_state():
    ocpp = cp(release_mode="ocpp")
    assert active_profile("1:1", [ocpp], backend_online=True) == P.BACKEND_ONLINE_AVAILABLE
    assert active_profile("1:1", [ocpp], backend_online=False) == P.BACKEND_OFFLINE_AVAILABLE
    assert active_profile("standalone", [ocpp], backend_online=True) == P.READY  # no backend profiles there
    assert active_profile("1:1", [cp()], backend_online=True) == P.READY  # not an OCPP release


def test_a_group_board_shows_the_group():
    waiting = cp(id=2, vehicle=CAR, ocpp_status="Preparing", dashboard_status="occupied")
    down = cp(id=3, enabled=False, dashboard_status="error")
    assert active_profile("1:n", [cp(), waiting]) == P.WAITING_AUTHORIZATION
    assert active_profile("1:n", [down, dataclasses.replace(down, id=4)]) == P.NOT_READY
    assert active_profile("1:n", [cp(release_mode="ocpp"), down], backend_online=True) == P.BACKEND_ONLINE
    assert active_profile("1:n", [cp(release_mode="ocpp")], backend_online=False) == P.OFFLINE
    assert active_profile("1:n", [cp()]) is None  # nothing of 1:n applies: LED off


# --- the page -------------------------------------------------------------------------------------------


def profile_rows(body: str, board: int) -> list[str]:
    return re.findall(rf'<tr id="board-{board}-([a-z_]+)"', body)


def form_data(board: int, connection_type: str, **overrides) -> dict[str, str]:
    """What the page posts: every field of every row of ``connection_type``, factory values."""
    from chargepoints.rfidboard import DEFAULT_LEDS

    data = {"board": str(board), f"b{board}-connection_type": connection_type, f"b{board}-buzzer_volume_pct": "50"}
    for profile in profiles_for(connection_type):
        for key, value in dataclasses.asdict(DEFAULT_LEDS[profile]).items():
            data[f"b{board}-{profile.value}-{key}"] = str(value)
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def test_page_shows_one_board_with_firmware_and_the_profiles_of_its_connection_type(runtime, client_as):
    board = cp_id("P1-03")
    body = client_as(Role.USER).get(URL).content.decode()
    assert re.findall(r'<section class="panel" id="board-(\d+)"', body) == [str(board)]
    assert 'data-testid="firmware">1.2.4<' in body
    assert profile_rows(body, board) == [p.value for p in ONE_TO_ONE]
    assert re.search(r'data-testid="active-profile">Ready for operation, no vehicle connected<', body)


def test_changing_the_connection_type_shows_exactly_its_profiles(park, client_as):
    board = cp_id("P1-03")
    client = client_as(Role.MANUFACTURER)
    for connection_type, expected in (("1:n", ONE_TO_N), ("standalone", STANDALONE)):
        data = form_data(board, "1:1") | {f"b{board}-connection_type": connection_type, "preview": "1"}
        body = client.post(URL, data, **HTMX).content.decode()
        assert profile_rows(body, board) == [p.value for p in expected]
        assert 'data-testid="board-invalid"' not in body
    assert RfidBoard.objects.get(pk=board).connection_type == "1:1"  # a preview saves nothing


def test_manufacturer_saves_led_settings_and_buzzer(park, client_as):
    board = cp_id("P1-03")
    data = form_data(
        board,
        "standalone",
        **{
            f"b{board}-buzzer_volume_pct": 80,
            f"b{board}-charging-mode": "fade",
            f"b{board}-charging-color": "blue",
            f"b{board}-charging-period_ms": 2500,
            f"b{board}-charging-min_brightness_pct": 20,
            f"b{board}-charging-max_brightness_pct": 90,
        },
    )
    body = client_as(Role.MANUFACTURER).post(URL, data, **HTMX).content.decode()
    assert 'data-testid="board-saved"' in body
    saved = RfidBoard.objects.get(pk=board)
    assert (saved.connection_type, saved.buzzer_volume_pct) == ("standalone", 80)
    row = RfidLedProfile.objects.get(board=saved, profile="charging")
    assert (row.mode, row.color, row.period_ms, row.min_brightness_pct, row.max_brightness_pct) == (
        "fade",
        "blue",
        2500,
        20,
        90,
    )
    assert ChangeRecord.objects.filter(action="rfidboard.update", username="manufacturer-t").exists()
    assert profile_rows(body, board) == [p.value for p in STANDALONE]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("charging-brightness_pct", 101, "less than or equal to 100"),
        ("charging-period_ms", 50, "greater than or equal to 100"),
        ("charging-period_ms", 20000, "less than or equal to 10000"),
        ("buzzer_volume_pct", -1, "greater than or equal to 0"),
        ("charging-color", "purple", "Select a valid choice"),
    ],
)
def test_out_of_range_values_are_refused_in_place_and_nothing_is_saved(park, client_as, field, value, message):
    board = cp_id("P1-03")
    body = (
        client_as(Role.MANUFACTURER)
        .post(URL, form_data(board, "1:1", **{f"b{board}-{field}": value}), **HTMX)
        .content.decode()
    )
    assert 'data-testid="board-invalid"' in body and message in body
    assert not RfidLedProfile.objects.exists() and RfidBoard.objects.get(pk=board).buzzer_volume_pct == 50


def test_fade_minimum_above_maximum_is_refused(park, client_as):
    board = cp_id("P1-03")
    data = form_data(
        board,
        "1:1",
        **{
            f"b{board}-charging-mode": "fade",
            f"b{board}-charging-min_brightness_pct": 80,
            f"b{board}-charging-max_brightness_pct": 30,
        },
    )
    body = client_as(Role.MANUFACTURER).post(URL, data, **HTMX).content.decode()
    assert "The minimum brightness must not be above the maximum brightness." in body
    assert not RfidLedProfile.objects.exists()


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_user_and_operator_see_the_boards_read_only_and_may_not_save(park, client_as, role):
    board = cp_id("P1-03")
    client = client_as(role)
    body = client.get(URL).content.decode()
    assert '<fieldset class="plain" disabled>' in body and 'data-testid="board-save"' not in body
    assert client.post(URL, form_data(board, "1:n"), **HTMX).status_code == 403
    assert RfidBoard.objects.get(pk=board).connection_type == "1:1"


def test_guest_is_sent_to_login(park, client_as):
    response = client_as(Role.GUEST).get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_menu_entry_only_while_a_charge_point_has_a_charx_reader(park, client_as):
    client = client_as(Role.USER)
    assert f'href="{URL}"' in client.get("/chargepoints/").content.decode()
    ChargePointConfig.objects.filter(rfid_reader_type="charx_rfid_nfc").update(rfid_reader_type="elatec_twn4")
    assert f'href="{URL}"' not in client.get("/chargepoints/").content.decode()
    assert 'id="no-boards"' in client.get(URL).content.decode()


def test_one_board_per_reader_serving_every_charge_point_wired_to_it(park, client_as):
    reader = cp_id("P1-03")
    ChargePointConfig.objects.filter(chargepoint_id=cp_id("P1-02")).update(
        rfid_reader_id=reader, rfid_reader_type="charx_rfid_nfc"
    )
    body = client_as(Role.USER).get(URL).content.decode()
    assert re.findall(r'<section class="panel" id="board-(\d+)"', body) == [str(reader)]
    assert 'data-testid="served">P1-02, P1-03<' in body


# --- the simulated board follows the live state ---------------------------------------------------------


def active(client) -> str:
    body = client.get(URL).content.decode()
    return re.search(r'data-testid="active-profile">([^<]*)<', body).group(1)


def test_simulated_board_shows_the_profile_of_the_live_state(runtime, client_as):
    client = client_as(Role.USER)
    pk = cp_id("P1-03")  # whitelist release at its own CHARX reader
    runtime.call("sim.plug_in", cp=pk, phases=3, max_current_a=16)
    assert active(client) == "Vehicle connected, waiting for authorization"
    runtime.call("sim.rfid", cp=pk, tag="DEADBEEF")  # not on the whitelist
    assert active(client) == "RFID not accepted"
    runtime.call("sim.rfid", cp=pk, tag="04A1B2C3D4E5F6")  # the demo card
    assert active(client) == "RFID accepted"
    runtime.clock.advance(2)  # the event is shown for one second
    runtime.step()
    assert active(client) == "Vehicle connected, charging process active"


# --- read-only wording, server-side validation only -----------------------------------------------------


def board_form(body: str, board: int) -> str:
    match = re.search(rf'<section class="panel" id="board-{board}".*?</section>', body, re.S)
    assert match, f"no board {board} on the page"
    return match.group(0)


@pytest.mark.parametrize("role", [Role.USER, Role.OPERATOR])
def test_the_read_only_board_neither_says_save_nor_offers_it(park, client_as, role):
    board = cp_id("P1-03")
    section = board_form(client_as(role).get(URL).content.decode(), board)
    assert not re.search(r"\bsav(e|ed|es|ing)\b", section, re.I), re.findall(r".{60}\bsave.{60}", section, re.I | re.S)
    assert "<button" not in section and 'type="submit"' not in section
    select = re.search(r'<select [^>]*data-testid="connection-type"[^>]*>', section)
    assert select and "hx-post" not in select.group(0)  # no preview request that would be refused
    assert re.search(r'<fieldset class="plain" disabled>', section)
    assert 'data-testid="board-read-only"' in section
    assert "Read-only: only the Manufacturer can change the settings of the board." in section


def test_the_manufacturer_keeps_the_save_controls_and_the_hint(park, client_as):
    board = cp_id("P1-03")
    section = board_form(client_as(Role.MANUFACTURER).get(URL).content.decode(), board)
    assert 'data-testid="board-save"' in section and "save to apply" in section
    assert 'data-testid="board-read-only"' not in section


def test_the_board_form_leaves_validation_to_the_server(park, client_as):
    board = cp_id("P1-03")
    section = board_form(client_as(Role.MANUFACTURER).get(URL).content.decode(), board)
    assert re.search(r"<form [^>]*\bnovalidate\b", section)
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", section)
    assert len(controls) > 40
    bubbles = [c for c in controls if re.search(r"\s(required|min|max|minlength|maxlength|pattern|step)(=|\s|>)", c)]
    assert bubbles == []


@pytest.mark.parametrize("mode", ["on", "flashing", "fade"])
def test_minimum_above_maximum_is_refused_at_its_field_in_every_mode_and_nothing_is_saved(park, client_as, mode):
    board = cp_id("P1-03")
    prefix = f"b{board}-charging"
    data = form_data(
        board,
        "standalone",
        **{
            f"b{board}-buzzer_volume_pct": 80,
            f"{prefix}-mode": mode,
            f"{prefix}-min_brightness_pct": 80,
            f"{prefix}-max_brightness_pct": 30,
        },
    )
    for headers in (HTMX, {}):
        response = client_as(Role.MANUFACTURER).post(URL, data, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'data-testid="board-invalid"' in body
        field_errors = re.search(rf'id="id_{prefix}-min_brightness_pct-errors"><li>([^<]*)</li>', body)
        assert (
            field_errors and field_errors.group(1) == "The minimum brightness must not be above the maximum brightness."
        )
        assert body.count("The minimum brightness must not be above the maximum brightness.") == 1  # not a banner too
    saved = RfidBoard.objects.get(pk=board)
    assert (saved.connection_type, saved.buzzer_volume_pct) == ("1:1", 50)
    assert not RfidLedProfile.objects.exists()
    assert not ChangeRecord.objects.filter(action="rfidboard.update").exists()


def test_the_services_refusal_lands_at_the_field_of_its_profile(park, client_as, monkeypatch):
    """Should the model refuse what the form let through, the page still shows it at the field."""
    from django.core.exceptions import ValidationError

    from chargepoints import services

    board = cp_id("P1-03")

    def refuse(**_kwargs):
        raise ValidationError({"profiles.charging.period_ms": ["Not like this."], "buzzer_volume_pct": ["Too loud."]})

    monkeypatch.setattr(services, "rfid_board_update", refuse)
    body = client_as(Role.MANUFACTURER).post(URL, form_data(board, "1:1"), **HTMX).content.decode()
    assert f'id="id_b{board}-charging-period_ms-errors"><li>Not like this.</li>' in body
    assert f'id="id_b{board}-buzzer_volume_pct-errors"><li>Too loud.</li>' in body
    assert 'data-testid="board-invalid"' in body


def test_the_service_names_the_profile_and_field_it_refuses(park):
    from django.core.exceptions import ValidationError

    from chargepoints.models import ChargePoint
    from chargepoints.services import rfid_board_update
    from wbm.audit import Actor

    chargepoint = ChargePoint.objects.get(pk=cp_id("P1-03"))
    with pytest.raises(ValidationError) as refused:
        rfid_board_update(
            chargepoint=chargepoint,
            data={
                "buzzer_volume_pct": 70,
                "profiles": {"charging": {"min_brightness_pct": 90, "max_brightness_pct": 10}},
            },
            actor=Actor.system(),
        )
    assert set(refused.value.message_dict) == {"profiles.charging.min_brightness_pct"}
    assert not RfidLedProfile.objects.exists()
