"""The imaging case: opportunities + contact plan -> the scheduling model -> a plan with geometry.

:func:`plan_imaging` maps :class:`~groundseg.access.Opportunities` and a contact plan onto a
:class:`~groundseg.planning.model.Problem`, solves it, and turns the plan back into the
``plan.json`` contract of ``groundseg plan`` (satellites, UTC times, attitudes,
off-nadir, Sun elevation).

Mapping:

- A **point target** is a task of weight ``priority``; each opportunity is an alternative on
  its satellite, with the opportunity window, the scene duration, the start / end attitude
  sampled as a function of the start time (``attitude_samples`` samples, linear between),
  and ``data_gbit = image_data_rate_gbit_s * duration_s``.
- A **stereo target** becomes two tasks in one all-or-nothing group, ``<id>/fore`` and
  ``<id>/aft``, each worth half: the fore image starts and ends with a pitch of at least
  ``+stereo_pitch_deg``, the aft one with at most ``-stereo_pitch_deg``, and both come from
  the same opportunity (same satellite, same pass): a fore alternative on one opportunity
  and an aft alternative on another are incompatible.
- A **polygon** becomes a :class:`~groundseg.planning.requests.Request` of one task per
  strip, each with its share of the polygon's area, valued ``priority * area_value(f)`` of
  the covered fraction ``f`` (``area_value``: a :class:`PiecewiseLinear` with value 1 at
  ``f = 1``; default linear, i.e. ``priority * share`` per strip). Of the two strip sets
  (ascending / descending track headings) only the one with the larger total opportunity
  value is offered, so area is never counted twice; for a 10:30 sun-synchronous
  constellation the day-side passes all run the same way. ``plan.json`` reports each
  polygon's covered fraction and value under ``requests``.
- **Downlinks** are the passes the contact plan schedules, at ``min(station rate,
  transmitter rate)``; the contact plan already shares antennas between satellites.
- Attitudes between samples are interpolated, so the planner's slew times carry a margin
  (``slew_margin_s``) that covers the interpolation error (about 0.1 deg at 9 samples).
  The plan reports the exact attitude at every acquisition's start and end.
- Targets without any opportunity keep the reason the access search gave (``sun``,
  ``no_opportunity``, ``propagation``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..access import Opportunities
from ..earth import GroundPoints, ecef_to_geodetic
from ..errors import GroundsegError
from ..sun import solar_elevation_rad
from ..timegrid import TimeGrid, format_utc
from .agility import PiecewiseAgility, as_transition_model, model_dict, scalar_transition
from .model import Alternative, Downlink, Incompatibility, Problem, Resource, Task
from .plan import Plan
from .requests import PiecewiseLinear, Request, task_nominal_value
from .solve import solve

__all__ = ["ImagingSpacecraft", "ImagingPlan", "imaging_problem", "plan_imaging"]

_EPS_S = 1e-6


@dataclass(frozen=True)
class ImagingSpacecraft:
    """What the planner needs to know about each satellite (the same for all of them)."""

    memory_capacity_gbit: float = 512.0
    initial_memory_gbit: float = 0.0
    image_data_rate_gbit_s: float = 0.6
    downlink_rate_mbps: float = 300.0
    agility: object = field(default_factory=PiecewiseAgility)
    stereo_pitch_deg: float = 15.0
    slew_margin_s: float = 0.5
    attitude_samples: int = 9

    def __post_init__(self):
        for key in ("memory_capacity_gbit", "image_data_rate_gbit_s", "downlink_rate_mbps",
                    "stereo_pitch_deg"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and value > 0):
                raise GroundsegError(f"spacecraft {key} must be a positive number, got {value!r}")
        if not 0 <= self.initial_memory_gbit <= self.memory_capacity_gbit:
            raise GroundsegError("spacecraft initial_memory_gbit must be within [0, capacity]")
        if self.attitude_samples < 2:
            raise GroundsegError("spacecraft attitude_samples must be at least 2")


class _MarginAgility:
    """A transition model plus a constant margin on every transition."""

    def __init__(self, base, margin_s: float):
        self.base, self.margin_s = as_transition_model(base), float(margin_s)
        self.min_transition_s = float(self.base.min_transition_s) + self.margin_s
        self.time_dependent = bool(getattr(self.base, "time_dependent", False))
        # a constant margin changes neither the slope nor the jumps of the base model
        self.lipschitz_s_per_deg = getattr(self.base, "lipschitz_s_per_deg", None)
        self.lipschitz_jump_s = getattr(self.base, "lipschitz_jump_s", 0.0)

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None):
        return np.asarray(self.base.transition_time_s(from_deg, to_deg, from_time_s, to_time_s),
                          dtype=float) + self.margin_s

    def _scalar_transition(self):
        one, m = scalar_transition(self.base), self.margin_s
        return lambda fr, fp, tr, tp, t0, t1: one(fr, fp, tr, tp, t0, t1) + m

    def to_dict(self):
        return model_dict(self.base)


@dataclass
class _Alt:
    row: int            # opportunity row
    part: str           # "", "fore", "aft"
    lo_s: float         # earliest start
    hi_s: float         # latest end


def _stereo_ranges(opp: Opportunities, rows, theta_deg: float, step_s: float = 1.0):
    """Per opportunity row: fore start range [lo, hi] and aft start range, NaN if none."""
    c = opp.columns
    out = {}
    if len(rows) == 0:
        return out
    lo = c["start_s"][rows]
    hi = c["end_s"][rows] - c["duration_s"][rows]
    n = np.maximum(np.ceil((hi - lo) / step_s).astype(int) + 1, 1)
    rr = np.repeat(rows, n)
    frac = np.concatenate([np.linspace(0, 1, k) if k > 1 else np.zeros(1) for k in n])
    ts = np.repeat(lo, n) + np.repeat(hi - lo, n) * frac
    att = opp.attitude(rr, ts, ts + c["duration_s"][rr])
    fore = (att["pitch_start_deg"] >= theta_deg) & (att["pitch_end_deg"] >= theta_deg)
    aft = (att["pitch_start_deg"] <= -theta_deg) & (att["pitch_end_deg"] <= -theta_deg)
    ends = np.cumsum(n)
    for k, row in enumerate(rows):
        sl = slice(ends[k] - n[k], ends[k])
        t, f, a = ts[sl], fore[sl], aft[sl]
        out[int(row)] = ((t[f].min(), t[f].max()) if f.any() else None,
                         (t[a].min(), t[a].max()) if a.any() else None)
    return out


def imaging_problem(opp: Opportunities, contacts=None, spacecraft: ImagingSpacecraft = ImagingSpacecraft(),
                    area_value: PiecewiseLinear | None = None, budgets=()):
    """The :class:`Problem` for ``opp`` and the scheduled passes of ``contacts``
    (a :class:`~groundseg.contacts.ContactPlan`, or None for no downlink), and the list that
    maps every alternative back to its opportunity (``_Alt`` per task, per alternative).
    ``area_value``: the polygons' value curve (see the module docstring). ``spacecraft``: one
    for every satellite, or one per satellite (a mixed fleet: each resource gets its own
    memory, transmitter and agility). Rows with a ``data_rate_gbit_s`` column record at that
    rate; rows with a ``radar_power_w`` use ``radar_s`` and ``radar_wh`` of ``budgets``
    (:class:`~groundseg.planning.Budget`)."""
    curve = PiecewiseLinear.linear() if area_value is None else area_value
    if not isinstance(curve, PiecewiseLinear) or abs(curve.total - 1.0) > 1e-12:
        raise GroundsegError("area_value: expected a PiecewiseLinear curve with value 1 at fraction 1")
    c = opp.columns
    targets = opp.targets
    n_sat = len(opp.ephemeris.constellation)
    fleet = _per_satellite(spacecraft, n_sat)
    spacecraft = fleet[0]
    dur = c["duration_s"]
    rate = np.array([fleet[s].image_data_rate_gbit_s for s in c["satellite_index"]], dtype=float)
    if "data_rate_gbit_s" in c:
        rate = np.where(np.isfinite(c["data_rate_gbit_s"]), c["data_rate_gbit_s"], rate)
    power = c["radar_power_w"] if "radar_power_w" in c else np.full(len(opp), np.nan)
    value = np.asarray(c["priority"], dtype=float) * np.asarray(c["share"], dtype=float)

    # Polygons: keep the strip set with the larger total value.
    is_strip = c["kind"] == "strip"
    keep = np.ones(len(opp), dtype=bool)
    for parent in np.unique(c["parent_target"][is_strip]):
        sel = is_strip & (c["parent_target"] == parent)
        sets = np.unique(c["strip_set"][sel])
        if sets.size > 1:
            totals = [value[sel & (c["strip_set"] == s)].sum() for s in sets]
            keep &= ~(sel & (c["strip_set"] != sets[int(np.argmax(totals))]))
    rows_all = np.flatnonzero(keep)
    stereo_rows = rows_all[(c["mode"][rows_all] == "stereo") & ~is_strip[rows_all]]
    ranges = _stereo_ranges(opp, stereo_rows, spacecraft.stereo_pitch_deg)

    # Group opportunity rows by task.
    task_alts: dict[str, list[_Alt]] = {}
    task_meta: dict[str, tuple] = {}          # id -> (weight, group, target id)
    strips: dict[str, dict] = {}              # polygon -> {strip task: (share, priority)}
    for row in rows_all:
        name = str(c["target"][row])
        parent = str(c["parent_target"][row])
        prio = float(c["priority"][row])
        lo, hi = float(c["start_s"][row]), float(c["end_s"][row])
        if row in ranges:
            fore, aft = ranges[int(row)]
            for part, rng in (("fore", fore), ("aft", aft)):
                tid = f"{name}/{part}"
                task_meta.setdefault(tid, (0.5 * prio, name, parent))
                alts = task_alts.setdefault(tid, [])
                if rng is not None:
                    alts.append(_Alt(int(row), part, rng[0], rng[1] + dur[row]))
        elif is_strip[row]:
            task_meta.setdefault(name, (0.0, None, parent))
            task_alts.setdefault(name, []).append(_Alt(int(row), "", lo, hi))
            strips.setdefault(parent, {}).setdefault(name, (float(c["share"][row]), prio))
        else:
            task_meta.setdefault(name, (prio, None, parent))
            task_alts.setdefault(name, []).append(_Alt(int(row), "", lo, hi))
    # Targets the access search found no opportunity for.
    reasons = {}
    for rec in opp.unscheduled.records():
        reasons[str(rec["target"])] = str(rec["reason"])
    for i, tid in enumerate(targets.ids):
        tid = str(tid)
        if tid in reasons and tid not in task_meta and not any(
                m[2] == tid for m in task_meta.values()):
            task_meta[tid] = (float(targets.priority[i]), None, tid)
            task_alts[tid] = []

    # Attitude samples for every alternative at once.
    flat = [(tid, a) for tid, alts in task_alts.items() for a in alts]
    k = max(sc.attitude_samples for sc in fleet)
    if flat:
        rows = np.array([a.row for _, a in flat])
        lo = np.array([a.lo_s for _, a in flat])
        hi_start = np.maximum(np.array([a.hi_s for _, a in flat]) - dur[rows], lo)
        f = np.linspace(0.0, 1.0, k)
        ts = lo[:, None] + (hi_start - lo)[:, None] * f[None, :]
        rr = np.repeat(rows, k)
        att = opp.attitude(rr, ts.reshape(-1), ts.reshape(-1) + dur[rr])
        start = np.stack([att["roll_start_deg"], att["pitch_start_deg"]], -1).reshape(len(flat), k, 2)
        end = np.stack([att["roll_end_deg"], att["pitch_end_deg"]], -1).reshape(len(flat), k, 2)
    alts_of: dict[str, list[Alternative]] = {tid: [] for tid in task_alts}
    index_of: dict[str, list[_Alt]] = {tid: [] for tid in task_alts}
    for n, (tid, a) in enumerate(flat):
        times = ts[n]
        if times[-1] - times[0] <= 0:
            times, s_att, e_att = None, start[n, 0], end[n, 0]
        else:
            s_att, e_att = start[n], end[n]
        alts_of[tid].append(Alternative(
            resource=int(c["satellite_index"][a.row]), earliest_start_s=a.lo_s,
            latest_end_s=a.hi_s, duration_s=float(dur[a.row]), start_attitude_deg=s_att,
            end_attitude_deg=e_att, attitude_times_s=times,
            data_gbit=float(rate[a.row] * dur[a.row]), value_factor=1.0, label=str(a.row),
            uses=_radar_uses(power[a.row], dur[a.row])))
        index_of[tid].append(a)

    tasks, incompat = [], []
    for tid, (weight, group, parent) in task_meta.items():
        reason = reasons.get(parent, "no_opportunity")
        tasks.append(Task(tid, weight, alts_of[tid], group=group, reason_if_none=reason))
    # Stereo: fore and aft from different opportunities are incompatible.
    for tid in task_meta:
        if not tid.endswith("/fore"):
            continue
        aft = tid[:-5] + "/aft"
        for i, a in enumerate(index_of[tid]):
            for j, b in enumerate(index_of.get(aft, [])):
                if a.row != b.row:
                    incompat.append(Incompatibility(((tid, i), (aft, j))))

    names = opp.ephemeris.constellation.names
    resources = [Resource(names[s], fleet[s].memory_capacity_gbit, fleet[s].initial_memory_gbit,
                          None if fleet[s] is spacecraft else
                          _MarginAgility(fleet[s].agility, fleet[s].slew_margin_s))
                 for s in range(n_sat)]
    downlinks = []
    if contacts is not None:
        p = contacts.passes
        station_rate = {s.name: s.downlink_rate_mbps for s in contacts.stations}
        epoch = opp.epoch
        for i in np.flatnonzero(contacts.scheduled):
            st = str(p.station[i])
            sc = fleet[int(p.satellite_index[i])]
            mbps = min(sc.downlink_rate_mbps, station_rate.get(st) or sc.downlink_rate_mbps)
            t0 = (p.aos_utc[i] - epoch) / np.timedelta64(1, "s")
            t1 = (p.los_utc[i] - epoch) / np.timedelta64(1, "s")
            downlinks.append(Downlink(int(p.satellite_index[i]), float(t0), float(t1),
                                      mbps / 1000.0, st))
    requests = [Request(parent, list(members), curve.scaled(next(iter(members.values()))[1]),
                        shares=[s for s, _ in members.values()])
                for parent, members in strips.items()]
    agility = _MarginAgility(spacecraft.agility, spacecraft.slew_margin_s)
    problem = Problem(tasks, resources, downlinks, incompat, agility=agility,
                      epoch_utc=format_utc(opp.epoch)[0], requests=requests, budgets=budgets)
    return problem, index_of


def _per_satellite(spacecraft, n_sat: int) -> list:
    """One :class:`ImagingSpacecraft` per satellite (the same object where one is given)."""
    many = list(spacecraft) if isinstance(spacecraft, (list, tuple)) else [spacecraft] * n_sat
    if len(many) != n_sat or not all(isinstance(sc, ImagingSpacecraft) for sc in many):
        raise GroundsegError(f"spacecraft: expected an ImagingSpacecraft or {n_sat} of them")
    return many


def _radar_uses(power_w: float, duration_s: float):
    """What a radar acquisition spends of a SAR satellite's budgets (None for optical)."""
    if not np.isfinite(power_w):
        return None
    return {"radar_s": float(duration_s), "radar_wh": float(power_w * duration_s / 3600.0)}


