"""A mixed fleet: which satellites carry an optical imager and which a radar, and what the
planner needs to know about each.

A :class:`Fleet` is a constellation cut into :class:`Payload` groups; each group has one
sensor (:class:`~groundseg.access.Sensor` or :class:`~groundseg.sar.SarSensor`) and one
:class:`~groundseg.planning.ImagingSpacecraft` (memory, transmitter, agility). A group's
satellites are searched with their own sensor only, on one shared ephemeris
(:meth:`Fleet.opportunities`): optical windows need daylight and an off-nadir angle within
the target's limit; SAR windows an incidence band, a look side and no Sun. In a plan
(:meth:`Fleet.plan`) a SAR satellite images point targets in its sensor's ``point_mode`` and
areas in its ``area_mode``, records at the mode's data rate, and spends radar-on seconds and
energy (the mode's power) of its budgets per orbit (:meth:`Fleet.budgets`); optical stereo
targets are left to the optical satellites. Every satellite keeps its own memory,
transmitter and agility.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .access import Opportunities, Sensor, find_opportunities
from .errors import GroundsegError
from .imaging_geometry import ImagingGeometry
from .planning import Budget, ImagingSpacecraft, plan_imaging
from .sar import SarSensor
from .sar_access import find_sar_opportunities
from .table import Table

__all__ = ["Payload", "Fleet", "merge_opportunities"]


@dataclass(frozen=True)
class Payload:
    """Satellites ``satellites`` (indices in the fleet's constellation) with one ``sensor``
    and one planner ``spacecraft``."""

    sensor: object
    spacecraft: ImagingSpacecraft
    satellites: tuple

    @property
    def kind(self) -> str:
        """``sar`` or ``optical``."""
        return "sar" if isinstance(self.sensor, SarSensor) else "optical"


class Fleet:
    """A constellation and its :class:`Payload` groups (every satellite in exactly one)."""

    def __init__(self, constellation, payloads):
        self.constellation = constellation
        self.payloads = tuple(payloads)
        n = len(constellation)
        owner = np.full(n, -1, dtype=np.int64)
        for g, p in enumerate(self.payloads):
            if not isinstance(p, Payload):
                raise GroundsegError(f"fleet payloads must be Payload objects, got {type(p).__name__}")
            if not isinstance(p.sensor, (Sensor, SarSensor)):
                raise GroundsegError(f"payload sensor must be a Sensor or a SarSensor, got "
                                     f"{type(p.sensor).__name__}")
            if not isinstance(p.spacecraft, ImagingSpacecraft):
                raise GroundsegError("payload spacecraft must be an ImagingSpacecraft")
            idx = np.asarray(p.satellites, dtype=np.int64)
            if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
                raise GroundsegError(f"payload {g}: satellite indices must be in 0..{n - 1}")
            if np.any(owner[idx] >= 0):
                raise GroundsegError(f"payload {g}: a satellite is in two payloads")
            owner[idx] = g
        if np.any(owner < 0):
            missing = [constellation.names[i] for i in np.flatnonzero(owner < 0)]
            raise GroundsegError(f"satellites without a payload: {', '.join(missing)}")
        self._owner = owner

    @classmethod
    def optical(cls, constellation, sensor: Sensor = Sensor(),
                spacecraft: ImagingSpacecraft | None = None) -> "Fleet":
        """Every satellite with one optical ``sensor``."""
        return cls(constellation, [Payload(sensor, spacecraft or ImagingSpacecraft(),
                                           tuple(range(len(constellation))))])

    def __len__(self) -> int:
        return len(self.constellation)

    def payload_of(self, sat: int) -> Payload:
        return self.payloads[int(self._owner[sat])]

    def kinds(self) -> np.ndarray:
        """``optical`` / ``sar`` per satellite ``(n_sat,)``."""
        return np.array([self.payload_of(s).kind for s in range(len(self))], dtype=object)

    def opportunities(self, ephemeris, targets, *, tol_s: float = 1e-3,
                      orbit_direction="both") -> Opportunities:
        """Every opportunity of every payload on ``targets`` over ``ephemeris`` (of the
        fleet's constellation; or its ImagingGeometry), merged (:func:`merge_opportunities`): optical payloads with
        their sensor; SAR payloads in their ``point_mode`` on point targets and their
        ``area_mode`` on polygons, never on stereo targets."""
        geo = ephemeris if isinstance(ephemeris, ImagingGeometry) else ImagingGeometry(ephemeris)
        parts = []
        for p in self.payloads:
            if p.kind == "optical":
                parts.append(find_opportunities(geo, targets, sensor=p.sensor, tol_s=tol_s,
                                                satellites=p.satellites))
                continue
            mono = targets.mode != "stereo"
            for kind, mode in (("point", p.sensor.point_mode), ("polygon", p.sensor.area_mode)):
                keep = np.flatnonzero(mono & (targets.kind == kind))
                if keep.size == 0:
                    continue
                part = find_sar_opportunities(geo, targets.take(keep), sensor=p.sensor,
                                              mode=mode, tol_s=tol_s, satellites=p.satellites,
                                              orbit_direction=orbit_direction)
                part.columns["target_index"] = keep[part.columns["target_index"]]
                m = p.sensor.mode(mode)
                part.columns["data_rate_gbit_s"] = np.full(len(part), m.data_rate_gbit_s)
                part.columns["radar_power_w"] = np.full(len(part), m.radar_power_w)
                parts.append(part)
        return merge_opportunities(parts, targets)

    def spacecraft(self) -> list:
        """The planner's spacecraft of every satellite ``(n_sat,)``."""
        return [self.payload_of(s).spacecraft for s in range(len(self))]

    def budgets(self, start_s: float, end_s: float) -> list:
        """Radar budgets of every SAR satellite over ``[start_s, end_s]`` (seconds from the
        plan epoch): per orbit (consecutive spans of one period from ``start_s``), at most
        ``max_radar_on_s_per_orbit`` of ``radar_s`` and ``radar_energy_wh_per_orbit`` of
        ``radar_wh``."""
        out = []
        for p in self.payloads:
            if p.kind != "sar":
                continue
            for s in p.satellites:
                period_s = 2 * np.pi / self.constellation.satrecs[s].no_kozai * 60.0
                name = self.constellation.names[s]
                for k in range(int(np.ceil((end_s - start_s) / period_s))):
                    t0 = start_s + k * period_s
                    out.append(Budget(int(s), t0, t0 + period_s, "radar_s",
                                      p.sensor.max_radar_on_s_per_orbit, f"{name}/orbit-{k + 1}/radar_s"))
                    out.append(Budget(int(s), t0, t0 + period_s, "radar_wh",
                                      p.sensor.radar_energy_wh_per_orbit, f"{name}/orbit-{k + 1}/radar_wh"))
        return out

    def plan(self, opportunities: Opportunities, contacts=None, **options):
        """The imaging plan of the whole fleet (:func:`~groundseg.planning.plan_imaging` with
        each satellite's spacecraft and the radar budgets); ``options``: ``time_limit_s``,
        ``method``, ``seed``, ``area_value``, ``iterations``."""
        grid = opportunities.geometry.grid_s
        return plan_imaging(opportunities, contacts, spacecraft=self.spacecraft(),
                            budgets=self.budgets(float(grid[0]), float(grid[-1])), **options)


def merge_opportunities(parts, targets) -> Opportunities:
    """One :class:`~groundseg.access.Opportunities` of several searches on the same
    ephemeris and targets: rows sorted by start, satellite and target; columns one part lacks
    are empty there (NaN, ``""``); a target is unscheduled when no part has an opportunity
    for it (the first part's reason)."""
    if not parts:
        raise GroundsegError("no opportunities to merge")
    names = []
    for p in parts:
        names += [c for c in p.columns if c not in names]
    cols = {c: np.concatenate([_column(p, c, len(p), parts) for p in parts]) for c in names}
    aim0 = np.concatenate([p.aim_start_km for p in parts])
    aim1 = np.concatenate([p.aim_end_km for p in parts])
    order = np.lexsort((cols["target"].astype(str), cols["satellite_index"], cols["start_s"]))
    cols = {k: v[order] for k, v in cols.items()}
    have = set(cols["parent_target"].tolist())
    reasons = {}
    for p in parts:
        for rec in p.unscheduled.records():
            reasons.setdefault(str(rec["target"]), (str(rec["reason"]), str(rec["detail"])))
    rows = {"target": [], "reason": [], "detail": []}
    for tid in targets.ids:
        if tid not in have:
            reason, detail = reasons.get(tid, ("no_opportunity", "no payload of the fleet images "
                                                                 "this kind of target"))
            rows["target"].append(tid), rows["reason"].append(reason), rows["detail"].append(detail)
    unscheduled = Table({k: np.array(v, dtype=object) for k, v in rows.items()})
    return Opportunities(cols, aim0[order], aim1[order], parts[0].geometry, targets, unscheduled,
                         tuple(p.sensor for p in parts))


def _column(part, name, n, parts):
    """Column ``name`` of ``part``, or ``n`` empty values (``""`` for text, NaN for numbers)."""
    if name in part.columns:
        return np.asarray(part.columns[name])
    text = next(np.asarray(q.columns[name]).dtype == object for q in parts if name in q.columns)
    return np.full(n, "", dtype=object) if text else np.full(n, np.nan)
