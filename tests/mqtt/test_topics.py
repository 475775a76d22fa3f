"""The forwarding rule (``mqttbridge.topics``): full topics, ``+`` for all devices, refusals."""

from __future__ import annotations

import pytest

from mqttbridge import topics


def resolve(local: str, remote: str, direction: str = "out", prefix: str = "CHARX") -> topics.Mapping:
    return topics.resolve(local=local, remote=remote, direction=direction, prefix=prefix, device_id="d5ae6274053159d4")


def test_exact_topics_map_one_to_one_under_prefix_type_and_id() -> None:
    m = resolve("wbm/park", "park")
    assert m.remote == "CHARX/ev3000/d5ae6274053159d4/park"
    assert m.to_remote("wbm/park") == m.remote and m.to_local(m.remote) == "wbm/park"
    assert resolve("wbm/park", "park", prefix="").remote == "ev3000/d5ae6274053159d4/park"


def test_plus_stands_for_every_charge_point_and_keeps_each_one_apart() -> None:
    m = resolve("wbm/chargepoint/+/status", "cp/+/status", "both")
    assert m.pattern == "+/status"
    assert m.local_prefix == "wbm/chargepoint/" and m.remote_prefix == "CHARX/ev3000/d5ae6274053159d4/cp/"
    assert m.matches_local("wbm/chargepoint/7/status") and not m.matches_local("wbm/chargepoint/7/energy")
    assert m.to_remote("wbm/chargepoint/7/status") == "CHARX/ev3000/d5ae6274053159d4/cp/7/status"
    assert m.to_local("CHARX/ev3000/d5ae6274053159d4/cp/7/status") == "wbm/chargepoint/7/status"


@pytest.mark.parametrize(
    ("local", "remote", "direction"),
    [
        ("wbm/chargepoint/+/status", "status", "out"),  # the + has nowhere to go
        ("wbm/park", "cp/+", "out"),
        ("wbm/#", "all", "out"),
        ("$SYS/broker/uptime", "up", "out"),
        ("wbm/park", "park", "sideways"),
        ("wbm/pa rk", "park", "out"),
        ("wbm/park;reboot", "park", "out"),
        ("wbm/park", "park\nconnection evil", "out"),
        ("wbm/park\x00", "park", "out"),
        ("wbm/park", "x" * 201, "out"),
        ("", "park", "out"),
        ("wbm//park", "park", "out"),
        ("wbm/p\udcffark", "park", "out"),
        ("wbm/park", '"park"', "out"),
    ],
)
def test_bad_rows_are_refused(local: str, remote: str, direction: str) -> None:
    with pytest.raises(topics.TopicInvalid):
        resolve(local, remote, direction)


@pytest.mark.parametrize("prefix", ["a b", "x/+", "y\n", "#", "z" * 65, "$(id)"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(topics.TopicInvalid):
        topics.check_prefix(prefix)
