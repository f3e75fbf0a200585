"""Pass prediction for a whole constellation over a whole station network, provably complete.

:func:`predict_passes` finds every pass of every satellite over every station in one
vectorised call: SGP4 runs once per (satellite, grid time) on a coarse grid, and everything
after that works on interpolated states (no further SGP4 call).

A pass over a station is a maximal interval where the satellite's elevation clears the
station's requirement ``m(az) = max(min_elevation, mask(az))`` (mask: linear in azimuth
between its points, wrapping at 360 deg). AOS and LOS are the crossings of
``g(t) = el(t) - m(az(t))``; TCA is the time of maximum *elevation* inside [AOS, LOS] (not
of maximum margin ``g``: with a mask the two differ).

Method and the completeness argument
------------------------------------
1. **Grid.** SGP4 states (TEME position, velocity) every ``step_s`` (default: a 22nd of
   the shortest orbital period, at most 240 s): the only SGP4 calls. Between samples the
   trajectory, in the Earth-fixed (PEF) frame, is the quintic Hermite polynomial matching
   position, velocity and a J2 gravity acceleration (with Coriolis and centrifugal terms)
   at both ends: a few metres from SGP4 itself at 240 s in LEO (cubic Hermite: ~100 m).
   Seen from a station, in its east / north / up frame, that is one polynomial per
   (interval, satellite, station) *row*; everything below evaluates these polynomials.
2. **Prefilter (the psi bound).** Let psi be the geocentric angle between satellite and
   station. On a sphere through the station (geocentric radius R) a satellite at radius
   r sits at geocentric elevation >= eps only while ``psi <= lambda = arccos(R cos(eps)/r) -
   eps``. Geodetic and geocentric elevations differ by at most the station's deflection
   delta (geodetic minus geocentric latitude, <= 0.19 deg), so with ``eps`` = the lowest
   requirement of the station's mask minus delta, and ``r`` = an upper bound of the
   satellite's geocentric radius over the window (largest sample plus a curvature margin,
   below), psi <= lambda holds whenever the station sees the satellite, however oblate the
   Earth. psi changes no faster than ``L_psi`` = (largest |r x v| / r^2 of the satellite) +
   the Earth's rotation rate. If the satellite is visible at some t in [t_k, t_k+1], then
   ``psi_k + psi_k+1 <= 2 lambda + L_psi (t_k+1 - t_k)`` (from t, psi can grow by at most
   L_psi per second towards either end); an interval that fails this is dropped, and no
   visible instant is lost. (A cheaper per-sample form of the same test, ``min(psi_k,
   psi_k+1) <= lambda + L_psi h / 2``, picks the intervals to look at first.)
3. **Crossings.** :func:`groundseg.events.find_crossings_in` takes every surviving row and
   splits it until each piece either shows a sign change of ``g`` or is proved empty, by
   either of two tests: the Lipschitz one (``|g(a)| + |g(b)| > L (b - a)``, with ``L =
   (|v|/rho)(1 + S / cos e)``: |v| a bound on the Earth-fixed speed, rho a lower bound of
   the range, S the steepest slope of the mask, cos e the smallest cos(elevation) where
   ``|g| < c``; masked stations use g clipped to ``[-c, c]``, which keeps zeros and signs)
   or the Bernstein one (the polynomial's control points on the piece all lie inside the
   cone ``el > highest requirement`` or all below the lowest: see ``_Pruner``). Pieces
   narrower than 1 ms stop the search, so every pass longer than 1 ms is found, however
   grazing. Brackets are refined by Newton steps kept inside the bracket, to 1 ms.
   A bracket is taken to hold one zero. Without a mask that needs the elevation to turn
   twice inside one grid step (rise-set-rise within 240 s), which an LEO satellite cannot
   do: between two passes the elevation goes through its minimum far below the horizon.
   With a mask it can (a dip behind a building), so for masked stations the parts of each
   bracket beside its root are searched again until no new zero appears.
4. **TCA** is the highest root of d(elevation)/dt (a + to - change between the grid times
   inside [AOS, LOS], refined by Newton on the same polynomials), or AOS / LOS when the
   elevation only falls / rises in the pass (masks).

The margins above assume what SGP4 states are: smooth, bound by Earth gravity (the
curvature margin uses ``r'' <= h^2/r^3 - mu/r^2 + 5e-5 km/s^2``, i.e. central gravity
plus at most 5e-5 km/s^2 of J2, drag and short-period terms) and near the Hermite
polynomials (a few metres). Masks must be continuous (two points at one azimuth with
different elevations are refused) and stay below about 89.9 deg.

Failed SGP4 elements (decayed satellites, bad elements) never raise: the satellite's
problems are listed in ``PassTable.problems``; a pass running into a propagation failure
ends there, its ``truncated`` flag says ``end`` and its ``status`` says why.

Wire format (``PassTable.to_csv`` / ``to_json``, the ``groundseg passes`` contract):
``satellite,norad_id,station,aos_utc,tca_utc,los_utc,duration_s,max_elevation_deg,
aos_azimuth_deg,tca_azimuth_deg,los_azimuth_deg,sunlit_at_tca,truncated`` with times ISO
8601 UTC with milliseconds and a Z, ``sunlit_at_tca`` true/false (the Sun's centre above
the Earth's limb seen from the satellite, a sphere of equatorial radius, as skyfield's
``is_sunlit``), ``truncated`` one of ``none|start|end|both``; rows ordered by AOS.
``columns="all"`` appends ``orbit_number`` (revolution number at epoch from the TLE plus
ascending-node crossings since, at AOS) and ``status`` (``ok`` or why a pass was cut).
"""
from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
from sgp4.api import SatrecArray

from .earth import EARTH_ROTATION_RAD_S, WGS84_A_KM
from .errors import GroundsegError, StationError
from .events import bernstein_coefficients, find_crossings_in, refine_roots_newton
from .orbits import SGP4_ERRORS, Constellation, Ephemeris, teme_to_itrs
from .stations import Station, station_points, validate_station
from .sun import sun_position_km
from .table import Table, Tabular
from .timegrid import TimeGrid, format_utc, parse_utc

__all__ = [
    "PassTable", "predict_passes", "passes_from_ephemeris", "pointing_table", "default_step_s",
    "PASS_CSV_COLUMNS", "PASS_COLUMNS", "POINTING_COLUMNS", "SPEED_OF_LIGHT_KM_S",
]

SPEED_OF_LIGHT_KM_S = 299792.458
PASS_CSV_COLUMNS = (
    "satellite", "norad_id", "station", "aos_utc", "tca_utc", "los_utc", "duration_s",
    "max_elevation_deg", "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg",
    "sunlit_at_tca", "truncated",
)
PASS_COLUMNS = PASS_CSV_COLUMNS + ("orbit_number", "status")
POINTING_COLUMNS = (
    "time_utc", "azimuth_deg", "azimuth_unwrapped_deg", "elevation_deg", "range_km",
    "range_rate_km_s", "azimuth_rate_deg_s", "elevation_rate_deg_s", "received_frequency_hz",
    "doppler_shift_hz", "keyhole",
)
_FORMATS = {
    "duration_s": ".3f", "max_elevation_deg": ".4f", "aos_azimuth_deg": ".4f",
    "tca_azimuth_deg": ".4f", "los_azimuth_deg": ".4f",
}
# SGP4's own Earth (WGS72), for the interpolation's gravity acceleration.
_MU = 398600.8
_RE = 6378.135
_J2 = 0.001082616
_PERTURBATION_KM_S2 = 5e-5      # J2 radial, drag, short-period terms: bound on what central gravity leaves out
_MAX_STEP_S = 240.0
_MAX_ELEMENTS = 6_000_000       # satellites x times x stations per chunk (memory)
_PARALLEL_ELEMENTS = 1_000_000   # below this, one thread
_TWO_PI = 2.0 * np.pi


