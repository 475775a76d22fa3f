"""Reservation (OCTT 2.20): ReserveNow and CancelReservation through the Station's handlers, the
BLOCK claim that shows Reserved, who may start on a reserved connector, expiry, connector 0."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from ocppcfg.features.reservations import RESERVED, Reservations
from ocppcfg.models import Reservation
from tests.ocpp.test_features_fake import ActiveTx, agent_fixture, in_, linked_fixture, wire  # noqa: F401
from wbm.runtime.claims import Kind, Source

pytestmark = pytest.mark.asyncio


def reserve(
    connector: int, reservation_id: int = 1, id_tag: str = "TAG1", seconds: float = 600, **more
) -> call.ReserveNow:
    return call.ReserveNow(
        connector_id=connector, expiry_date=wire(in_(seconds)), id_tag=id_tag, reservation_id=reservation_id, **more
    )


async def test_tc_046_reservation_of_a_connector_blocks_it_and_the_reserving_tag_uses_it(linked) -> None:
    fake, backend = linked
    assert (await backend.call(reserve(1, 11))).status == "Accepted"
    assert fake.claim(1, Kind.BLOCK, RESERVED) is not None
    assert fake.claim(2, Kind.BLOCK, RESERVED) is None
    assert fake.reservations.admits(1, "OTHER") == (False, None)
    assert fake.reservations.admits(2, "OTHER") == (True, None)
    assert fake.reservations.admits(1, "tag1") == (True, 11)
    await fake.reservations.used(11)
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None
    assert fake.reservations.admits(1, "OTHER") == (True, None)
    assert await fake.ctx.db(Reservation.objects.count) == 0


async def test_tc_047_an_expired_reservation_is_removed_and_the_connector_freed(linked) -> None:
    fake, backend = linked
    assert (await backend.call(reserve(1, 12, seconds=5))).status == "Accepted"
    await fake.tick(in_(10))
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None
    assert fake.reservations.status() == []
    assert await fake.ctx.db(Reservation.objects.count) == 0


@pytest.mark.parametrize(
    ("status", "with_vehicle", "answer"),
    [
        ("Faulted", False, "Faulted"),  # TC_048_1
        ("Preparing", True, "Occupied"),  # TC_048_2
        ("Charging", True, "Occupied"),
        ("Unavailable", False, "Unavailable"),  # TC_048_3
    ],
)
async def test_tc_048_reservation_of_a_connector_that_is_not_free(linked, status, with_vehicle, answer) -> None:
    fake, backend = linked
    fake.set_status(1, status, with_vehicle=with_vehicle)
    assert (await backend.call(reserve(1))).status == answer
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None


async def test_tc_048_4_reservation_of_an_unknown_connector_or_in_the_past_is_rejected(linked) -> None:
    _fake, backend = linked
    assert (await backend.call(reserve(7))).status == "Rejected"
    assert (await backend.call(reserve(1, seconds=-5))).status == "Rejected"


async def test_a_connector_reserved_for_another_reservation_is_occupied_the_same_id_replaces(linked) -> None:
    fake, backend = linked
    assert (await backend.call(reserve(1, 1, "A"))).status == "Accepted"
    assert (await backend.call(reserve(1, 2, "B"))).status == "Occupied"
    assert (await backend.call(reserve(1, 1, "C"))).status == "Accepted"  # replaced
    assert fake.reservations.admits(1, "A") == (False, None)
    assert fake.reservations.admits(1, "C") == (True, 1)
    assert (await backend.call(reserve(2, 1, "C"))).status == "Accepted"  # moved to connector 2
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None
    assert fake.claim(2, Kind.BLOCK, RESERVED) is not None


async def test_tc_053_a_tag_with_the_reservations_parent_id_tag_may_use_it(linked) -> None:
    fake, backend = linked
    assert (await backend.call(reserve(1, 5, "CARD1", parent_id_tag="FLEET"))).status == "Accepted"
    assert fake.reservations.admits(1, "CARD2", "FLEET") == (True, 5)
    assert fake.reservations.admits(1, "CARD3", "OTHERS") == (False, None)


async def test_tc_049_reservation_of_connector_0_reserves_the_last_free_connector(linked) -> None:
    fake, backend = linked
    assert (await backend.call(reserve(0, 9, "Z"))).status == "Accepted"
    # two free connectors for one reservation: anyone may use either
    assert fake.reservations.admits(1, "OTHER") == (True, None)
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None
    fake.set_status(1, "Charging", with_vehicle=True)
    fake.active[1] = ActiveTx(1, 100, in_(0), "OTHER")
    await fake.tick()
    assert fake.claim(2, Kind.BLOCK, RESERVED) is not None  # the last free one is held
    assert fake.reservations.admits(2, "OTHER") == (False, None)
    assert (await backend.call(reserve(0, 10, "Y"))).status == "Occupied"  # TC_050_2
    assert fake.reservations.admits(2, "z") == (True, 9)
    await fake.reservations.used(9)
    assert fake.claim(2, Kind.BLOCK, RESERVED) is None


@pytest.mark.parametrize(
    ("statuses", "answer"),
    [
        (("Faulted", "Faulted"), "Faulted"),  # TC_050_1
        (("Unavailable", "Faulted"), "Unavailable"),  # TC_050_3
        (("Charging", "Faulted"), "Occupied"),  # TC_050_2
    ],
)
async def test_tc_050_reservation_of_connector_0_without_a_free_connector(linked, statuses, answer) -> None:
    fake, backend = linked
    for connector, status in enumerate(statuses, start=1):
        fake.set_status(connector, status, with_vehicle=status == "Charging")
    assert (await backend.call(reserve(0))).status == answer


async def test_tc_050_4_reservation_of_connector_0_when_not_supported_is_rejected(linked) -> None:
    fake, backend = linked
    fake.values["ReserveConnectorZeroSupported"] = "false"
    assert (await backend.call(reserve(0))).status == "Rejected"


async def test_tc_051_052_cancel_reservation(linked) -> None:
    fake, backend = linked
    await backend.call(reserve(1, 21))
    assert (await backend.call(call.CancelReservation(reservation_id=21))).status == "Accepted"
    assert fake.claim(1, Kind.BLOCK, RESERVED) is None
    assert (await backend.call(call.CancelReservation(reservation_id=21))).status == "Rejected"
    assert await fake.ctx.db(Reservation.objects.count) == 0


async def test_reservations_survive_a_restart_with_their_claims(agent) -> None:
    assert await agent.reservations.reserve(connector_id=2, expiry_date=in_(600), id_tag="T", reservation_id=3) == (
        "Accepted"
    )
    agent.ctx.claims.withdraw_source(Source.OCPP)  # as after a restart of the runtime
    again = Reservations(agent)
    await again.start()
    assert agent.claim(2, Kind.BLOCK, RESERVED) is not None
    assert [r["reservation_id"] for r in again.status()] == [3]
    await again.stop()
