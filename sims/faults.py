"""Injected faults for operator training: what each kind does to the housekeeping telemetry.

A fault is declared in the scenario (``[[faults]]``, see :mod:`sims.scenario`) and acts on
the telemetry of one satellite from ``start_s`` (seconds after the window start) to
``end_s`` (None: the end of the window). Faults change what the sensors report, not the
simulated power, memory or attitude (the plan is flown as planned), so a training run
shows the alarms of a fault on top of an otherwise nominal day.

Kinds, their parameters (defaults) and what the bundled housekeeping dictionary raises:

- ``battery_cell_drop`` (``cells_lost = 1``): one cell of the 8S string shorts; the battery
  voltage reads ``(8 - cells_lost) / 8`` of the nominal value. ``battery_voltage``: the
  ``step`` check (a jump over 1 V, distress) and the low limits.
- ``wheel_overspeed`` (``wheel = 1``, ``speed_rpm = 7000``, ``ramp_s = 60``): reaction
  wheel ``wheel`` runs away, linearly from its nominal speed to ``speed_rpm`` over
  ``ramp_s`` seconds, then stays. ``rw<wheel>_speed``: the limits (|speed| > 6500 rpm is
  critical).
- ``stuck_temperature`` (``sensor = "battery_temp"``): the sensor repeats its reading at
  the fault's start. ``<sensor>``: the frozen-value check (20 identical readings).

Commanding faults (:mod:`sims.command_loop`) act on the uplink and the on-board software, not
on the telemetry; the ground's verifiers show them:

- ``uplink_loss``: every command arriving in the fault's interval is lost (acceptance TIMEOUT).
- ``onboard_limit`` (``command = "SLEW"``, ``argument = "roll_deg"``, ``minimum = -30``,
  ``maximum = 30``): the on-board software accepts that argument only in a range stricter than
  the ground's (acceptance NOK ``rejected_argument``).
- ``schedule_capacity`` (``entries = 8``): the on-board time-based schedule holds that many
  commands (insertions beyond: NOK ``schedule_full``; their activities do not happen).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FAULT_KINDS", "COMMAND_FAULT_KINDS", "TEMPERATURE_SENSORS", "BATTERY_CELLS", "Fault"]

#: Temperature sensors of the housekeeping packet a ``stuck_temperature`` fault can freeze.
TEMPERATURE_SENSORS = ("battery_temp", "obc_temp", "payload_temp")
#: Cells in series in the battery string.
BATTERY_CELLS = 8
#: kind -> {parameter: default}
FAULT_KINDS = {
    "battery_cell_drop": {"cells_lost": 1},
    "wheel_overspeed": {"wheel": 1, "speed_rpm": 7000.0, "ramp_s": 60.0},
    "stuck_temperature": {"sensor": "battery_temp"},
    "uplink_loss": {},
    "onboard_limit": {"command": "SLEW", "argument": "roll_deg", "minimum": -30.0, "maximum": 30.0},
    "schedule_capacity": {"entries": 8},
}
#: Kinds that act on commanding (sims.command_loop), not on the housekeeping values.
COMMAND_FAULT_KINDS = ("uplink_loss", "onboard_limit", "schedule_capacity")


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind``, the satellite (``satellite`` name, ``satellite_index``
    in the constellation), ``start_s`` / ``end_s`` (s after the window start; ``end_s``
    None = to the end) and the kind's ``parameters`` (defaults filled in)."""

    kind: str
    satellite: str
    satellite_index: int
    start_s: float
    end_s: float | None = None
    parameters: dict = field(default_factory=dict)

    @property
    def parameter(self) -> str:
        """The housekeeping parameter the fault shows up on (commanding faults: what they act on)."""
        if self.kind in COMMAND_FAULT_KINDS:
            return {"uplink_loss": "uplink", "schedule_capacity": "on-board schedule"}.get(
                self.kind, f"{self.parameters.get('command')} {self.parameters.get('argument')}")
        if self.kind == "battery_cell_drop":
            return "battery_voltage"
        if self.kind == "wheel_overspeed":
            return f"rw{int(self.parameters['wheel'])}_speed"
        return str(self.parameters["sensor"])

    def active(self, time_s):
        """Boolean mask of ``time_s`` (s after the window start) inside the fault."""
        import numpy as np
        t = np.asarray(time_s, dtype=float)
        on = t >= self.start_s
        if self.end_s is not None:
            on &= t < self.end_s
        return on

    def to_dict(self) -> dict:
        return {"kind": self.kind, "satellite": self.satellite, "start_s": self.start_s,
                "end_s": self.end_s, "parameter": self.parameter, **self.parameters}