# ---------------------------------------------------------------------------------------
# The pass table
# ---------------------------------------------------------------------------------------
class PassTable(Tabular):
    """Passes as column arrays, one row per (satellite, station, pass), ordered by AOS.

    ``satellite`` (str), ``norad_id`` (int64), ``station`` (str), ``satellite_index`` /
    ``station_index`` (int64, positions in the inputs), ``aos_utc`` / ``tca_utc`` /
    ``los_utc`` (``datetime64[ns]``), ``duration_s``, ``max_elevation_deg``,
    ``aos_azimuth_deg`` / ``tca_azimuth_deg`` / ``los_azimuth_deg`` (float64),
    ``orbit_number`` (int64, -1 if unknown), ``sunlit_at_tca`` (bool), ``truncated``
    (``none|start|end|both``), ``status`` (``ok`` or the reason a pass was cut), all ``(n,)``.
    ``problems``: one line per satellite whose propagation failed. ``start`` / ``end``: the
    window (``datetime64[ns]``). See the module docstring for the CSV / JSON contract.
    """

    _ARRAYS = ("satellite", "norad_id", "station", "satellite_index", "station_index",
               "aos_utc", "tca_utc", "los_utc", "duration_s", "max_elevation_deg",
               "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg", "orbit_number",
               "sunlit_at_tca", "truncated", "status")

    def __init__(self, columns: dict, problems=(), start=None, end=None, stats=None):
        n = len(columns["aos_utc"])
        for name in self._ARRAYS:
            value = np.asarray(columns[name])
            if value.shape != (n,):
                raise ValueError(f"column {name} has shape {value.shape}, expected ({n},)")
            setattr(self, name, value)
        self.problems = list(problems)
        self.start, self.end = start, end
        self.stats = dict(stats or {})

    def __len__(self) -> int:
        return self.aos_utc.shape[0]

    def __repr__(self) -> str:
        return f"PassTable({len(self)} passes, {len(self.problems)} problems)"

    def take(self, index) -> "PassTable":
        """Rows selected by an index array or boolean mask."""
        return PassTable({k: getattr(self, k)[index] for k in self._ARRAYS}, self.problems,
                         self.start, self.end, self.stats)

    def select(self, satellite=None, station=None) -> "PassTable":
        """Rows of one satellite (name or NORAD id) and / or one station (name)."""
        keep = np.ones(len(self), dtype=bool)
        if satellite is not None:
            key = str(satellite)
            keep &= (self.satellite == key) | (self.norad_id.astype(str) == key)
        if station is not None:
            keep &= self.station == str(station)
        return self.take(keep)

    def table(self, columns=PASS_CSV_COLUMNS) -> Table:
        """The rows as a :class:`groundseg.table.Table`; ``columns="all"`` adds
        ``orbit_number`` and ``status``."""
        if isinstance(columns, str):
            if columns != "all":
                raise GroundsegError(f"columns must be a list of names or 'all', got {columns!r}")
            columns = PASS_COLUMNS
        cols = {}
        for name in columns:
            if name not in PASS_COLUMNS:
                raise GroundsegError(f"unknown pass column {name!r}")
            cols[name] = getattr(self, name)
        return Table(cols, _FORMATS)

    def to_csv(self, path=None, columns=PASS_CSV_COLUMNS) -> str:
        """CSV text (the contract of the module docstring); also written to ``path``."""
        return self.table(columns).to_csv(path)

    def to_json(self, path=None, columns=PASS_CSV_COLUMNS, indent=None) -> str:
        """JSON list of row objects (same keys as the CSV); also written to ``path``."""
        return self.table(columns).to_json(path, indent=indent)

    def records(self, columns=PASS_COLUMNS) -> list[dict]:
        return self.table(columns).records()


def _empty_columns() -> dict:
    t = np.zeros(0, dtype="datetime64[ns]")
    f = np.zeros(0)
    i = np.zeros(0, dtype=np.int64)
    o = np.zeros(0, dtype=object)
    return dict(satellite=o, norad_id=i, station=o, satellite_index=i, station_index=i,
                aos_utc=t, tca_utc=t, los_utc=t, duration_s=f, max_elevation_deg=f,
                aos_azimuth_deg=f, tca_azimuth_deg=f, los_azimuth_deg=f, orbit_number=i,
                sunlit_at_tca=np.zeros(0, dtype=bool), truncated=o, status=o)


# ---------------------------------------------------------------------------------------
# Stations, masks and their bounds
# ---------------------------------------------------------------------------------------
class _Sites:
    """Stations as arrays plus what the bounds need (all radians and km)."""

    def __init__(self, stations: Sequence[Station]):
        self.stations = list(stations)
        pts = station_points(self.stations)
        self.ecef = pts.ecef_km                                  # (n_j, 3)
        self.enu = pts.enu                                       # (n_j, 3, 3) rows E, N, U
        self.radius = np.linalg.norm(self.ecef, axis=1)
        geocentric_lat = np.arcsin(self.ecef[:, 2] / self.radius)
        self.deflection = np.abs(pts.latitude_rad - geocentric_lat) + 1e-9
        self.min_el = np.radians([s.min_elevation_deg for s in self.stations])
        self.sin_min = np.sin(self.min_el)
        self.masked = np.array([bool(s.mask) for s in self.stations])
        n = len(self.stations)
        self.lowest = self.min_el.copy()        # lowest requirement over azimuth
        self.highest = self.min_el.copy()
        self.slope = np.zeros(n)                # steepest d(requirement)/d(azimuth), rad/rad
        self.curves = {}                        # masked station -> (azimuths, elevations), closed loop
        for j, s in enumerate(self.stations):
            if not s.mask:
                continue
            pts_ = np.radians(np.array(s.mask, dtype=float))
            order = np.argsort(pts_[:, 0], kind="stable")
            xp, fp = pts_[order, 0], pts_[order, 1]
            xp = np.concatenate([xp[-1:] - _TWO_PI, xp, xp[:1] + _TWO_PI])
            fp = np.concatenate([fp[-1:], fp, fp[:1]])
            dx, df = np.diff(xp), np.diff(fp)
            step = (dx <= 1e-12) & (np.abs(df) > 1e-12)
            if np.any(step):
                az = np.degrees(xp[1:][step][0]) % 360.0
                raise StationError(f"station {s.name!r}: mask has two elevations at azimuth "
                                   f"{az:g} deg (a vertical step); move one point by a small azimuth")
            ok = dx > 1e-12
            self.slope[j] = np.max(np.abs(df[ok] / dx[ok])) if np.any(ok) else 0.0
            self.curves[j] = (xp, fp)
            req = np.maximum(fp, self.min_el[j])
            self.lowest[j] = req.min()
            self.highest[j] = req.max()
        # Clip level c for masked stations and the smallest cos(elevation) where |g| < c.
        self.clip = np.where(self.masked, np.clip(np.radians(89.5) - self.highest,
                                                  np.radians(0.25), np.radians(5.0)), np.inf)
        cos_hi = np.cos(np.minimum(self.highest + self.clip, np.pi / 2))
        cos_lo = np.cos(np.minimum(np.abs(self.lowest - self.clip), np.pi / 2))
        self.cos_floor = np.where(self.masked, np.maximum(np.minimum(cos_hi, cos_lo), 1e-3), 1.0)
        self.rate_factor = 1.0 + self.slope / self.cos_floor

    def __len__(self) -> int:
        return len(self.stations)

    def requirement(self, j, az, slope: bool = False):
        """Required elevation (rad) for stations ``j`` at azimuths ``az`` (rad), ``(m,)``: the
        larger of the minimum elevation and the mask (as
        :func:`groundseg.stations.mask_elevation_rad`); with ``slope`` also its derivative
        with respect to azimuth (rad/rad)."""
        out = self.min_el[j].astype(float)
        der = np.zeros(out.shape)
        if np.any(self.masked):
            for jj in np.unique(j[self.masked[j]]):
                sel = np.flatnonzero(j == jj)
                xp, fp = self.curves[jj]
                a = np.mod(az[sel], _TWO_PI)
                value = np.interp(a, xp, fp)
                out[sel] = np.maximum(value, self.min_el[jj])
                if slope:
                    k = np.clip(np.searchsorted(xp, a, side="right") - 1, 0, xp.size - 2)
                    dx = xp[k + 1] - xp[k]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        sl = np.where(dx > 0, (fp[k + 1] - fp[k]) / dx, 0.0)
                    der[sel] = np.where(value > self.min_el[jj], sl, 0.0)
        return (out, der) if slope else out

    def margin_enu(self, j, d, dd=None):
        """Margin of ENU vectors ``d`` ``(m, 3)`` from stations ``j``: sin(el) - sin(min
        elevation) without a mask (no arctangent; same zeros and signs, and no faster than
        the elevation itself), the clipped angle margin with one (azimuths only there). With
        ``dd`` (the derivative of ``d``), also the margin's derivative in the same time unit."""
        e, n, u = d[:, 0], d[:, 1], d[:, 2]
        rho2 = e * e + n * n + u * u
        rho = np.sqrt(rho2)
        sin_el = u / rho
        g = sin_el - self.sin_min[j]
        if dd is not None:
            dot = e * dd[:, 0] + n * dd[:, 1] + u * dd[:, 2]
            dg = (dd[:, 2] * rho2 - u * dot) / (rho2 * rho)
        masked = self.masked[j]
        if np.any(masked):
            i = np.flatnonzero(masked)
            hor2 = e[i] * e[i] + n[i] * n[i]
            hor = np.sqrt(hor2)
            el = np.arctan2(u[i], hor)
            az = np.mod(np.arctan2(e[i], n[i]), _TWO_PI)
            req, req_slope = self.requirement(j[i], az, slope=True)
            gi = el - req
            c = self.clip[j[i]]
            g[i] = np.clip(gi, -c, c)
            if dd is not None:
                d_el = dg[i] * rho[i] / hor
                daz = (n[i] * dd[i, 0] - e[i] * dd[i, 1]) / hor2
                dg[i] = np.where(np.abs(gi) < c, d_el - req_slope * daz, 0.0)
        return g if dd is None else (g, dg)

    def margin(self, j, el, az, clipped: bool = True):
        g = el - self.requirement(j, az)
        if clipped and np.any(self.masked):
            c = self.clip[j]
            g = np.where(np.isfinite(c), np.clip(g, -c, c), g)
        return g


