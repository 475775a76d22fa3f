"""Local Auth List Management (OCTT 2.17): SendLocalList and GetLocalListVersion through the
Station's handlers, and the lookup the core's authorization uses (TC_008)."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from ocppcfg.features.locallist import LocalList
from ocppcfg.models import LocalAuthEntry, LocalAuthList
from tests.ocpp.test_features_fake import FakeAgent, agent_fixture, in_, linked_fixture, wire  # noqa: F401

pytestmark = pytest.mark.asyncio


def entry(tag: str, status: str | None = "Accepted", **info: str) -> dict:
    if status is None:
        return {"idTag": tag}
    return {"idTag": tag, "idTagInfo": {"status": status, **info}}


async def test_tc_042_2_get_local_list_version_of_an_empty_list_is_0(linked) -> None:
    _agent, backend = linked
    answer = await backend.call(call.GetLocalListVersion())
    assert answer.list_version == 0


async def test_tc_042_1_get_local_list_version_when_the_list_is_off_is_minus_1(linked) -> None:
    fake, backend = linked
    fake.values["LocalAuthListEnabled"] = "false"
    answer = await backend.call(call.GetLocalListVersion())
    assert answer.list_version == -1


async def test_tc_043_send_local_list_full_is_accepted_stored_and_looked_up(linked) -> None:
    fake, backend = linked
    answer = await backend.call(
        call.SendLocalList(
            list_version=3,
            update_type="Full",
            local_authorization_list=[
                entry("AA11", "Accepted", parentIdTag="FLEET"),
                entry("BB22", "Blocked"),
            ],
        )
    )
    assert answer.status == "Accepted"
    assert (await backend.call(call.GetLocalListVersion())).list_version == 3
    assert fake.local_list.lookup("aa11") == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert fake.local_list.lookup("BB22") == {"status": "Blocked"}
    assert fake.local_list.lookup("CC33") is None
    rows = await fake.ctx.db(lambda: sorted(LocalAuthEntry.objects.values_list("id_tag", "status")))
    assert rows == [("AA11", "Accepted"), ("BB22", "Blocked")]
    assert (await fake.ctx.db(LocalAuthList.load)).version == 3


async def test_tc_043_1_send_local_list_when_the_list_is_off_is_not_supported(linked) -> None:
    fake, backend = linked
    fake.values["LocalAuthListEnabled"] = "false"
    answer = await backend.call(call.SendLocalList(list_version=1, update_type="Full", local_authorization_list=[]))
    assert answer.status == "NotSupported"
    assert fake.local_list.lookup("AA11") is None


async def test_tc_043_2_differential_update_not_newer_is_a_version_mismatch(linked) -> None:
    fake, backend = linked
    await backend.call(call.SendLocalList(list_version=5, update_type="Full", local_authorization_list=[entry("A1")]))
    for version in (5, 4):
        answer = await backend.call(
            call.SendLocalList(list_version=version, update_type="Differential", local_authorization_list=[entry("B2")])
        )
        assert answer.status == "VersionMismatch"
    assert fake.local_list.lookup("B2") is None
    assert fake.local_list.version() == 5


async def test_tc_043_3_a_list_over_the_maximum_fails_and_changes_nothing(linked) -> None:
    fake, backend = linked
    await backend.call(call.SendLocalList(list_version=1, update_type="Full", local_authorization_list=[entry("A1")]))
    fake.values["LocalAuthListMaxLength"] = "3"
    too_many = [entry(f"T{i}") for i in range(4)]
    answer = await backend.call(
        call.SendLocalList(list_version=2, update_type="Full", local_authorization_list=too_many)
    )
    assert answer.status == "Failed"
    fake.values["SendLocalListMaxLength"] = "2"
    answer = await backend.call(
        call.SendLocalList(list_version=2, update_type="Differential", local_authorization_list=too_many[:3])
    )
    assert answer.status == "Failed"
    assert fake.local_list.version() == 1
    assert fake.local_list.lookup("A1") == {"status": "Accepted"}
    assert fake.local_list.lookup("T0") is None


async def test_a_full_update_needs_id_tag_info_and_distinct_id_tags(agent) -> None:
    assert await agent.local_list.update(1, "Full", [entry("A1", None)]) == "Failed"
    assert await agent.local_list.update(1, "Full", [entry("A1"), entry("a1")]) == "Failed"
    assert agent.local_list.version() == 0


async def test_a_differential_update_changes_adds_and_removes_entries_without_id_tag_info(agent) -> None:
    assert await agent.local_list.update(1, "Full", [entry("A1"), entry("B2"), entry("C3")]) == "Accepted"
    changes = [entry("A1", "Blocked"), entry("B2", None), entry("D4")]
    assert await agent.local_list.update(2, "Differential", changes) == "Accepted"
    assert agent.local_list.lookup("A1") == {"status": "Blocked"}
    assert agent.local_list.lookup("B2") is None
    assert agent.local_list.lookup("C3") == {"status": "Accepted"}
    assert agent.local_list.lookup("D4") == {"status": "Accepted"}
    assert len(agent.local_list) == 3


async def test_tc_008_an_expired_entry_answers_expired_and_a_full_update_empties_the_list(agent) -> None:
    past, future = wire(in_(-60)), wire(in_(3600))
    await agent.local_list.update(
        1, "Full", [entry("OLD", "Accepted", expiryDate=past), entry("NEW", expiryDate=future)]
    )
    assert agent.local_list.lookup("OLD")["status"] == "Expired"
    assert agent.local_list.lookup("NEW") == {"status": "Accepted", "expiryDate": future}
    assert await agent.local_list.update(2, "Full", []) == "Accepted"
    assert agent.local_list.lookup("NEW") is None


async def test_the_list_survives_a_restart_of_the_agent(agent) -> None:
    await agent.local_list.update(7, "Full", [entry("A1", "Accepted", parentIdTag="P")])
    again = LocalList(agent)
    await again.start()
    assert again.version() == 7
    assert again.lookup("A1") == {"status": "Accepted", "parentIdTag": "P"}
    assert isinstance(FakeAgent().local_list, LocalList)
