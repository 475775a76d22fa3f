"""The manual's start address rules (OC-M1..M4) and the documented automatic order."""

from __future__ import annotations

import pytest
from django.utils import translation

from modbus import addressing
from modbus.addressing import Slot, automatic_order, effective_addresses, validate
from modbus.models import ModbusStartAddress
from tests.factories import make_chargepoint, make_configured_chargepoint, make_station

MIXED = "Mixed operation is not possible"


def _errors(entries: dict[int, int]) -> dict[int, list[str]]:
    with translation.override("en"):
        return validate(entries)


@pytest.mark.parametrize("value", [-1, 1000, 2000, 12000, 47000, 48000])
def test_automatic_and_every_multiple_of_1000_in_range_are_valid(value: int):
    assert _errors({1: value}) == {}


@pytest.mark.parametrize("value", [1500, 1001, 2999, 47999])
def test_an_address_that_is_not_a_multiple_of_1000_is_refused(value: int):
    assert _errors({1: value}) == {
        1: ["A start address must be an integer multiple of 1000 (e.g. 1000, 2000, … 48000)."]
    }


@pytest.mark.parametrize("value", [0, 999, -2, -1000, 500])
def test_an_address_below_1000_is_refused(value: int):
    assert _errors({1: value}) == {1: ["Enter -1 or a start address from 1000 to 48000."]}


@pytest.mark.parametrize("value", [48001, 49000, 65000, 10**12])
def test_an_address_above_48000_is_refused(value: int):
    assert _errors({1: value}) == {1: ["Enter -1 or a start address from 1000 to 48000."]}


def test_a_duplicate_manual_address_is_refused_at_every_charge_point_using_it():
    with translation.override("en"):
        errors = validate({1: 2000, 2: 2000, 3: 3000}, names={1: "P1-01", 2: "P1-02", 3: "P1-03"})
    assert errors == {
        1: ["Start address 2000 is also given to P1-02: each charging point needs its own."],
        2: ["Start address 2000 is also given to P1-01: each charging point needs its own."],
    }


def test_automatic_may_repeat():
    assert _errors({1: -1, 2: -1, 3: -1}) == {}


def test_mixed_operation_is_refused_at_the_automatic_ones_with_the_manuals_explanation():
    errors = _errors({1: 1000, 2: -1, 3: -1})
    assert set(errors) == {2, 3}
    assert all(len(m) == 1 and m[0].startswith(MIXED) for m in errors.values())
    assert "Enter one here too, or -1 for every charging point." in errors[2][0]
    assert addressing.is_mixed({1: 1000, 2: -1}) and not addressing.is_mixed({1: -1, 2: -1})
    assert not addressing.is_mixed({1: 1000, 2: 2000})
    with translation.override("en"):
        assert "reachable via Modbus only if theirs are assigned manually too" in addressing.mixed_explanation()


def test_all_manual_is_valid():
    assert _errors({1: 3000, 2: 1000, 3: 48000}) == {}


def test_the_automatic_order_puts_the_server_station_first_then_stations_by_id_then_bus_position():
    slots = [
        Slot(chargepoint=10, station=1, server=False, position=2),
        Slot(chargepoint=11, station=1, server=False, position=1),
        Slot(chargepoint=20, station=2, server=True, position=3),
        Slot(chargepoint=21, station=2, server=True, position=1),
        Slot(chargepoint=30, station=3, server=False, position=1),
    ]
    assert automatic_order(slots) == [21, 20, 11, 10, 30]
    assert effective_addresses({}, automatic_order(slots)) == {21: 1000, 20: 2000, 11: 3000, 10: 4000, 30: 5000}


def test_at_most_48_charge_points_get_an_automatic_address():
    order = list(range(1, 51))
    effective = effective_addresses({}, order)
    assert len(effective) == 48
    assert effective[48] == 48000
    assert 49 not in effective and 50 not in effective


def test_manual_addresses_are_used_as_set_and_do_not_follow_the_order():
    assert effective_addresses({1: 5000, 2: 1000}, [1, 2]) == {1: 5000, 2: 1000}


def test_with_a_mix_stored_the_automatic_ones_are_not_reachable():
    # a charge point added to a park that is addressed manually has no row: automatic
    assert effective_addresses({1: 5000}, [1, 2]) == {1: 5000}


@pytest.mark.django_db
def test_resolve_addresses_over_several_stations_of_the_park():
    server = make_station()  # the first station of the park is the server
    client_a = make_station()
    client_b = make_station()
    b1 = make_chargepoint(client_b, 1)
    a2 = make_chargepoint(client_a, 2)
    s1 = make_configured_chargepoint(station=server)
    a1 = make_chargepoint(client_a, 1)
    s2 = make_chargepoint(server)
    assert addressing.resolve_addresses() == {
        s1.pk: 1000,
        s2.pk: 2000,
        a1.pk: 3000,
        a2.pk: 4000,
        b1.pk: 5000,
    }
    ModbusStartAddress.objects.create(chargepoint=b1, start_address=7000)
    assert addressing.resolve_addresses() == {b1.pk: 7000}  # a mix: only the manual one


@pytest.mark.django_db
def test_the_server_station_comes_first_even_with_a_higher_id():
    from chargepoints.choices import ModuleKind

    client = make_station(kind=ModuleKind.CLIENT)
    server = make_station(kind=ModuleKind.SERVER)
    c = make_chargepoint(client, 1)
    s = make_chargepoint(server, 1)
    assert addressing.resolve_addresses() == {s.pk: 1000, c.pk: 2000}
