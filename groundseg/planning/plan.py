"""The result of planning: acquisitions, downlinks, a command timeline and what was left out.

Column orders (stable; the CSV and JSON writers follow them):

- ``acquisitions``: ``target`` (task id), ``alternative`` (index within the task),
  ``label``, ``resource``, ``resource_name``, ``start_s``, ``end_s`` (NaN for untimed),
  ``value``, ``data_gbit``, ``start_roll_deg``, ``start_pitch_deg``, ``end_roll_deg``,
  ``end_pitch_deg``.
- ``downlinks``: ``downlink`` (index in the problem), ``resource``, ``resource_name``,
  ``station``, ``start_s``, ``end_s``, ``drained_gbit``, ``drain_stop_s``.
- ``timeline``: ``resource``, ``resource_name``, ``time_s``, ``event`` (``slew_start``,
  ``imaging_on``, ``imaging_off``, ``downlink_start``, ``downlink_stop``), ``target``,
  ``station``, ``roll_deg``, ``pitch_deg``, ``data_gbit``. A slew starts just in time:
  the transition time before imaging_on, from the previous acquisition's end attitude (from
  nadir for the first one). ``downlink_stop`` is when the last bit was drained.
- ``unscheduled``: ``target``, ``reason`` (``no_opportunity``, a caller's reason such as
  ``sun``, ``conflict``, ``memory``, ``budget``, ``group``), ``detail``.
- ``requests``: ``request`` (id), ``covered_fraction`` (sum of the shares of its scheduled
  tasks), ``value`` (its curve at that fraction; part of the objective), ``tasks``,
  ``scheduled`` (counts).

JSON (``to_json``)::

    {"objective": float, "upper_bound": float, "gap": float, "status": "optimal"|"feasible",
     "solver": str, "solve_time_s": float, "epoch_utc": str|null,
     "agility_model": {...}, "memory_capacity_gbit": float (list when resources differ;
     null = unlimited), "acquisitions": [{column: value}], "downlinks": [...],
     "unscheduled": [{"target", "reason", "detail"}],
     "requests": [{"request", "covered_fraction", "value", "tasks", "scheduled"}]}
"""
from __future__ import annotations

import json
import math

from ..table import Table

__all__ = ["Plan"]


class Plan:
    """A plan and its quality: ``objective``, an ``upper_bound`` on any plan's objective and
    ``gap = (upper_bound - objective) / upper_bound`` (0 when the bound is 0)."""

    def __init__(self, *, objective, upper_bound, status, solver, solve_time_s,
                 acquisitions: Table, downlinks: Table, timeline: Table, unscheduled: Table,
                 agility_model: dict, memory_capacity_gbit, epoch_utc=None,
                 requests: Table | None = None):
        self.objective = float(objective)
        self.upper_bound = float(upper_bound)
        if self.upper_bound > 0 and math.isfinite(self.upper_bound):
            self.gap = max(0.0, (self.upper_bound - self.objective) / self.upper_bound)
        elif self.upper_bound == 0:
            self.gap = 0.0
        else:
            self.gap = math.inf
        self.status = status
        self.solver = solver
        self.solve_time_s = float(solve_time_s)
        self.acquisitions = acquisitions
        self.downlinks = downlinks
        self.timeline = timeline
        self.unscheduled = unscheduled
        self.agility_model = agility_model
        self.memory_capacity_gbit = memory_capacity_gbit
        self.epoch_utc = epoch_utc
        self.requests = requests if requests is not None else Table(
            {k: [] for k in ("request", "covered_fraction", "value", "tasks", "scheduled")})

    def to_dict(self) -> dict:
        def num(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x
        return {
            "objective": self.objective,
            "upper_bound": num(self.upper_bound),
            "gap": num(self.gap),
            "status": self.status,
            "solver": self.solver,
            "solve_time_s": self.solve_time_s,
            "epoch_utc": self.epoch_utc,
            "agility_model": dict(self.agility_model),
            "memory_capacity_gbit": self.memory_capacity_gbit,
            "acquisitions": self.acquisitions.records(),
            "downlinks": self.downlinks.records(),
            "unscheduled": self.unscheduled.records(),
            "requests": self.requests.records(),
        }

    def to_json(self, path=None, indent: int | None = 1) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def timeline_csv(self, path=None) -> str:
        """The per-resource command timeline as CSV (columns in the module docstring)."""
        return self.timeline.to_csv(path)

    to_csv = timeline_csv

    def summary(self) -> str:
        return (f"objective {self.objective:g}, upper bound {self.upper_bound:g}, "
                f"gap {100 * self.gap:.3f}% ({self.status}, {self.solver}, "
                f"{self.solve_time_s:.2f} s): {len(self.acquisitions)} acquisitions, "
                f"{len(self.downlinks)} downlinks, {len(self.unscheduled)} unscheduled")

    def __repr__(self) -> str:
        return f"Plan({self.summary()})"
