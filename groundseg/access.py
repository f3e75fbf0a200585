"""Imaging opportunities: when each satellite can image each target, and with what attitude.

An **opportunity** is a window ``[start, end]`` in which satellite ``s`` can image target
``p``: the off-nadir angle of the line of sight is at most the target's
``max_off_nadir_deg`` and the Sun stands at least ``min_sun_elevation_deg`` above the
target's horizon. An acquisition of ``duration_s`` may start at any ``t`` with
``start <= t`` and ``t + duration_s <= end``.

Geometry (all in ITRS, km and rad; degrees only in the output columns):

- **Nadir** is geocentric: ``-r`` (the usual attitude reference). **Off-nadir** is the angle
  at the satellite between ``-r`` and the line of sight to the target.
- **Local orbital frame** (LVLH-like): ``z`` to nadir (``-r``), ``x`` along the inertial
  velocity made perpendicular to ``z``, ``y = z x x`` (to the right of the ground track).
- **Pitch** ``theta`` and **roll** ``phi`` of a line of sight ``u`` with components
  ``(u_x, u_y, u_z)`` in that frame::

      u = (cos(phi) sin(theta), sin(phi), cos(phi) cos(theta))
      pitch = atan2(u_x, u_z)        positive looking forward (along the velocity)
      roll  = asin(u_y)              positive looking to the right of the ground track
      off-nadir = acos(u_z) = acos(cos(roll) cos(pitch))

  That is: starting from nadir, tilt the boresight by ``roll`` towards ``+y`` (a rotation
  about the ``x`` axis), then by ``pitch`` towards ``+x`` about the frame's ``y`` axis.
  The body rotation is ``C = R_y(pitch) R_x(-roll)`` (``R_a(angle)`` right-handed about the
  frame axis ``a``), i.e. pitch first and then roll about the rotated body ``x`` axis.
  Rotating ``+z`` by ``C`` gives ``u``.
- **GSD estimate** at the best time: ``gsd_nadir_m * (range_km / reference_altitude_km) /
  sqrt(cos(incidence))``, the geometric mean of the along-look (``/cos``) and across-look
  (``x1``) stretch of a pixel projected onto the local horizontal plane at the target
  (incidence = angle between the geodetic vertical at the target and the line of sight).
  It reduces to ``gsd_nadir_m`` at nadir from the reference altitude.

Completeness (ARCHITECTURE.md, Numerics 2). The off-nadir angle is at most ``eta`` exactly
when the geocentric angle ``psi`` between satellite and target is at most
``lambda(eta, |r|, |p|) = pi/2 - eta - acos(|r| sin(eta) / |p|)``. ``psi`` changes no faster
than the angular rate of ``r`` in the Earth-fixed frame (``n + omega_E``) and ``lambda``
only through ``|r|``. So every window lies in a grid interval whose two samples both have
``psi <= lambda_max + L h``; only those intervals are examined, by
:func:`groundseg.events.find_crossings` on ``g = lambda - psi`` evaluated on cubic-Hermite
interpolated states (no SGP4 call beyond the grid). The Sun condition is then located in
each window the same way (solar elevation changes at most at the Earth's rotation rate).
Every window longer than the time tolerance (1 ms) is found. Off-nadir limits closer than
1 deg to the Earth's limb are reduced to the limb minus 1 deg (there ``lambda`` stops being
Lipschitz in ``|r|``; no sensor images at such grazing angles).

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
import warnings
from dataclasses import dataclass

import numpy as np

from .earth import EARTH_ROTATION_RAD_S, ecef_to_geodetic, enu_basis
from .errors import GroundsegError
from .events import find_crossings, refine_roots
from .orbits import Ephemeris, hermite
from .sun import sun_position_km
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

_LIMB_MARGIN_RAD = math.radians(1.0)
_SUN_RATE_RAD_S = 1.02 * EARTH_ROTATION_RAD_S + 1e-6
_HEADING_TOL_RAD = math.radians(30.0)
_CHUNK_ELEMENTS = 6_000_000


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


# --------------------------------------------------------------------------------------
# Geometry on Hermite-interpolated ITRS states
# --------------------------------------------------------------------------------------

def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def _norm(a):
    return np.sqrt(_dot(a, a))


class _Geometry:
    """An ephemeris in ITRS with what access needs; every method takes ``(m,)`` arrays."""

    def __init__(self, ephemeris: Ephemeris):
        times = ephemeris.times
        if len(times) < 2:
            raise GroundsegError("access needs a time grid of at least two instants")
        self.ephemeris = ephemeris
        self.grid_s = np.asarray(times.seconds, dtype=float)
        r, v = ephemeris.itrs()
        self.r = np.ascontiguousarray(r)
        self.v = np.ascontiguousarray(v)
        # The Sun every ~10 min; in between it is carried by the Earth's rotation (below).
        stride = max(1, int(round(600.0 / max(float(np.median(np.diff(self.grid_s))), 1e-9))))
        sun_idx = np.unique(np.append(np.arange(0, len(times), stride), len(times) - 1))
        self.sun_t = self.grid_s[sun_idx]
        self.sun_km = sun_position_km(times[sun_idx], "itrs")
        n_sat, n_time = self.r.shape[:2]
        self.n_sat = n_sat
        self._n_time = n_time
        self._r_flat = self.r.reshape(-1, 3)
        self._v_flat = self.v.reshape(-1, 3)
        steps = np.diff(self.grid_s)
        self._h0 = float(steps[0])
        self._uniform = bool(np.all(np.abs(steps[:-1] - self._h0) <= 1e-9 * self._h0))
        rn = _norm(self.r)
        self.rn = rn
        ok = np.isfinite(rn)
        # A satellite is usable from the grid start up to its first failed sample.
        first_bad = np.where(ok.all(axis=1), n_time, np.argmin(ok, axis=1))
        self.valid_end_s = np.where(first_bad > 0, self.grid_s[np.maximum(first_bad - 1, 0)], -np.inf)
        h = np.diff(self.grid_s)
        self.h_max = float(h.max())
        with np.errstate(invalid="ignore"):
            ang = _norm(np.cross(self.r, self.v)) / rn**2      # rate of r-hat in ITRS, rad/s
            rdot = np.abs(_dot(self.r, self.v)) / rn
        # The rate of r-hat peaks at perigee, maybe between samples: bound it from the mean
        # elements too, n (1 + e)^2 / (1 - e^2)^1.5 + omega_E (with 5 % for perturbations).
        sampled = np.nan_to_num(np.nanmax(np.where(ok, ang, np.nan), axis=1, initial=0.0))
        perigee = np.array([1.05 * (s.no_kozai / 60.0) * (1 + s.ecco) ** 2 / (1 - s.ecco**2) ** 1.5
                            + EARTH_ROTATION_RAD_S for s in ephemeris.constellation.satrecs])
        self.psi_rate = np.maximum(1.05 * sampled, perigee) + 1e-7
        self.rdot_max = 1.05 * np.nan_to_num(np.nanmax(np.where(ok, rdot, np.nan), axis=1,
                                                       initial=0.0)) + 1e-6
        rmax = np.nanmax(np.where(ok, rn, np.nan), axis=1, initial=0.0)
        self.r_max = np.nan_to_num(rmax) + self.rdot_max * self.h_max
        # Sub-satellite ground speed (km/s at the surface), per satellite.
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN rows of failed satellites
            vh = self.v - (_dot(self.v, self.r) / rn**2)[..., None] * self.r
            ground = np.nanmedian(np.where(ok, _norm(vh) * 6371.0 / rn, np.nan), axis=1)
        self.ground_speed_km_s = np.nan_to_num(ground, nan=7.0)

    def _locate(self, t):
        """Grid interval index ``k`` and its length for times ``t``."""
        g = self.grid_s
        if self._uniform:
            k = np.clip(np.floor((t - g[0]) / self._h0).astype(np.int64), 0, g.size - 2)
            k += (t >= g[k + 1]) & (k < g.size - 2)      # guard rounding at sample times
        else:
            k = np.clip(np.searchsorted(g, t, side="right") - 1, 0, g.size - 2)
        return k, g[k + 1] - g[k]

    def state(self, sat, t):
        """ITRS position km and Earth-relative velocity km/s ``(m, 3)`` at ``t`` s."""
        t = np.asarray(t, dtype=float)
        k, h = self._locate(t)
        return self.state_at(np.asarray(sat, dtype=np.int64), k, (t - self.grid_s[k]) / h, h)

    def state_at(self, sat, k, tau, h):
        """States in grid interval ``k`` at fraction ``tau`` (all ``(m,)``)."""
        i = sat * self._n_time + k
        return hermite(self._r_flat[i], self._v_flat[i], self._r_flat[i + 1], self._v_flat[i + 1],
                       h, tau)

    def sun_unit(self, t, points_km):
        """Unit vectors from ``points_km (m, 3)`` to the Sun at ``t (m,)``.

        Between the ~10 min Sun samples each neighbour is rotated with the Earth (about z,
        by ``-omega_E dt``) to ``t`` and the two blended linearly: what remains is the Sun's
        slow inertial motion (~1 deg/day), which a linear blend follows to ~1e-7 rad.
        """
        ts = self.sun_t
        j = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, max(ts.size - 2, 0))
        j1 = np.minimum(j + 1, ts.size - 1)
        span = np.where(ts[j1] > ts[j], ts[j1] - ts[j], 1.0)
        w = np.clip((t - ts[j]) / span, 0.0, 1.0)[:, None]
        a = _spin(self.sun_km[j], -EARTH_ROTATION_RAD_S * (t - ts[j]))
        b = _spin(self.sun_km[j1], -EARTH_ROTATION_RAD_S * (t - ts[j1]))
        s = (1.0 - w) * a + w * b - points_km
        return s / _norm(s)[:, None]


def _spin(v, angle):
    """Rotate vectors ``(m, 3)`` about z by ``angle (m,)`` rad (counter-clockwise)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], axis=1)


