"""The manual's Monitoring settings, acting: plug rejection, contactor monitoring, DC residual
current monitoring, overcurrent detection and out-of-balance suppression.

One ``Monitor`` per charge point follows the hardware tick by tick (monotonic seconds) and says
what it claims (a cap or a block, with the key the decision names) and which fault it raises.
No I/O: the controller feeds it readings and turns its answer into claims and events; the tests
drive it directly.

Where the manual leaves a number open we chose (README, "Configuration decisions"):
- DC residual current: a trip at 6 mA DC (IEC 62955 RDC-DD), latched until the vehicle leaves;
- contactor monitoring: the auxiliary contact must show the commanded contactor state within 1 s;
- overcurrent shutdown: > 120 % of the set current for 10 s or > 110 % for 100 s stops charging
  for 60 s; a second trip in the same plug-in is a fault (OverCurrentFailure) until unplug;
- EV/ZE Ready: after 10 s above 110 % the offered current steps down by 10 % of the set current
  (at most 3 stages, never below the minimum), for the rest of the plug-in;
- out-of-balance suppression: a single-phase load is capped at 20 A.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wbm.runtime.backends.controller import HardwareReading

RDC_TRIP_MA = 6.0
CONTACTOR_GRACE_S = 1.0
OVERCURRENT_FAST = (1.20, 10.0)  # ratio, seconds
OVERCURRENT_SLOW = (1.10, 100.0)
OVERCURRENT_PAUSE_S = 60.0
EVZE_AFTER_S = 10.0
EVZE_STEP = 0.10  # of the set current
EVZE_STAGES = 3
UNBALANCE_LIMIT_A = 20.0
PHASE_IDLE_A = 0.5  # below this a phase counts as carrying nothing

# keys of the claims and fault infos (translated in wbm/runtime/reasons.py)
PLUG_REJECTED = "plug_rejected"
CONTACTOR = "contactor_welded"
RESIDUAL = "dc_residual_current"
OVERCURRENT = "overcurrent"
EVZE = "ev_ze_ready"
UNBALANCE = "out_of_balance"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The Monitoring part of a charge point's configuration."""

    socket_outlet: bool
    plug_rejection: str  # "reject_13" | "reject_20_13" (the manual's two; anything else rejects nothing)
    contactor_input: int  # 0: no contactor monitoring, else the digital input 1..4
    aux_contact: str  # "nc" | "no"
    dc_residual_monitoring: bool
    has_meter: bool
    overcurrent_detection: str  # "ev_ze_ready" | "shutdown" (acts only with a meter)
    out_of_balance_suppression: bool
    current_min_a: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What monitoring claims this tick."""

    caps: tuple[tuple[str, float], ...] = ()  # (key, amps)
    blocks: tuple[str, ...] = ()  # keys
    fault: tuple[str, str] | None = None  # (OCPP error code, info key)


NONE = Verdict()


def rejected_cable(rule: str, cable_a: int | None) -> bool:
    """Plug rejection: a cable whose PP rating is too low for this socket is refused."""
    if cable_a is None:
        return False
    if rule == "reject_13":
        return cable_a <= 13
    if rule == "reject_20_13":
        return cable_a <= 20
    return False


@dataclass
class Monitor:
    """The monitoring state of one charge point during one plug-in (reset on unplug)."""

    residual_tripped: bool = False
    contactor_since: float | None = None  # the aux contact disagrees since
    contactor_failed: bool = False
    over_since: float | None = None  # above the slow threshold since
    fast_since: float | None = None  # above the fast threshold since
    paused_until: float | None = None
    trips: int = 0
    overcurrent_failed: bool = False
    evze_stages: int = 0
    evze_since: float | None = None
    evze_base: float = 0.0  # the set current when the first stage came
    history: list[str] = field(default_factory=list)  # what happened, for events

    def unplugged(self) -> None:
        contactor = self.contactor_failed  # a welded contactor stays welded without a vehicle
        self.__init__()  # type: ignore[misc]
        self.contactor_failed = contactor

    def step(self, s: Settings, hw: HardwareReading, *, set_a: float, now: float) -> Verdict:
        """One tick. ``set_a`` is the current the PWM offered (0: none)."""
        self.history.clear()
        vehicle = hw.vehicle
        caps: list[tuple[str, float]] = []
        blocks: list[str] = []
        fault: tuple[str, str] | None = None

        # plug rejection (socket outlets: the cable's PP resistor says what it carries)
        if s.socket_outlet and vehicle is not None and rejected_cable(s.plug_rejection, vehicle.cable_a):
            blocks.append(PLUG_REJECTED)
            fault = ("OtherError", PLUG_REJECTED)

        # DC residual current: trips, and stays tripped until the vehicle leaves
        if s.dc_residual_monitoring and hw.dc_residual_ma >= RDC_TRIP_MA and not self.residual_tripped:
            self.residual_tripped = True
            self.history.append(RESIDUAL)
        if self.residual_tripped:
            blocks.append(RESIDUAL)
            fault = ("GroundFailure", RESIDUAL)

        # contactor monitoring: the auxiliary contact must follow the contactor
        if s.contactor_input and 1 <= s.contactor_input <= len(hw.digital_inputs):
            commanded_closed = hw.iec_state in ("C", "D")
            level = hw.digital_inputs[s.contactor_input - 1]
            # N/C: closed contactor → auxiliary open → no voltage; N/O the other way round
            expected = (not commanded_closed) if s.aux_contact == "nc" else commanded_closed
            if level != expected:
                if self.contactor_since is None:
                    self.contactor_since = now
                if now - self.contactor_since >= CONTACTOR_GRACE_S and not self.contactor_failed:
                    self.contactor_failed = True
                    self.history.append(CONTACTOR)
            else:
                self.contactor_since = None
                if self.contactor_failed and not commanded_closed:
                    self.contactor_failed = False  # opens again: repaired
                    self.history.append(CONTACTOR + ":cleared")
        if self.contactor_failed:
            blocks.append(CONTACTOR)
            fault = ("PowerSwitchFailure", CONTACTOR)

        # charging current monitoring: needs a meter
        meter = hw.meter
        if s.has_meter and meter is not None and vehicle is not None:
            drawn = max(meter.currents_a)
            ratio = drawn / set_a if set_a > 0 else 0.0
            if s.overcurrent_detection == "shutdown":
                self._shutdown(ratio, now, blocks)
                if self.overcurrent_failed:
                    fault = fault or ("OverCurrentFailure", OVERCURRENT)
            elif s.overcurrent_detection == "ev_ze_ready":
                self._evze(ratio, set_a, now)
            if self.evze_stages:
                stage_a = self.evze_base * (1 - EVZE_STEP * self.evze_stages)
                caps.append((EVZE, max(s.current_min_a, round(stage_a, 1))))
            if s.out_of_balance_suppression:
                carrying = [a for a in meter.currents_a if a >= PHASE_IDLE_A]
                if len(carrying) == 1:
                    caps.append((UNBALANCE, UNBALANCE_LIMIT_A))
        return Verdict(caps=tuple(caps), blocks=tuple(blocks), fault=fault)

    def _shutdown(self, ratio: float, now: float, blocks: list[str]) -> None:
        if self.overcurrent_failed:
            blocks.append(OVERCURRENT)
            return
        if self.paused_until is not None:
            if now < self.paused_until:
                blocks.append(OVERCURRENT)
                return
            self.paused_until = None  # the minute is over: charging starts again
            self.history.append(OVERCURRENT + ":resumed")
        self.fast_since = _since(self.fast_since, ratio > OVERCURRENT_FAST[0], now)
        self.over_since = _since(self.over_since, ratio > OVERCURRENT_SLOW[0], now)
        fast = self.fast_since is not None and now - self.fast_since >= OVERCURRENT_FAST[1]
        slow = self.over_since is not None and now - self.over_since >= OVERCURRENT_SLOW[1]
        if fast or slow:
            self.trips += 1
            self.fast_since = self.over_since = None
            if self.trips >= 2:
                self.overcurrent_failed = True
                self.history.append(OVERCURRENT + ":failed")
            else:
                self.paused_until = now + OVERCURRENT_PAUSE_S
                self.history.append(OVERCURRENT)
            blocks.append(OVERCURRENT)

    def _evze(self, ratio: float, set_a: float, now: float) -> None:
        self.evze_since = _since(self.evze_since, ratio > OVERCURRENT_SLOW[0], now)
        if self.evze_since is not None and now - self.evze_since >= EVZE_AFTER_S and self.evze_stages < EVZE_STAGES:
            if not self.evze_stages:
                self.evze_base = set_a
            self.evze_stages += 1
            self.evze_since = now
            self.history.append(EVZE)


def _since(since: float | None, condition: bool, now: float) -> float | None:
    if not condition:
        return None
    return now if since is None else since
