"""How fast visibility can change: the rate bounds that make every search complete.

Passes, imaging access and coverage all ask one question: when is a satellite inside a bound
seen from a ground point? Each states its bound as a limit on the **geocentric angle** psi
between the satellite's position r and the point p (Earth-fixed), a limit that depends only
on the satellite's radius |r| and the point's geocentric radius R:

- elevation >= eps (passes; SAR incidence <= 90 deg - eps): on a sphere through the point,
  ``psi <= elevation_limit_rad = acos(R cos(eps) / r) - eps``;
- off-nadir <= eta (optical access, coverage): exactly
  ``psi <= off_nadir_limit_rad = asin(r sin(eta) / R) - eta`` (the horizon ``acos(R / r)``
  once the field of regard reaches past it);
- geocentric incidence in ``[theta_lo, theta_hi]`` (SAR): the band between two elevation
  limits, ``elevation_limit_rad(90 deg - theta_lo) <= psi <= elevation_limit_rad(90 deg -
  theta_hi)`` (:class:`IncidenceBound`). The incidence at the target is measured from the
  ellipsoid normal; it differs from the geocentric one by at most the angle delta between
  the normal and the geocentric radius (0.19 deg at most), so a geodetic band widened by
  delta on both sides is a geocentric band that contains it.

(Triangle Earth-centre, point, satellite: the angle at the point is 90 deg + elevation, the
one at the satellite is the off-nadir angle, so ``psi = 90 deg - eta - eps`` and
``R cos(eps) = r sin(eta)``; with the incidence ``theta = 90 deg - eps``: ``R sin(theta) =
r sin(eta)`` and ``psi = theta - eta``.)

The completeness argument
-------------------------
1. **psi changes no faster than L = n + omega_E.** p is fixed on the Earth, so ``|dpsi/dt|``
   is at most the turning rate of r's direction in the Earth-fixed frame: the inertial rate
   ``|r x v| / r^2`` (the mean motion n on a circle) plus the Earth's rotation omega_E. Over a
   window, with the angular momentum ``|r x v|`` taken from the samples (+1 % for drag and
   J2) and r bounded below between samples (item 2): ``L = 1.01 max|r x v| / r_lo^2 +
   1.001 omega_E`` (:func:`orbit_bounds`).
2. **The radius between samples.** ``r'' = h^2/r^3 - mu/r^2 + (J2, drag, short-period terms,
   at most 5e-5 km/s^2)``; a function departs from its chord between two samples ``h`` apart
   by at most ``max r'' h^2 / 8`` below it and ``max(-r'') h^2 / 8`` above it. These bounds
   need the radius itself: first the Keplerian one, ``perigee(h_lo, E_hi) <= r <=
   apogee(h_lo, E_hi)`` (at a minimum of r between samples ``dr/dt = 0``, so r is an apsis of
   the osculating orbit there, whose angular momentum and energy the samples bound with
   their margins), then three rounds of the chord bounds, each using the radii of the one
   before; every round is valid, and they tighten to ``|r''| h^2 / 8`` of the samples.
   ``|dr/dt|`` is at most its largest sample plus ``max|r''| h / 2``. The same chord bounds
   on each interval's own two samples bound the radius there, and with it the turning rate
   and the speed of item 1 per interval. Nothing here assumes a
   small eccentricity: the same argument holds from LEO to Molniya and GTO orbits (near
   perigee these bounds are loose, not wrong).
3. **A margin ``g = limit(r) - psi`` changes no faster than ``L + max|dlimit/dr| max|dr/dt|``**
   (:meth:`OffNadirBound.slope_rad_km` bounds the first factor over a box of radii).
4. **The Sun's elevation** at a point changes no faster than the Sun's direction turns in
   the Earth-fixed frame: omega_E, plus the Sun's own motion (2.0e-7 rad/s at perihelion)
   and the point's parallax (R / 1 AU of omega_E): :data:`SUN_ELEVATION_RATE_RAD_S`.
5. **The line of sight** ``u = (r - p) / |r - p|`` from a fixed point turns no faster than
   ``V / rho`` (V the Earth-fixed speed, rho the range; the range is at least ``r_lo - |p|``),
   so an angle between u and a fixed direction (the incidence) changes no faster either. The
   Earth-fixed acceleration is at most ``A = 1.01 mu / r_lo^2 + 5e-5 + 2 omega_E V + omega_E^2
   r_hi`` (gravity with J2 and drag, Coriolis, centrifugal), so ``u . v / V_hi`` (the sine of
   the squint, scaled) changes no faster than ``V / rho + 2 A / V_hi``, ``u . (v x r) /
   (V_hi r_hi)`` (the look side) and ``v_z / V_hi`` (ascending or descending) no faster
   either (:func:`sight_line_rate_rad_s`).

How a bound on ``|dg/dt|`` becomes a search that misses nothing is in
:mod:`groundseg.visibility` (which grid intervals to examine) and :mod:`groundseg.events`
(how to split them). Shapes: samples ``(n_sat, n_time, 3)``, per-satellite bounds ``(n_sat,)``;
NaN samples (failed propagation) are skipped, a satellite without any gives NaN bounds.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .earth import EARTH_ROTATION_RAD_S, WGS72_MU_KM3_S2, WGS84_A_KM

__all__ = ["SUN_ELEVATION_RATE_RAD_S", "OrbitBounds", "orbit_bounds", "elevation_limit_rad",
           "off_nadir_limit_rad", "OffNadirBound", "IncidenceBound", "itrs_acceleration_km_s2",
           "sight_line_rate_rad_s", "shadow_margin_rate_rad_s"]

SUN_ELEVATION_RATE_RAD_S = 1.01 * EARTH_ROTATION_RAD_S + 5e-7
_PERTURBATION_KM_S2 = 5e-5      # J2 radial, drag, short-period terms: what central gravity leaves out
_SLOPE_CAP = 0.999              # |dlimit/dr| is capped this close to the horizon branch point


@dataclass(frozen=True)
class OrbitBounds:
    """Per satellite over a window, each ``(n_sat,)``: ``radius_lo_km`` / ``radius_hi_km``
    (the geocentric radius everywhere between samples), ``angle_rate_rad_s`` (L: the turning
    rate of r's direction in the Earth-fixed frame), ``radial_speed_km_s`` (``|dr/dt|``) and
    ``speed_km_s`` (Earth-fixed speed). The same per grid interval, ``(n_sat, n_time - 1)``
    (NaN where a sample is missing): ``interval_radius_lo_km`` / ``interval_radius_hi_km``,
    ``interval_angle_rate_rad_s`` and ``interval_speed_km_s``, much tighter than the window's for eccentric orbits
    (at apogee the direction turns a hundred times slower than at perigee)."""

    radius_lo_km: np.ndarray
    radius_hi_km: np.ndarray
    angle_rate_rad_s: np.ndarray
    radial_speed_km_s: np.ndarray
    speed_km_s: np.ndarray
    interval_radius_lo_km: np.ndarray
    interval_radius_hi_km: np.ndarray
    interval_angle_rate_rad_s: np.ndarray
    interval_speed_km_s: np.ndarray


def orbit_bounds(position_km, velocity_km_s, step_max_s: float) -> OrbitBounds:
    """Bounds of items 1 and 2 of the module docstring from SGP4's inertial (TEME) samples
    ``(n_sat, n_time, 3)`` spaced at most ``step_max_s`` apart (gravity: SGP4's WGS72)."""
    r = np.asarray(position_km, dtype=float)
    v = np.asarray(velocity_km_s, dtype=float)
    mu, pert, span = WGS72_MU_KM3_S2, _PERTURBATION_KM_S2, step_max_s**2 / 8
    rn = _norm(r)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    hm = np.sqrt((y * vz - z * vy) ** 2 + (z * vx - x * vz) ** 2 + (x * vy - y * vx) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)       # satellites without any sample
        r_min, r_max = np.nanmin(rn, axis=1), np.nanmax(rn, axis=1)
        h_hi, h_lo = np.nanmax(hm, axis=1) * 1.01, np.nanmin(hm, axis=1) * 0.99
        # Energy (2E = v^2 - 2 mu / r) is constant up to J2 (|d 2E| < 0.2 km^2/s^2 in LEO).
        energy = np.nanmax(_dot(v, v) - 2 * mu / rn, axis=1) + 0.2
        root = np.sqrt(np.maximum(mu * mu + energy * h_lo**2, 0.0))
        r_lo = np.minimum(r_min, h_lo**2 / (mu + root)) - 1e-3
        r_hi = np.where(energy < 0, np.maximum(r_max, (mu + root) / np.maximum(-energy, 1e-300)),
                        np.inf) + 1e-3
        for _ in range(3):                                   # item 2: each round is valid
            up = np.maximum(h_hi**2 / r_lo**3 - mu / r_hi**2 + pert, 0.0)
            down = np.maximum(mu / r_lo**2 + pert - h_lo**2 / r_hi**3, 0.0)
            r_lo = np.maximum(r_lo, r_min - up * span - 1e-3)
            r_hi = np.minimum(r_hi, r_max + down * span + 1e-3)
        angle_rate = h_hi / r_lo**2 + EARTH_ROTATION_RAD_S * 1.001
        rdot = np.nanmax(np.abs(_dot(r, v)) / rn, axis=1)
        radial = rdot + np.maximum(up, down) * step_max_s / 2 + 1e-6
        v_hi = np.sqrt(np.maximum(energy + 2 * mu / r_lo, 0.0))
        speed = 1.02 * (v_hi + EARTH_ROTATION_RAD_S * r_hi) + 1e-3
        # Per interval: the chord bounds of item 2 on each interval's own samples.
        ends = np.stack([rn[:, :-1], rn[:, 1:]])
        k_lo = np.maximum(ends.min(axis=0) - (up * span)[:, None] - 1e-3, r_lo[:, None])
        k_hi = np.minimum(ends.max(axis=0) + (down * span)[:, None] + 1e-3, r_hi[:, None])
        k_rate = h_hi[:, None] / k_lo**2 + EARTH_ROTATION_RAD_S * 1.001
        k_speed = 1.02 * (np.sqrt(np.maximum(energy[:, None] + 2 * mu / k_lo, 0.0))
                          + EARTH_ROTATION_RAD_S * k_hi) + 1e-3
    return OrbitBounds(r_lo, r_hi, angle_rate, radial, speed, k_lo, k_hi, k_rate, k_speed)


def elevation_limit_rad(radius_km, point_radius_km, elevation_rad):
    """The largest psi at which a satellite at ``radius_km`` stands at geocentric elevation
    ``elevation_rad`` or more above a point at ``point_radius_km`` (arrays broadcast)."""
    return np.arccos(np.clip(point_radius_km * np.cos(elevation_rad) / radius_km,
                             -1.0, 1.0)) - elevation_rad


def off_nadir_limit_rad(radius_km, point_radius_km, off_nadir_rad, horizon: bool = True):
    """The largest psi at which a point at ``point_radius_km`` lies within ``off_nadir_rad``
    of the nadir of a satellite at ``radius_km``, and in view (arrays broadcast).
    ``horizon=False`` promises ``r sin(eta) < R`` everywhere (the field of regard stops
    short of the horizon) and skips that branch."""
    x = radius_km * np.sin(off_nadir_rad) / point_radius_km
    if not horizon:
        return 0.5 * np.pi - off_nadir_rad - np.arccos(x)
    with np.errstate(invalid="ignore"):
        return np.where(x < 1.0, 0.5 * np.pi - off_nadir_rad - np.arccos(np.minimum(x, 1.0)),
                        np.arccos(np.minimum(point_radius_km / radius_km, 1.0)))


class OffNadirBound:
    """Off-nadir angle at most ``off_nadir_rad`` (scalar or per point ``(n_point,)``), as a
    geocentric-angle bound: ``margin_rad = off_nadir_limit_rad(r, R) - psi``, >= 0 inside.

    The shape a search needs from any angle bound (a SAR incidence band would be another:
    two elevation limits and the smaller of the two margins): :meth:`limit_rad` (largest psi
    inside, for screening), :meth:`margin_rad` (signed, no faster than psi plus the limit's
    radius term) and :meth:`slope_rad_km` (that term's factor, item 3 of the module docstring).
    """

    def __init__(self, off_nadir_rad):
        self.off_nadir_rad = off_nadir_rad

    def __getitem__(self, index) -> "OffNadirBound":
        """The bound of the points ``index`` (for a bound given per point)."""
        return OffNadirBound(np.asarray(self.off_nadir_rad)[index])

    def limit_rad(self, radius_km, point_radius_km, horizon: bool = True):
        return off_nadir_limit_rad(radius_km, point_radius_km, self.off_nadir_rad, horizon)

    def margin_rad(self, radius_km, point_radius_km, psi_rad, horizon: bool = True):
        return off_nadir_limit_rad(radius_km, point_radius_km, self.off_nadir_rad, horizon) - psi_rad

    def slope_rad_km(self, r_lo_km, r_hi_km, point_lo_km, point_hi_km):
        """max |d limit / d r| over the box of satellite radii ``[r_lo, r_hi]`` and point radii
        ``[point_lo, point_hi]`` (arrays broadcast), at its corners: both branches are monotonic
        there. The horizon branch's slope counts wherever the satellite is above the point's
        sphere; within 2.5 deg of the branch point (where the slope is unbounded) it is capped."""
        s = np.sin(self.off_nadir_rad)
        best = 0.0
        for r in (r_lo_km, r_hi_km):
            for R in (point_lo_km, point_hi_km):
                x = np.minimum(r * s / R, _SLOPE_CAP)
                best = np.maximum(best, s / R / np.sqrt(1.0 - x * x))
                with np.errstate(invalid="ignore"):
                    horizon = R / (r * np.sqrt(np.maximum(r * r - R * R, 0.0)))
                best = np.where(r > R * 1.0001, np.maximum(best, horizon), best)
        return best


class IncidenceBound:
    """Geocentric incidence in ``[incidence_lo_rad, incidence_hi_rad]`` (scalars or per point
    ``(n_point,)``, both in ``[0, 90 deg)``) as a band of geocentric angles: ``margin_rad =
    min(outer - psi, psi - inner)``, >= 0 inside, with ``outer``, ``inner`` the elevation
    limits of ``90 deg - incidence_hi`` and ``90 deg - incidence_lo``. The same shape as
    :class:`OffNadirBound` (``horizon`` is accepted and ignored: the band ends short of it)."""

    def __init__(self, incidence_lo_rad, incidence_hi_rad):
        self.incidence_lo_rad = incidence_lo_rad
        self.incidence_hi_rad = incidence_hi_rad

    def __getitem__(self, index) -> "IncidenceBound":
        return IncidenceBound(np.asarray(self.incidence_lo_rad)[index],
                              np.asarray(self.incidence_hi_rad)[index])

    def limit_rad(self, radius_km, point_radius_km, horizon: bool = True):
        return elevation_limit_rad(radius_km, point_radius_km, 0.5 * np.pi - self.incidence_hi_rad)

    def margin_rad(self, radius_km, point_radius_km, psi_rad, horizon: bool = True):
        inner = elevation_limit_rad(radius_km, point_radius_km, 0.5 * np.pi - self.incidence_lo_rad)
        return np.minimum(self.limit_rad(radius_km, point_radius_km) - psi_rad, psi_rad - inner)

    def slope_rad_km(self, r_lo_km, r_hi_km, point_lo_km, point_hi_km):
        """max |d limit / d r| of both limits over the box of radii: ``c / (r sqrt(r^2 -
        c^2))`` with ``c = R sin(incidence)`` grows with R and the incidence and falls with r,
        so its largest value is at ``r_lo``, ``point_hi`` and the larger incidence."""
        c = np.asarray(point_hi_km) * np.sin(np.maximum(self.incidence_lo_rad, self.incidence_hi_rad))
        r = np.asarray(r_lo_km)
        return c / (r * np.sqrt(np.maximum(r * r - c * c, 1e-9)))


def itrs_acceleration_km_s2(bounds: OrbitBounds):
    """Item 5: a bound on the Earth-fixed acceleration ``(n_sat,)``."""
    return (1.01 * WGS72_MU_KM3_S2 / bounds.radius_lo_km**2 + _PERTURBATION_KM_S2
            + 2 * EARTH_ROTATION_RAD_S * bounds.speed_km_s
            + EARTH_ROTATION_RAD_S**2 * bounds.radius_hi_km)


def sight_line_rate_rad_s(bounds: OrbitBounds, point_radius_hi_km: float):
    """Item 5: a bound ``(n_sat,)`` on how fast the line of sight to any point no farther than
    ``point_radius_hi_km`` from the Earth's centre turns, plus ``2 A / V_hi``: the rate of the
    incidence, the scaled squint sine, the look side and the direction margins."""
    rho = np.maximum(bounds.radius_lo_km - point_radius_hi_km, 1.0)
    return bounds.speed_km_s / rho + 2.0 * itrs_acceleration_km_s2(bounds) / bounds.speed_km_s


def shadow_margin_rate_rad_s(position_km, velocity_km_s):
    """Per satellite ``(n_sat,)``: a bound on how fast the angle by which the Sun's disc clears
    the Earth's (seen from the satellite) changes. The Earth's centre direction turns at most
    at ``|v| / r``, its angular radius ``asin(R / r)`` at most at ``|v| R / (r sqrt(r^2 -
    R^2))``; the Sun's direction and radius move by under 3e-7 rad/s. Largest sample + 5 %
    (between samples) + 1e-6 rad/s."""
    rn = _norm(np.asarray(position_km, dtype=float))
    vn = _norm(np.asarray(velocity_km_s, dtype=float))
    with np.errstate(invalid="ignore"):
        rate = vn / rn * (1.0 + WGS84_A_KM / np.sqrt(np.maximum(rn**2 - WGS84_A_KM**2, 1.0)))
    return 1.05 * np.nanmax(rate, axis=1) + 1e-6


def _norm(x):
    """Euclidean norm over the last axis (faster than numpy.linalg.norm for (..., 3))."""
    return np.sqrt(_dot(x, x))


def _dot(a, b):
    """Dot products over the last axis of ``(..., 3)`` vectors (a third of einsum's time)."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]
