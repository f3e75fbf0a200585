"""SAR access: when each satellite's radar can image each target, on which side, at what incidence.

The search is the optical one's (:mod:`groundseg.access_search`), with the radar's conditions:

1. **The incidence band, as geocentric angles.** The geodetic incidence is within
   ``[lo, hi]`` only where the geocentric incidence is within ``[lo - delta, hi + delta]``
   (delta: the angle between the ellipsoid normal and the geocentric radius at the target),
   which is a band of the geocentric angle psi between satellite and target
   (:class:`groundseg.bounds.IncidenceBound`). The complete window search of
   :func:`groundseg.access_search.angle_bound_windows` finds every such window.
2. **Inside those windows**, the exact conditions, combined as the smallest of their margins,
   located by :func:`groundseg.visibility.condition_windows` (rate bound: item 5 of
   :mod:`groundseg.bounds`): the geodetic incidence within ``[lo, hi]``; the squint (the angle
   between the line of sight and the plane perpendicular to the Earth-fixed velocity, zero at
   zero Doppler) within the mode's limit; the look side, from the sign of the line of sight's
   component along ``v x r`` (right of the ground track when positive), searched once per
   allowed side; and, when asked, ascending (``v_z > 0``) or descending passes (the Earth's
   rotation adds nothing to ``v_z``).

Every window longer than the time tolerance is found; a window has one look side. A point
target's scene (``scene_duration_s``) is centred on an instant inside a window, so its
acquisition may run from half a scene before the window to half a scene after it; a polygon
is cut into strips one swath wide and imaged looking one way (:mod:`groundseg.strips`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .access import (ACCESS_COLUMNS, Opportunities, imaging_aims, imaging_source,
                     opportunity_columns)
from .access_search import Intervals, angle_bound_windows
from .bounds import IncidenceBound, sight_line_rate_rad_s
from .errors import GroundsegError
from .imaging_geometry import ImagingGeometry, geodetic_up
from .roots import refine_roots
from .sar import SarSensor, look_side_sign, orbit_direction_sign
from .strips import strip_windows
from .table import Table
from .visibility import condition_windows

__all__ = ["SAR_ACCESS_COLUMNS", "SarIntervals", "sar_windows", "sar_look", "find_sar_opportunities"]

SAR_ACCESS_COLUMNS = ACCESS_COLUMNS + ("incidence_deg", "look_side")
_MAX_INCIDENCE_RAD = np.radians(85.0)


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def _norm(a):
    return np.sqrt(_dot(a, a))


@dataclass
class SarIntervals(Intervals):
    """:class:`~groundseg.access_search.Intervals` with the look ``side`` of each window
    ``(m,)``: +1 right, -1 left. ``geometric`` counts the windows of the incidence band alone."""

    side: np.ndarray = None


def sar_look(r, v, aim_km):
    """Geodetic incidence (rad), squint (rad, positive looking forward) and look side (+1
    right, -1 left) from ITRS states ``(m, 3)`` (Earth-fixed velocity) to aim points
    ``(m, 3)``; all ``(m,)``."""
    d = r - aim_km
    rho = _norm(d)
    incidence = np.arccos(np.clip(_dot(d, geodetic_up(aim_km)) / rho, -1, 1))
    u = -d / rho[:, None]
    squint = np.arcsin(np.clip(_dot(u, v) / _norm(v), -1, 1))
    side = np.where(_dot(u, np.cross(v, r)) >= 0, 1, -1)
    return incidence, squint, side


def sar_windows(geo: ImagingGeometry, aim_km, incidence_lo_rad, incidence_hi_rad,
                max_squint_rad: float, look_side: str = "both", direction=0, tol_s: float = 1e-3,
                satellites=None) -> SarIntervals:
    """Windows of every (satellite, aim point) in which the radar can image the point
    (module docstring). ``aim_km``: ECEF ``(n_p, 3)``; incidence band (geodetic, rad):
    scalars or ``(n_p,)``; ``direction``: +1 ascending passes only, -1 descending, 0 both
    (scalar or ``(n_p,)``); ``satellites``: indices to search (default all)."""
    aim_km = np.asarray(aim_km, dtype=float).reshape(-1, 3)
    n_p = len(aim_km)
    lo = np.broadcast_to(np.asarray(incidence_lo_rad, dtype=float), (n_p,))
    hi = np.broadcast_to(np.asarray(incidence_hi_rad, dtype=float), (n_p,))
    way = np.broadcast_to(np.asarray(direction, dtype=float), (n_p,))
    sides = look_side_sign(look_side)
    radius = _norm(aim_km)
    up = geodetic_up(aim_km)
    delta = np.arccos(np.clip(_dot(up, aim_km) / np.maximum(radius, 1e-9), -1, 1))
    band = IncidenceBound(np.maximum(lo - delta, 0.0), np.minimum(hi + delta, _MAX_INCIDENCE_RAD))
    wp, ws, a, b = angle_bound_windows(geo, aim_km, band, tol_s, satellites)
    geometric = np.bincount(wp, minlength=n_p)
    ob = geo.orbit_bounds
    if wp.size == 0:
        z = np.zeros(0)
        return SarIntervals(ws, wp, z, z.copy(), geometric, np.zeros(0, dtype=np.int64))
    speed = float(np.nanmax(ob.speed_km_s))
    r_top = float(np.nanmax(ob.radius_hi_km))
    rate = float(np.nanmax(sight_line_rate_rad_s(ob, float(radius.max()))))
    sin_squint = np.sin(max_squint_rad)

    def margin_of(sign):
        def margin(w, t):
            pt = wp[w]
            r, v = geo.state(ws[w], t)
            d = r - aim_km[pt]
            rho = _norm(d)
            inc = np.arccos(np.clip(_dot(d, up[pt]) / rho, -1, 1))
            u = -d / rho[:, None]
            m = np.minimum(inc - lo[pt], hi[pt] - inc)
            m = np.minimum(m, (sin_squint * _norm(v) - np.abs(_dot(u, v))) / speed)
            m = np.minimum(m, sign * _dot(u, np.cross(v, r)) / (speed * r_top))
            return np.where(way[pt] != 0, np.minimum(m, way[pt] * v[:, 2] / speed), m)
        return margin

    out = []
    for sign in sides:
        w, sa, sb = condition_windows(margin_of(sign), a, b, rate, tol_s)
        out.append((ws[w], wp[w], sa, sb, np.full(w.size, sign, dtype=np.int64)))
    sat, point, start, end, side = (np.concatenate(x) for x in zip(*out))
    order = np.lexsort((start, sat, point))
    return SarIntervals(sat[order], point[order], start[order], end[order], geometric, side[order])


def _broadside_time(geo: ImagingGeometry, sat, aim_km, lo, hi, tol_s: float):
    """Zero-squint time in ``[lo, hi]`` (the squint falls monotonically through a pass), or
    the end nearer to it; all ``(m,)``."""
    def squint(rows, t):
        r, v = geo.state(sat[rows], t)
        return sar_look(r, v, aim_km[rows])[1]

    n = len(sat)
    idx = np.arange(n)
    if n == 0:
        return np.zeros(0)
    fa, fb = squint(idx, lo), squint(idx, hi)
    best = np.where(np.abs(fa) <= np.abs(fb), lo, hi).astype(float)
    cross = np.flatnonzero(fa * fb < 0)
    if cross.size:
        best[cross] = refine_roots(squint, cross, lo[cross], hi[cross], fa[cross], fb[cross],
                                   tol_s=tol_s)
    return best


def _directions(targets, orbit_direction) -> np.ndarray:
    """Per target +1 / -1 / 0 from one direction name or a ``{target id: name}`` mapping
    (targets not named: both)."""
    n = len(targets)
    if isinstance(orbit_direction, str):
        return np.full(n, orbit_direction_sign(orbit_direction), dtype=float)
    if not isinstance(orbit_direction, dict):
        raise GroundsegError("orbit_direction must be 'ascending', 'descending', 'both' or a "
                             "mapping of target ids to those")
    out = np.zeros(n)
    for key, value in orbit_direction.items():
        try:
            i = targets.ids.index(str(key))
        except ValueError:
            raise GroundsegError(f"orbit_direction: unknown target {key!r}") from None
        out[i] = orbit_direction_sign(value)
    return out


def find_sar_opportunities(source, targets, start=None, end=None, *, sensor: SarSensor = SarSensor(),
                           mode: str = "stripmap", look_side: str | None = None,
                           orbit_direction="both", step_s: float = 60.0, tol_s: float = 1e-3,
                           satellites=None) -> Opportunities:
    """Every opportunity of the radar ``sensor`` in ``mode`` on every target, as
    :class:`~groundseg.access.Opportunities` with three more columns: ``sar_mode``,
    ``incidence_deg`` (geodetic, at the best time: zero squint) and ``look_side``
    (``right`` / ``left``). ``source``, ``targets``, ``start``, ``end``, ``step_s``,
    ``tol_s``, ``satellites``: as :func:`~groundseg.access.find_opportunities`.
    ``look_side``: overrides the sensor's; ``orbit_direction``: ``ascending``,
    ``descending``, ``both`` or a mapping ``{target id: direction}``. ``gsd_m`` is the
    mode's resolution; ``min_off_nadir_deg`` the off-nadir angle at the best time.
    """
    if not isinstance(sensor, SarSensor):
        raise GroundsegError(f"sensor must be a groundseg.sar.SarSensor, got {type(sensor).__name__}")
    sar_mode = sensor.mode(mode)
    side = sensor.look_side if look_side is None else look_side
    geo, tol_s = imaging_source(source, targets, start, end, step_s, tol_s)
    eph = geo.ephemeris
    pt_idx, st, aims, aim_target = imaging_aims(geo, targets, sar_mode.swath_km, satellites)
    way = _directions(targets, orbit_direction)[aim_target]
    iv = sar_windows(geo, aims, np.radians(sar_mode.incidence_min_deg),
                     np.radians(sar_mode.incidence_max_deg), np.radians(sar_mode.max_squint_deg),
                     side, way, tol_s, satellites)
    dur = float(sar_mode.scene_duration_s)

    # Point targets: a scene centred on an instant of the window.
    m = iv.point < pt_idx.size
    p_sat, p_aim, p_side = iv.sat[m], iv.point[m], iv.side[m]
    p_best = _broadside_time(geo, p_sat, aims[p_aim], iv.start_s[m], iv.end_s[m], tol_s)
    p_a = np.maximum(iv.start_s[m] - 0.5 * dur, geo.grid_s[0])
    p_b = np.minimum(iv.end_s[m] + 0.5 * dur, geo.valid_end_s[p_sat])
    p_dur = np.full(p_sat.size, dur)
    p_acq = np.clip(p_best - 0.5 * dur, p_a, np.maximum(p_a, p_b - dur))

    # Strips: both ends on the same side.
    parts = []
    for sign in look_side_sign(side):
        keep = iv.side == sign
        sub = Intervals(iv.sat[keep], iv.point[keep], iv.start_s[keep], iv.end_s[keep], iv.geometric)
        got = strip_windows(geo, st, sub, pt_idx.size, tol_s)
        parts.append(got + (np.full(got[0].size, sign, dtype=np.int64),))
    sj, s_sat, fa, fb, s_dur, s_best, s_side = (np.concatenate(x) for x in zip(*parts))
    s_acq = np.clip(s_best - 0.5 * s_dur, fa, fb)

    rows = opportunity_columns(geo, targets, pt_idx, st, aims,
                               (p_sat, p_aim, p_a, p_b, p_best, p_dur, p_acq),
                               (sj.astype(np.int64), s_sat.astype(np.int64), fa, fb, s_dur, s_best,
                                s_acq))
    cols = rows.columns
    r, v = geo.state(rows.sat, rows.best)
    incidence, _, _ = sar_look(r, v, rows.aim_best)
    looks = np.concatenate([p_side, s_side])[rows.order]
    cols["gsd_m"] = np.full(len(rows.sat), float(sar_mode.resolution_m))
    cols["sar_mode"] = np.full(len(rows.sat), sar_mode.name, dtype=object)
    cols["incidence_deg"] = np.degrees(incidence)
    cols["look_side"] = np.where(looks > 0, "right", "left").astype(object)
    unscheduled = _unscheduled(eph, targets, pt_idx, st, iv, rows.target, sar_mode, side, geo)
    return Opportunities(cols, rows.aim_start, rows.aim_end, geo, targets, unscheduled, sensor)


def _unscheduled(eph, targets, pt_idx, st, iv, tgt, mode, side, geo) -> Table:
    """Targets without any SAR opportunity, with the reason (``no_opportunity``,
    ``propagation``) and what was missing."""
    n = len(targets)
    have = np.bincount(tgt, minlength=n) > 0
    aim_target = np.concatenate([pt_idx, st["target"], st["target"]]).astype(np.int64)
    banded = np.bincount(aim_target, weights=iv.geometric, minlength=n)
    iso = eph.times.iso()
    span = f"between {iso[0]} and {iso[-1]}"
    band = f"incidence {mode.incidence_min_deg:g}-{mode.incidence_max_deg:g} deg"
    rows = {"target": [], "reason": [], "detail": []}
    for i in np.flatnonzero(~have):
        if not np.isfinite(geo.valid_end_s).any():
            reason, detail = "propagation", "no satellite could be propagated: " + "; ".join(eph.errors()[:2])
        elif banded[i] == 0:
            reason, detail = "no_opportunity", f"never within {band} {span}"
        else:
            reason = "no_opportunity"
            detail = (f"{int(banded[i])} passes within {band} {span}, none broadside (squint <= "
                      f"{mode.max_squint_deg:g} deg) looking {side} on the passes allowed"
                      + (" for a whole strip" if targets.kind[i] == "polygon" else ""))
        rows["target"].append(targets.ids[i])
        rows["reason"].append(reason)
        rows["detail"].append(detail)
    return Table({k: np.array(v, dtype=object) for k, v in rows.items()})
