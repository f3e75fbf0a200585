"""Polygon targets as strips: the track headings over each polygon, and when a whole strip
can be imaged.

Polygons become strips (:meth:`groundseg.targets.Targets.strips`) parallel to the ground
track of every distinct (satellite, ascending / descending) track heading over the polygon
(one heading set for all satellites of one sun-synchronous plane). A strip acquisition
points at the strip's start at its first instant and at its end at its last, lasts
``length / ground speed``, and its window is the set of start times at which both ends are
imageable (off-nadir and Sun at each end), on passes whose ground track runs within 30 deg
of the strip's heading.
"""
from __future__ import annotations

import math

import numpy as np

from .access_search import Intervals, min_off_nadir_time
from .imaging_geometry import ImagingGeometry, track_heading
from . import budget
from .polygons import STRIP_BYTES
from .targets import Targets

__all__ = ["strip_columns", "strip_windows"]

_HEADING_TOL_RAD = math.radians(30.0)


def _heading_sets(lat, heading, lat_c):
    """Distinct ground-track headings over latitude ``lat_c``: ``[(heading_rad, sats)]``.

    For each satellite and direction (northbound / southbound), the mean heading of its
    samples within 2 deg of ``lat_c`` (or nearest to it); satellites whose headings agree
    within 1 deg share a set; ``sats`` is a bool mask ``(n_sat,)``.
    """
    n_sat = lat.shape[0]
    out = []
    for northbound in (True, False):
        ref = 0.0 if northbound else math.pi
        members = []
        for s in range(n_sat):
            m = np.isfinite(lat[s]) & np.isfinite(heading[s]) & ((np.cos(heading[s]) >= 0) == northbound)
            if not np.any(m):
                continue
            d = np.abs(lat[s][m] - lat_c)
            hh = heading[s][m][d <= max(math.radians(2.0), d.min() + math.radians(0.5))]
            mean = math.atan2(np.sin(hh).mean(), np.cos(hh).mean())
            members.append(((mean - ref + math.pi) % (2 * math.pi) - math.pi, s))
        members.sort()
        clusters = []
        for rel, s in members:
            if clusters and rel - clusters[-1][-1][0] <= math.radians(1.0):
                clusters[-1].append((rel, s))
            else:
                clusters.append([(rel, s)])
        for cl in clusters:
            sats = np.zeros(n_sat, dtype=bool)
            sats[[s for _, s in cl]] = True
            out.append((ref + float(np.mean([rel for rel, _ in cl])), sats))
    return out


def _angle_diff(a, b):
    return np.abs((a - b + np.pi) % (2 * np.pi) - np.pi)


def strip_columns(geo: ImagingGeometry, targets: Targets, swath_km: float, satellites=None) -> dict:
    """Every strip of every polygon, for each distinct track heading over it (of the
    ``satellites``, default all), as columns
    ``(n_strip,)``: ``target``, ``set`` (heading set within the polygon), ``j`` (strip in the
    set), ``heading`` (rad), ``sats`` (bool ``(n_strip, n_sat)``: satellites on that
    heading), ``start``, ``end``, ``mid`` (ECEF km ``(n_strip, 3)``), ``length``, ``area``,
    ``share``."""
    n_sat = geo.n_sat
    st = {k: [] for k in ("target", "set", "j", "heading", "sats", "start", "end", "mid",
                          "length", "area", "share")}
    polys = np.flatnonzero(targets.kind == "polygon")
    n = 2.0 * sum(targets.strip_count(int(i), swath_km) for i in polys)  # two headings each
    budget.require(n * STRIP_BYTES, f"swath_km {swath_km:g}",
                   f"{polys.size} polygons x 2 headings in {n:.3g} strips")
    if polys.size:
        lat = geo.ephemeris.geodetic().latitude_rad
        if satellites is not None:
            lat = np.where(np.isin(np.arange(n_sat), satellites)[:, None], lat, np.nan)
        with np.errstate(invalid="ignore"):
            heading = track_heading(geo.r, geo.v)
    for i in polys:
        sets = _heading_sets(lat, heading, math.radians(targets.latitude_deg[i]))
        for set_id, (h, sats) in enumerate(sets):
            strips = targets.strips(int(i), math.degrees(h), swath_km)
            k = len(strips)
            st["target"].append(np.full(k, i)), st["set"].append(np.full(k, set_id))
            st["j"].append(np.arange(k)), st["heading"].append(np.full(k, h))
            st["sats"].append(np.broadcast_to(sats, (k, n_sat)))
            st["start"].append(strips.start_ecef_km), st["end"].append(strips.end_ecef_km)
            st["mid"].append(strips.mid_ecef_km), st["length"].append(strips.length_km)
            st["area"].append(strips.area_km2), st["share"].append(strips.share)
    if not st["target"]:
        empty = {"sats": np.zeros((0, n_sat), dtype=bool)}
        for k in ("start", "end", "mid"):
            empty[k] = np.zeros((0, 3))
        for k in ("target", "set", "j"):
            empty[k] = np.zeros(0, dtype=np.int64)
        for k in ("heading", "length", "area", "share"):
            empty[k] = np.zeros(0)
        return empty
    return {k: np.concatenate(v) for k, v in st.items()}


