"""One output serializer per live-state slice, field for field the slice's frozen dataclass.

A field added to a dataclass without its serializer (or the other way round) fails here, before
the API silently drops it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from typing import Any

import pytest
from django.utils import translation
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from tests.conftest import cp_id
from tests.factories import vehicle_args
from wbm.api import serializers as s
from wbm.runtime import snapshot
from wbm.runtime.claims import Decision
from wbm.runtime.snapshot import (
    AgentStatus,
    ChargePointState,
    Iso15118State,
    MeterReading,
    ParkSummary,
    SystemStatus,
    Vehicle,
)

# (serializer, the dataclass it serializes): exactly one serializer per slice
PAIRS: list[tuple[type[serializers.Serializer], type[Any]]] = [
    (s.MeterSerializer, MeterReading),
    (s.VehicleSerializer, Vehicle),
    (s.Iso15118Serializer, Iso15118State),
    (s.DecisionSerializer, Decision),
    (s.ChargePointStateSerializer, ChargePointState),
    (s.SummarySerializer, ParkSummary),
    (s.AgentSerializer, AgentStatus),
    (s.SystemStatusSerializer, SystemStatus),
]
SERIALIZER_OF = {cls: serializer for serializer, cls in PAIRS}

# Fields a serializer adds that are not in its dataclass: derived, read-only, documented here.
DERIVED: dict[type[serializers.Serializer], set[str]] = {
    # the decision in the user's words, from wbm.runtime.reasons.decision_text(state.decision)
    s.ChargePointStateSerializer: {"limit_text"},
}

# ParkSnapshot is the container, not a slice: the API builds its own documents from it
# (ParkSerializer with stations from the database).
# RecentScan: the whitelist API builds its own document of it (ISO time, the charge point's name,
# the matching whitelist entry: whitelist.api.views.RecentScanSerializer).
NOT_A_SLICE = {snapshot.ParkSnapshot, snapshot.RecentScan}


def _ids(pair: tuple[type, type]) -> str:
    return pair[1].__name__


def test_every_state_dataclass_has_its_serializer():
    slices = {
        value
        for value in vars(snapshot).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == snapshot.__name__
    }
    assert slices - NOT_A_SLICE == set(SERIALIZER_OF) - {Decision}
    assert len(SERIALIZER_OF) == len(PAIRS), "two serializers for one slice"
    assert len({serializer for serializer, _cls in PAIRS}) == len(PAIRS), "one serializer for two slices"


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_serializer_fields_equal_the_dataclass_fields(pair):
    serializer, cls = pair
    derived = DERIVED.get(serializer, set())
    names = set(serializer().fields)
    assert derived <= names, "a documented derived field is missing"
    assert names - derived == {f.name for f in dataclasses.fields(cls)}
    for name in derived:
        assert serializer().fields[name].read_only, f"derived field {name} must be read-only"


def _check_type(field: serializers.Field, hint: Any, where: str) -> None:
    """``field`` serializes a value of type ``hint`` (after ``None`` was taken off)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        assert type(field) is SERIALIZER_OF[hint], f"{where}: not serialized by its slice's serializer"
    elif isinstance(hint, type) and issubclass(hint, Enum):
        assert isinstance(field, serializers.ChoiceField), where
        assert set(field.choices) == {member.value for member in hint}, f"{where}: choices differ from {hint}"
    elif origin is tuple:
        assert isinstance(field, serializers.ListField), where
        if len(args) == 2 and args[1] is Ellipsis:
            _check_type(field.child, args[0], f"{where}[]")
        else:  # fixed length, e.g. one value per phase
            assert (field.min_length, field.max_length) == (len(args), len(args)), f"{where}: length"
            assert len(set(args)) == 1, f"{where}: mixed tuple"
            _check_type(field.child, args[0], f"{where}[]")
    elif hint is bool:
        assert isinstance(field, serializers.BooleanField), where
    elif hint is int:
        assert isinstance(field, serializers.IntegerField), where
    elif hint is float:
        assert isinstance(field, serializers.FloatField), where
    elif hint is str:
        assert isinstance(field, serializers.CharField | serializers.ChoiceField), where
    else:
        pytest.fail(f"{where}: no rule for {hint!r}; teach this test the new type")


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_serializer_fields_have_the_dataclass_types_and_nullability(pair):
    serializer, cls = pair
    fields = serializer().fields
    for name, hint in typing.get_type_hints(cls).items():
        if name not in {f.name for f in dataclasses.fields(cls)}:
            continue
        where = f"{cls.__name__}.{name}"
        assert name in fields, f"{where}: not serialized"
        args = typing.get_args(hint)
        nullable = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
        assert fields[name].allow_null is nullable, f"{where}: allow_null should be {nullable}"
        if nullable:
            (hint,) = [a for a in args if a is not type(None)]
        _check_type(fields[name], hint, where)


def test_a_live_charge_point_round_trips_through_its_json(runtime):
    pk = cp_id("P1-02")  # permanent release, meter, at most 16 A
    assert runtime.call("sim.plug_in", cp=pk, **vehicle_args(phases=3, max_current_a=16)) == {"ok": True}
    state = runtime.step().chargepoint(pk)
    assert state is not None and state.vehicle is not None

    with translation.override("en"):
        data = json.loads(JSONRenderer().render(s.ChargePointStateSerializer(state).data))

    assert data["decision"]["verdict"] == "offered" and data["decision"]["binding"] == "config"
    assert data["decision"]["offered_a"] == 16.0
    assert "limited by" in data["limit_text"]
    assert data["limit_text"] == "16 A, limited by the configured maximum current"
    assert data["vehicle"] == dataclasses.asdict(state.vehicle)
    assert data["plugged_since"] == state.plugged_since and data["reserved"] is False
    assert ChargePointState.from_dict({k: v for k, v in data.items() if k != "limit_text"}) == state


def test_limit_text_follows_the_language(runtime):
    pk = cp_id("P1-02")
    runtime.call("sim.plug_in", cp=pk, **vehicle_args())
    state = runtime.step().chargepoint(pk)
    with translation.override("de"):
        assert "begrenzt durch" in s.ChargePointStateSerializer(state).data["limit_text"]