def _look(r, v_rel, aim):
    """Roll, pitch, off-nadir (rad), range (km) and unit line of sight from states ``(m, 3)``."""
    v_in = v_rel + EARTH_ROTATION_RAD_S * np.stack([-r[:, 1], r[:, 0], np.zeros(len(r))], axis=1)
    z = -r / _norm(r)[:, None]
    x = v_in - _dot(v_in, z)[:, None] * z
    x /= _norm(x)[:, None]
    y = np.cross(z, x)
    d = aim - r
    rng = _norm(d)
    u = d / rng[:, None]
    ux, uy, uz = _dot(u, x), _dot(u, y), _dot(u, z)
    return (np.arctan2(uy, np.hypot(ux, uz)), np.arctan2(ux, uz),
            np.arctan2(np.hypot(ux, uy), uz), rng, u)


def _lambda(r_km, radius_km, eta):
    """Geocentric angle at which the off-nadir angle is ``eta`` (rad); ``eta`` inside the limb."""
    return 0.5 * np.pi - eta - np.arccos(np.clip(r_km * np.sin(eta) / radius_km, -1.0, 1.0))


def _dlambda_dr(r_km, radius_km, eta):
    s = np.clip(r_km * np.sin(eta) / radius_km, 0.0, 1.0 - 1e-12)
    return np.sin(eta) / radius_km / np.sqrt(1.0 - s * s)


