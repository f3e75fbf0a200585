"""Imaging windows of every (satellite, aim point): off-nadir within a limit, Sun high enough.

Completeness (:mod:`groundseg.bounds`, :mod:`groundseg.visibility`). The off-nadir angle is
at most ``eta`` exactly when the geocentric angle psi between satellite and aim point is at
most ``off_nadir_limit_rad(|r|, |p|, eta)``; the margin ``g = limit(|r|) - psi`` changes no
faster than ``L + |dlimit/dr| |dr/dt|``. Every sample within reach of the limit is found by
one float32 product of every point with every sample (then tested exactly), and the grid
intervals next to those samples are searched on cubic-Hermite interpolated ITRS states (no
SGP4 call beyond the grid). The Sun condition is then located inside each window the same
way (:func:`groundseg.visibility.condition_windows`). Every window longer than the time
tolerance (1 ms) is found. Off-nadir limits closer than 1 deg to the Earth's limb are
reduced to the limb minus 1 deg (there the limit stops being Lipschitz in ``|r|``; no
sensor images at such grazing angles).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bounds import SUN_ELEVATION_RATE_RAD_S, OffNadirBound
from .imaging_geometry import ImagingGeometry, geodetic_up, look_angles
from .roots import refine_roots
from .visibility import angle_windows, condition_windows, dense_hits, reach_rad

__all__ = ["Intervals", "access_windows", "angle_bound_windows", "min_off_nadir_time",
           "points_per_chunk"]

_LIMB_MARGIN_RAD = math.radians(1.0)
_CHUNK_SAMPLES = 100_000_000       # (point, satellite, time) products per chunk of points


@dataclass
class Intervals:
    """Windows ``(m,)``: ``sat``, ``point``, ``start_s``, ``end_s``; ``geometric``: windows per
    point before the Sun condition, ``(n_point,)``."""

    sat: np.ndarray
    point: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    geometric: np.ndarray


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def access_windows(geo: ImagingGeometry, aim_km, eta_max, min_sun, tol_s=1e-3,
                   satellites=None, chunk_points=None, progress=None) -> Intervals:
    """Windows of every (satellite, aim point): off-nadir <= ``eta_max`` and Sun >= ``min_sun``.

    ``aim_km``: ECEF ``(n_p, 3)``; ``eta_max``, ``min_sun``: rad ``(n_p,)``; ``satellites``:
    the satellite indices to search (default all). Points are searched ``chunk_points`` at a
    time (default :func:`points_per_chunk`): each point on its own, so the chunks change
    nothing but the memory the search holds. ``progress(done, total)`` is called after each
    chunk.
    """
    aim_km = np.asarray(aim_km, dtype=float).reshape(-1, 3)
    n_p = len(aim_km)
    eta_max = np.broadcast_to(np.asarray(eta_max, dtype=float), (n_p,))
    min_sun = np.broadcast_to(np.asarray(min_sun, dtype=float), (n_p,))
    r_top = float(np.nanmax(geo.r_max, initial=-np.inf))
    parts = []
    chunks = _chunks(n_p, chunk_points or points_per_chunk(geo))
    for c0, c1 in chunks:
        aim = aim_km[c0:c1]
        radius = np.sqrt(_dot(aim, aim))
        eta = np.minimum(eta_max[c0:c1],
                         np.arcsin(np.clip(radius / max(r_top, 1.0), 0, 1)) - _LIMB_MARGIN_RAD)
        bound = OffNadirBound(np.maximum(eta, 1e-6))     # short of the horizon everywhere
        wp, ws, a, b = angle_bound_windows(geo, aim, bound, tol_s, satellites, c1 - c0)
        geometric = np.bincount(wp, minlength=c1 - c0)
        # The Sun, located inside each geometric window the same way.
        up = geodetic_up(aim)
        sun_min = min_sun[c0:c1]

        def sun_margin(w, t, wp=wp, aim=aim, up=up, sun_min=sun_min):
            pt = wp[w]
            d = geo.sun_unit(t, aim[pt])
            return np.arcsin(np.clip(_dot(d, up[pt]), -1, 1)) - sun_min[pt]

        w, sa, sb = condition_windows(sun_margin, a, b, SUN_ELEVATION_RATE_RAD_S, tol_s)
        parts.append((ws[w], wp[w] + c0, sa, sb, geometric))
        if progress is not None:
            progress(len(parts), len(chunks))
    if not parts:
        zi, z = np.zeros(0, dtype=np.int64), np.zeros(0)
        return Intervals(zi, zi.copy(), z, z.copy(), np.zeros(0, dtype=np.int64))
    return Intervals(*(np.concatenate(x) for x in zip(*parts)))


def points_per_chunk(geo: ImagingGeometry) -> int:
    """Aim points searched at a time: ``_CHUNK_SAMPLES`` (point, satellite, time) products,
    which keeps a chunk's hits and windows to some tens of MB for optical limits."""
    return max(1, _CHUNK_SAMPLES // max(1, geo.n_sat * len(geo.grid_s)))


def _chunks(n: int, size: int):
    return [(c0, min(n, c0 + size)) for c0 in range(0, n, max(1, int(size)))]


def angle_bound_windows(geo: ImagingGeometry, aim_km, bound, tol_s=1e-3, satellites=None,
                        chunk_points=None):
    """Windows of every (satellite, aim point) in which a geocentric-angle ``bound``
    (:class:`~groundseg.bounds.OffNadirBound`, :class:`~groundseg.bounds.IncidenceBound`, per
    point, short of the horizon) holds. ``aim_km``: ECEF ``(n_p, 3)``; ``satellites``: the
    satellite indices to search (default all); points ``chunk_points`` at a time (as
    :func:`access_windows`). Returns ``(point, sat, start_s, end_s)`` ``(m,)``, sorted by
    point, satellite, start."""
    aim_km = np.asarray(aim_km, dtype=float).reshape(-1, 3)
    r_top = float(np.nanmax(geo.r_max, initial=-np.inf))
    if len(aim_km) == 0 or not np.isfinite(r_top):
        zi, z = np.zeros(0, dtype=np.int64), np.zeros(0)
        return zi, zi.copy(), z, z.copy()
    with np.errstate(invalid="ignore"):
        rhat = geo.r / geo.rn[..., None]                               # NaN where failed
    if satellites is not None:
        skip = np.ones(geo.n_sat, dtype=bool)
        skip[np.asarray(satellites, dtype=np.int64)] = False
        rhat[skip] = np.nan                                            # never a hit
    chunks = _chunks(len(aim_km), chunk_points or points_per_chunk(geo))
    if len(chunks) == 1:
        return _chunk_windows(geo, aim_km, bound, rhat, r_top, tol_s)
    parts = []
    for c0, c1 in chunks:
        p, s, a, b = _chunk_windows(geo, aim_km[c0:c1], bound[c0:c1], rhat, r_top, tol_s)
        parts.append((p + c0, s, a, b))
    return tuple(np.concatenate(x) for x in zip(*parts))


def _chunk_windows(geo: ImagingGeometry, aim_km, bound, rhat, r_top, tol_s):
    """:func:`angle_bound_windows` of one chunk of points (``rhat``: unit satellite
    directions, NaN where not searched)."""
    radius = np.sqrt(_dot(aim_km, aim_km))
    unit = aim_km / radius[:, None]
    grid = geo.grid_s
    h = np.diff(grid)
    # Hits: samples within reach of the limit at the highest radius and fastest satellite
    # (per point: the chunks change nothing).
    r_bottom = float(np.nanmin(geo.r_min))
    rate_pt = np.nanmax(geo.psi_rate) + np.nanmax(geo.rdot_max) * np.broadcast_to(
        bound.slope_rad_km(r_bottom, r_top, radius, radius), radius.shape)
    cos_reach = np.cos(np.minimum(reach_rad(bound.limit_rad(r_top, radius), rate_pt, geo.h_max),
                                  np.pi))
    p, s, k = dense_hits(unit, rhat, cos_reach[:, None])
    cos_psi = _dot(rhat[s, k], unit[p])
    exact = cos_psi >= cos_reach[p]
    p, s, k, cos_psi = p[exact], s[exact], k[exact], cos_psi[exact]

    def sample_margin(pt, sat, kk, cos_psi=None):
        if cos_psi is None:
            cos_psi = _dot(rhat[sat, kk], unit[pt])
        return bound[pt].margin_rad(geo.rn[sat, kk], radius[pt],
                                    np.arccos(np.clip(cos_psi, -1, 1)), horizon=False)

    def interval_margin(pt, sat, kk):
        hk, sub, R, u = h[kk], bound[pt], radius[pt], unit[pt]

        def g(rows, tau):
            r, _ = geo.state_at(sat[rows], kk[rows], tau, hk[rows])
            rn = np.sqrt(_dot(r, r))
            return sub[rows].margin_rad(rn, R[rows], np.arccos(np.clip(_dot(r, u[rows]) / rn, -1, 1)),
                                        horizon=False)
        return g

    rate = geo.psi_rate[s] + geo.rdot_max[s] * bound[p].slope_rad_km(
        geo.r_min[s], geo.r_max[s], radius[p], radius[p])
    return angle_windows(p, s, k, sample_margin(p, s, k, cos_psi), rate, grid,
                         sample_margin, interval_margin, geo.valid_end_s, tol_s)


def min_off_nadir_time(geo: ImagingGeometry, sat, aim, lo, hi, tol_s=1e-3):
    """Time of least off-nadir angle in ``[lo, hi]`` (one pass: unimodal) for satellites
    ``sat`` looking at ``aim`` ``(m, 3)``; all ``(m,)``."""
    delta = 0.01

    def off(rows, t):
        r, v = geo.state(sat[rows], t)
        return look_angles(r, v, aim[rows])[2]

    def slope(rows, t):
        return (off(rows, t + delta) - off(rows, t - delta)) / (2 * delta)

    n = len(sat)
    idx = np.arange(n)
    best = np.full(n, np.nan)
    if n == 0:
        return best
    da, db = slope(idx, lo), slope(idx, hi)
    best[da >= 0] = lo[da >= 0]
    best[(da < 0) & (db <= 0)] = hi[(da < 0) & (db <= 0)]
    need = np.isnan(best)
    if np.any(need):
        i = idx[need]
        best[i] = refine_roots(slope, i, lo[i], hi[i], da[i], db[i], tol_s=tol_s)
    return best
