"""A satellite looking at the ground: interpolated ITRS states, the Sun, attitude to a point.

All in ITRS, km and rad (degrees only in output columns):

- **States** between grid samples: cubic Hermite on ITRS position and Earth-relative
  velocity (:func:`groundseg.interpolation.hermite`).
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
- **The Sun** every ~10 min, carried by the Earth's rotation in between.
"""
from __future__ import annotations

import warnings

import numpy as np

from .bounds import orbit_bounds
from .earth import EARTH_MEAN_RADIUS_KM, EARTH_ROTATION_RAD_S, ecef_to_geodetic, enu_basis
from .errors import GroundsegError
from .interpolation import hermite
from .orbits import Ephemeris
from .sun import sun_position_km

__all__ = ["ImagingGeometry", "look_angles", "track_heading", "geodetic_up"]


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def _norm(a):
    return np.sqrt(_dot(a, a))


class ImagingGeometry:
    """An ephemeris in ITRS with what access needs; every method takes ``(m,)`` arrays.

    ``r``, ``v``: ITRS ``(n_sat, n_time, 3)``; ``rn`` their radii; ``valid_end_s``
    ``(n_sat,)``: the last sample before propagation first fails (-inf if none);
    ``psi_rate``, ``rdot_max``, ``r_max``, ``r_min`` ``(n_sat,)``: :func:`groundseg.bounds.orbit_bounds`
    (all of it in ``orbit_bounds``)
    (NaN for a satellite that never propagates); ``ground_speed_km_s`` ``(n_sat,)``: median
    speed of the sub-satellite point.
    """

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
        self.h_max = float(steps.max())
        bounds = orbit_bounds(ephemeris.position_km, ephemeris.velocity_km_s, self.h_max)
        self.psi_rate = bounds.angle_rate_rad_s
        self.rdot_max = bounds.radial_speed_km_s
        self.r_max = bounds.radius_hi_km
        self.r_min = bounds.radius_lo_km
        self.orbit_bounds = bounds
        # Sub-satellite ground speed (km/s at the surface), per satellite.
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN rows of failed satellites
            vh = self.v - (_dot(self.v, self.r) / rn**2)[..., None] * self.r
            ground = np.nanmedian(np.where(ok, _norm(vh) * EARTH_MEAN_RADIUS_KM / rn, np.nan),
                                  axis=1)
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


def look_angles(r, v_rel, aim):
    """Roll, pitch, off-nadir (rad), range (km) and unit line of sight from ITRS states
    ``(m, 3)`` (Earth-relative velocity) to aim points ``(m, 3)``."""
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


def track_heading(r, v):
    """Ground-track heading (rad from north, the azimuth of the Earth-relative velocity) of
    ITRS states ``(..., 3)``."""
    up = r / _norm(r)[..., None]
    east = np.stack([-up[..., 1], up[..., 0], np.zeros(up.shape[:-1])], -1)
    east /= _norm(east)[..., None]
    north = np.cross(up, east)
    return np.arctan2(_dot(v, east), _dot(v, north))


def geodetic_up(points_km):
    """Unit geodetic vertical at ECEF points ``(m, 3)``."""
    geo = ecef_to_geodetic(points_km)
    return enu_basis(geo.latitude_rad, geo.longitude_rad)[..., 2, :]