def _up(points_km):
    geo = ecef_to_geodetic(points_km)
    return enu_basis(geo.latitude_rad, geo.longitude_rad)[..., 2, :]


# --------------------------------------------------------------------------------------
# Intervals from crossings
# --------------------------------------------------------------------------------------

def _assemble(keys, times, enter, start_keys, start_of_key, end_of_key):
    """Intervals per key from entry / exit events.

    ``keys``, ``times``, ``enter`` ``(m,)``: crossing events; ``start_keys``: keys already
    inside at their start time ``start_of_key(keys)``. A key still inside after its last
    event closes at ``end_of_key(keys)``. Returns ``(key, start, end)`` sorted by key, start.
    """
    keys = np.concatenate([np.asarray(keys, dtype=np.int64), np.asarray(start_keys, dtype=np.int64)])
    times = np.concatenate([np.asarray(times, dtype=float), start_of_key(np.asarray(start_keys, dtype=np.int64))])
    enter = np.concatenate([np.asarray(enter, dtype=bool), np.ones(len(start_keys), dtype=bool)])
    order = np.lexsort((~enter, times, keys))
    k, t, e = keys[order], times[order], enter[order]
    if k.size == 0:
        z = np.zeros(0)
        return np.zeros(0, dtype=np.int64), z, z
    keep = np.ones(k.size, dtype=bool)
    keep[1:] = (k[1:] != k[:-1]) | (e[1:] != e[:-1])   # drop repeated entries / exits
    k, t, e = k[keep], t[keep], e[keep]
    n = k.size
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = k[1:] == k[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    i_pair = np.flatnonzero(e & same_next)              # entry followed by its exit
    i_open = np.flatnonzero(e & ~same_next)             # entry never left
    i_head = np.flatnonzero(~e & first)                 # exit with no entry: inside at start
    key = np.concatenate([k[i_pair], k[i_open], k[i_head]])
    a = np.concatenate([t[i_pair], t[i_open], start_of_key(k[i_head])])
    b = np.concatenate([t[i_pair + 1], end_of_key(k[i_open]), t[i_head]])
    good = b >= a
    key, a, b = key[good], a[good], b[good]
    order = np.lexsort((a, key))
    return key[order], a[order], b[order]


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


# --------------------------------------------------------------------------------------
# Access intervals for ground points
# --------------------------------------------------------------------------------------

@dataclass
class _Intervals:
    sat: np.ndarray
    point: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    geometric: np.ndarray      # windows per point before the Sun condition, (n_point,)


def _access(geo: _Geometry, aim_km, eta_max, min_sun, tol_s=1e-3) -> _Intervals:
    """Windows of every (satellite, aim point): off-nadir <= ``eta_max`` and Sun >= ``min_sun``.

    ``aim_km``: ECEF ``(n_p, 3)``; ``eta_max``, ``min_sun``: rad ``(n_p,)``.
    """
    aim_km = np.asarray(aim_km, dtype=float).reshape(-1, 3)
    n_p = len(aim_km)
    n_sat, n_time = geo.r.shape[:2]
    if n_p == 0:
        zi, z = np.zeros(0, dtype=np.int64), np.zeros(0)
        return _Intervals(zi, zi, z, z, zi)
    radius = _norm(aim_km)
    unit = aim_km / radius[:, None]
    r_top = float(np.max(geo.r_max))
    eta = np.minimum(eta_max, np.arcsin(np.clip(radius / max(r_top, 1.0), 0, 1)) - _LIMB_MARGIN_RAD)
    eta = np.maximum(eta, 1e-6)
    grid, h = geo.grid_s, np.diff(geo.grid_s)

    # Screening: a window can only lie in a grid interval whose two samples both have
    # psi <= lambda(r_top) + L h. One float32 product per chunk of aim points, with the
    # threshold widened far past float32 rounding; exact values follow in float64.
    rate_all = float(np.max(geo.psi_rate) + np.max(geo.rdot_max) * _dlambda_dr(r_top, radius, eta).max())
    cap = _lambda(r_top, radius, eta) + rate_all * float(h.max())
    cos_cap = (np.cos(np.minimum(cap, np.pi)) - 1e-5).astype(np.float32)
    with np.errstate(invalid="ignore"):
        rhat = geo.r / geo.rn[..., None]                               # NaN where failed
    rhat32 = np.ascontiguousarray(rhat.reshape(-1, 3).T, dtype=np.float32)
    unit32 = unit.astype(np.float32)
    P, S, K, in_p, in_s = [], [], [], [], []
    chunk = max(1, _CHUNK_ELEMENTS // max(n_sat * n_time, 1))
    for c0 in range(0, n_p, chunk):
        c1 = min(n_p, c0 + chunk)
        with np.errstate(invalid="ignore"):
            near = (unit32[c0:c1] @ rhat32 >= cos_cap[c0:c1, None]).reshape(c1 - c0, n_sat, n_time)
        cand = near[:, :, :-1] & near[:, :, 1:]
        pi, si, ki = np.unravel_index(np.flatnonzero(cand), cand.shape)
        P.append(pi + c0), S.append(si), K.append(ki)
        pz, sz = np.unravel_index(np.flatnonzero(near[:, :, 0]), near.shape[:2])
        in_p.append(pz + c0), in_s.append(sz)
    p, s, k = np.concatenate(P), np.concatenate(S), np.concatenate(K)
    in_p, in_s = np.concatenate(in_p), np.concatenate(in_s)

    def margin_at(sat, kk, pt):
        cos_psi = np.clip(_dot(rhat[sat, kk], unit[pt]), -1, 1)
        return _lambda(geo.rn[sat, kk], radius[pt], eta[pt]) - np.arccos(cos_psi)

    inside = margin_at(in_s, 0, in_p) >= 0                            # inside at the grid start
    in_p, in_s = in_p[inside], in_s[inside]
    ga, gb, hk = margin_at(s, k, p), margin_at(s, k + 1, p), h[k]
    rate = (geo.psi_rate[s] + geo.rdot_max[s] * _dlambda_dr(geo.r_max[s], radius[p], eta[p])) * hk

    def g(rows, tau):
        pi = p[rows]
        r, _ = geo.state_at(s[rows], k[rows], tau, hk[rows])
        rn = _norm(r)
        return _lambda(rn, radius[pi], eta[pi]) - np.arccos(np.clip(_dot(r, unit[pi]) / rn, -1, 1))

    # Each candidate interval is one series on [0, 1] (its own time scale h).
    cross = find_crossings(g, np.array([0.0, 1.0]), np.stack([ga, gb], axis=1).reshape(-1, 2),
                           rate, tol_s=tol_s / float(h.max()))
    rows = cross.rows
    key, a, b = _assemble(p[rows] * n_sat + s[rows], grid[k[rows]] + cross.time_s * hk[rows],
                          cross.rising, in_p * n_sat + in_s,
                          lambda kk: np.full(kk.shape, float(grid[0])),
                          lambda kk: geo.valid_end_s[kk % n_sat])
    wp, ws = key // n_sat, key % n_sat
    geometric = np.bincount(wp, minlength=n_p)
    if key.size == 0:
        return _Intervals(ws, wp, a, b, geometric)

    # The Sun, located inside each geometric window the same way (a series per window).
    up = _up(aim_km)
    min_sun = np.broadcast_to(np.asarray(min_sun, dtype=float), (n_p,))
    dur = b - a

    def sun_margin(rows, tau):
        pt = wp[rows]
        d = geo.sun_unit(a[rows] + tau * dur[rows], aim_km[pt])
        return np.arcsin(np.clip(_dot(d, up[pt]), -1, 1)) - min_sun[pt]

    w = np.arange(key.size)
    ma, mb = sun_margin(w, np.zeros(w.size)), sun_margin(w, np.ones(w.size))
    cross = find_crossings(sun_margin, np.array([0.0, 1.0]), np.stack([ma, mb], axis=1),
                           _SUN_RATE_RAD_S * dur, tol_s=tol_s / max(float(dur.max()), tol_s))
    wkey, sa, sb = _assemble(cross.rows, a[cross.rows] + cross.time_s * dur[cross.rows],
                             cross.rising, w[ma >= 0], lambda kk: a[kk], lambda kk: b[kk])
    return _Intervals(ws[wkey], wp[wkey], sa, sb, geometric)


def _min_off_nadir(geo: _Geometry, sat, aim, lo, hi, tol_s=1e-3):
    """Time of least off-nadir angle in ``[lo, hi]`` (one pass; unimodal)."""
    delta = 0.01

    def off(rows, t):
        r, v = geo.state(sat[rows], t)
        return _look(r, v, aim[rows])[2]

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


def access_intervals(ephemeris: Ephemeris, points_ecef_km, max_off_nadir_deg,
                     min_sun_elevation_deg=-90.0, *, tol_s: float = 1e-3):
    """Windows when each satellite sees each ground point within an off-nadir limit and with
    the Sun high enough.

    ``points_ecef_km``: ``(n_point, 3)``; limits: scalars or ``(n_point,)`` degrees.
    Returns ``(satellite, point, start_s, end_s)`` arrays ``(m,)``, seconds from the first
    grid time, sorted by point, satellite, start; windows are clipped to the grid.
    """
    geo = _Geometry(ephemeris)
    pts = np.asarray(points_ecef_km, dtype=float).reshape(-1, 3)
    n = len(pts)
    eta = np.radians(np.broadcast_to(np.asarray(max_off_nadir_deg, dtype=float), (n,)))
    sun = np.radians(np.broadcast_to(np.asarray(min_sun_elevation_deg, dtype=float), (n,)))
    iv = _access(geo, pts, eta, sun, tol_s)
    order = np.lexsort((iv.start_s, iv.sat, iv.point))
    return iv.sat[order], iv.point[order], iv.start_s[order], iv.end_s[order]


def pointing(ephemeris: Ephemeris, satellites, seconds, points_ecef_km) -> dict:
    """Attitude that points each satellite at a ground point at a time (vectorised).

    ``satellites`` (indices), ``seconds`` (from the first grid time), ``points_ecef_km``
    ``(m, 3)`` broadcast together to ``(m,)``. Returns a dict of ``(m,)`` arrays:
    ``roll_deg``, ``pitch_deg``, ``off_nadir_deg``, ``range_km``. Roll / pitch as in the
    module docstring.
    """
    geo = ephemeris if isinstance(ephemeris, _Geometry) else _Geometry(ephemeris)
    pts = np.asarray(points_ecef_km, dtype=float)
    sat, t = np.broadcast_arrays(np.asarray(satellites, dtype=np.int64),
                                 np.asarray(seconds, dtype=float))
    m = max(sat.size, pts.reshape(-1, 3).shape[0])
    sat = np.broadcast_to(sat.reshape(-1), (m,)) if sat.size == 1 else sat.reshape(-1)
    t = np.broadcast_to(t.reshape(-1), (m,)) if t.size == 1 else t.reshape(-1)
    pts = np.broadcast_to(pts.reshape(-1, 3), (m, 3))
    r, v = geo.state(sat, t)
    roll, pitch, off, rng, _ = _look(r, v, pts)
    return {"roll_deg": np.degrees(roll), "pitch_deg": np.degrees(pitch),
            "off_nadir_deg": np.degrees(off), "range_km": rng}


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------

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
                "aim_end_latitude_deg": ".6f", "aim_end_longitude_deg": ".6f"}

    def __init__(self, columns: dict, aim_start_km, aim_end_km, geometry: _Geometry,
                 targets: Targets, unscheduled: Table, sensor: Sensor):
        self.columns = columns
        self.aim_start_km = aim_start_km
        self.aim_end_km = aim_end_km
        self._geo = geometry
        self.targets = targets
        self.unscheduled = unscheduled
        self.sensor = sensor
        self.ephemeris = geometry.ephemeris
        self.epoch = geometry.ephemeris.times.datetime64()[0]

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
        ns = np.round(np.asarray(seconds, dtype=float) * 1e9).astype(np.int64)
        return self.epoch + ns.astype("timedelta64[ns]")

    def iso(self, seconds) -> list[str]:
        """Seconds from ``epoch`` as ISO 8601 UTC strings (milliseconds)."""
        return format_utc(self.utc(seconds))

    def attitude(self, rows, start_s, end_s) -> dict:
        """Roll / pitch / off-nadir (deg) at the start and end of acquisitions of
        opportunities ``rows`` running from ``start_s`` to ``end_s`` (all ``(m,)``).

        The start points at the row's start aim point, the end at its end aim point (the
        same point for point targets). Keys ``roll_start_deg``, ``pitch_start_deg``,
        ``off_nadir_start_deg``, ``roll_end_deg``, ``pitch_end_deg``, ``off_nadir_end_deg``.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        start_s = np.broadcast_to(np.asarray(start_s, dtype=float), rows.shape)
        end_s = np.broadcast_to(np.asarray(end_s, dtype=float), rows.shape)
        sat = self.columns["satellite_index"][rows]
        a = pointing(self._geo, sat, start_s, self.aim_start_km[rows])
        b = pointing(self._geo, sat, end_s, self.aim_end_km[rows])
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
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
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


def _track_headings(geo: _Geometry):
    """Geodetic sub-satellite latitude (rad) and ground-track heading (rad from north, the
    azimuth of the Earth-relative velocity) at every grid sample, ``(n_sat, n_time)``."""
    lat = geo.ephemeris.geodetic().latitude_rad
    with np.errstate(invalid="ignore"):
        up = geo.r / geo.rn[..., None]
        east = np.stack([-up[..., 1], up[..., 0], np.zeros(up.shape[:-1])], -1)
        east /= _norm(east)[..., None]
        north = np.cross(up, east)
        heading = np.arctan2(_dot(geo.v, east), _dot(geo.v, north))
    return lat, heading


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


def _strip_columns(geo: _Geometry, targets: Targets, sensor: Sensor) -> dict:
    """Every strip of every polygon, for each distinct track heading over it, as columns
    ``(n_strip,)``: ``target``, ``set`` (heading set within the polygon), ``j`` (strip in the
    set), ``heading`` (rad), ``sats`` (bool ``(n_strip, n_sat)``: satellites on that
    heading), ``start``, ``end``, ``mid`` (ECEF km ``(n_strip, 3)``), ``length``, ``area``,
    ``share``."""
    n_sat = geo.n_sat
    st = {k: [] for k in ("target", "set", "j", "heading", "sats", "start", "end", "mid",
                          "length", "area", "share")}
    polys = np.flatnonzero(targets.kind == "polygon")
    if polys.size:
        lat, heading = _track_headings(geo)
    for i in polys:
        sets = _heading_sets(lat, heading, math.radians(targets.latitude_deg[i]))
        for set_id, (h, sats) in enumerate(sets):
            strips = targets.strips(int(i), math.degrees(h), sensor.swath_km)
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


def find_opportunities(source, targets: Targets, start=None, end=None, *,
                       sensor: Sensor = Sensor(), step_s: float = 60.0,
                       tol_s: float = 1e-3) -> Opportunities:
    """Every imaging opportunity of every satellite on every target.

    ``source``: an :class:`~groundseg.orbits.Ephemeris` (its time grid is the window) or a
    :class:`~groundseg.orbits.Constellation` propagated once over ``start``..``end`` every
    ``step_s`` seconds. ``targets``: :class:`~groundseg.targets.Targets` (points and
    polygons; polygons are cut into strips ``sensor.swath_km`` wide). Returns
    :class:`Opportunities`; targets without any are listed in its ``unscheduled`` table.
    """
    if isinstance(source, Ephemeris):
        eph = source
    else:
        if start is None or end is None:
            raise GroundsegError("give start and end to propagate a constellation")
        if not step_s > 0:
            raise GroundsegError(f"step must be positive, got {step_s} s")
        eph = source.propagate(TimeGrid.range(start, end, step_s))
    if not isinstance(targets, Targets):
        raise TargetError("targets must be a groundseg.targets.Targets (see load_targets)")
    geo = _Geometry(eph)
    n_sat = geo.n_sat
    names = np.array(eph.constellation.names, dtype=object)
    norad = np.asarray(eph.constellation.norad_ids)

    # Aim points: the point targets, then the start and the end of every strip.
    pt_idx = np.flatnonzero(targets.kind == "point")
    pt_km = targets.take(pt_idx).points().ecef_km if pt_idx.size else np.zeros((0, 3))
    st = _strip_columns(geo, targets, sensor)
    n_pt, n_st = pt_idx.size, len(st["target"])
    aim_target = np.concatenate([pt_idx, st["target"], st["target"]]).astype(np.int64)
    aims = np.concatenate([pt_km, st["start"], st["end"]])
    eta = np.radians(targets.max_off_nadir_deg[aim_target])
    sun_min = np.radians(targets.min_sun_elevation_deg[aim_target])
    iv = _access(geo, aims, eta, sun_min, tol_s)

    # Point targets: the windows themselves.
    m = iv.point < n_pt
    p_sat, p_aim, p_a, p_b = iv.sat[m], iv.point[m], iv.start_s[m], iv.end_s[m]
    p_dur = np.full(p_sat.size, float(sensor.scene_duration_s))
    p_best = _min_off_nadir(geo, p_sat, aims[p_aim], p_a, p_b, tol_s)
    p_acq = np.clip(p_best - 0.5 * p_dur, p_a, np.maximum(p_a, p_b - p_dur))

    # Strips: start times at which the start is imageable now and the end after `duration`.
    ms = (iv.point >= n_pt) & (iv.point < n_pt + n_st)
    me = iv.point >= n_pt + n_st
    js, ss = iv.point[ms] - n_pt, iv.sat[ms]
    je, se = iv.point[me] - n_pt - n_st, iv.sat[me]
    ok_s = st["sats"][js, ss] if js.size else np.zeros(0, dtype=bool)
    ok_e = st["sats"][je, se] if je.size else np.zeros(0, dtype=bool)
    dur_e = st["length"][je] / geo.ground_speed_km_s[se]
    key, fa, fb, _, _ = _intersect(
        (js * n_sat + ss)[ok_s], iv.start_s[ms][ok_s], iv.end_s[ms][ok_s],
        (je * n_sat + se)[ok_e], (iv.start_s[me] - dur_e)[ok_e], (iv.end_s[me] - dur_e)[ok_e])
    sj, s_sat = key // n_sat, key % n_sat
    s_dur = st["length"][sj] / geo.ground_speed_km_s[s_sat]
    if sj.size:
        r, v = geo.state(s_sat, 0.5 * (fa + fb + s_dur))
        _, track = _track_heading_at(r, v)
        same_way = _angle_diff(track, st["heading"][sj]) <= _HEADING_TOL_RAD
    else:
        same_way = np.zeros(0, dtype=bool)
    sj, s_sat, fa, fb, s_dur = sj[same_way], s_sat[same_way], fa[same_way], fb[same_way], s_dur[same_way]
    s_best = _min_off_nadir(geo, s_sat, st["mid"][sj], fa + 0.5 * s_dur, fb + 0.5 * s_dur, tol_s)
    s_acq = np.clip(s_best - 0.5 * s_dur, fa, fb)

    # One table for both kinds.
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
    _, _, off_best, rng, u = _look(r, v, aim_best)
    up_best = _up(aim_best)
    sun_el = np.arcsin(np.clip(_dot(geo.sun_unit(best, aim_best), up_best), -1, 1))
    cos_inc = np.clip(-_dot(u, up_best), 1e-6, 1.0)
    gsd = sensor.gsd_nadir_m * (rng / sensor.reference_altitude_km) / np.sqrt(cos_inc)
    _, track = _track_heading_at(r, v)
    r0, v0 = geo.state(sat, acq0)
    roll0, pitch0, off0, _, _ = _look(r0, v0, aim0)
    r1, v1 = geo.state(sat, acq1)
    roll1, pitch1, off1, _, _ = _look(r1, v1, aim1)
    g0, g1 = ecef_to_geodetic(aim0), ecef_to_geodetic(aim1)

    cols = {
        "satellite": names[sat], "norad_id": norad[sat], "target": name,
        "start_utc": None, "end_utc": None, "best_utc": None,
        "min_off_nadir_deg": np.degrees(off_best), "sun_elevation_deg": np.degrees(sun_el),
        "gsd_m": gsd, "satellite_index": sat, "target_index": tgt, "parent_target": ids[tgt],
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
    unscheduled = _unscheduled(geo, targets, eph, pt_idx, st, iv, tgt)
    opp = Opportunities(cols, aim0, aim1, geo, targets, unscheduled, sensor)
    for col, x in (("start_utc", a), ("end_utc", b), ("best_utc", best)):
        cols[col] = opp.utc(x)
    return opp


def _track_heading_at(r, v):
    """Unit up and ground-track heading (rad) from ITRS states ``(m, 3)``."""
    up = r / _norm(r)[:, None]
    east = np.stack([-up[:, 1], up[:, 0], np.zeros(len(up))], -1)
    east /= _norm(east)[:, None]
    north = np.cross(up, east)
    return up, np.arctan2(_dot(v, east), _dot(v, north))


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
