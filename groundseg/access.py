"""Imaging opportunities: when each satellite can image each target, and with what attitude.

An **opportunity** is a window ``[start, end]`` in which satellite ``s`` can image target
``p``: the off-nadir angle of the line of sight is at most the target's
``max_off_nadir_deg`` and the Sun stands at least ``min_sun_elevation_deg`` above the
target's horizon. An acquisition of ``duration_s`` may start at any ``t`` with
``start <= t`` and ``t + duration_s <= end``.

This module holds the API and the result table. The geometry (nadir, the local orbital
frame, roll and pitch) is in :mod:`groundseg.imaging_geometry`, the complete window search in
:mod:`groundseg.access_search`, polygons as strips in :mod:`groundseg.strips`.

**GSD estimate** at the best time: ``gsd_nadir_m * (range_km / reference_altitude_km) /
sqrt(cos(incidence))``, the geometric mean of the along-look (``/cos``) and across-look
(``x1``) stretch of a pixel projected onto the local horizontal plane at the target
(incidence = angle between the geodetic vertical at the target and the line of sight).
It reduces to ``gsd_nadir_m`` at nadir from the reference altitude.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .access_search import access_windows, min_off_nadir_time
from .earth import ecef_to_geodetic
from .errors import GroundsegError, positive_number
from .imaging_geometry import ImagingGeometry, geodetic_up, look_angles, track_heading
from .orbits import Constellation, Ephemeris
from .strips import strip_columns, strip_windows
from .table import Table, Tabular
from .targets import TargetError, Targets
from .timegrid import TimeGrid, format_utc

__all__ = ["Sensor", "Opportunities", "find_opportunities", "access_intervals", "pointing",
           "ACCESS_COLUMNS", "OPPORTUNITY_COLUMNS"]

ACCESS_COLUMNS = ("satellite", "norad_id", "target", "start_utc", "end_utc", "best_utc",
                  "min_off_nadir_deg", "sun_elevation_deg", "gsd_m")
OPPORTUNITY_COLUMNS = ACCESS_COLUMNS + (
    "satellite_index", "target_index", "parent_target", "kind", "strip_set", "strip",
    "start_s", "end_s", "best_s", "duration_s", "acquisition_start_s", "acquisition_end_s",
    "roll_start_deg", "pitch_start_deg", "roll_end_deg", "pitch_end_deg",
    "off_nadir_start_deg", "off_nadir_end_deg", "priority", "mode", "share", "area_km2",
    "heading_deg", "aim_start_latitude_deg", "aim_start_longitude_deg",
    "aim_end_latitude_deg", "aim_end_longitude_deg")


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def _utc(epoch, seconds) -> np.ndarray:
    """Seconds from ``epoch`` (datetime64) as ``datetime64[ns]``."""
    ns = np.round(np.asarray(seconds, dtype=float) * 1e9).astype(np.int64)
    return epoch + ns.astype("timedelta64[ns]")


@dataclass(frozen=True)
class Sensor:
    """The imager: ``gsd_nadir_m`` at ``reference_altitude_km`` (1 m at 561 km),
    ``swath_km`` at nadir (strip width), ``scene_duration_s`` (nominal acquisition of a point
    target)."""

    gsd_nadir_m: float = 1.0
    reference_altitude_km: float = 561.0
    swath_km: float = 10.0
    scene_duration_s: float = 10.0

    def __post_init__(self):
        for name in ("gsd_nadir_m", "reference_altitude_km", "swath_km", "scene_duration_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise GroundsegError(f"sensor {name} must be a positive number, got {value!r}")


def find_opportunities(source, targets: Targets, start=None, end=None, *,
                       sensor: Sensor = Sensor(), step_s: float = 60.0,
                       tol_s: float = 1e-3, satellites=None, progress=None) -> Opportunities:
    """Every imaging opportunity of every satellite on every target.

    ``source``: an :class:`~groundseg.orbits.Ephemeris` (its time grid is the window; or its
    :class:`~groundseg.imaging_geometry.ImagingGeometry`) or a
    :class:`~groundseg.orbits.Constellation` propagated once over ``start``..``end`` every
    ``step_s`` seconds. ``targets``: :class:`~groundseg.targets.Targets` (points and
    polygons; polygons are cut into strips ``sensor.swath_km`` wide). ``satellites``: indices
    of the satellites that carry this sensor (default all); ``progress(done, total)`` is
    called as chunks of aim points are searched. Returns :class:`Opportunities`; targets
    without any are listed in its ``unscheduled`` table.
    """
    if not isinstance(sensor, Sensor):
        raise GroundsegError(f"sensor must be a groundseg.access.Sensor, got {type(sensor).__name__}")
    geo, tol_s = imaging_source(source, targets, start, end, step_s, tol_s)
    eph = geo.ephemeris
    pt_idx, st, aims, aim_target = imaging_aims(geo, targets, sensor.swath_km, satellites)
    eta = np.radians(targets.max_off_nadir_deg[aim_target])
    sun_min = np.radians(targets.min_sun_elevation_deg[aim_target])
    iv = access_windows(geo, aims, eta, sun_min, tol_s, satellites, progress=progress)

    # Point targets: the windows themselves.
    m = iv.point < pt_idx.size
    p_sat, p_aim, p_a, p_b = iv.sat[m], iv.point[m], iv.start_s[m], iv.end_s[m]
    p_dur = np.full(p_sat.size, float(sensor.scene_duration_s))
    p_best = min_off_nadir_time(geo, p_sat, aims[p_aim], p_a, p_b, tol_s)
    p_acq = np.clip(p_best - 0.5 * p_dur, p_a, np.maximum(p_a, p_b - p_dur))

    # Strips: start times at which both ends are imageable, on passes going their way.
    sj, s_sat, fa, fb, s_dur, s_best = strip_windows(geo, st, iv, pt_idx.size, tol_s)
    s_acq = np.clip(s_best - 0.5 * s_dur, fa, fb)

    rows = opportunity_columns(geo, targets, pt_idx, st, aims,
                               (p_sat, p_aim, p_a, p_b, p_best, p_dur, p_acq),
                               (sj, s_sat, fa, fb, s_dur, s_best, s_acq))
    cols = rows.columns
    r, v = geo.state(rows.sat, rows.best)
    _, _, _, rng, u = look_angles(r, v, rows.aim_best)
    cos_inc = np.clip(-_dot(u, geodetic_up(rows.aim_best)), 1e-6, 1.0)
    cols["gsd_m"] = sensor.gsd_nadir_m * (rng / sensor.reference_altitude_km) / np.sqrt(cos_inc)
    unscheduled = _unscheduled(geo, targets, eph, pt_idx, st, iv, rows.target)
    return Opportunities(cols, rows.aim_start, rows.aim_end, geo, targets, unscheduled, sensor)


def imaging_source(source, targets, start, end, step_s, tol_s):
    """``(ImagingGeometry, tol_s)`` from the arguments of :func:`find_opportunities`, checked
    (an :class:`~groundseg.imaging_geometry.ImagingGeometry` given as the source is used as
    it is: searches on one ephemeris can share it)."""
    tol_s = positive_number(tol_s, "time tolerance tol_s")
    if isinstance(source, ImagingGeometry):
        eph = source.ephemeris
    elif isinstance(source, Ephemeris):
        eph = source
    elif not isinstance(source, Constellation):
        raise GroundsegError(f"source must be an Ephemeris or a Constellation, got "
                             f"{type(source).__name__}")
    else:
        if start is None or end is None:
            raise GroundsegError("give start and end to propagate a constellation")
        eph = source.propagate(TimeGrid.range(start, end, positive_number(step_s, "step")))
    if not isinstance(targets, Targets):
        raise TargetError("targets must be a groundseg.targets.Targets (see load_targets)")
    return (source if isinstance(source, ImagingGeometry) else ImagingGeometry(eph)), tol_s


def imaging_aims(geo: ImagingGeometry, targets: Targets, swath_km: float, satellites=None):
    """Aim points: the point targets, then the start and the end of every strip (strips
    ``swath_km`` wide, along the tracks of ``satellites``, default all). Returns ``(point_targets (n_pt,), strips (strip_columns), aims_km
    (n_aim, 3), aim_target (n_aim,))``."""
    pt_idx = np.flatnonzero(targets.kind == "point")
    pt_km = targets.take(pt_idx).points().ecef_km if pt_idx.size else np.zeros((0, 3))
    st = strip_columns(geo, targets, swath_km, satellites)
    aim_target = np.concatenate([pt_idx, st["target"], st["target"]]).astype(np.int64)
    aims = np.concatenate([pt_km, st["start"], st["end"]])
    return pt_idx, st, aims, aim_target


@dataclass
class _Rows:
    """What :func:`opportunity_columns` made: the ``columns`` and, in the same row order,
    ``sat``, ``target``, ``best`` ``(m,)`` and the aim points ``aim_start``, ``aim_end``,
    ``aim_best`` ``(m, 3)``; ``order``: the row of each input window (points, then strips)."""

    columns: dict
    sat: np.ndarray
    target: np.ndarray
    best: np.ndarray
    aim_start: np.ndarray
    aim_end: np.ndarray
    aim_best: np.ndarray
    order: np.ndarray


def opportunity_columns(geo, targets, pt_idx, st, aims, points, strips) -> _Rows:
    """The :data:`OPPORTUNITY_COLUMNS` (``gsd_m`` left to the sensor) of point windows
    ``points = (sat, aim, start_s, end_s, best_s, duration_s, acquisition_start_s)`` and strip
    windows ``strips = (strip, sat, first_start_s, last_start_s, duration_s, best_s,
    acquisition_start_s)``, sorted by start, satellite and name."""
    p_sat, p_aim, p_a, p_b, p_best, p_dur, p_acq = points
    sj, s_sat, fa, fb, s_dur, s_best, s_acq = strips
    sat = np.concatenate([p_sat, s_sat]).astype(np.int64)
    tgt = np.concatenate([pt_idx[p_aim], st["target"][sj]]).astype(np.int64)
    a = np.concatenate([p_a, fa])
    b = np.concatenate([p_b, fb + s_dur])
    best = np.concatenate([p_best, s_best])
    dur = np.concatenate([p_dur, s_dur])
    acq0 = np.concatenate([p_acq, s_acq])
    acq1 = np.minimum(acq0 + dur, b)
    aim0 = np.concatenate([aims[p_aim], st["start"][sj]])
    aim1 = np.concatenate([aims[p_aim], st["end"][sj]])
    aim_best = np.concatenate([aims[p_aim], st["mid"][sj]])
    is_strip = np.concatenate([np.zeros(p_sat.size, dtype=bool), np.ones(sj.size, dtype=bool)])
    set_id = np.concatenate([np.full(p_sat.size, -1), st["set"][sj]]).astype(np.int64)
    strip_j = np.concatenate([np.full(p_sat.size, -1), st["j"][sj]]).astype(np.int64)
    share = np.concatenate([np.ones(p_sat.size), st["share"][sj]])
    area = np.concatenate([targets.area_km2[pt_idx[p_aim]], st["area"][sj]])

    ids = np.array(targets.ids, dtype=object)
    name = ids[tgt].copy()
    if sj.size:
        name[is_strip] = [f"{t}#{s + 1}-{j + 1}" for t, s, j in
                          zip(ids[tgt[is_strip]], set_id[is_strip], strip_j[is_strip])]
    order = np.lexsort((name, sat, a))
    sat, tgt, a, b, best, dur, acq0, acq1 = (x[order] for x in (sat, tgt, a, b, best, dur, acq0, acq1))
    aim0, aim1, aim_best, is_strip = aim0[order], aim1[order], aim_best[order], is_strip[order]
    set_id, strip_j, share, area, name = set_id[order], strip_j[order], share[order], area[order], name[order]

    r, v = geo.state(sat, best)
    _, _, off_best, _, _ = look_angles(r, v, aim_best)
    sun_el = np.arcsin(np.clip(_dot(geo.sun_unit(best, aim_best), geodetic_up(aim_best)), -1, 1))
    track = track_heading(r, v)
    r0, v0 = geo.state(sat, acq0)
    roll0, pitch0, off0, _, _ = look_angles(r0, v0, aim0)
    r1, v1 = geo.state(sat, acq1)
    roll1, pitch1, off1, _, _ = look_angles(r1, v1, aim1)
    g0, g1 = ecef_to_geodetic(aim0), ecef_to_geodetic(aim1)
    names = np.array(geo.ephemeris.constellation.names, dtype=object)
    norad = np.asarray(geo.ephemeris.constellation.norad_ids)

    cols = {
        "satellite": names[sat], "norad_id": norad[sat], "target": name,
        "start_utc": None, "end_utc": None, "best_utc": None,
        "min_off_nadir_deg": np.degrees(off_best), "sun_elevation_deg": np.degrees(sun_el),
        "gsd_m": None, "satellite_index": sat, "target_index": tgt, "parent_target": ids[tgt],
        "kind": np.where(is_strip, "strip", "point").astype(object),
        "strip_set": set_id, "strip": strip_j, "start_s": a, "end_s": b, "best_s": best,
        "duration_s": dur, "acquisition_start_s": acq0, "acquisition_end_s": acq1,
        "roll_start_deg": np.degrees(roll0), "pitch_start_deg": np.degrees(pitch0),
        "roll_end_deg": np.degrees(roll1), "pitch_end_deg": np.degrees(pitch1),
        "off_nadir_start_deg": np.degrees(off0), "off_nadir_end_deg": np.degrees(off1),
        "priority": targets.priority[tgt], "mode": targets.mode[tgt], "share": share,
        "area_km2": area, "heading_deg": np.degrees(track) % 360.0,
        "aim_start_latitude_deg": g0.latitude_deg, "aim_start_longitude_deg": g0.longitude_deg,
        "aim_end_latitude_deg": g1.latitude_deg, "aim_end_longitude_deg": g1.longitude_deg,
    }
    epoch = geo.ephemeris.times.datetime64()[0]
    for col, x in (("start_utc", a), ("end_utc", b), ("best_utc", best)):
        cols[col] = _utc(epoch, x)
    return _Rows(cols, sat, tgt, best, aim0, aim1, aim_best, order)


def access_intervals(ephemeris: Ephemeris, points_ecef_km, max_off_nadir_deg,
                     min_sun_elevation_deg=-90.0, *, tol_s: float = 1e-3):
    """Windows when each satellite sees each ground point within an off-nadir limit and with
    the Sun high enough.

    ``points_ecef_km``: ``(n_point, 3)``; limits: scalars or ``(n_point,)`` degrees.
    Returns ``(satellite, point, start_s, end_s)`` arrays ``(m,)``, seconds from the first
    grid time, sorted by point, satellite, start; windows are clipped to the grid.
    """
    geo = _geometry(ephemeris)
    tol_s = positive_number(tol_s, "time tolerance tol_s")
    try:
        pts = np.asarray(points_ecef_km, dtype=float)
        if pts.shape[-1:] != (3,):
            raise ValueError(f"points have shape {pts.shape}, not (n_point, 3)")
        pts = pts.reshape(-1, 3)
        n = len(pts)
        eta = np.radians(np.broadcast_to(np.asarray(max_off_nadir_deg, dtype=float), (n,)))
        sun = np.radians(np.broadcast_to(np.asarray(min_sun_elevation_deg, dtype=float), (n,)))
    except (TypeError, ValueError) as exc:
        raise GroundsegError(f"access_intervals: {exc}") from None
    iv = access_windows(geo, pts, eta, sun, tol_s)
    order = np.lexsort((iv.start_s, iv.sat, iv.point))
    return iv.sat[order], iv.point[order], iv.start_s[order], iv.end_s[order]


def _geometry(ephemeris) -> ImagingGeometry:
    if not isinstance(ephemeris, Ephemeris):
        raise GroundsegError(f"expected an Ephemeris, got {type(ephemeris).__name__}")
    return ImagingGeometry(ephemeris)


def pointing(ephemeris: Ephemeris, satellites, seconds, points_ecef_km) -> dict:
    """Attitude that points each satellite at a ground point at a time (vectorised).

    ``satellites`` (indices), ``seconds`` (from the first grid time), ``points_ecef_km``
    ``(m, 3)`` broadcast together to ``(m,)``. Returns a dict of ``(m,)`` arrays:
    ``roll_deg``, ``pitch_deg``, ``off_nadir_deg``, ``range_km``. Roll / pitch as in the
    module docstring.
    """
    geo = ephemeris if isinstance(ephemeris, ImagingGeometry) else _geometry(ephemeris)
    try:
        pts = np.asarray(points_ecef_km, dtype=float)
        sat, t = np.broadcast_arrays(np.asarray(satellites, dtype=np.int64),
                                     np.asarray(seconds, dtype=float))
        m = max(sat.size, pts.reshape(-1, 3).shape[0])
        sat = np.broadcast_to(sat.reshape(-1), (m,)) if sat.size == 1 else sat.reshape(-1)
        t = np.broadcast_to(t.reshape(-1), (m,)) if t.size == 1 else t.reshape(-1)
        pts = np.broadcast_to(pts.reshape(-1, 3), (m, 3))
    except (TypeError, ValueError) as exc:
        raise GroundsegError(f"pointing: satellites, seconds and points must broadcast to one "
                             f"length ({exc})") from None
    if sat.size and not (0 <= sat.min() and sat.max() < geo.n_sat):
        raise GroundsegError(f"pointing: satellite indices must be in 0..{geo.n_sat - 1}")
    r, v = geo.state(sat, t)
    roll, pitch, off, rng, _ = look_angles(r, v, pts)
    return {"roll_deg": np.degrees(roll), "pitch_deg": np.degrees(pitch),
            "off_nadir_deg": np.degrees(off), "range_km": rng}


@dataclass(eq=False)
class Opportunities(Tabular):
    """Imaging opportunities as columns ``(m,)`` (see :data:`OPPORTUNITY_COLUMNS`).

    Times: ``start_s``, ``end_s``, ``best_s``, ``acquisition_*_s`` are seconds from
    ``epoch`` (the first grid time); ``*_utc`` the same as ISO strings. ``duration_s`` is the
    acquisition length; an acquisition may start anywhere in ``[start_s, end_s -
    duration_s]``. ``acquisition_start_s/end_s`` is the nominal one: centred on the best
    time, moved inside the window (clipped to it when the window is shorter), with the
    attitude at its ends in ``roll/pitch_start/end_deg``. ``kind``: ``point`` or ``strip``;
    ``share``: fraction of the target's value a strip carries (1 for points).
    ``unscheduled``: Table ``target,reason,detail`` for targets with no opportunity
    (``no_opportunity``: never within the off-nadir limit, or no pass covers a whole strip;
    ``sun``: within the limit only with the Sun too low; ``propagation``: no satellite
    could be propagated).
    """

    _FORMATS = {"min_off_nadir_deg": ".4f", "sun_elevation_deg": ".4f", "gsd_m": ".4f",
                "start_s": ".3f", "end_s": ".3f", "best_s": ".3f", "duration_s": ".3f",
                "acquisition_start_s": ".3f", "acquisition_end_s": ".3f",
                "roll_start_deg": ".5f", "pitch_start_deg": ".5f", "roll_end_deg": ".5f",
                "pitch_end_deg": ".5f", "off_nadir_start_deg": ".5f", "off_nadir_end_deg": ".5f",
                "share": ".6f", "area_km2": ".4f", "heading_deg": ".3f",
                "aim_start_latitude_deg": ".6f", "aim_start_longitude_deg": ".6f",
                "aim_end_latitude_deg": ".6f", "aim_end_longitude_deg": ".6f",
                "incidence_deg": ".4f"}

    columns: dict
    aim_start_km: np.ndarray
    aim_end_km: np.ndarray
    geometry: ImagingGeometry
    targets: Targets
    unscheduled: Table
    sensor: Sensor

    def __post_init__(self):
        self.ephemeris = self.geometry.ephemeris
        self.epoch = self.geometry.ephemeris.times.datetime64()[0]

    def __len__(self) -> int:
        return len(self.columns["start_s"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __repr__(self) -> str:
        return (f"Opportunities({len(self)} windows, {len(self.unscheduled)} targets without "
                f"opportunity)")

    def table(self, columns=OPPORTUNITY_COLUMNS) -> Table:
        """The chosen columns (default all, in :data:`OPPORTUNITY_COLUMNS` order)."""
        return Table({c: self.columns[c] for c in columns}, self._FORMATS)

    def to_csv(self, path=None, columns=ACCESS_COLUMNS) -> str:
        """CSV with the ``groundseg access`` columns (or ``columns``)."""
        return self.table(columns).to_csv(path)

    def to_json(self, path=None, columns=ACCESS_COLUMNS) -> str:
        return self.table(columns).to_json(path)

    def utc(self, seconds) -> np.ndarray:
        """Seconds from ``epoch`` as ``datetime64[ns]``."""
        return _utc(self.epoch, seconds)

    def iso(self, seconds) -> list[str]:
        """Seconds from ``epoch`` as ISO 8601 UTC strings (milliseconds)."""
        return format_utc(self.utc(seconds))

    def _rows(self, rows) -> np.ndarray:
        """Row numbers ``(m,)``, checked."""
        try:
            rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):
            raise GroundsegError(f"rows must be integers, got {rows!r}") from None
        if rows.size and not (-len(self) <= rows.min() and rows.max() < len(self)):
            raise GroundsegError(f"row numbers must be below {len(self)}, the number of "
                                 f"opportunities")
        return rows

    def attitude(self, rows, start_s, end_s) -> dict:
        """Roll / pitch / off-nadir (deg) at the start and end of acquisitions of
        opportunities ``rows`` running from ``start_s`` to ``end_s`` (all ``(m,)``).

        The start points at the row's start aim point, the end at its end aim point (the
        same point for point targets). Keys ``roll_start_deg``, ``pitch_start_deg``,
        ``off_nadir_start_deg``, ``roll_end_deg``, ``pitch_end_deg``, ``off_nadir_end_deg``.
        """
        rows = self._rows(rows)
        try:
            start_s = np.broadcast_to(np.asarray(start_s, dtype=float), rows.shape)
            end_s = np.broadcast_to(np.asarray(end_s, dtype=float), rows.shape)
        except (TypeError, ValueError) as exc:
            raise GroundsegError(f"attitude: {exc}") from None
        sat = self.columns["satellite_index"][rows]
        a = pointing(self.geometry, sat, start_s, self.aim_start_km[rows])
        b = pointing(self.geometry, sat, end_s, self.aim_end_km[rows])
        return {"roll_start_deg": a["roll_deg"], "pitch_start_deg": a["pitch_deg"],
                "off_nadir_start_deg": a["off_nadir_deg"], "roll_end_deg": b["roll_deg"],
                "pitch_end_deg": b["pitch_deg"], "off_nadir_end_deg": b["off_nadir_deg"]}

    def attitude_samples(self, k: int = 5, rows=None):
        """Start and end attitude as functions of the acquisition start time.

        For each opportunity, ``k`` start times evenly spread over ``[start_s, end_s -
        duration_s]`` (all equal when the window is shorter than the duration). Returns
        ``(start_times_s (m, k), start_deg (m, k, 2), end_deg (m, k, 2))`` with
        ``(roll, pitch)`` pairs: the sampled form the planner's alternatives take.
        """
        rows = np.arange(len(self)) if rows is None else self._rows(rows)
        c = self.columns
        lo = c["start_s"][rows]
        hi = np.maximum(c["end_s"][rows] - c["duration_s"][rows], lo)
        f = np.linspace(0.0, 1.0, max(int(k), 1))
        t = lo[:, None] + (hi - lo)[:, None] * f[None, :]
        rr = np.repeat(rows, t.shape[1])
        ts = t.reshape(-1)
        att = self.attitude(rr, ts, ts + c["duration_s"][rr])
        shape = t.shape
        start = np.stack([att["roll_start_deg"].reshape(shape), att["pitch_start_deg"].reshape(shape)], -1)
        end = np.stack([att["roll_end_deg"].reshape(shape), att["pitch_end_deg"].reshape(shape)], -1)
        return t, start, end


def _unscheduled(geo, targets, eph, pt_idx, st, iv, tgt) -> Table:
    """Targets without any opportunity, with the reason (see :class:`Opportunities`)."""
    n = len(targets)
    have = np.bincount(tgt, minlength=n) > 0
    aim_target = np.concatenate([pt_idx, st["target"], st["target"]]).astype(np.int64)
    geometric = np.bincount(aim_target, weights=iv.geometric, minlength=n)
    lit = np.bincount(aim_target[iv.point], minlength=n) if iv.point.size else np.zeros(n)
    iso = eph.times.iso()
    span = f"between {iso[0]} and {iso[-1]}"
    usable = np.isfinite(geo.valid_end_s).any()
    rows = {"target": [], "reason": [], "detail": []}
    for i in np.flatnonzero(~have):
        eta, sun = targets.max_off_nadir_deg[i], targets.min_sun_elevation_deg[i]
        if not usable:
            reason, detail = "propagation", "no satellite could be propagated: " + "; ".join(eph.errors()[:2])
        elif geometric[i] == 0:
            reason, detail = "no_opportunity", f"never within {eta:g} deg off-nadir {span}"
        elif lit[i] == 0:
            reason = "sun"
            detail = (f"{int(geometric[i])} windows within {eta:g} deg off-nadir {span}, "
                      f"none with the Sun above {sun:g} deg")
        else:
            reason = "no_opportunity"
            detail = (f"both ends of a strip are imageable on some passes, but no pass images a "
                      f"whole strip within {eta:g} deg off-nadir with the Sun above {sun:g} deg")
        rows["target"].append(targets.ids[i])
        rows["reason"].append(reason)
        rows["detail"].append(detail)
    return Table({k: np.array(v, dtype=object) for k, v in rows.items()})
