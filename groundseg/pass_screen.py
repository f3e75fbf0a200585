"""Which (interval, satellite, station) rows the pass search examines: a screen that misses none.

A satellite clears a station's lowest requirement only while the geocentric angle psi
between them is within :func:`groundseg.bounds.elevation_limit_rad` of the station, with the
requirement lowered by the station's deflection (geodetic minus geocentric elevation differ
by at most that, <= 0.19 deg) and the radius bounded above between samples: so however
oblate the Earth, no visible instant lies outside that limit ``lam``. Likewise it is surely
visible while psi is within ``lam_in`` (the highest requirement raised by the deflection, the
radius bounded below). psi changes no faster than L (:mod:`groundseg.bounds`).

The completeness argument
-------------------------
1. **Screen**, over every interval, satellite and station (a block of intervals at a
   time). Each instant of a grid interval of length h lies within h / 4 of one of three
   points: its two samples and its middle (on the satellite's polynomial). So an interval
   holding a visible instant has one of them with psi <= ``lam + L h / 4``, and one whose
   three points all have psi <= ``lam_in - L h / 4`` is visible throughout (it holds no
   crossing). Both tests are made twice, each
   valid on its own: with the window's ``lam`` and L per (satellite, station), and with each
   interval's own per (interval, satellite), taken over the stations' extremes (for eccentric
   orbits: at apogee the direction turns a hundred times slower than at perigee). The cosines
   are float64 products of unit vectors; the thresholds are float32 cosines (error < 1e-6: the
   angle rounded to float32, then float32's cosine), widened by 1e-5 towards keeping the row.
2. **Exact test** of the rows left, on the screen's float64 cosines, per half interval: psi >=
   (psi_a + psi_b - L h / 2) / 2 everywhere inside a half of ends a, b, and <= (psi_a + psi_b
   + L h / 2) / 2; with the interval's own radius and rate bounds and each station's own
   limits. A row is examined when a half may reach ``lam`` and not both halves are surely
   within ``lam_in``.

Shapes: rows ``(m,)`` sorted by (interval, satellite, station).
"""
from __future__ import annotations

import numpy as np

from .bounds import OrbitBounds, elevation_limit_rad

__all__ = ["candidate_rows"]

_PAD_RAD = 1e-5            # margin of every limit (the polynomials' metres, rounding)
_FLOAT32_MARGIN = 1e-5     # widening of the float32 cosine thresholds (their error < 1e-6)
_SCREEN_ELEMENTS = 65536   # (interval, satellite, station) elements screened at a time


