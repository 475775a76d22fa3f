"""The one interface through which code talks to charge point hardware.

The default implementation (``simulated.SimulatedBackend``) simulates the hardware; a backend
for real hardware implements the same methods. Chosen once by the ``WBM_CONTROLLER_BACKEND``
setting, never by anything a request carries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from wbm.runtime.snapshot import MeterReading, Vehicle

DIGITAL_INPUTS = 4
DIGITAL_OUTPUTS = 4
ANALOG_INPUTS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwarePoint:
    """Topology of one charge point, as discovered (simulated: from the database)."""

    id: int
    station_id: int
    position: int
    device_uid: str
    energy_register_wh: float
    meter_installed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwareReading:
    """What the hardware reports about one charge point at one instant."""

    iec_state: str  # A..F
    pwm_limit_a: float
    currents_a: tuple[float, float, float]
    meter: MeterReading | None  # None: no meter, or it cannot be read
    vehicle: Vehicle | None
    locked: bool
    temperature_c: float
    fault_code: str  # "NoError" when fine
    fault_info: str
    digital_inputs: tuple[bool, ...]
    digital_outputs: tuple[str, ...]
    analog_inputs_v: tuple[float, ...]
    bus_connected: bool
    hlc_error: str = ""  # ISO 15118 error of the current session, "" when fine
    rfid_board_firmware: str = ""  # firmware of a CHARX RFID/NFC board wired here, "" when none
    vehicle_since: float | None = None  # epoch seconds the vehicle was connected, when the hardware knows
    dc_residual_ma: float = 0.0  # DC residual current the RDC-DD sensor measures


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendEvent:
    """Something that happened at the hardware: ``kind`` is one of plugged, unplugged, rfid,
    input_rising, input_falling, fault, fault_cleared."""

    kind: str
    cp_id: int
    value: str = ""


class ControllerBackend(ABC):
    """Hardware access. Every method runs on the runtime's event loop."""

    @abstractmethod
    async def open(self, points: list[HardwarePoint]) -> None:
        """Attach to the charge points (called once at runtime start)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the hardware."""

    @abstractmethod
    def point_ids(self) -> list[int]:
        """The charge points this backend drives."""

    @abstractmethod
    def read(self, cp_id: int) -> HardwareReading:
        """The latest reading of one charge point (no I/O: served from the last poll)."""

    @abstractmethod
    async def poll(self, now: float) -> list[BackendEvent]:
        """Refresh readings; returns what happened since the last poll."""

    @abstractmethod
    async def set_pwm(self, cp_id: int, amps: float) -> None:
        """Offer ``amps`` per phase to the vehicle by PWM; 0 switches the PWM off."""

    @abstractmethod
    async def set_available(self, cp_id: int, available: bool) -> None:
        """False puts the charge point into IEC 61851-1 state F."""

    @abstractmethod
    async def set_locked(self, cp_id: int, locked: bool) -> None:
        """Drive the socket actuator."""

    @abstractmethod
    async def set_digital_output(self, cp_id: int, index: int, mode: str) -> None:
        """Set digital output ``index`` (1-based) to a mode (low, high, floating, ...)."""

    @abstractmethod
    async def set_meter_installed(self, cp_id: int, installed: bool) -> None:
        """Whether an energy measuring device is wired (follows the configuration)."""

    @abstractmethod
    async def set_contactor_monitor(self, cp_id: int, index: int, aux_contact: str) -> None:
        """The digital input (1-based, 0: none) the contactor's auxiliary contact ("nc" / "no")
        is wired to (follows the configuration)."""

    @abstractmethod
    def energy_registers(self) -> dict[int, float]:
        """Energy register per charge point in Wh, for persisting."""


class SimulatorControl(ABC):
    """Operations only a simulated backend offers: what a person does at the charge point."""

    @abstractmethod
    def plug_in(
        self,
        cp_id: int,
        *,
        phases: int,
        max_current_a: float,
        ventilation: bool,
        hlc: bool = False,
        evcc_id: str = "",
        cable_a: int | None = None,
    ) -> None: ...

    @abstractmethod
    def unplug(self, cp_id: int) -> None: ...

    @abstractmethod
    def vehicle_mode(self, cp_id: int, mode: str) -> None: ...

    @abstractmethod
    def present_rfid(self, cp_id: int, tag: str) -> None: ...

    @abstractmethod
    def set_digital_input(self, cp_id: int, index: int, value: bool) -> None: ...

    @abstractmethod
    def set_analog_input(self, cp_id: int, index: int, volts: float) -> None: ...

    @abstractmethod
    def inject_fault(self, cp_id: int, code: str, info: str) -> None: ...

    @abstractmethod
    def clear_fault(self, cp_id: int) -> None: ...

    @abstractmethod
    def set_temperature(self, cp_id: int, celsius: float | None) -> None: ...

    @abstractmethod
    def set_hlc_error(self, cp_id: int, error: str) -> None:
        """Make the ISO 15118 communication with the plugged vehicle fail ("" clears)."""

    @abstractmethod
    def set_contactor_welded(self, cp_id: int, welded: bool) -> None:
        """A charging contactor that no longer opens."""

    @abstractmethod
    def set_dc_residual(self, cp_id: int, milliamps: float) -> None:
        """A DC residual current in the charging circuit."""

    @abstractmethod
    def set_overdraw(self, cp_id: int, factor: float) -> None:
        """The plugged vehicle draws ``factor`` times the offered current."""

    @abstractmethod
    def set_bus_connected(self, cp_id: int, connected: bool) -> None:
        """Cut or restore the charge point's connection to its head module (backplane bus / LAN)."""