def _prepare_stations(stations, min_elevation_deg=None) -> list[Station]:
    if isinstance(stations, Station):
        stations = [stations]
    stations = list(stations)
    if not stations:
        raise StationError("no stations given")
    for s in stations:
        if not isinstance(s, Station):
            raise StationError(f"expected Station objects, got {type(s).__name__} ({s!r}); "
                               "load them with groundseg.load_stations")
    names = [s.name for s in stations]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise StationError(f"station name {dup!r} appears twice")
    if min_elevation_deg is not None:
        try:
            value = float(min_elevation_deg)
        except (TypeError, ValueError):
            raise StationError(f"minimum elevation {min_elevation_deg!r} is not a number") from None
        stations = [validate_station(dataclasses.replace(s, min_elevation_deg=value),
                                   f"station {s.name!r}") for s in stations]
    return stations


# ---------------------------------------------------------------------------------------
# Interpolated geometry of one chunk of satellites
# ---------------------------------------------------------------------------------------
def _gravity_km_s2(r):
    """Central + J2 acceleration (WGS72, SGP4's Earth) at TEME positions ``(..., 3)``."""
    rn2 = np.einsum("...i,...i->...", r, r)
    rn = np.sqrt(rn2)
    z2 = r[..., 2] ** 2 / rn2
    k = 1.5 * _J2 * _MU * _RE**2 / (rn2 * rn2 * rn)
    a = -_MU * r / (rn2 * rn)[..., None]
    a[..., 0] += k * r[..., 0] * (5 * z2 - 1)
    a[..., 1] += k * r[..., 1] * (5 * z2 - 1)
    a[..., 2] += k * r[..., 2] * (5 * z2 - 3)
    return a


def _quintic_coefficients(p0, v0, a0, p1, v1, a1, h):
    """Power-basis coefficients in tau = (t - t0) / h of the quintic Hermite polynomial
    matching position, velocity and acceleration at both ends: ``(..., 6, 3)`` from
    ``(..., 3)`` states and ``h`` broadcasting against ``p0[..., 0]``."""
    hh = np.asarray(h, dtype=float)[..., None]
    out = np.empty(np.broadcast_shapes(p0.shape, hh.shape)[:-1] + (6, 3))
    V0, V1 = hh * v0, hh * v1
    A0, A1 = (hh * hh) * a0, (hh * hh) * a1
    dp = p1 - p0
    out[..., 0, :] = p0
    out[..., 1, :] = V0
    np.multiply(A0, 0.5, out=out[..., 2, :])
    out[..., 3, :] = 10 * dp - 6 * V0 - 4 * V1 - 1.5 * A0 + 0.5 * A1
    out[..., 4, :] = -15 * dp + 8 * V0 + 7 * V1 + 1.5 * A0 - A1
    out[..., 5, :] = 6 * dp - 3 * V0 - 3 * V1 - 0.5 * A0 + 0.5 * A1
    return out


def _horner(C, tau, derivative=False, second=False):
    """Value, d/dtau and (``second``) d2/dtau2 of polynomials ``C`` ``(m, 6, 3)`` at ``tau``
    ``(m,)``; absent derivatives are None."""
    n = 3 if second else (2 if derivative else 1)
    T = np.empty((n, 6, tau.size))                 # powers of tau, built row by row
    T[0, 0] = 1.0
    T[0, 1] = tau
    for k in range(2, 6):
        np.multiply(T[0, k - 1], tau, out=T[0, k])
    if n > 1:
        T[1, 0] = 0.0
        T[1, 1] = 1.0
        for k in range(2, 6):
            np.multiply(T[0, k - 1], k, out=T[1, k])
    if n > 2:
        T[2, :2] = 0.0
        for k in range(2, 6):
            np.multiply(T[0, k - 2], k * (k - 1), out=T[2, k])
    out = np.matmul(T.transpose(2, 0, 1), C)
    return out[:, 0], (out[:, 1] if n > 1 else None), (out[:, 2] if n > 2 else None)


def _rotate_z(x, c, s):
    """Rotate vectors ``(..., 3)`` by angles with cosines / sines ``c``, ``s`` (TEME -> PEF)."""
    return np.stack([c * x[..., 0] + s * x[..., 1], -s * x[..., 0] + c * x[..., 1], x[..., 2]], -1)


def _cross_z(w, x):
    """``w z_hat x x`` for ``(..., 3)`` vectors."""
    return np.stack([-w * x[..., 1], w * x[..., 0], np.zeros_like(x[..., 0])], axis=-1)


class _Geometry:
    """A chunk of satellites on the grid in the Earth-fixed frame, and the stations.

    Between grid times k and k+1 the satellite's pseudo-Earth-fixed (PEF) position is the
    quintic Hermite polynomial matching SGP4's position, velocity and a J2 acceleration
    (rotated, with Coriolis and centrifugal terms) at both ends; seen from station j in its
    east / north / up frame it is the same polynomial times a fixed matrix, so each
    (interval, satellite, station) *row* is one ``(6, 3)`` array of coefficients.
    """

    def __init__(self, r, v, grid_s, theta, omega, sites: _Sites, polar_motion):
        self.r, self.v = r, v                                    # TEME (n_s, n_t, 3)
        self.grid_s = grid_s
        self.h = np.diff(grid_s)
        self.theta, self.omega = theta, omega
        self.sites = sites
        c, s = np.cos(theta)[None, :], np.sin(theta)[None, :]
        w = omega[None, :]
        p = _rotate_z(r, c, s)
        vp = _rotate_z(v, c, s) - _cross_z(w, p)
        ap = _rotate_z(_gravity_km_s2(r), c, s) - 2 * _cross_z(w, vp) - _cross_z(w, _cross_z(w, p))
        self.p, self.vp = p, vp
        # Quintic coefficients of every interval of every satellite, PEF: (n_s, n_t - 1, 6, 3).
        self.coef = _quintic_coefficients(p[:, :-1], vp[:, :-1], ap[:, :-1], p[:, 1:], vp[:, 1:],
                                          ap[:, 1:], self.h[None, :])
        # Station position and E, N, U rows in PEF at every grid time: W^T x (W: PEF -> ITRS).
        vecs = np.concatenate([sites.ecef[:, None, :], sites.enu], axis=1)    # (n_j, 4, 3)
        if polar_motion is None:
            pef = np.broadcast_to(vecs, (len(grid_s),) + vecs.shape)
        else:
            pef = np.einsum("tji,nvj->tnvi", polar_motion, vecs)
        self.site_pos = np.ascontiguousarray(pef[:, :, 0, :])                # (n_t, n_j, 3)
        self.site_enu = np.ascontiguousarray(pef[:, :, 1:, :])               # (n_t, n_j, 3, 3)

    def _site(self, k, j):
        """Station position ``(m, 3)`` and E, N, U rows ``(m, 3, 3)`` (PEF) at grid times k."""
        i = k * self.site_pos.shape[1] + j
        return (np.take(self.site_pos.reshape(-1, 3), i, axis=0),
                np.take(self.site_enu.reshape(-1, 3, 3), i, axis=0))

    def rows(self, k, s, j):
        """Coefficients ``(m, 6, 3)`` of the ENU polynomials of rows (interval k, sat s, station j)."""
        n_k = self.coef.shape[1]
        C = np.take(self.coef.reshape(-1, 6, 3), s * n_k + k, axis=0)
        P, M = self._site(k, j)
        C[:, 0] -= P
        return np.matmul(C, np.swapaxes(M, 1, 2))

    def at_samples(self, k, s, j, velocity=False):
        """ENU vectors ``(m, 3)`` at grid times k (exact SGP4 states), and with ``velocity``
        their time derivatives."""
        P, M = self._site(k, j)
        i = s * self.p.shape[1] + k
        d = np.matmul(M, (np.take(self.p.reshape(-1, 3), i, axis=0) - P)[:, :, None])[:, :, 0]
        if not velocity:
            return d
        return d, np.matmul(M, np.take(self.vp.reshape(-1, 3), i, axis=0)[:, :, None])[:, :, 0]


