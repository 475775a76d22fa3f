"""Meter values from the runtime's snapshot: the measurands the meter has, per phase where it
has them (OCPP 1.6 MeterValues / SampledValue)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wbm.runtime.clock import system_time
from wbm.runtime.snapshot import ChargePointState

PHASES = ("L1", "L2", "L3")
PHASES_N = ("L1-N", "L2-N", "L3-N")


def system_now() -> datetime:
    """The system clock (System Control → Time, which may be set by hand) as an aware UTC time:
    OCPP timestamps and expiry checks use it, never the host's clock directly."""
    return datetime.fromtimestamp(system_time(), UTC)


def ocpp_time(epoch: float) -> str:
    """OCPP's dateTime: UTC with milliseconds and ``Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def energy_wh(state: ChargePointState | None, hardware_wh: float | None = None) -> int:
    """The energy register in Wh: the meter's, else the hardware's register, else 0."""
    if state is not None and state.meter is not None:
        return int(state.meter.energy_wh)
    return int(hardware_wh or 0)


def _value(value: float, measurand: str, unit: str, context: str, phase: str = "", digits: int = 1) -> dict[str, Any]:
    sampled: dict[str, Any] = {
        "value": str(round(value)) if digits == 0 else f"{value:.{digits}f}",
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": "Outlet",
        "unit": unit,
    }
    if phase:
        sampled["phase"] = phase
    return sampled


def sampled_values(
    state: ChargePointState | None, measurands: list[str], context: str, hardware_wh: float | None = None
) -> list[dict[str, Any]]:
    """The SampledValues of ``measurands`` this charge point can give. Without a meter only the
    energy register is reported (from the hardware's register)."""
    meter = state.meter if state is not None else None
    out: list[dict[str, Any]] = []
    phases = state.vehicle.phases if state is not None and state.vehicle is not None else 3
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            out.append(_value(energy_wh(state, hardware_wh), measurand, "Wh", context, digits=0))
        elif meter is None or state is None:
            continue
        elif measurand == "Power.Active.Import":
            out.append(_value(meter.power_w, measurand, "W", context))
        elif measurand == "Current.Import":
            for phase, amps in list(zip(PHASES, meter.currents_a, strict=True))[:phases]:
                out.append(_value(amps, measurand, "A", context, phase))
        elif measurand == "Voltage":
            for phase, volts in zip(PHASES_N, meter.voltages_v, strict=True):
                out.append(_value(volts, measurand, "V", context, phase))
        elif measurand == "Current.Offered":
            out.append(_value(state.pwm_limit_a, measurand, "A", context))
        elif measurand == "Power.Offered":
            volts = sum(meter.voltages_v[:phases]) or 230.0 * phases
            out.append(_value(state.pwm_limit_a * volts, measurand, "W", context))
        elif measurand == "Frequency":
            sampled = _value(meter.frequency_hz, measurand, "", context, digits=2)
            del sampled["unit"]  # UnitOfMeasure has no Hz in OCPP 1.6
            out.append(sampled)
        elif measurand == "Power.Factor":
            sampled = _value(meter.power_factor, measurand, "", context, digits=2)
            del sampled["unit"]
            out.append(sampled)
        elif measurand == "Temperature" and state.temperature_configured:
            sampled = _value(state.temperature_c, measurand, "Celsius", context)
            sampled["location"] = "Body"
            out.append(sampled)
    return out


def meter_value(
    state: ChargePointState | None,
    measurands: list[str],
    context: str,
    at: float,
    hardware_wh: float | None = None,
) -> dict[str, Any] | None:
    """One MeterValue (timestamp + sampled values), None when nothing can be reported."""
    values = sampled_values(state, measurands, context, hardware_wh)
    return {"timestamp": ocpp_time(at), "sampledValue": values} if values else None


def measurand_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]