def candidate_rows(geo, valid, bounds: OrbitBounds):
    """Rows ``(k, s, j)`` to examine (module docstring), for a
    :class:`groundseg.pass_search.PassGeometry` ``geo`` with ``valid`` samples ``(n_sat,
    n_time)``."""
    sites = geo.sites
    h = geo.h                                                               # (n_t - 1,)
    n_k, n_j = h.size, len(sites)
    eps = sites.lowest - sites.deflection - _PAD_RAD                        # (n_j,)
    eps_in = sites.highest + sites.deflection + _PAD_RAD
    # Unit vectors: stations (n_t, 3, n_j), satellites (n_t, n_s, 3) and the polynomials'
    # middles (n_t - 1, n_s, 3).
    site_pos = np.swapaxes(geo.site_components[:3].reshape(3, n_k + 1, n_j), 0, 1)
    dirs = site_pos / _norm(np.swapaxes(site_pos, 0, 1))[:, None]
    unit = _unit_rows(geo.p3)
    mid = _unit_rows(geo.mid3)
    limits = [x.astype(float) for x in _limits(bounds, h, sites.radius, eps, eps_in)]  # one dtype
    pair_valid = (valid[:, :-1] & valid[:, 1:]).T                           # (n_t - 1, n_s)
    n_s = unit.shape[1]
    step = max(1, _SCREEN_ELEMENTS // (n_s * n_j))
    found, cosines = [], []
    for k0 in range(0, n_k, step):
        k = slice(k0, k0 + step)
        m = mid[k]
        cos_a = np.matmul(unit[k0:k0 + step + 1], dirs[k0:k0 + step + 1])   # (K + 1, n_s, n_j)
        cos_m = np.matmul(m, dirs[k0:k0 + len(m)])                          # (K, n_s, n_j)
        cand = _screen(cos_a, cos_m, *limits[:2], *(x[k] for x in limits[2:]))
        cand &= pair_valid[k, :, None]
        i = np.flatnonzero(cand)                  # faster than np.nonzero in 3-d
        flat = cos_a.reshape(-1)
        cosines.append((flat[i], cos_m.reshape(-1)[i], flat[i + n_s * n_j]))
        found.append(i + k0 * n_s * n_j)
    kk, rest = np.divmod(np.concatenate(found), n_s * n_j)
    ss, jj = np.divmod(rest, n_j)
    cos_a, cos_m, cos_b = (np.concatenate(x) for x in zip(*cosines))
    return _exact(cos_a, cos_m, cos_b, bounds, h, sites, eps, eps_in, kk, ss, jj)


def _unit_rows(x):
    """Unit vectors ``(n_t, n_s, 3)`` of vectors ``(3, n_s, n_t)``."""
    norm = _norm(x)
    rows = np.empty(x.shape[::-1])
    for c in range(3):
        np.divide(x[c], norm, out=rows[..., c].T)
    return rows


def _limits(bounds: OrbitBounds, h, radius, eps, eps_in):
    """The float32 cosine thresholds of item 1 of the module docstring: the window's per
    (satellite, station) ``(n_s, n_j)`` and each interval's per (interval, satellite) ``(n_t
    - 1, n_s)``, reach then inside for each."""
    with np.errstate(invalid="ignore"):
        # The window's bounds per (satellite, station) ...
        rate = bounds.angle_rate_rad_s[:, None] * (h.max() / 4)
        lam = elevation_limit_rad(bounds.radius_hi_km[:, None], radius, eps) + _PAD_RAD
        lam_in = elevation_limit_rad(bounds.radius_lo_km[:, None], radius, eps_in) - _PAD_RAD
        reach, inside = _thresholds(lam + rate, lam_in - rate)              # (n_s, n_j)
        # ... and each interval's per (interval, satellite), over the stations' extremes.
        rate_k = (bounds.interval_angle_rate_rad_s * (h / 4)).T               # (n_t - 1, n_s)
        r_cos = radius * np.cos(eps)
        r_cos_in = radius * np.cos(eps_in)
        lam_k = elevation_limit_rad(bounds.interval_radius_hi_km.T, r_cos.min(), 0.0) \
            - eps.min() + _PAD_RAD
        lam_in_k = elevation_limit_rad(bounds.interval_radius_lo_km.T, r_cos_in.max(), 0.0) \
            - eps_in.max() - _PAD_RAD
        reach_k, inside_k = _thresholds(lam_k + rate_k, lam_in_k - rate_k)  # (n_t - 1, n_s)
    return reach, inside, reach_k, inside_k


def _screen(cos_a, cos_m, reach, inside, reach_k, inside_k):
    """Item 1 of the module docstring on a block of K intervals: bool ``(K, n_s, n_j)`` from
    the cosines of the satellites' angles to the stations at the samples ``(K + 1, n_s,
    n_j)`` and at the middles ``(K, n_s, n_j)``, and the thresholds of :func:`_limits`."""
    hi = np.maximum(cos_m, cos_a[:-1])
    np.maximum(hi, cos_a[1:], out=hi)
    lo = np.minimum(cos_m, cos_a[:-1])
    np.minimum(lo, cos_a[1:], out=lo)
    cand = hi >= reach[None]
    cand &= hi >= reach_k[:, :, None]
    surely_in = lo >= inside[None]
    surely_in |= lo >= inside_k[:, :, None]
    cand &= ~surely_in
    return cand


def _thresholds(reach_rad, inside_rad):
    """float32 cosines of the reach and inside angles (module docstring), widened towards
    keeping a row: the reach one is -1 (always) from pi on, the inside one 2 (never) where its
    angle is not positive (NaN bounds: a satellite without samples, always and never)."""
    f32 = np.float32
    with np.errstate(invalid="ignore"):
        reach = np.where(reach_rad < np.pi, np.cos(np.minimum(reach_rad, np.pi).astype(f32)), -1)
        inside = np.where(inside_rad > 0, np.cos(np.clip(inside_rad, 0, np.pi).astype(f32)), 2)
    return (reach - f32(_FLOAT32_MARGIN)).astype(f32), (inside + f32(_FLOAT32_MARGIN)).astype(f32)


def _exact(cos_a, cos_m, cos_b, bounds: OrbitBounds, h, sites, eps, eps_in, kk, ss, jj):
    """Item 2 of the module docstring on rows ``(kk, ss, jj)`` with the cosines of their
    angles at the samples and the middle: the rows kept."""
    n_k = h.size
    sk = ss * n_k + kk                             # flat (satellite, interval): np.take is fast
    with np.errstate(invalid="ignore"):
        psi_m = np.arccos(np.clip(cos_m, -1, 1))
        pair_a = np.arccos(np.clip(cos_a, -1, 1)) + psi_m          # the two halves
        pair_b = np.arccos(np.clip(cos_b, -1, 1)) + psi_m
        # elevation_limit_rad, R cos(eps) per station.
        lam = np.arccos(np.clip((sites.radius * np.cos(eps))[jj]
                                / np.take(bounds.interval_radius_hi_km, sk), -1.0, 1.0)) \
            - eps[jj] + _PAD_RAD
        lam_in = np.arccos(np.clip((sites.radius * np.cos(eps_in))[jj]
                                   / np.take(bounds.interval_radius_lo_km, sk), -1.0, 1.0)) \
            - eps_in[jj] - _PAD_RAD
    slack = np.take(bounds.interval_angle_rate_rad_s, sk) * h[kk] / 2
    keep = (np.minimum(pair_a, pair_b) - slack <= 2 * lam) & \
        ~(np.maximum(pair_a, pair_b) + slack <= 2 * lam_in)
    return kk[keep], ss[keep], jj[keep]


def _norm(x):
    """Norms of ``(3, ...)`` vectors."""
    return np.sqrt(_dot(x, x))


def _dot(a, b):
    """Dot products of ``(3, ...)`` vectors (component by component: long loops)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
