"""One entry at a time: the stored form of a tag, duplicates, the 500 limit, who may charge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.whitelist.conftest import ACTOR, FAR, add, fill, past
from wbm.models import ChangeRecord
from whitelist import services, tags
from whitelist.models import MAX_ENTRIES, WhitelistEntry
from whitelist.selectors import entry_list, evcc_id_authorized, tag_authorized

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["04a1b2c3", "04:A1:B2:C3", "04-a1-b2-c3", " 04 a1 b2 c3 "])
def test_a_tag_is_stored_upper_case_without_separators(raw):
    assert add(raw).tag == "04A1B2C3"


def test_the_same_card_in_another_notation_is_a_duplicate_and_refused():
    add("04A1B2C3")
    with pytest.raises(services.EntryInvalid) as exc:
        add("04:a1:b2:c3")
    assert "already on the whitelist" in exc.value.errors["tag"][0]
    assert WhitelistEntry.objects.count() == 1


def test_an_rfid_tag_and_an_evcc_id_may_share_digits():
    add("00A0C9142A3F", type="rfid")
    add("00:a0:c9:14:2a:3f", type="evccid")
    assert WhitelistEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("type", "tag", "why"),
    [
        ("rfid", "04G1", "hexadecimal"),
        ("rfid", "0A", "4 to 32"),
        ("rfid", "0" * 33, "4 to 32"),
        ("evccid", "00A0C9142A", "12 hexadecimal"),
        ("rfid", "", "blank"),
    ],
)
def test_tags_that_are_not_hexadecimal_or_too_short_or_long_are_refused(type, tag, why):
    with pytest.raises(services.EntryInvalid) as exc:
        add(tag, type=type)
    assert why in exc.value.errors["tag"][0]


def test_normalize_and_problem_are_pure():
    assert tags.normalize("aa.bb-cc:dd ee") == "AABBCCDDEE"
    assert tags.problem("rfid", "AABB") is None
    assert tags.problem("evccid", "AABB") == "evcc_length"


def test_the_501st_entry_by_hand_is_refused_and_the_list_stays_as_it_was():
    fill(MAX_ENTRIES)
    with pytest.raises(services.WhitelistFull) as exc:
        add("DEADBEEF")
    assert "at most 500" in str(exc.value)
    assert WhitelistEntry.objects.count() == MAX_ENTRIES
    assert not WhitelistEntry.objects.filter(tag="DEADBEEF").exists()


def test_the_500th_entry_is_accepted():
    fill(MAX_ENTRIES - 1)
    add("DEADBEEF")
    assert WhitelistEntry.objects.count() == MAX_ENTRIES


def test_a_listed_allowed_unexpired_tag_may_charge_in_any_notation():
    add("04A1B2C3D4E5F6")
    assert tag_authorized("04:a1:b2:c3:d4:e5:f6")
    assert not tag_authorized("04A1B2C3D4E5F7")
    assert not tag_authorized("")


def test_an_expired_or_blocked_tag_may_not_charge():
    add("AAAA0001", expires_at=past())
    add("AAAA0002", allow=False)
    assert not tag_authorized("AAAA0001")
    assert not tag_authorized("AAAA0002")


def test_expiry_is_the_moment_from_which_the_card_can_no_longer_charge():
    moment = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    add("AAAA0003", expires_at=moment)
    assert tag_authorized("AAAA0003", at=moment - timedelta(seconds=1))
    assert not tag_authorized("AAAA0003", at=moment)


def test_an_rfid_entry_does_not_release_an_evcc_id_and_back():
    add("00A0C9142A3F", type="rfid")
    assert not evcc_id_authorized("00A0C9142A3F")
    add("00A0C9142A40", type="evccid")
    assert evcc_id_authorized("00:a0:c9:14:2a:40")
    assert not tag_authorized("00A0C9142A40")


def test_update_and_delete_are_recorded_with_the_actor():
    entry = add("AAAA0004", name="Van")
    services.whitelist_entry_update(entry=entry, data={"allow_charging": False}, actor=ACTOR)
    entry.refresh_from_db()
    assert entry.allow_charging is False
    services.whitelist_entry_delete(entry=entry, actor=ACTOR)
    actions = list(ChangeRecord.objects.order_by("pk").values_list("action", "username", "role"))
    assert actions == [
        ("whitelist.entry.create", "user-t", "user"),
        ("whitelist.entry.update", "user-t", "user"),
        ("whitelist.entry.delete", "user-t", "user"),
    ]
    assert not WhitelistEntry.objects.exists()


def test_an_update_to_a_tag_already_listed_is_refused():
    add("AAAA0005")
    other = add("AAAA0006")
    with pytest.raises(services.EntryInvalid):
        services.whitelist_entry_update(entry=other, data={"tag": "aaaa0005"}, actor=ACTOR)
    other.refresh_from_db()
    assert other.tag == "AAAA0006"


def test_search_finds_tags_in_any_notation_and_names_and_sorting_works():
    add("AABB0001", name="Zoe")
    add("CCDD0002", name="Adam", expires_at=FAR - timedelta(days=1))
    assert [e.tag for e in entry_list(search="aa:bb")] == ["AABB0001"]
    assert [e.tag for e in entry_list(search="ada")] == ["CCDD0002"]
    assert [e.name for e in entry_list(sort="name")] == ["Adam", "Zoe"]
    assert [e.name for e in entry_list(sort="-name")] == ["Zoe", "Adam"]
    assert [e.tag for e in entry_list(sort="expires_at")] == ["CCDD0002", "AABB0001"]
