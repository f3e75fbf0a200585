"""The urgent request in the running plan: re-plan with minimal perturbation.

:func:`replan_request` rebuilds the current plan's problem (the same propagation grid, contact
plan, targets and fleet as ``groundseg plan``, so its windows are the plan's to the
microsecond), adds the request as one more task and hands both to
:func:`groundseg.planning.replan`:

- the **request's task**: the area's centroid, worth ten times the most important target;
  its alternatives are every pass of every satellite and mode that can image it inside the
  plan's window (optical ones only in daylight, and not when the cloud cover is above the
  limit), each starting no earlier than the satellite's first command uplink;
- its alternatives are **ranked by delivery** (first in first out behind the current plan's
  data, :func:`groundseg.response.delivery`), then by the area they cover (optical: times the
  clear sky); alternatives equal in both by what they displace;
- the current plan's acquisitions (``plan.json``) are mapped onto their tasks and
  alternatives; those starting before their satellite's first command uplink are **frozen**.

The new plan is a :class:`~groundseg.planning.ImagingPlan` (``plan.json``) and every change is
listed in ``changes.csv`` (``task,action,old_start_utc,new_start_utc,reason``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .contacts import plan_contacts
from .errors import GroundsegError
from .fleet import merge_opportunities
from .imaging_geometry import ImagingGeometry
from .passes import passes_from_ephemeris
from .planning import ImagingPlan, imaging_problem, replan
from .planning.errors import PlanningError
from .response import (OnBoardData, ResponseError, ResponseSettings, aoi_point, command_times,
                       contact_links, delivery, expected_coverage, sensor_searches)
from .table import Table
from .timegrid import TimeGrid, format_utc, parse_utc

__all__ = ["ResponsePlan", "replan_request", "CHANGE_COLUMNS"]

CHANGE_COLUMNS = ("task", "action", "old_start_utc", "new_start_utc", "reason")
_URGENT_WEIGHT = 10.0
_MATCH_S = 1e-3


@dataclass
class ResponsePlan:
    """The new ``plan`` (:class:`~groundseg.planning.ImagingPlan`), the model-level
    ``result`` (:class:`~groundseg.planning.Replan`), ``changes`` (:data:`CHANGE_COLUMNS`),
    the request's ``task`` id, the ``epoch`` (datetime64) and timings ``geometry_s``,
    ``replan_s`` (the re-plan itself: loading the plan, the moves, the new plan, the check)."""

    plan: ImagingPlan
    result: object
    changes: Table
    task: str
    epoch: np.datetime64
    geometry_s: float
    replan_s: float

    def summary_lines(self) -> list[str]:
        """How the request was served and what gave way."""
        r, acts = self.result, list(self.changes["action"])
        if r.alternative < 0:
            return [f"re-plan: the request fits nowhere in the current plan's window; the plan "
                    f"is unchanged ({self.replan_s:.2f} s)"]
        a = next(x for x in self.plan.acquisitions if x["target_group"] == self.task)
        what = f"{a['satellite']} {a.get('sar_mode') or a.get('sensor', 'optical')}"
        lines = [f"re-plan: {what} at {a['start_utc']} ({r.strategy}); "
                 f"{acts.count('kept')} kept, {acts.count('moved')} moved, "
                 f"{acts.count('dropped')} dropped (value {r.displaced_value:.2f}), "
                 f"verify_plan: ok, {self.replan_s:.2f} s"]
        gone = [t for t, x in zip(self.changes["task"], acts) if x == "dropped"]
        if gone:
            lines.append("gave way: " + ", ".join(gone[:8]) + (" ..." if len(gone) > 8 else ""))
        return lines


def _task_id(row: dict) -> str:
    part = row.get("part")
    return str(row["target"]) if part in ("mono", "strip", None) else f"{row['target']}/{part}"


def _current(problem, plan: dict, epoch, names, source: str) -> dict:
    """``{task id: (alternative, start_s)}`` of ``plan.json``'s acquisitions on ``problem``."""
    out = {}
    index = {n: i for i, n in enumerate(names)}
    for i, row in enumerate(plan.get("acquisitions", [])):
        where = f"{source}: acquisitions[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("target"), str) \
                or not isinstance(row.get("satellite"), str):
            raise ResponseError(f"{where}: expected an object with a target and a satellite")
        tid = _task_id(row)
        if tid not in problem.task_index or row["satellite"] not in index:
            raise ResponseError(f"{where}: {tid!r} on {row.get('satellite')!r} is not a task of "
                                f"the scenario"[:300])
        try:
            start = float((parse_utc(row.get("start_utc"))[0] - epoch) / np.timedelta64(1, "ns")) / 1e9
        except (GroundsegError, TypeError, ValueError):
            raise ResponseError(f"{where}.start_utc: expected an ISO 8601 UTC time") from None
        t = problem.task_index[tid]
        s = index[row["satellite"]]
        for j, a in enumerate(problem.task_alts[t]):
            lo, hi = problem.alt_earliest_s[a], problem.alt_latest_start_s[a]
            if problem.alt_resource[a] == s and lo - _MATCH_S <= start <= hi + _MATCH_S:
                out[tid] = (j, min(max(start, lo), hi))
                break
        else:
            raise ResponseError(f"{where}: no opportunity of {row['satellite']} on {tid!r} at "
                                f"{row.get('start_utc')} in the scenario (another scenario's plan?)")
    return out


