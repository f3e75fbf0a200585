"""The trajectory between grid samples: Hermite polynomials, their values and their bounds.

SGP4 runs once per (satellite, grid time); everything between samples is a polynomial in
``tau = (t - t_k) / h`` on each grid interval ``[t_k, t_k + h]``:

- **cubic Hermite** from position and velocity at both ends (sub-metre at 60 s in LEO):
  :func:`hermite` evaluates it from the end states, :func:`cubic_coefficients` gives its
  power-basis coefficients for repeated evaluation;
- **quintic Hermite** from position, velocity and acceleration (:func:`sgp4_gravity_km_s2`,
  SGP4's own central + J2 field) at both ends: a few metres from SGP4 at 240 s
  (:func:`quintic_coefficients`).

Power-basis coefficients are ``(..., degree + 1, 3)``, lowest degree first; :func:`horner`
evaluates them with up to two derivatives (per unit ``tau``); :func:`polynomial_bounds`
encloses them over a sub-interval (Bernstein control points).
"""
from __future__ import annotations

from math import comb

import numpy as np

from .earth import WGS72_A_KM, WGS72_J2, WGS72_MU_KM3_S2

__all__ = ["hermite", "cubic_coefficients", "quintic_coefficients", "quintic_terms", "horner",
           "sgp4_gravity_km_s2", "polynomial_bounds", "bernstein_coefficients"]


def hermite(p0, v0, p1, v1, h_s, tau):
    """Cubic Hermite interpolation on an interval of length ``h_s`` at ``tau`` in [0, 1].

    ``p*``, ``v*``: ``(..., 3)``; ``tau`` broadcasts against ``p0[..., 0]``.
    Returns position and velocity ``(..., 3)``.
    """
    t = np.asarray(tau, dtype=float)[..., None]
    h = np.asarray(h_s, dtype=float)[..., None]
    t2, t3 = t * t, t * t * t
    p = ((2 * t3 - 3 * t2 + 1) * p0 + (t3 - 2 * t2 + t) * h * v0
         + (-2 * t3 + 3 * t2) * p1 + (t3 - t2) * h * v1)
    dp = ((6 * t2 - 6 * t) * p0 + (3 * t2 - 4 * t + 1) * h * v0
          + (-6 * t2 + 6 * t) * p1 + (3 * t2 - 2 * t) * h * v1) / h
    return p, dp


def cubic_coefficients(p0, v0, p1, v1, h_s):
    """Power-basis coefficients in tau of the cubic Hermite polynomial: ``(..., 4, 3)`` from
    ``(..., 3)`` end states and ``h_s`` broadcasting against ``p0[..., 0]``."""
    hh = np.asarray(h_s, dtype=float)[..., None]
    hv0, hv1 = v0 * hh, v1 * hh
    a2 = -3.0 * p0 - 2.0 * hv0 + 3.0 * p1 - hv1
    a3 = 2.0 * p0 + hv0 - 2.0 * p1 + hv1
    return np.stack(np.broadcast_arrays(p0, hv0, a2, a3), axis=-2)


def quintic_coefficients(p0, v0, a0, p1, v1, a1, h_s):
    """Power-basis coefficients in tau of the quintic Hermite polynomial matching position,
    velocity and acceleration at both ends: ``(..., 6, 3)`` from ``(..., 3)`` states and
    ``h_s`` broadcasting against ``p0[..., 0]``."""
    hh = np.asarray(h_s, dtype=float)[..., None]
    out = np.empty(np.broadcast_shapes(p0.shape, hh.shape)[:-1] + (6, 3))
    for k, c in enumerate(quintic_terms(p0, hh * v0, (hh * hh) * a0, p1, hh * v1, (hh * hh) * a1)):
        out[..., k, :] = c
    return out


def quintic_terms(p0, V0, A0, p1, V1, A1):
    """The six coefficients in tau (lowest degree first) of the quintic Hermite polynomial
    from its values, first and second derivatives in tau at 0 and 1 (``V = h v``, ``A = h^2
    a``); arrays of any one shape."""
    dp = p1 - p0
    return (p0, V0, 0.5 * A0,
            10 * dp - 6 * V0 - 4 * V1 - 1.5 * A0 + 0.5 * A1,
            -15 * dp + 8 * V0 + 7 * V1 + 1.5 * A0 - A1,
            6 * dp - 3 * V0 - 3 * V1 - 0.5 * A0 + 0.5 * A1)