class ImagingPlan:
    """A solved imaging plan with its geometry. ``plan`` is the model-level
    :class:`~groundseg.planning.plan.Plan`; :meth:`to_dict` is the ``plan.json`` contract."""

    def __init__(self, plan: Plan, problem: Problem, opportunities: Opportunities, index_of,
                 spacecraft: ImagingSpacecraft):
        self.plan, self.problem, self.opportunities = plan, problem, opportunities
        self.spacecraft = _per_satellite(spacecraft, len(opportunities.ephemeris.constellation))[0]
        self._index_of = index_of
        self.acquisitions = self._acquisitions()

    def _acquisitions(self) -> list[dict]:
        opp, acq = self.opportunities, self.plan.acquisitions
        if len(acq) == 0:
            return []
        c = opp.columns
        rows = np.array([int(x) for x in acq["label"]], dtype=np.int64)
        p = self.problem
        tasks = [p.task_index[x] for x in acq["target"]]
        nominal = task_nominal_value(p)
        t0 = np.asarray(acq["start_s"], dtype=float)
        t1 = np.asarray(acq["end_s"], dtype=float)
        att = opp.attitude(rows, t0, t1)
        # Sun elevation at the aim point at the acquisition's middle.
        tm = 0.5 * (t0 + t1)
        grid = TimeGrid.from_seconds(opp.epoch, tm)
        geo = ecef_to_geodetic(opp.aim_start_km[rows])
        pts = GroundPoints(geo.latitude_rad, geo.longitude_rad, geo.altitude_km)
        sun = np.degrees(np.diagonal(solar_elevation_rad(pts, grid)))
        t_start, t_end = opp.iso(t0), opp.iso(t1)
        out = []
        for i, row in enumerate(rows):
            task = str(acq["target"][i])
            part = task.rsplit("/", 1)[1] if task.endswith(("/fore", "/aft")) else ""
            out.append({
                "satellite": str(c["satellite"][row]), "norad_id": int(c["norad_id"][row]),
                "target": str(c["target"][row]), "start_utc": t_start[i], "end_utc": t_end[i],
                "roll_start_deg": round(float(att["roll_start_deg"][i]), 5),
                "pitch_start_deg": round(float(att["pitch_start_deg"][i]), 5),
                "roll_end_deg": round(float(att["roll_end_deg"][i]), 5),
                "pitch_end_deg": round(float(att["pitch_end_deg"][i]), 5),
                "off_nadir_deg": round(float(max(att["off_nadir_start_deg"][i],
                                                 att["off_nadir_end_deg"][i])), 5),
                "sun_elevation_deg": round(float(sun[i]), 4),
                "data_gbit": round(float(acq["data_gbit"][i]), 6),
                "weight": float(acq["value"][i]) + float(nominal[tasks[i]]),
                "kind": str(c["kind"][row]), "part": part or ("mono" if c["kind"][row] == "point" else "strip"),
                "target_group": str(c["parent_target"][row]),
                "start_s": float(t0[i]), "end_s": float(t1[i]),
            })
            if "sar_mode" in c:          # a mixed fleet: which sensor, and the radar's geometry
                radar = bool(c["sar_mode"][row])
                out[-1]["sensor"] = "sar" if radar else "optical"
                if radar:
                    out[-1].update(sar_mode=str(c["sar_mode"][row]), look_side=str(c["look_side"][row]),
                                   incidence_deg=round(float(c["incidence_deg"][row]), 4))
        return out

    def _downlinks(self) -> list[dict]:
        d = self.plan.downlinks
        opp = self.opportunities
        c = opp.ephemeris.constellation
        out = []
        used = np.asarray(d["drained_gbit"], dtype=float) > 0 if len(d) else []
        for i in range(len(d)):
            if not used[i]:
                continue
            s = int(d["resource"][i])
            t0, t1 = float(d["start_s"][i]), float(d["end_s"][i])
            out.append({
                "satellite": c.names[s], "norad_id": int(c.norad_ids[s]),
                "station": str(d["station"][i]),
                "start_utc": opp.iso([t0])[0], "end_utc": opp.iso([t1])[0],
                "data_gbit": round(float(d["drained_gbit"][i]), 6),
                "drain_stop_utc": opp.iso([float(d["drain_stop_s"][i])])[0],
            })
        return out

    def _unscheduled(self) -> list[dict]:
        """One row per target (a stereo pair or a polygon counts once) with nothing taken."""
        taken = {a["target_group"] for a in self.acquisitions}
        seen, out = set(), []
        u = self.plan.unscheduled
        for i in range(len(u)):
            task = str(u["target"][i])
            base = task.rsplit("/", 1)[0] if task.endswith(("/fore", "/aft")) else task
            parent = self._parent(base)
            if parent in taken or parent in seen:
                continue
            seen.add(parent)
            out.append({"target": parent, "reason": str(u["reason"][i]),
                        "detail": str(u["detail"][i]) if "detail" in u.names else ""})
        return out

    def _parent(self, name: str) -> str:
        c = self.opportunities.columns
        hit = np.flatnonzero(c["target"] == name)
        return str(c["parent_target"][hit[0]]) if hit.size else name

    def to_dict(self) -> dict:
        p = self.plan
        sc = self.spacecraft
        return {
            "objective": p.objective,
            "upper_bound": p.upper_bound if math.isfinite(p.upper_bound) else None,
            "gap": p.gap if math.isfinite(p.gap) else None,
            "status": p.status, "solver": p.solver, "solve_time_s": round(p.solve_time_s, 3),
            "epoch_utc": p.epoch_utc,
            "agility_model": dict(p.agility_model, slew_margin_s=sc.slew_margin_s),
            "memory_capacity_gbit": (sc.memory_capacity_gbit if p.memory_capacity_gbit is None
                                     else p.memory_capacity_gbit),
            "acquisitions": [{k: v for k, v in a.items() if k not in ("start_s", "end_s")}
                             for a in self.acquisitions],
            "downlinks": self._downlinks(),
            "unscheduled": self._unscheduled(),
            "requests": p.requests.records(),
        }

    def to_json(self, path=None, indent: int | None = 1) -> str:
        import json
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def timeline_table(self):
        """The command timeline as a Table: ``time_utc`` then the model's columns."""
        from ..table import Table
        t = self.plan.timeline
        cols = {"time_utc": self.opportunities.utc(t["time_s"])}
        for name in t.names:
            cols[name] = np.asarray(t[name]) if len(t) else np.zeros(0)
        return Table(cols, {"time_s": ".3f", "roll_deg": ".4f", "pitch_deg": ".4f",
                            "data_gbit": ".6f"})

    def timeline_csv(self, path=None) -> str:
        """The command timeline as CSV (see :meth:`timeline_table`)."""
        return self.timeline_table().to_csv(path)

    def summary(self) -> str:
        return self.plan.summary()


def plan_imaging(opportunities: Opportunities, contacts=None, *,
                 spacecraft: ImagingSpacecraft = ImagingSpacecraft(), time_limit_s: float = 20.0,
                 method: str = "auto", seed: int = 0,
                 area_value: PiecewiseLinear | None = None, iterations: int | None = None,
                 budgets=()) -> ImagingPlan:
    """Plan acquisitions and downlinks for ``opportunities`` with the scheduled passes of
    ``contacts`` (a ContactPlan, or None). Returns an :class:`ImagingPlan`. ``area_value``:
    the polygons' value curve of the covered fraction (default linear). ``iterations``: a
    step budget for the search (see :func:`~groundseg.planning.solve`). ``spacecraft`` and
    ``budgets``: see :func:`imaging_problem` (a mixed fleet: :meth:`groundseg.fleet.Fleet.plan`)."""
    problem, index_of = imaging_problem(opportunities, contacts, spacecraft, area_value, budgets)
    plan = solve(problem, method=method, time_limit_s=time_limit_s, seed=seed, iterations=iterations)
    return ImagingPlan(plan, problem, opportunities, index_of, spacecraft)