def _cubic_root(g0, g1, d0, d1):
    """A root in (0, 1) of the cubic with values g0, g1 and slopes d0, d1 (per unit tau) at
    0 and 1, where g0 * g1 < 0: a few Newton steps from the secant, NaN if they fail."""
    c2 = 3 * (g1 - g0) - 2 * d0 - d1
    c3 = 2 * (g0 - g1) + d0 + d1
    with np.errstate(invalid="ignore", divide="ignore"):
        x = g0 / (g0 - g1)
        for _ in range(3):
            f = ((c3 * x + c2) * x + d0) * x + g0
            df = (3 * c3 * x + 2 * c2) * x + d0
            x = x - f / df
    return np.where((x > 0) & (x < 1), x, np.nan)


def _norm(x):
    """Euclidean norm over the last axis (faster than numpy.linalg.norm for (..., 3))."""
    return np.sqrt(np.einsum("...i,...i->...", x, x))


def _look(d):
    """Elevation, azimuth (rad) and range of ENU vectors ``(m, 3)``."""
    e, n, u = d[:, 0], d[:, 1], d[:, 2]
    hor = np.hypot(e, n)
    return np.arctan2(u, hor), np.mod(np.arctan2(e, n), _TWO_PI), np.hypot(hor, u)


def _elevation_rate_sign(d, dd):
    """A function with the sign of d(elevation)/dt, from ENU position and its derivative."""
    return dd[:, 2] * np.einsum("mi,mi->m", d, d) - d[:, 2] * np.einsum("mi,mi->m", d, dd)


def _argument_of_latitude(r, v):
    """Osculating argument of latitude (rad, [0, 2 pi)) from TEME states ``(..., 3)``."""
    hv = np.cross(r, v)
    node = np.stack([-hv[..., 1], hv[..., 0], np.zeros_like(hv[..., 0])], axis=-1)
    hn = np.linalg.norm(hv, axis=-1)
    nn = np.linalg.norm(node, axis=-1)
    cos_u = np.einsum("...i,...i->...", node, r)
    sin_u = np.einsum("...i,...i->...", np.cross(node, r), hv) / hn
    u = np.arctan2(sin_u, cos_u)
    # Equatorial orbits have no node: count from the x axis.
    u = np.where(nn > 1e-9 * hn, u, np.arctan2(r[..., 1], r[..., 0]))
    return np.mod(u, _TWO_PI)


def _revolutions_at(satrecs, jd, fr):
    """Unwrapped argument of latitude (rad) at one instant, counted from the TLE epoch's
    ascending node (so orbit number = revnum + floor(U / 2 pi)), and its mean rate (rad/s)
    there, each ``(n_s,)``; NaN on failure.

    The whole turns between epoch and the instant come from SGP4's secular rates plus half
    the drag change of mean motion (trapezoid), then snap to the osculating value there."""
    n = len(satrecs)
    states = np.full((2, n, 6), np.nan)
    n_epoch = np.full(n, np.nan)
    n_now = np.full(n, np.nan)
    rates = np.full(n, np.nan)
    dt_min = np.full(n, np.nan)
    for i, sat in enumerate(satrecs):
        e0, r0, v0 = sat.sgp4_tsince(0.0)
        if e0 != 0:
            continue
        n_epoch[i] = sat.nm
        e1, r1, v1 = sat.sgp4(jd, fr)
        if e1 != 0:
            continue
        n_now[i] = sat.nm
        states[0, i] = (*r0, *v0)
        states[1, i] = (*r1, *v1)
        rates[i] = sat.mdot + sat.argpdot
        dt_min[i] = ((jd - sat.jdsatepoch) + (fr - sat.jdsatepochF)) * 1440.0
    with np.errstate(invalid="ignore"):
        u = _argument_of_latitude(states[..., :3], states[..., 3:])
        approx = u[0] + rates * dt_min + 0.5 * (n_now - n_epoch) * dt_min
        out = u[1] + _TWO_PI * np.round((approx - u[1]) / _TWO_PI)
    return out, (rates + n_now - n_epoch) / 60.0


# ---------------------------------------------------------------------------------------
# The pass finder
# ---------------------------------------------------------------------------------------
def default_step_s(constellation: Constellation) -> float:
    """Coarse grid step (s): a 22nd of the shortest period, shortened for eccentric orbits,
    at most 240 s (about 240 s for LEO)."""
    if not constellation.satrecs:
        return _MAX_STEP_S
    n = np.array([s.no_kozai for s in constellation.satrecs])       # rad/min
    e = np.array([s.ecco for s in constellation.satrecs])
    ok = (n > 0) & (e < 1)
    if not np.any(ok):
        return _MAX_STEP_S
    period_s = _TWO_PI / n[ok] * 60.0 * (1 - e[ok]) ** 2
    return float(min(_MAX_STEP_S, max(10.0, period_s.min() / 22.0)))


def _satellite_bounds(r, v, h_max):
    """Per satellite: radius bounds (km), psi-rate bound (rad/s), Earth-fixed speed bound
    (km/s) over the window, from the grid samples plus curvature margins."""
    rn = _norm(r)
    hm = _norm(np.cross(r, v))
    with np.errstate(invalid="ignore"):
        r_min, r_max = np.nanmin(rn, axis=1), np.nanmax(rn, axis=1)
        h_hi, h_lo = np.nanmax(hm, axis=1) * 1.01, np.nanmin(hm, axis=1) * 0.99
        # r'' = h^2/r^3 - mu/r^2 + (perturbations): bound it above and below, then the
        # excursion beyond the chord between samples is at most |r''| h^2 / 8.
        up = np.maximum(h_hi**2 / r_min**3 - _MU / r_max**2 + _PERTURBATION_KM_S2, 0.0)
        down = np.maximum(_MU / r_min**2 + _PERTURBATION_KM_S2 - h_lo**2 / r_max**3, 0.0)
        r_hi = r_max + up * h_max**2 / 8 + 1e-3
        r_lo = r_min - down * h_max**2 / 8 - 1e-3
        psi_rate = h_hi / r_lo**2 + EARTH_ROTATION_RAD_S * 1.001
        # Energy: v^2 - 2 mu / r is constant up to J2 (|dU| < 0.1 km^2/s^2 in LEO).
        vn2 = np.einsum("...i,...i->...", v, v)
        energy = np.nanmax(vn2 - 2 * _MU / rn, axis=1)
        v_hi = np.sqrt(np.maximum(energy + 2 * _MU / r_lo + 0.2, 0.0))
        speed = 1.02 * (v_hi + EARTH_ROTATION_RAD_S * r_hi) + 1e-3
    return r_lo, r_hi, psi_rate, speed


def _runs(valid):
    """Starts and ends (inclusive) of runs of True per row: ``((row, k), (row, k))``."""
    pad = np.zeros((valid.shape[0], 1), dtype=bool)
    x = np.concatenate([pad, valid, pad], axis=1).astype(np.int8)
    d = np.diff(x, axis=1)
    s_row, s_k = np.nonzero(d == 1)
    e_row, e_k = np.nonzero(d == -1)
    return (s_row, s_k), (e_row, e_k - 1)


