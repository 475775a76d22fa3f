"""Smart Charging (OCTT 2.22) at the agent level: SetChargingProfile, ClearChargingProfile and
GetCompositeSchedule through the Station's handlers, and the CAP each connector gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ocpp.v16 import call

from ocppcfg.features.smart import CAP_KEY, SmartCharging
from ocppcfg.models import ChargingProfileRecord
from tests.ocpp.test_features_fake import ActiveTx, agent_fixture, in_, linked_fixture, wire  # noqa: F401
from wbm.runtime.claims import Kind

pytestmark = pytest.mark.asyncio


def profile(
    profile_id: int,
    purpose: str,
    limits: list[tuple[int, float]],
    *,
    stack_level: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    transaction_id: int | None = None,
    start: datetime | None = None,
    duration: int | None = None,
) -> dict:
    schedule: dict = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": a} for s, a in limits],
    }
    if kind != "Relative":
        schedule["startSchedule"] = wire(start or in_(-1))
    if duration is not None:
        schedule["duration"] = duration
    data = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    if transaction_id is not None:
        data["transactionId"] = transaction_id
    return data


def cap(fake, connector: int) -> float | None:
    claim = fake.claim(connector, Kind.CAP, CAP_KEY)
    return None if claim is None else claim.amps


def charging(fake, connector: int, transaction_id: int = 100) -> None:
    fake.set_status(connector, "Charging", with_vehicle=True)
    fake.active[connector] = ActiveTx(connector, transaction_id, in_(-10), "TAG")


async def test_tc_056_a_tx_default_profile_caps_every_connector(linked) -> None:
    fake, backend = linked
    answer = await backend.call(
        call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile(1, "TxDefaultProfile", [(0, 10)]))
    )
    assert answer.status == "Accepted"
    assert cap(fake, 1) == 10 and cap(fake, 2) == 10
    assert fake.smart.current == {"0": None, "1": 10.0, "2": 10.0}
    assert await fake.ctx.db(ChargingProfileRecord.objects.count) == 1


async def test_tc_082_a_tx_default_profile_during_a_transaction_applies_at_once(linked) -> None:
    fake, backend = linked
    charging(fake, 1)
    answer = await backend.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(2, "TxDefaultProfile", [(0, 8)]))
    )
    assert answer.status == "Accepted"
    assert cap(fake, 1) == 8 and cap(fake, 2) is None


async def test_tc_057_a_tx_profile_of_the_running_transaction_wins_and_ends_with_it(linked) -> None:
    fake, backend = linked
    charging(fake, 1, transaction_id=100)
    await backend.call(
        call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile(1, "TxDefaultProfile", [(0, 16)]))
    )
    answer = await backend.call(
        call.SetChargingProfile(
            connector_id=1, cs_charging_profiles=profile(3, "TxProfile", [(0, 6)], transaction_id=100)
        )
    )
    assert answer.status == "Accepted"
    assert cap(fake, 1) == 6
    fake.end_transaction(1)
    assert cap(fake, 1) == 16
    assert [p.purpose for p in fake.smart.profiles.profiles] == ["TxDefaultProfile"]


async def test_tc_058_1_a_tx_profile_without_a_transaction_is_rejected(linked) -> None:
    fake, backend = linked
    answer = await backend.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(4, "TxProfile", [(0, 6)]))
    )
    assert answer.status == "Rejected"
    assert cap(fake, 1) is None


async def test_tc_058_2_a_tx_profile_with_a_wrong_transaction_id_is_rejected(linked) -> None:
    fake, backend = linked
    charging(fake, 1, transaction_id=100)
    answer = await backend.call(
        call.SetChargingProfile(
            connector_id=1, cs_charging_profiles=profile(4, "TxProfile", [(0, 6)], transaction_id=99)
        )
    )
    assert answer.status == "Rejected"


async def test_profiles_for_unknown_connectors_or_too_high_stack_levels_are_rejected(linked) -> None:
    _fake, backend = linked
    for connector, data in (
        (5, profile(1, "TxDefaultProfile", [(0, 6)])),
        (1, profile(1, "TxDefaultProfile", [(0, 6)], stack_level=9)),
    ):
        answer = await backend.call(call.SetChargingProfile(connector_id=connector, cs_charging_profiles=data))
        assert answer.status == "Rejected"


async def test_tc_066_get_composite_schedule(linked) -> None:
    fake, backend = linked
    await backend.call(
        call.SetChargingProfile(
            connector_id=1, cs_charging_profiles=profile(1, "TxDefaultProfile", [(0, 10), (3600, 13)], start=in_(-5))
        )
    )
    answer = await backend.call(call.GetCompositeSchedule(connector_id=1, duration=7200))
    assert answer.status == "Accepted" and answer.connector_id == 1
    periods = answer.charging_schedule["charging_schedule_period"]
    assert [p["limit"] for p in periods] == [10, 13]
    assert periods[0]["start_period"] == 0
    watts = await backend.call(call.GetCompositeSchedule(connector_id=1, duration=60, charging_rate_unit="W"))
    assert watts.charging_schedule["charging_rate_unit"] == "W"
    assert watts.charging_schedule["charging_schedule_period"][0]["limit"] == pytest.approx(10 * 230 * 3)
    rejected = await backend.call(call.GetCompositeSchedule(connector_id=9, duration=60))
    assert rejected.status == "Rejected"
    empty = await backend.call(call.GetCompositeSchedule(connector_id=2, duration=60))
    assert empty.status == "Accepted" and empty.charging_schedule is None
    assert fake.smart.current["1"] == 10


async def test_tc_067_clear_charging_profile(linked) -> None:
    fake, backend = linked
    await backend.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(7, "TxDefaultProfile", [(0, 9)]))
    )
    assert cap(fake, 1) == 9
    assert (await backend.call(call.ClearChargingProfile(id=7))).status == "Accepted"
    assert cap(fake, 1) is None
    assert (await backend.call(call.ClearChargingProfile(id=7))).status == "Unknown"
    assert (await backend.call(call.ClearChargingProfile())).status == "Unknown"
    assert await fake.ctx.db(ChargingProfileRecord.objects.count) == 0


async def test_tc_072_stacking_a_higher_level_ends_and_the_lower_applies_again(linked) -> None:
    fake, backend = linked
    await backend.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(1, "TxDefaultProfile", [(0, 16)]))
    )
    await backend.call(
        call.SetChargingProfile(
            connector_id=1, cs_charging_profiles=profile(2, "TxDefaultProfile", [(0, 7)], stack_level=1, duration=60)
        )
    )
    assert cap(fake, 1) == 7
    await fake.tick(in_(120))
    assert cap(fake, 1) == 16


async def test_the_charge_point_max_profile_is_shared_among_the_vehicles(linked) -> None:
    fake, backend = linked
    await backend.call(
        call.SetChargingProfile(connector_id=0, cs_charging_profiles=profile(1, "ChargePointMaxProfile", [(0, 20)]))
    )
    assert cap(fake, 1) == 20 and cap(fake, 2) == 20  # no vehicle: one more would get it all
    charging(fake, 1)
    await fake.tick()
    assert cap(fake, 1) == 20 and cap(fake, 2) == 10  # a second vehicle would share
    charging(fake, 2, transaction_id=101)
    await fake.tick()
    assert cap(fake, 1) == 10 and cap(fake, 2) == 10
    assert fake.smart.current["0"] == 20


async def test_tc_059_a_remote_start_profile_applies_to_the_transaction_it_starts(agent) -> None:
    assert agent.smart.install_remote_start_profile(1, profile(5, "TxProfile", [(0, 12)], kind="Relative"))
    await agent.tick()
    assert cap(agent, 1) is None  # no transaction yet
    charging(agent, 1, transaction_id=200)
    await agent.tick()
    assert cap(agent, 1) == 12
    agent.end_transaction(1)
    assert cap(agent, 1) is None


async def test_tc_060_a_remote_start_profile_of_another_purpose_is_refused(agent) -> None:
    assert not agent.smart.install_remote_start_profile(1, profile(5, "TxDefaultProfile", [(0, 12)]))
    assert not agent.smart.install_remote_start_profile(1, profile(5, "TxProfile", [(0, 12)], transaction_id=3))
    assert not agent.smart.install_remote_start_profile(9, profile(5, "TxProfile", [(0, 12)]))


async def test_profiles_are_restored_after_a_restart(agent) -> None:
    assert await agent.smart.set_profile(
        0, profile(1, "TxDefaultProfile", [(0, 11)], start=datetime(2024, 1, 1, tzinfo=UTC))
    ) == ("Accepted")
    again = SmartCharging(agent)
    await again.start()
    assert [p.id for p in again.profiles.profiles] == [1]
    assert again.current["1"] == 11