def horner(C, tau, derivative: bool = False, second: bool = False):
    """Value, d/dtau and (``second``) d2/dtau2 of polynomials ``C`` ``(m, n_coef, 3)`` at
    ``tau`` ``(m,)``, each ``(m, 3)``; absent derivatives are None. Horner's rule, one
    component at a time over all m (a matrix product per polynomial costs a BLAS call each)."""
    m, n = tau.size, C.shape[1]
    G = C.reshape(m, 3 * n).T                        # (3 n, m): coefficient k, component c
    out = [np.empty((3, m)) for _ in range(1 + derivative + second)]
    for c in range(3):
        col = G[c::3]
        for order, o in enumerate(out):
            # d^order/dtau^order of sum_k col[k] tau^k: factors k (k - 1) ... from k = order.
            if n <= order:
                o[c] = 0.0
                continue
            acc = o[c]
            np.multiply(col[n - 1], _falling(n - 1, order), out=acc)
            for k in range(n - 2, order - 1, -1):
                acc *= tau
                f = _falling(k, order)
                acc += col[k] if f == 1 else f * col[k]
    out = [o.T for o in out] + [None] * (2 - derivative - second)
    return out[0], out[1], out[2]


def _falling(k: int, order: int) -> int:
    """k (k - 1) ... (k - order + 1): the factor of tau^(k - order) in the order-th derivative
    of tau^k."""
    out = 1
    for i in range(order):
        out *= k - i
    return out


def sgp4_gravity_km_s2(position_km, axis: int = -1):
    """Central + J2 acceleration of SGP4's Earth (WGS72) at inertial positions whose
    components lie along ``axis`` (default ``(..., 3)``); the same shape back. The field is
    symmetric about the z axis, so positions rotated about it (Earth-fixed) give the
    accelerations rotated alike."""
    x, y, z = np.moveaxis(np.asarray(position_km, dtype=float), axis, 0)
    rn2 = x * x + y * y + z * z
    rn = np.sqrt(rn2)
    z2 = z * z / rn2
    k = 1.5 * WGS72_J2 * WGS72_MU_KM3_S2 * WGS72_A_KM**2 / (rn2 * rn2 * rn)
    c = -WGS72_MU_KM3_S2 / (rn2 * rn)
    kxy = k * (5 * z2 - 1) + c
    out = np.stack([kxy * x, kxy * y, (k * (5 * z2 - 3) + c) * z])
    return np.moveaxis(out, 0, axis)


def polynomial_bounds(coefficients, tau_a, tau_b):
    """Lower and upper bounds of polynomials over ``[tau_a, tau_b]`` (Bernstein hull).

    ``coefficients``: power basis, lowest degree first, ``(m, degree + 1, ...)`` (trailing axes
    are independent components); ``tau_a``, ``tau_b``: ``(m,)``. Returns ``(low, high)``, each
    ``(m, ...)``: the smallest and largest Bernstein coefficient of each polynomial on that
    interval, which enclose its values there (tight to O(width^2) as the interval shrinks).
    """
    b = bernstein_coefficients(coefficients, tau_a, tau_b)
    return b.min(axis=1), b.max(axis=1)


def bernstein_coefficients(coefficients, tau_a, tau_b):
    """Bernstein coefficients on ``[tau_a, tau_b]`` of power-basis polynomials.

    Shapes as in :func:`polynomial_bounds`; returns ``(m, degree + 1, ...)``. They are linear
    in the polynomial, so bounds of a linear combination of polynomials come from the same
    combination of their Bernstein coefficients.
    """
    c = np.asarray(coefficients, dtype=float)
    deg = c.shape[1] - 1
    ta = np.asarray(tau_a, dtype=float)
    width = np.asarray(tau_b, dtype=float) - ta
    by_row = np.ascontiguousarray(np.moveaxis(c, 0, -1))    # (degree + 1, ..., m): long loops
    if np.any(ta != 0.0):
        # Taylor shift to tau_a (repeated synthetic division).
        for i in range(deg):
            for j in range(deg - 1, i - 1, -1):
                by_row[j] += ta * by_row[j + 1]
    if np.any(width != 1.0):
        scale = np.ones_like(width)
        for k in range(1, deg + 1):
            scale = scale * width
            by_row[k] *= scale
    # The Bernstein matrix (lower triangular) term by term: a matrix product this wide
    # starts BLAS's threads, which spin.
    M = _bernstein_matrix(deg)
    out = np.empty_like(by_row)
    for i in range(deg + 1):
        np.multiply(by_row[0], M[i, 0], out=out[i])
        for k in range(1, i + 1):
            out[i] += M[i, k] * by_row[k]
    return np.moveaxis(out, -1, 0)


_BERNSTEIN = {}


def _bernstein_matrix(deg):
    if deg not in _BERNSTEIN:
        m = np.zeros((deg + 1, deg + 1))
        for i in range(deg + 1):
            for k in range(i + 1):
                m[i, k] = comb(i, k) / comb(deg, k)
        _BERNSTEIN[deg] = m
    return _BERNSTEIN[deg]