class _Pruner:
    """Bernstein test of rows: True where the satellite is provably below the station's
    lowest requirement, or provably above its highest, over a whole sub-interval.

    With s = sin(eps), el >= eps  <=>  u - s |d| >= 0. The curve d(t) on a sub-interval is a
    convex combination of its Bernstein control points. For s >= 0, {u >= s |d|} is a convex
    cone: every control point strictly inside proves the whole curve above. For s < 0 the
    same holds for the cone below. The other two cases use a linear bound: for any unit w,
    |d| >= d.w, so u - s (d.w) bounds u - s |d| from one side (above when s >= 0, below
    when s < 0) and is a degree-5 polynomial (w = d at mid-interval).
    """

    def __init__(self, C, t0, h, s_low, s_high):
        self.C, self.t0, self.h, self.s_low, self.s_high = C, t0, h, s_low, s_high

    def __call__(self, rows, a, b, ga, gb):
        out = np.zeros(rows.size, dtype=bool)
        low = (ga < 0) & (gb < 0)
        if np.any(low):
            i = np.flatnonzero(low)
            out[i] = self._test(rows[i], a[i], b[i], self.s_low[rows[i]], below=True)
        high = (ga > 0) & (gb > 0)
        if np.any(high):
            i = np.flatnonzero(high)
            out[i] = self._test(rows[i], a[i], b[i], self.s_high[rows[i]], below=False)
        return out

    def _test(self, rows, a, b, s, below: bool):
        C = np.take(self.C, rows, axis=0)
        ta = (a - self.t0[rows]) / self.h[rows]
        tb = (b - self.t0[rows]) / self.h[rows]
        B = bernstein_coefficients(C, ta, tb)                                  # (m, 6, 3)
        norm = np.sqrt(np.einsum("mki,mki->mk", B, B))
        margin = B[:, :, 2] - s[:, None] * norm                                # u - s |b|
        cone = (s < 0) if below else (s >= 0)
        out = np.where(below, margin.max(axis=1) < 0, margin.min(axis=1) > 0) & cone
        lin = np.flatnonzero(~cone)
        if lin.size:
            # u - s (d.w): an upper bound of u - s |d| when s >= 0, a lower one when s < 0.
            mid, _, _ = _horner(C[lin], 0.5 * (ta[lin] + tb[lin]))
            w = mid / _norm(mid)[:, None]
            q = B[lin, :, 2] - s[lin, None] * np.einsum("mki,mi->mk", B[lin], w)
            out[lin] = q.max(axis=1) < 0 if below else q.min(axis=1) > 0
        return out


