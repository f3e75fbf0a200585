"""Orbit numbers: the TLE's revolution number plus ascending-node crossings since its epoch.

The osculating argument of latitude u (from the ascending node, in the orbit plane) is
unwrapped into U, the angle travelled since the epoch's ascending node, so that at any
instant ``orbit number = revnum + floor(U / 2 pi)``. U at the window start comes from SGP4's
secular rates plus half the drag change of mean motion (trapezoid), snapped to the
osculating u there; later, from the mean rate, snapped to the osculating u at the grid
samples around the instant, and interpolated between them (cubic Hermite on u and its rate
``|r x v| / r^2``).
"""
from __future__ import annotations

import numpy as np

from .interpolation import hermite

__all__ = ["argument_of_latitude", "revolutions_at", "orbit_numbers"]

_TWO_PI = 2.0 * np.pi


def argument_of_latitude(r, v):
    """Osculating argument of latitude (rad, [0, 2 pi)) from TEME states ``(..., 3)``."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    hx, hy, hz = _angular_momentum(r, v)
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    nn = np.sqrt(hx * hx + hy * hy)                     # |node|, node = z x h = (-hy, hx, 0)
    cos_u = hx * y - hy * x                            # node . r
    sin_u = ((hx * hx + hy * hy) * z - hz * (hx * x + hy * y)) / hn      # (node x r) . h / |h|
    u = np.arctan2(sin_u, cos_u)
    # Equatorial orbits have no node: count from the x axis.
    u = np.where(nn > 1e-9 * hn, u, np.arctan2(y, x))
    return np.mod(u, _TWO_PI)


def _angular_momentum(r, v):
    """Components of ``r x v`` for ``(..., 3)`` states."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    return y * vz - z * vy, z * vx - x * vz, x * vy - y * vx


def revolutions_at(satrecs, jd, fr):
    """U (rad) at one instant ``jd + fr`` and its mean rate (rad/s) there, each ``(n_sat,)``;
    NaN where SGP4 fails."""
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
        u = argument_of_latitude(states[..., :3], states[..., 3:])
        approx = u[0] + rates * dt_min + 0.5 * (n_now - n_epoch) * dt_min
        out = u[1] + _TWO_PI * np.round((approx - u[1]) / _TWO_PI)
    return out, (rates + n_now - n_epoch) / 60.0


def orbit_numbers(revnum, r, v, grid_s, sat, k, t_s, U_start, mean_rate):
    """Orbit numbers ``(m,)`` (int64, -1 where unknown) of satellites ``sat`` at times ``t_s``
    inside grid intervals ``k`` (all ``(m,)``). ``revnum``: the TLEs' revolution numbers,
    ``r``, ``v``: TEME samples ``(n_sat, n_time, 3)`` on ``grid_s``; ``U_start``,
    ``mean_rate``: :func:`revolutions_at` the first grid time."""
    # U and its rate at the two grid samples around each instant.
    k2 = np.stack([k, k + 1], axis=1)                                       # (m, 2)
    i2 = k2 + (sat * r.shape[1])[:, None]
    r2 = np.take(r.reshape(-1, 3), i2, axis=0)
    v2 = np.take(v.reshape(-1, 3), i2, axis=0)
    u = argument_of_latitude(r2, v2)
    hx, hy, hz = _angular_momentum(r2, v2)
    with np.errstate(invalid="ignore"):
        u_rate = np.sqrt(hx * hx + hy * hy + hz * hz) / np.einsum("...i,...i->...", r2, r2)
        U_lin = U_start[sat, None] + mean_rate[sat, None] * grid_s[k2]
        U2 = u + _TWO_PI * np.round((U_lin - u) / _TWO_PI)
        hk = grid_s[k + 1] - grid_s[k]
        U, _ = hermite(U2[:, 0, None], u_rate[:, 0, None], U2[:, 1, None], u_rate[:, 1, None],
                       hk, (t_s - grid_s[k]) / hk)
        orbit = np.asarray(revnum, dtype=float)[sat] + np.floor(U[:, 0] / _TWO_PI)
    return np.where(np.isfinite(orbit), orbit, -1).astype(np.int64)