def strip_windows(geo: ImagingGeometry, st: dict, iv: Intervals, n_point: int, tol_s: float):
    """Windows of whole strips from the windows of their two ends.

    ``st``: :func:`strip_columns` (``n_strip`` strips); ``iv``: windows of the aim points
    (``n_point`` point targets, then every strip's start, then every strip's end). Returns
    ``(strip, sat, first_s, last_s, duration_s, best_s)`` ``(m,)``: acquisitions may start
    in ``[first_s, last_s]``; ``best_s`` is the time of least off-nadir angle to the strip's
    middle.
    """
    n_sat, n_st = geo.n_sat, len(st["target"])
    ms = (iv.point >= n_point) & (iv.point < n_point + n_st)
    me = iv.point >= n_point + n_st
    js, ss = iv.point[ms] - n_point, iv.sat[ms]
    je, se = iv.point[me] - n_point - n_st, iv.sat[me]
    ok_s = st["sats"][js, ss] if js.size else np.zeros(0, dtype=bool)
    ok_e = st["sats"][je, se] if je.size else np.zeros(0, dtype=bool)
    dur_e = st["length"][je] / geo.ground_speed_km_s[se]
    # Start times at which the start is imageable now and the end after `duration`.
    key, fa, fb, _, _ = _intersect(
        (js * n_sat + ss)[ok_s], iv.start_s[ms][ok_s], iv.end_s[ms][ok_s],
        (je * n_sat + se)[ok_e], (iv.start_s[me] - dur_e)[ok_e], (iv.end_s[me] - dur_e)[ok_e])
    sj, s_sat = key // n_sat, key % n_sat
    s_dur = st["length"][sj] / geo.ground_speed_km_s[s_sat]
    if sj.size:
        r, v = geo.state(s_sat, 0.5 * (fa + fb + s_dur))
        same_way = _angle_diff(track_heading(r, v), st["heading"][sj]) <= _HEADING_TOL_RAD
    else:
        same_way = np.zeros(0, dtype=bool)
    sj, s_sat, fa, fb, s_dur = sj[same_way], s_sat[same_way], fa[same_way], fb[same_way], s_dur[same_way]
    s_best = min_off_nadir_time(geo, s_sat, st["mid"][sj], fa + 0.5 * s_dur, fb + 0.5 * s_dur, tol_s)
    return sj, s_sat, fa, fb, s_dur, s_best


def _intersect(key_a, a0, a1, key_b, b0, b1):
    """Pairwise intersections of two interval lists, each disjoint per key.

    Returns ``(key, start, end, index_a, index_b)`` for every overlapping pair.
    """
    if len(key_a) == 0 or len(key_b) == 0:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return zi, z, z, zi, zi
    t_min = min(a0.min(), b0.min())
    span = 2.0 ** math.ceil(math.log2(max(a1.max(), b1.max()) - t_min + 2.0))
    order = np.lexsort((b0, key_b))
    kb, s0, s1 = key_b[order], b0[order] - t_min, b1[order] - t_min
    lo = np.searchsorted(kb * span + s1, key_a * span + (a0 - t_min), side="right")
    hi = np.searchsorted(kb * span + s0, key_a * span + (a1 - t_min), side="left")
    count = np.maximum(hi - lo, 0)
    ia = np.repeat(np.arange(len(key_a)), count)
    offset = np.arange(ia.size) - np.repeat(np.cumsum(count) - count, count)
    ib_sorted = lo[ia] + offset
    ib = order[ib_sorted]
    start = np.maximum(a0[ia], b0[ib])
    end = np.minimum(a1[ia], b1[ib])
    good = (end >= start) & (key_b[ib] == key_a[ia])
    return key_a[ia][good], start[good], end[good], ia[good], ib[good]