def _chunk_passes(geo: _Geometry, status, satrecs, sun_teme, U_start, mean_rate, tol_s):
    """Passes of one chunk of satellites over every station: a dict of arrays (chunk-local
    satellite indices)."""
    sites = geo.sites
    grid = geo.grid_s
    r, v = geo.r, geo.v
    n_s, n_t = r.shape[:2]
    n_j = len(sites)
    valid = (status == 0) & np.all(np.isfinite(r), axis=-1)
    h_max = float(geo.h.max())
    r_lo, r_hi, psi_rate, speed = _satellite_bounds(r, v, h_max)

    # -- prefilter: psi at every sample against lambda + L h / 2 --------------------------
    eps = sites.lowest - sites.deflection - 1e-5                           # (n_j,)
    with np.errstate(invalid="ignore"):
        lam = np.arccos(np.clip(sites.radius[None, :] * np.cos(eps)[None, :] / r_hi[:, None],
                                -1.0, 1.0)) - eps[None, :] + 1e-5           # (n_s, n_j)
        cos_limit = np.cos(np.minimum(lam + psi_rate[:, None] * h_max / 2, np.pi))
        site_dir = geo.site_pos / np.linalg.norm(geo.site_pos, axis=-1, keepdims=True)
        unit = geo.p / _norm(geo.p)[..., None]
        cos_psi = np.matmul(np.swapaxes(unit, 0, 1), np.swapaxes(site_dir, 1, 2))  # (n_t, n_s, n_j)
        near = cos_psi >= cos_limit[None]
    near &= valid.T[:, :, None]
    cand = near[:-1] | near[1:]
    cand &= (valid[:, :-1] & valid[:, 1:]).T[:, :, None]
    kk, ss, jj = np.nonzero(cand)
    # Sharper, per interval: psi >= (psi_k + psi_k+1 - L h) / 2 everywhere inside it.
    psi_sum = np.arccos(np.clip(cos_psi[kk, ss, jj], -1, 1)) + \
        np.arccos(np.clip(cos_psi[kk + 1, ss, jj], -1, 1))
    keep = psi_sum - psi_rate[ss] * geo.h[kk] <= 2 * lam[ss, jj]
    kk, ss, jj = kk[keep], ss[keep], jj[keep]
    del cos_psi

    # -- one polynomial per candidate row; crossings of the margin ------------------------
    C = geo.rows(kk, ss, jj)
    d0, d1 = C[:, 0], np.einsum("mkc->mc", C)            # tau = 0 and tau = 1
    rho0, rho1 = _norm(d0), _norm(d1)
    ga, gb = sites.margin_enu(jj, d0), sites.margin_enu(jj, d1)
    h = geo.h[kk]
    t0 = grid[kk]
    rho_lo = np.maximum(np.maximum(r_lo[ss] - sites.radius[jj], 0.5 * (rho0 + rho1)
                                   - speed[ss] * h / 2), 1.0)
    rate = 1.05 * speed[ss] / rho_lo * sites.rate_factor[jj]

    def margin_fn(rows, t):
        d, _, _ = _horner(np.take(C, rows, axis=0), (t - t0[rows]) / h[rows])
        return sites.margin_enu(jj[rows], d)

    prune = _Pruner(C, t0, h, np.sin(sites.lowest - 1e-9)[jj], np.sin(sites.highest + 1e-9)[jj])
    def margin_and_rate(rows, t):
        d, dd, _ = _horner(np.take(C, rows, axis=0), (t - t0[rows]) / h[rows], derivative=True)
        g, dg = sites.margin_enu(jj[rows], d, dd)
        return g, dg / h[rows]

    def refine(rows, a, b, ga_, gb_):
        # First trial point: the root of the cubic matching g and dg/dt at both ends of the
        # bracket (cheap when the bracket is a whole row: the ends are the row's samples).
        x0 = None
        whole = (a == t0[rows]) & (b == t0[rows] + h[rows])
        if np.any(whole):
            i = np.flatnonzero(whole)
            Ci = np.take(C, rows[i], axis=0)
            _, d_a = sites.margin_enu(jj[rows[i]], Ci[:, 0], Ci[:, 1])
            _, d_b = sites.margin_enu(jj[rows[i]], np.einsum("mkc->mc", Ci),
                                      np.einsum("k,mkc->mc", np.arange(6.0), Ci))
            x0 = np.full(rows.size, np.nan)
            x0[i] = t0[rows[i]] + h[rows[i]] * _cubic_root(ga_[i], gb_[i], d_a, d_b)
        return refine_roots_newton(margin_and_rate, rows, a, b, ga_, gb_, x0=x0, tol_s=tol_s)

    cross = find_crossings_in(margin_fn, np.arange(kk.size), t0, t0 + h, ga, gb, rate,
                              tol_s=tol_s, prune=prune, refine=refine,
                              isolate=(lambda rows: sites.masked[jj[rows]]) if sites.masked.any()
                              else None)

    # -- events: crossings, plus visibility at the edges of valid data -----------------------
    (rs_row, rs_k), (re_row, re_k) = _runs(valid)
    single = np.isin(rs_row * n_t + rs_k, re_row * n_t + re_k)   # one valid sample: no pass
    edge_s = np.concatenate([rs_row[~single], re_row[~np.isin(re_row * n_t + re_k,
                                                              rs_row * n_t + rs_k)]])
    edge_k = np.concatenate([rs_k[~single], re_k[~np.isin(re_row * n_t + re_k,
                                                          rs_row * n_t + rs_k)]])
    edge_start = np.concatenate([np.ones(int((~single).sum()), bool),
                                 np.zeros(edge_s.size - int((~single).sum()), bool)])
    e_idx, e_j = np.nonzero(near[edge_k, edge_s, :])
    ek, es, estart = edge_k[e_idx], edge_s[e_idx], edge_start[e_idx]
    el_e, az_e, _ = _look(geo.at_samples(ek, es, e_j))
    up = sites.margin(e_j, el_e, az_e) > 0
    ek, es, ej, estart = ek[up], es[up], e_j[up], estart[up]
    at_window = np.where(estart, ek == 0, ek == n_t - 1)
    ev_pair = np.concatenate([ss[cross.rows] * n_j + jj[cross.rows], es * n_j + ej])
    ev_t = np.concatenate([cross.time_s, grid[ek]])
    ev_rise = np.concatenate([cross.rising, estart])
    ev_kind = np.concatenate([np.zeros(len(cross), np.int8),     # 0 crossing, 1 window, 2 data
                              np.where(at_window, 1, 2).astype(np.int8)])
    ev_row = np.concatenate([cross.rows, np.full(ek.size, -1)])   # the row of a crossing
    order = np.lexsort((ev_t, ev_pair))
    ev_pair, ev_t, ev_rise, ev_kind, ev_row = (x[order] for x in (ev_pair, ev_t, ev_rise,
                                                                  ev_kind, ev_row))
    # Runs of one direction (a zero found twice within the tolerance): keep the first rise
    # and the last set.
    same_prev = np.zeros(ev_pair.size, dtype=bool)
    same_prev[1:] = (ev_pair[1:] == ev_pair[:-1]) & (ev_rise[1:] == ev_rise[:-1])
    same_next = np.zeros(ev_pair.size, dtype=bool)
    same_next[:-1] = same_prev[1:]
    keep = np.where(ev_rise, ~same_prev, ~same_next)
    ev_pair, ev_t, ev_rise, ev_kind, ev_row = (x[keep] for x in (ev_pair, ev_t, ev_rise,
                                                                 ev_kind, ev_row))
    start = np.flatnonzero(ev_rise[:-1] & ~ev_rise[1:] & (ev_pair[:-1] == ev_pair[1:]))
    unmatched = ev_pair.size - 2 * start.size
    p_pair = ev_pair[start]
    aos, los = ev_t[start], ev_t[start + 1]
    aos_kind, los_kind = ev_kind[start], ev_kind[start + 1]
    aos_row, los_row = ev_row[start], ev_row[start + 1]
    ps, pj = p_pair // n_j, p_pair % n_j

    # -- TCA: the highest of the elevation maxima inside [AOS, LOS] ------------------------
    # Every grid interval the pass overlaps, as its own polynomial, clipped to the pass.
    kA = np.clip(np.searchsorted(grid, aos, side="right") - 1, 0, n_t - 2)
    kL = np.clip(np.searchsorted(grid, los, side="left") - 1, kA, n_t - 2)
    count = kL - kA + 1
    seg_pass = np.repeat(np.arange(aos.size), count)
    seg_k = kA[seg_pass] + (np.arange(seg_pass.size) - np.repeat(np.cumsum(count) - count, count))
    sp, sj = ps[seg_pass], pj[seg_pass]
    s_t0, s_h = grid[seg_k], geo.h[seg_k]
    seg_first = np.cumsum(count) - count
    seg_last = seg_first + count - 1
    # Rows are in (k, s, j) order, so their codes are sorted; every interval a pass overlaps
    # is a candidate row (the prefilter is complete), built afresh if ever it is not.
    row_code = (kk * n_s + ss) * n_j + jj

    def rows_of(seg):
        want = (seg_k[seg] * n_s + sp[seg]) * n_j + sj[seg]
        at = np.minimum(np.searchsorted(row_code, want), max(row_code.size - 1, 0))
        found = row_code[at] == want if row_code.size else np.zeros(want.size, bool)
        out = np.take(C, at, axis=0) if row_code.size else np.zeros((want.size, 6, 3))
        if not np.all(found):
            out[~found] = geo.rows(seg_k[seg][~found], sp[seg][~found], sj[seg][~found])
        return out


    def rate_fn(rows, t):
        d, dd, d2 = _horner(np.take(SC, rows, axis=0), (t - s_t0[idx][rows]) / s_h[idx][rows],
                            True, True)
        dot_ddd = np.einsum("mi,mi->m", d, dd)
        rho2 = np.einsum("mi,mi->m", d, d)
        f = dd[:, 2] * rho2 - d[:, 2] * dot_ddd
        df = d2[:, 2] * rho2 + dd[:, 2] * dot_ddd - d[:, 2] * (
            np.einsum("mi,mi->m", dd, dd) + np.einsum("mi,mi->m", d, d2))
        return f, df / s_h[idx][rows]

    # d(elevation)/dt at AOS, at every grid time inside the pass (exact SGP4 samples) and at
    # LOS: a segment holds an elevation maximum where it goes from + to -.
    def at_event(t, row, seg):
        """ENU vector and derivative at AOS / LOS: on the crossing's own row, or (window and
        data edges) on the row of the pass's first / last segment."""
        d = np.empty((t.size, 3))
        dd = np.empty((t.size, 3))
        own = row >= 0
        if np.any(own):
            i = row[own]
            d[own], dd[own], _ = _horner(np.take(C, i, axis=0), (t[own] - t0[i]) / h[i], True)
        if not np.all(own):
            sg = seg[~own]
            d[~own], dd[~own], _ = _horner(rows_of(sg), (t[~own] - s_t0[sg]) / s_h[sg], True)
        return d, dd

    d_a, dd_a = at_event(aos, aos_row, seg_first)
    d_l, dd_l = at_event(los, los_row, seg_last)
    f_lo = _elevation_rate_sign(*geo.at_samples(seg_k, sp, sj, velocity=True))
    f_lo[seg_first] = _elevation_rate_sign(d_a, dd_a)
    f_hi = np.empty_like(f_lo)
    f_hi[:-1] = f_lo[1:]
    f_hi[seg_last] = _elevation_rate_sign(d_l, dd_l)
    lo_t = s_t0.copy()
    lo_t[seg_first] = aos
    hi_t = np.minimum(s_t0 + s_h, los[seg_pass])
    el_a, az_a, _ = _look(d_a)
    el_l, az_l, _ = _look(d_l)
    # Candidates for the maximum: AOS, LOS and every refined root.
    higher = el_l > el_a
    tca = np.where(higher, los, aos)
    el_t = np.where(higher, el_l, el_a)
    az_t = np.where(higher, az_l, az_a)
    d_best = np.where(higher[:, None], d_l, d_a)
    peak = (f_lo > 0) & (f_hi <= 0)
    if np.any(peak):
        idx = np.flatnonzero(peak)
        SC = rows_of(idx)
        t_root = refine_roots_newton(rate_fn, np.arange(idx.size), lo_t[idx], hi_t[idx],
                                     f_lo[idx], f_hi[idx], tol_s=tol_s)
        d_root, _, _ = _horner(SC, (t_root - s_t0[idx]) / s_h[idx])
        el_root, az_root, _ = _look(d_root)
        # Highest root of each pass (usually the only one), if above both ends.
        order = np.lexsort((-el_root, seg_pass[idx]))
        first = np.ones(order.size, dtype=bool)
        first[1:] = seg_pass[idx][order][1:] != seg_pass[idx][order][:-1]
        top = order[first]
        pid = seg_pass[idx][top]
        better = el_root[top] > el_t[pid]
        pid, top = pid[better], top[better]
        tca[pid], el_t[pid], az_t[pid], d_best[pid] = t_root[top], el_root[top], az_root[top], \
            d_root[top]
    k_t = np.clip(np.searchsorted(grid, tca, side="right") - 1, kA, kL)

    # -- sunlit at TCA and orbit number at AOS -------------------------------------------
    j_t = pj
    p_tca = geo.site_pos[k_t, j_t] + np.matmul(d_best[:, None, :], geo.site_enu[k_t, j_t])[:, 0]
    th = geo.theta[k_t] + geo.omega[k_t] * (tca - grid[k_t])
    sun = np.stack([np.interp(tca, sun_teme[0], sun_teme[1][:, i]) for i in range(3)], axis=-1)
    sunlit = _sun_centre_visible(p_tca, _rotate_z(sun, np.cos(th), np.sin(th)))
    # Unwrapped argument of latitude at the grid times around AOS (whole turns from the mean
    # rate since the window start, snapped to the osculating value), Hermite-interpolated.
    k2 = np.stack([kA, kA + 1], axis=1)
    s2 = np.stack([ps, ps], axis=1)
    r2, v2 = r[s2, k2], v[s2, k2]
    u2 = _argument_of_latitude(r2, v2)
    rn2 = np.linalg.norm(r2, axis=-1)
    u_rate = np.linalg.norm(np.cross(r2, v2), axis=-1) / (rn2 * rn2)
    with np.errstate(invalid="ignore"):
        U_lin = U_start[ps][:, None] + mean_rate[ps][:, None] * grid[k2]
        U2 = u2 + _TWO_PI * np.round((U_lin - u2) / _TWO_PI)
        hk = geo.h[kA]
        tau = (aos - grid[kA]) / hk
        t2, t3 = tau * tau, tau * tau * tau
        U_a = ((2 * t3 - 3 * t2 + 1) * U2[:, 0] + (t3 - 2 * t2 + tau) * hk * u_rate[:, 0]
               + (-2 * t3 + 3 * t2) * U2[:, 1] + (t3 - t2) * hk * u_rate[:, 1])
        revnum = np.array([getattr(sat, "revnum", 0) for sat in satrecs], dtype=float)
        orbit = revnum[ps] + np.floor(U_a / _TWO_PI)
    orbit = np.where(np.isfinite(orbit), orbit, -1).astype(np.int64)

    return dict(sat=ps, station=pj, aos=aos, tca=tca, los=los, el_max=el_t,
                az_aos=az_a, az_tca=az_t, az_los=az_l, sunlit=sunlit, orbit=orbit,
                aos_kind=aos_kind, los_kind=los_kind, unmatched=unmatched,
                candidates=kk.size, brackets=len(cross))


