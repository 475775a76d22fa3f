"""The controller in release mode "By Local Whitelist": cards at the reader, EVCC IDs at plug-in,
and what the whitelist page lists as recently scanned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargepoints.choices import ReleaseMode
from chargepoints.models import ChargePointConfig
from tests.conftest import cp_id
from tests.whitelist.conftest import FAR
from whitelist.models import WhitelistEntry

EVCC = "00A0C9142A3F"


def ok(answer):
    assert answer["ok"], answer
    return answer


def state(runtime, name):
    return runtime.step().chargepoint(cp_id(name))


def listed(tag, *, type="rfid", allow=True, expires_at=FAR):
    WhitelistEntry.objects.create(type=type, tag=tag, allow_charging=allow, expires_at=expires_at)


def settle_lookups(runtime):
    """The whitelist lookup runs beside the loop: wait for it, then take a tick."""
    import asyncio

    controller = runtime.runtime.agent("controller")

    async def lookups():
        while controller._tasks:
            await asyncio.gather(*list(controller._tasks), return_exceptions=True)

    runtime.run(lookups())
    return runtime.step()


def whitelist_mode(name):
    ChargePointConfig.objects.filter(chargepoint_id=cp_id(name)).update(release_mode=ReleaseMode.WHITELIST)


def test_a_listed_card_in_another_notation_releases_and_shows_as_accepted(runtime):
    listed("0BADCAFE")
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-03"), phases=3, max_current_a=16))
    ok(runtime.call("sim.rfid", cp=cp_id("P1-03"), tag="0b:ad:ca:fe"))
    snap = runtime.step()
    assert snap.chargepoint(cp_id("P1-03")).ocpp_status == "Charging"
    scan = snap.recent_scans[0]
    assert (scan.kind, scan.tag, scan.cp_id, scan.cp_name, scan.accepted) == (
        "rfid",
        "0BADCAFE",
        cp_id("P1-03"),
        "P1-03",
        True,
    )
    assert snap.recent_rfids[0][0] == "0BADCAFE"  # the older part stays for its readers


def test_unknown_expired_and_blocked_cards_are_refused_and_the_board_shows_it(runtime):
    listed("AAAA0001", expires_at=datetime.now(tz=UTC) - timedelta(seconds=1))
    listed("AAAA0002", allow=False)
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-03"), phases=3, max_current_a=16))
    for tag in ("0000BEEF", "AAAA0001", "AAAA0002"):
        ok(runtime.call("sim.rfid", cp=cp_id("P1-03"), tag=tag))
        cp = state(runtime, "P1-03")
        assert cp.ocpp_status == "Preparing", tag
        assert cp.rfid_event == "rejected", tag
    snap = runtime.step()
    assert [(s.tag, s.accepted) for s in snap.recent_scans[:3]] == [
        ("AAAA0002", False),
        ("AAAA0001", False),
        ("0000BEEF", False),
    ]


def test_a_card_without_a_vehicle_grants_for_the_rfid_timeout_then_plug_in_keeps_it(runtime, settings):
    listed("0BADCAFE")
    ok(runtime.call("sim.rfid", cp=cp_id("P1-03"), tag="0BADCAFE"))
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-03"), phases=3, max_current_a=16))
    assert state(runtime, "P1-03").ocpp_status == "Charging"


def test_a_card_at_a_charge_point_not_released_by_the_whitelist_is_not_checked(runtime):
    ok(runtime.call("sim.rfid", cp=cp_id("P1-01"), tag="0BADCAFE"))
    scan = runtime.step().recent_scans
    # P1-01 has no reader of its own in the demo park: nothing reads there, nothing is checked
    assert scan == () or scan[0].accepted is None


def test_a_listed_evcc_id_releases_an_iso15118_vehicle_at_plug_in_until_unplug(runtime):
    whitelist_mode("P1-01")  # the demo's module with ISO 15118
    listed(EVCC, type="evccid")
    ok(runtime.call("config.reload"))
    ok(
        runtime.call(
            "sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16, hlc=True, evcc_id="00:a0:c9:14:2a:3f"
        )
    )
    snap = settle_lookups(runtime)
    cp = snap.chargepoint(cp_id("P1-01"))
    assert cp.ocpp_status == "Charging"
    assert cp.decision.verdict != "blocked"
    scan = snap.recent_scans[0]
    assert (scan.kind, scan.tag, scan.cp_name, scan.accepted) == ("evccid", EVCC, "P1-01", True)
    ok(runtime.call("sim.unplug", cp=cp_id("P1-01")))
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16))  # no ISO 15118 now
    assert state(runtime, "P1-01").ocpp_status == "Preparing"  # the grant ended with the unplug


def test_an_unknown_or_blocked_evcc_id_is_not_released_but_listed_as_scanned(runtime):
    whitelist_mode("P1-01")
    listed(EVCC, type="evccid", allow=False)
    ok(runtime.call("config.reload"))
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16, hlc=True, evcc_id=EVCC))
    snap = settle_lookups(runtime)
    assert snap.chargepoint(cp_id("P1-01")).ocpp_status == "Preparing"
    assert (snap.recent_scans[0].tag, snap.recent_scans[0].accepted) == (EVCC, False)


def test_an_evcc_id_as_rfid_entry_does_not_release_the_vehicle(runtime):
    whitelist_mode("P1-01")
    listed(EVCC, type="rfid")
    ok(runtime.call("config.reload"))
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16, hlc=True, evcc_id=EVCC))
    assert settle_lookups(runtime).chargepoint(cp_id("P1-01")).ocpp_status == "Preparing"


def test_an_evcc_id_in_another_release_mode_is_listed_but_not_checked(runtime):
    listed(EVCC, type="evccid")
    ok(runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=16, hlc=True, evcc_id=EVCC))
    snap = settle_lookups(runtime)
    assert snap.chargepoint(cp_id("P1-01")).ocpp_status == "Preparing"  # dashboard release mode
    assert (snap.recent_scans[0].kind, snap.recent_scans[0].accepted) == ("evccid", None)
