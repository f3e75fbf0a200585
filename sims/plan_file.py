"""A plan.json read back as the activities the simulator derives from a plan.

:func:`schedule_from_plan_file` gives the :class:`~sims.schedule.Schedule` of a ``plan.json``
(the ``groundseg plan`` contract) with :func:`sims.schedule.build_schedule` itself, so a command
load made from the file has the same slews, images and transmissions as the simulator flies.
The file's times carry milliseconds and its attitudes five decimals: images and transmissions
agree with the in-memory plan's to 0.5 ms, slews to 1e-5 deg and 0.5 ms plus, for a slew whose
size sits within 1e-5 deg of an agility model breakpoint, that breakpoint's step (0.01 s for the
piecewise model at 10 deg). The scenario gives the satellites (the plan's must be
among them), the window, the simulation step (transmissions end on a step), the stations' rates
and the agility model (which must be the one the plan names).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .errors import SimulationError
from .schedule import Schedule, build_schedule

__all__ = ["schedule_from_plan_file"]


class _Table(dict):
    """Columns by name with ``len`` = rows (what build_schedule reads of a plan table)."""

    def __len__(self) -> int:
        return len(next(iter(self.values()), ()))


class _PlanFile:
    """The parts of an ImagingPlan that :func:`build_schedule` reads, from plan.json."""

    def __init__(self, doc: dict, scenario, where: str):
        names = list(scenario.constellation.names)
        try:
            epoch = np.datetime64(doc["epoch_utc"].rstrip("Z"), "ns")
            acq, dls = doc["acquisitions"], doc["downlinks"]
            spec = dict(doc.get("agility_model") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SimulationError(f"{where}: not a groundseg plan ({type(exc).__name__}: {exc})") from None
        margin = float(spec.pop("slew_margin_s", 0.5))
        model = scenario.spacecraft.agility
        if spec and spec != model.to_dict():
            raise SimulationError(f"{where}: agility_model {spec} is not the scenario's {model.to_dict()}")
        if scenario.window.start != epoch:
            raise SimulationError(f"{where}: epoch_utc {doc['epoch_utc']} is not the scenario window's start")

        def sec(text, what, i):
            try:
                return float((np.datetime64(str(text).rstrip("Z"), "ns") - epoch) / np.timedelta64(1, "ns")) / 1e9
            except ValueError:
                raise SimulationError(f"{where}: {what}[{i}]: not an ISO 8601 time: {text!r}") from None

        def sat(name, what, i):
            if name not in names:
                raise SimulationError(f"{where}: {what}[{i}].satellite {name!r} is not in the scenario")
            return names.index(name)

        try:
            self.acquisitions = [{k: float(a[k]) for k in ("roll_start_deg", "pitch_start_deg", "roll_end_deg",
                                                          "pitch_end_deg")} for a in acq]
            a_cols = _Table(resource=[sat(a["satellite"], "acquisitions", i) for i, a in enumerate(acq)],
                            start_s=[sec(a["start_utc"], "acquisitions", i) for i, a in enumerate(acq)],
                            end_s=[sec(a["end_utc"], "acquisitions", i) for i, a in enumerate(acq)],
                            data_gbit=[float(a["data_gbit"]) for a in acq], target=[str(a["target"]) for a in acq])
            d_cols = _Table(downlink=list(range(len(dls))),
                            resource=[sat(d["satellite"], "downlinks", i) for i, d in enumerate(dls)],
                            station=[str(d["station"]) for d in dls],
                            start_s=[sec(d["start_utc"], "downlinks", i) for i, d in enumerate(dls)],
                            end_s=[sec(d["end_utc"], "downlinks", i) for i, d in enumerate(dls)],
                            drain_stop_s=[sec(d["drain_stop_utc"], "downlinks", i) for i, d in enumerate(dls)],
                            drained_gbit=[float(d["data_gbit"]) for d in dls])
            rates = [scenario.downlink_rate_mbps(st) / 1000.0 for st in d_cols["station"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise SimulationError(f"{where}: not a groundseg plan ({type(exc).__name__}: {exc})") from None
        for col in (*a_cols.values(), *d_cols.values()):
            if any(isinstance(x, float) and not math.isfinite(x) for x in col):
                raise SimulationError(f"{where}: a time, attitude or volume is not finite")
        self.plan = type("Plan", (), {"acquisitions": a_cols, "downlinks": d_cols})()
        self.spacecraft = type("Spacecraft", (), {"agility": model, "slew_margin_s": margin})()
        self.problem = type("Problem", (), {"dl_rate_gbit_s": np.asarray(rates, dtype=float)})()


def schedule_from_plan_file(path, scenario) -> Schedule:
    """The Schedule of ``path`` (a plan.json) flown in ``scenario`` (module docstring)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulationError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise SimulationError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise SimulationError(f"{path}: not a groundseg plan (a JSON object expected)")
    plan = _PlanFile(doc, scenario, str(path))
    w = scenario.window
    return build_schedule(plan, None, len(scenario.constellation), w.duration_s, w.step_s)