def _sun_centre_visible(p, sun):
    """True where the Sun's centre is above the Earth's limb (sphere of equatorial radius)
    seen from TEME positions ``p`` ``(m, 3)``; ``sun`` ``(m, 3)`` km."""
    d = sun - p
    dn = np.linalg.norm(d, axis=-1)
    # Closest approach of the ray p + s d (s in [0, 1]) to the Earth's centre.
    s = np.clip(-np.einsum("mi,mi->m", p, d) / (dn * dn), 0.0, 1.0)
    closest = p + s[:, None] * d
    return np.linalg.norm(closest, axis=-1) > WGS84_A_KM


def _problem_lines(names, norad_ids, status, times_iso, offset=0):
    lines = {}
    for i in np.flatnonzero(np.any(status != 0, axis=1)):
        j = int(np.flatnonzero(status[i])[0])
        code = int(status[i, j])
        n_bad = int(np.count_nonzero(status[i]))
        what = SGP4_ERRORS.get(code, f"sgp4 error {code}")
        lines[offset + i] = (f"{names[i]} ({norad_ids[i]}): {what} from {times_iso(j)} "
                             f"({n_bad} of {status.shape[1]} grid times failed); no passes "
                             f"predicted while propagation fails"), what
    return lines


def _run(satrecs, names, norad_ids, states, times: TimeGrid, stations, *, tol_s, chunk_size,
         workers):
    """Shared driver: ``states(i0, i1)`` returns TEME r, v, status for satellites i0:i1.

    Chunks of satellites are independent; ``workers`` threads take them in turn (NumPy and
    the root finders release the GIL for most of the work; SGP4 itself does not)."""
    sites = _Sites(stations)
    n_sat = len(satrecs)
    n_t = len(times)
    grid = times.seconds
    if n_t < 2 or not grid[-1] > 0:
        raise GroundsegError("the window must have positive length")
    theta, omega = times.gmst_rad, times.gmst_rate_rad_s
    polar = times.polar_motion_matrix
    # The Sun moves 0.04 deg an hour: hourly samples, linearly interpolated, are plenty.
    sun_times = TimeGrid.from_seconds(times.datetime64()[0], np.unique(np.append(
        np.arange(0.0, grid[-1], 3600.0), grid[-1])))
    sun = (sun_times.seconds, sun_position_km(sun_times, "teme"))
    iso = times.iso()
    if workers is None:
        # Threads pay off only on large jobs (and cost a little when the CPUs are busy).
        big = n_sat * n_t * len(sites) >= _PARALLEL_ELEMENTS
        workers = min(4, os.cpu_count() or 1) if big else 1
    workers = max(1, int(workers))
    if chunk_size is None:
        by_memory = _MAX_ELEMENTS // max(1, n_t * len(sites))
        by_workers = -(-n_sat // (2 * workers)) if workers > 1 else n_sat
        chunk_size = max(1, min(n_sat, by_memory, max(by_workers, 16)))

    def work(i0):
        i1 = min(n_sat, i0 + chunk_size)
        r, v, status = states(i0, i1)
        problems = _problem_lines(names[i0:i1], norad_ids[i0:i1], status, lambda j: iso[j],
                                  offset=i0)
        U_start, mean_rate = _revolutions_at(satrecs[i0:i1], times.jd[0], times.fr[0])
        geo = _Geometry(r, v, grid, theta, omega, sites, polar)
        part = _chunk_passes(geo, status, satrecs[i0:i1], sun, U_start, mean_rate, tol_s)
        part["sat"] = part["sat"] + i0
        part["sgp4_calls"] = r.shape[0] * r.shape[1]
        return part, problems

    starts = range(0, n_sat, chunk_size)
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, starts))
    else:
        results = [work(i0) for i0 in starts]
    problems = {}
    stats = dict(candidate_intervals=0, brackets=0, unmatched=0, sgp4_calls=0)
    for part, probs in results:
        problems.update(probs)
        stats["candidate_intervals"] += part.pop("candidates")
        stats["brackets"] += part.pop("brackets")
        stats["unmatched"] += part.pop("unmatched")
        stats["sgp4_calls"] += part.pop("sgp4_calls")
    parts = [p for p, _ in results]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return _assemble(cols, names, norad_ids, stations, times, problems, stats)


def _assemble(cols, names, norad_ids, stations, times: TimeGrid, problems, stats) -> PassTable:
    order = np.lexsort((cols["sat"], cols["station"], cols["aos"]))
    cols = {k: v[order] for k, v in cols.items()}
    start_ns = times.datetime64()[0]

    def utc(seconds):
        return start_ns + np.round(seconds * 1e9).astype(np.int64).astype("timedelta64[ns]")

    trunc_start = cols["aos_kind"] == 1
    trunc_end = cols["los_kind"] == 1
    cut_start = cols["aos_kind"] == 2
    cut_end = cols["los_kind"] == 2
    truncated = np.where(trunc_start | cut_start,
                         np.where(trunc_end | cut_end, "both", "start"),
                         np.where(trunc_end | cut_end, "end", "none")).astype(object)
    status = np.full(cols["aos"].size, "ok", dtype=object)
    for i in np.flatnonzero(cut_start | cut_end):
        why = problems.get(int(cols["sat"][i]), ("", "propagation failed"))[1]
        status[i] = f"cut by propagation failure: {why}"
    names_arr = np.array(names, dtype=object)
    station_names = np.array([s.name for s in stations], dtype=object)
    out = dict(
        satellite=names_arr[cols["sat"]] if cols["sat"].size else np.zeros(0, dtype=object),
        norad_id=np.asarray(norad_ids, dtype=np.int64)[cols["sat"]],
        station=station_names[cols["station"]] if cols["sat"].size else np.zeros(0, dtype=object),
        satellite_index=cols["sat"].astype(np.int64),
        station_index=cols["station"].astype(np.int64),
        aos_utc=utc(cols["aos"]), tca_utc=utc(cols["tca"]), los_utc=utc(cols["los"]),
        duration_s=cols["los"] - cols["aos"],
        max_elevation_deg=np.degrees(cols["el_max"]),
        aos_azimuth_deg=np.degrees(cols["az_aos"]),
        tca_azimuth_deg=np.degrees(cols["az_tca"]),
        los_azimuth_deg=np.degrees(cols["az_los"]),
        orbit_number=cols["orbit"], sunlit_at_tca=cols["sunlit"].astype(bool),
        truncated=truncated, status=status,
    )
    lines = [problems[k][0] for k in sorted(problems)]
    if stats.get("unmatched"):
        lines.append(f"{stats['unmatched']} visibility crossings could not be paired into passes")
    return PassTable(out, lines, times.datetime64()[0], times.datetime64()[-1], stats)


