"""Reads of the load management page, the API and the agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargepoints.models import ChargePoint
from loadmgmt.choices import MeterConnection
from loadmgmt.models import LoadCircuit
from loadmgmt.validation import ParkPoint


def load_circuit_get() -> LoadCircuit:
    """The stored load circuit, or the defaults (unsaved, nothing assigned)."""
    return LoadCircuit.objects.filter(pk=LoadCircuit.SINGLETON_PK).first() or LoadCircuit(pk=LoadCircuit.SINGLETON_PK)


def load_circuit_revision() -> int:
    return load_circuit_get().revision


def assigned_ids(circuit: LoadCircuit) -> list[int]:
    if circuit._state.adding:
        return []
    return sorted(circuit.chargepoints.values_list("pk", flat=True))


def circuit_values(circuit: LoadCircuit) -> dict[str, Any]:
    """The configuration as plain values (the API's document, the audit record, the form)."""
    return {
        "park_name": circuit.park_name,
        "fuse_a": circuit.fuse_a,
        "threshold_a": circuit.threshold_a,
        "meter_connection": circuit.meter_connection,
        "meter_ip": circuit.meter_ip,
        "meter_type": circuit.meter_type,
        "rs485_chargepoint": circuit.rs485_chargepoint_id,
        "higher_fuse_a": circuit.higher_fuse_a,
        "strategy": circuit.strategy,
        "chargepoints": assigned_ids(circuit),
    }


def park_points() -> list[ParkPoint]:
    """Every charge point of the park as the rules see it, by station and position."""
    points = []
    for cp in ChargePoint.objects.select_related("station", "config").order_by("station_id", "position"):
        config = getattr(cp, "config", None)
        points.append(
            ParkPoint(
                id=cp.pk,
                name=str(cp),
                configured=config is not None,
                min_a=config.current_min_a if config is not None else 0,
                meter_type=config.meter_type if config is not None else "",
            )
        )
    return points


@dataclass(frozen=True, slots=True)
class AssignedPoint:
    """One charge point of the load circuit as the agent needs it."""

    id: int
    name: str
    min_a: float
    max_a: float
    fallback_a: float
    phase_rotation: str  # "" (not set) or e.g. "L2L3L1": grid phases of connector phases 1, 2, 3


@dataclass(frozen=True, slots=True)
class CircuitSetup:
    """What the agent reads at start and on ``LmReload``."""

    park_name: str
    fuse_a: float
    threshold_a: float
    strategy: str
    meter_connection: str
    meter_ip: str | None
    meter_type: str  # TCP: the upstream type; RS-485: the charge point's meter type
    rs485_chargepoint: int | None
    higher_fuse_a: float | None
    points: tuple[AssignedPoint, ...]

    @property
    def has_meter(self) -> bool:
        return self.meter_connection != MeterConnection.NONE


def circuit_setup() -> CircuitSetup:
    circuit = load_circuit_get()
    points: list[AssignedPoint] = []
    if not circuit._state.adding:
        for cp in circuit.chargepoints.select_related("config", "station").order_by("station_id", "position"):
            config = getattr(cp, "config", None)
            if config is None:
                continue
            points.append(
                AssignedPoint(
                    id=cp.pk,
                    name=config.name,
                    min_a=float(config.current_min_a),
                    max_a=float(config.current_max_a),
                    fallback_a=float(config.fallback_current_a),
                    phase_rotation=config.phase_rotation or "",
                )
            )
    meter_type = circuit.meter_type
    if circuit.meter_connection == MeterConnection.RS485 and circuit.rs485_chargepoint is not None:
        meter_type = getattr(getattr(circuit.rs485_chargepoint, "config", None), "meter_type", "") or ""
    return CircuitSetup(
        park_name=circuit.park_name,
        fuse_a=float(circuit.fuse_a),
        threshold_a=float(circuit.threshold_a),
        strategy=circuit.strategy,
        meter_connection=circuit.meter_connection,
        meter_ip=circuit.meter_ip,
        meter_type=meter_type,
        rs485_chargepoint=circuit.rs485_chargepoint_id,
        higher_fuse_a=None if circuit.higher_fuse_a is None else float(circuit.higher_fuse_a),
        points=tuple(points),
    )
