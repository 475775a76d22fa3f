"""Pure parts of the OCPP agent: the UID sent to the backend, the offline rules, meter values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocppcfg.authorization import decide_local, transform_uid, usable

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("byte_order", "character_order", "expected"),
    [
        ("BigEndian", "Normal", "04A1B2C3"),
        ("LittleEndian", "Normal", "C3B2A104"),
        ("BigEndian", "Swapped", "A104C3B2"),
        ("LittleEndian", "Swapped", "B2C304A1"),
    ],
)
def test_rfid_byte_and_character_order(byte_order: str, character_order: str, expected: str) -> None:
    assert transform_uid("04A1B2C3", byte_order, character_order) == expected


def test_uid_that_is_not_hex_is_sent_as_read() -> None:
    assert transform_uid("TAG-1", "LittleEndian", "Swapped") == "TAG-1"
    assert transform_uid("04A1B2", "BigEndian", "Swapped") == "A104B2"  # an odd last byte stays


def test_usable_needs_accepted_and_not_expired() -> None:
    assert usable({"status": "Accepted"}, NOW)
    assert not usable({"status": "Blocked"}, NOW)
    assert not usable({"status": "Accepted", "expiryDate": (NOW - timedelta(days=1)).isoformat()}, NOW)


BASE = {
    "LocalAuthListEnabled": "true",
    "AuthorizationCacheEnabled": "true",
    "LocalAuthorizeOffline": "true",
    "LocalPreAuthorize": "false",
    "AllowOfflineTxForUnknownId": "false",
}


def test_offline_rules() -> None:
    accepted = {"status": "Accepted"}
    assert decide_local(values=BASE, local_entry=None, cache_entry=accepted, online=False, now=NOW).source == "cache"
    assert (
        decide_local(values=BASE, local_entry=accepted, cache_entry=None, online=False, now=NOW).source == "local_list"
    )
    unknown = decide_local(values=BASE, local_entry=None, cache_entry=None, online=False, now=NOW)
    assert unknown.info == {"status": "Invalid"}
    allowed = decide_local(
        values={**BASE, "AllowOfflineTxForUnknownId": "true"}, local_entry=None, cache_entry=None, online=False, now=NOW
    )
    assert allowed.info == {"status": "Accepted"}
    no_offline = decide_local(
        values={**BASE, "LocalAuthorizeOffline": "false"}, local_entry=None, cache_entry=accepted, online=False, now=NOW
    )
    assert no_offline.info == {"status": "Invalid"}


def test_online_pre_authorize() -> None:
    accepted = {"status": "Accepted"}
    assert decide_local(values=BASE, local_entry=accepted, cache_entry=None, online=True, now=NOW).info is None
    pre = {**BASE, "LocalPreAuthorize": "true"}
    assert decide_local(values=pre, local_entry=None, cache_entry=accepted, online=True, now=NOW).info == accepted