def _window(start, end):
    t0 = parse_utc(start)[0]
    t1 = parse_utc(end)[0]
    if t1 < t0:
        raise GroundsegError(f"end {format_utc(t1)[0]} is before start {format_utc(t0)[0]}")
    if t1 == t0:
        raise GroundsegError(f"window {format_utc(t0)[0]} .. {format_utc(t1)[0]} has zero length")
    return t0, t1


def predict_passes(constellation: Constellation, stations, start, end, *,
                   min_elevation_deg: float | None = None, step_s: float | None = None,
                   tol_s: float = 1e-3, chunk_size: int | None = None,
                   workers: int | None = None) -> PassTable:
    """Every pass of every satellite over every station between ``start`` and ``end``.

    ``stations``: :class:`~groundseg.stations.Station` objects (each with its minimum
    elevation and optional mask); ``min_elevation_deg`` overrides every station's minimum
    (masks still apply). ``step_s``: the coarse SGP4 grid (default :func:`default_step_s`);
    ``tol_s``: time tolerance of AOS / TCA / LOS. Satellites are processed in chunks
    (``chunk_size``, default: whatever keeps the per-chunk arrays around 50 MB).
    Returns a :class:`PassTable`; satellites whose propagation fails are listed in
    ``.problems`` instead of raising.
    """
    if not isinstance(constellation, Constellation):
        raise GroundsegError(f"expected a Constellation, got {type(constellation).__name__}")
    if len(constellation) == 0:
        raise GroundsegError("constellation is empty")
    stations = _prepare_stations(stations, min_elevation_deg)
    t0, t1 = _window(start, end)
    step = default_step_s(constellation) if step_s is None else float(step_s)
    if not 0 < step <= 600:
        raise GroundsegError(f"grid step must be in (0, 600] s, got {step_s}")
    times = TimeGrid.range(t0, t1, step)
    satrecs = constellation.satrecs

    def states(i0, i1):
        err, r, v = SatrecArray(satrecs[i0:i1]).sgp4(times.jd, times.fr)
        bad = err != 0
        if np.any(bad):
            r[bad] = np.nan
            v[bad] = np.nan
        return r, v, err

    return _run(satrecs, constellation.names, constellation.norad_ids, states, times, stations,
                tol_s=tol_s, chunk_size=chunk_size, workers=workers)


def passes_from_ephemeris(ephemeris: Ephemeris, stations, *, min_elevation_deg=None,
                          tol_s: float = 1e-3, chunk_size: int | None = None,
                          workers: int | None = None) -> PassTable:
    """Passes over the span of an existing :class:`~groundseg.orbits.Ephemeris` (no SGP4 call).

    The ephemeris grid must be increasing with steps of at most 240 s (the interpolation's
    accuracy); the window is its first to last time.
    """
    stations = _prepare_stations(stations, min_elevation_deg)
    times = ephemeris.times
    grid = times.seconds
    if len(times) < 2:
        raise GroundsegError("pass prediction needs an ephemeris with at least two times")
    steps = np.diff(grid)
    if np.any(steps <= 0):
        raise GroundsegError("ephemeris times must be strictly increasing")
    if steps.max() > _MAX_STEP_S + 1e-6:
        raise GroundsegError(f"ephemeris grid step {steps.max():g} s is too coarse for pass "
                             f"prediction (at most {_MAX_STEP_S:g} s)")
    c = ephemeris.constellation

    def states(i0, i1):
        return (ephemeris.position_km[i0:i1], ephemeris.velocity_km_s[i0:i1],
                ephemeris.status[i0:i1])

    return _run(c.satrecs, c.names, c.norad_ids, states, times, stations, tol_s=tol_s,
                chunk_size=chunk_size, workers=workers)


# ---------------------------------------------------------------------------------------
# Pointing tables
# ---------------------------------------------------------------------------------------
def pointing_table(constellation: Constellation, satellite, station: Station, start, end, *,
                   step_s: float = 1.0, frequency_hz: float | None = None,
                   keyhole_elevation_deg: float = 85.0) -> Table:
    """Antenna pointing for one satellite from one station, every ``step_s`` from ``start``
    to ``end`` (both included; times on whole multiples of ``step_s`` in between).

    SGP4 is evaluated at every row (a pass is short), so range rate is SGP4's own. Columns
    (:data:`POINTING_COLUMNS`): ``time_utc``, ``azimuth_deg`` [0, 360), ``azimuth_unwrapped_deg``
    (continuous through north, starting in [0, 360): what an az/el mount follows),
    ``elevation_deg``, ``range_km``, ``range_rate_km_s`` (positive receding),
    ``azimuth_rate_deg_s``, ``elevation_rate_deg_s``, ``received_frequency_hz`` =
    f (1 - range_rate / c) (one-way downlink, first order) and ``doppler_shift_hz`` =
    received - carrier (both empty without ``frequency_hz``), ``keyhole`` (true where
    elevation >= ``keyhole_elevation_deg``: near zenith an az/el mount cannot follow).
    """
    if not step_s > 0:
        raise GroundsegError(f"step must be positive, got {step_s}")
    if frequency_hz is not None and not (np.isfinite(frequency_hz) and frequency_hz > 0):
        raise GroundsegError(f"carrier frequency must be positive, got {frequency_hz}")
    station = _prepare_stations([station])[0]
    idx = constellation.index(satellite)
    t0 = parse_utc(start)[0]
    t1 = parse_utc(end)[0]
    if t1 < t0:
        raise GroundsegError(f"end {format_utc(t1)[0]} is before start {format_utc(t0)[0]}")
    span = (t1 - t0).astype("timedelta64[ns]").astype(np.int64) / 1e9
    # Rows on whole multiples of the step (UTC), plus the two ends.
    t0_s = t0.astype("datetime64[ns]").astype(np.int64) / 1e9
    first = np.ceil(t0_s / step_s) * step_s - t0_s
    inner = np.arange(first, span, step_s)
    offsets = np.unique(np.concatenate([[0.0], inner[inner > 1e-6], [span]]))
    times = TimeGrid.from_seconds(t0, offsets)
    eph = constellation.subset([idx]).propagate(times)
    r, v = teme_to_itrs(eph.position_km, eph.velocity_km_s, times.gmst_rad,
                        times.gmst_rate_rad_s, times.polar_motion_matrix)
    r, v = r[0], v[0]
    pts = station_points([station])
    d = r - pts.ecef_km[0]
    E, N, U = pts.enu[0]
    e, n, u = d @ E, d @ N, d @ U
    ve, vn, vu = v @ E, v @ N, v @ U
    hor2 = e * e + n * n
    hor = np.sqrt(hor2)
    rng = np.sqrt(hor2 + u * u)
    rr = (e * ve + n * vn + u * vu) / rng
    az = np.mod(np.arctan2(e, n), _TWO_PI)
    el = np.arctan2(u, hor)
    with np.errstate(invalid="ignore", divide="ignore"):
        az_rate = (n * ve - e * vn) / hor2
        el_rate = (vu * hor - u * (e * ve + n * vn) / hor) / (rng * rng)
    unwrapped = np.unwrap(az) if az.size else az
    ok = np.isfinite(az)
    if np.any(ok):
        unwrapped = unwrapped - _TWO_PI * np.floor(unwrapped[ok][0] / _TWO_PI)
    if frequency_hz is None:
        received = np.full(az.shape, np.nan)
    else:
        received = frequency_hz * (1.0 - rr / SPEED_OF_LIGHT_KM_S)
    cols = {
        "time_utc": times.datetime64(),
        "azimuth_deg": np.degrees(az),
        "azimuth_unwrapped_deg": np.degrees(unwrapped),
        "elevation_deg": np.degrees(el),
        "range_km": rng,
        "range_rate_km_s": rr,
        "azimuth_rate_deg_s": np.degrees(az_rate),
        "elevation_rate_deg_s": np.degrees(el_rate),
        "received_frequency_hz": received,
        "doppler_shift_hz": received - (frequency_hz if frequency_hz is not None else np.nan),
        "keyhole": np.degrees(el) >= keyhole_elevation_deg,
    }
    fmt = {"azimuth_deg": ".4f", "azimuth_unwrapped_deg": ".4f", "elevation_deg": ".4f",
           "range_km": ".4f", "range_rate_km_s": ".7f", "azimuth_rate_deg_s": ".5f",
           "elevation_rate_deg_s": ".5f", "received_frequency_hz": ".3f",
           "doppler_shift_hz": ".3f"}
    return Table(cols, fmt)