def _rank(problem, task, opp, fleet, aoi, links, onboard, settings) -> np.ndarray:
    """Per alternative of the request's task ``(n, 2)``: the delivery of an image starting
    at its window's start (inf when the memory or the downlinks cannot take it), and minus
    the expected covered fraction of the area."""
    if task not in problem.task_index:
        return np.zeros((0, 2))
    alts = problem.task_alts[problem.task_index[task]]
    c = opp.columns
    rows = np.array([int(problem.alt_label[a]) for a in alts], dtype=np.int64)
    out = np.zeros((len(alts), 2))
    sensors, swath, length = [], [], []
    for k, (a, row) in enumerate(zip(alts, rows)):
        s = int(problem.alt_resource[a])
        begin, dur = float(problem.alt_earliest_s[a]), float(problem.alt_duration_s[a])
        got = delivery(links[s], onboard, s, begin, begin + dur, float(problem.alt_data_gbit[a]),
                       fleet.payload_of(s).spacecraft.memory_capacity_gbit)
        out[k, 0] = got[0] if not isinstance(got, str) else math.inf
        sensor = fleet.payload_of(s).sensor
        if c["sar_mode"][row]:
            mode = sensor.mode(c["sar_mode"][row])
            sensors.append("sar"), swath.append(mode.swath_km), length.append(mode.scene_length_km)
        else:
            sensors.append("optical"), swath.append(sensor.swath_km)
            length.append(opp.geometry.ground_speed_km_s[s] * dur)
    out[:, 1] = -expected_coverage(aoi, sensors, c["heading_deg"][rows], swath, length,
                                   settings.cloud_fraction)
    return out


def replan_request(fleet, stations, targets, window, plan: dict, aoi, at,
                   settings: ResponseSettings = ResponseSettings(), onboard=None,
                   source: str = "plan.json") -> ResponsePlan:
    """Re-plan ``plan`` (the ``plan.json`` contract) of ``fleet`` over ``window`` ``(start,
    end)`` on ``targets`` with the request for ``aoi`` arriving at ``at`` (module docstring).
    ``onboard``: the plan's data (:func:`groundseg.response.onboard_from_plan`), for the
    ranking by delivery."""
    t0 = time.perf_counter()
    if not isinstance(plan, dict) or not isinstance(plan.get("acquisitions", []), list):
        raise ResponseError(f"{source}: expected a plan object with a list of acquisitions")
    start, end = (np.datetime64(parse_utc(x)[0], "ns") for x in window)
    at = np.datetime64(parse_utc(at)[0], "ns")
    if not start <= at < end:
        raise ResponseError(f"the request at {format_utc(at)[0]} is outside the plan's window "
                            f"{format_utc(start)[0]} .. {format_utc(end)[0]}")
    eph = fleet.constellation.propagate(TimeGrid.range(start, end, settings.step_s))
    contacts = plan_contacts(passes_from_ephemeris(eph, stations), stations, satellite_exclusive=True)
    n_sat = len(fleet)
    spacecraft = fleet.spacecraft()
    links = contact_links(contacts, start, n_sat, [sc.downlink_rate_mbps for sc in spacecraft])
    at_s = float((at - start) / np.timedelta64(1, "ns")) / 1e9
    command_s = command_times(links, at_s + settings.order_lead_min * 60.0, settings.uplink_s)

    task = aoi.ids[0] if aoi.ids[0] not in targets.ids else f"urgent:{aoi.ids[0]}"
    point = aoi_point(aoi, task, _URGENT_WEIGHT * float(np.max(targets.priority)))
    geo = ImagingGeometry(eph)
    parts = [fleet.opportunities(geo, targets)]
    for sensor, _, opp, _, _, _ in sensor_searches(fleet, geo, point, settings):
        if sensor == "optical" and settings.cloud_fraction > settings.max_cloud_fraction:
            continue
        c = opp.columns
        c["start_s"] = np.maximum(c["start_s"], command_s[c["satellite_index"]])
        keep = c["start_s"] + c["duration_s"] <= c["end_s"]
        for k in list(c):
            c[k] = np.asarray(c[k])[keep]
        opp.aim_start_km, opp.aim_end_km = opp.aim_start_km[keep], opp.aim_end_km[keep]
        parts.append(opp)
    merged = merge_opportunities(parts, targets)
    problem, index_of = imaging_problem(merged, contacts, spacecraft,
                                        budgets=fleet.budgets(0.0, float(eph.times.seconds[-1])))
    current = _current(problem, plan, start, list(fleet.constellation.names), source)
    geometry_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    if onboard is None:
        onboard = OnBoardData.empty([sc.initial_memory_gbit for sc in spacecraft])
    onboard = onboard.shifted(at_s)
    rank = _rank(problem, task, merged, fleet, aoi, links, onboard, settings)
    try:
        result = replan(problem, current, task, rank=rank, frozen_until_s=command_s,
                        tolerance_s=_MATCH_S, missing_ok=True)
    except PlanningError as exc:
        raise ResponseError(f"{source}: {exc}") from None
    new = ImagingPlan(result.plan, problem, merged, index_of, spacecraft)
    replan_s = time.perf_counter() - t1
    ch = result.changes

    def utc(x):
        x = np.asarray(x, dtype=float)
        out = start + np.where(np.isfinite(x), x * 1e9, 0).round().astype("timedelta64[ns]")
        return np.where(np.isfinite(x), out, np.datetime64("NaT"))
    changes = Table({"task": ch["task"], "action": ch["action"],
                     "old_start_utc": utc(ch["old_start_s"]), "new_start_utc": utc(ch["new_start_s"]),
                     "reason": ch["reason"]})
    return ResponsePlan(new, result, changes, task, start, geometry_s, replan_s)
