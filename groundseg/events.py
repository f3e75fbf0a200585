"""Vectorised bracketing and root refinement for many series at once.

A *series* is one continuous function of time g(t), e.g. the elevation margin of one
(satellite, site) pair or the shadow margin of one satellite. Every function here works
on all series together: ``rows`` indexes the series, times are seconds on the grid's axis.

Completeness. If ``|dg/dt| <= L`` on ``[a, b]`` and g has a zero in it, then
``|g(a)| + |g(b)| <= L (b - a)``: from the zero, g can grow by at most L per second in
each direction. So an interval that fails this test holds no zero and can be dropped, and
one that passes is split in two and tested again. :func:`find_crossings` runs this
bisection on every candidate interval at once until each survivor either shows a sign
change (a bracket) or is narrower than the time tolerance; a zero that lasts longer than
the tolerance cannot be lost. Brackets are then refined with the Illinois method to the
tolerance (default 1 ms).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["Crossings", "find_crossings", "find_crossings_in", "refine_roots", "refine_roots_newton",
           "polynomial_bounds", "bernstein_coefficients"]

Fn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Crossings:
    """Zero crossings: ``rows`` (int64), ``time_s`` (float64), ``rising`` (bool: g goes - to +),
    all ``(m,)``, sorted by row then time."""

    def __init__(self, rows, time_s, rising):
        order = np.lexsort((time_s, rows))
        self.rows = np.asarray(rows, dtype=np.int64)[order]
        self.time_s = np.asarray(time_s, dtype=float)[order]
        self.rising = np.asarray(rising, dtype=bool)[order]

    def __len__(self) -> int:
        return self.rows.size


def refine_roots(fn: Fn, rows, a, b, ga, gb, *, tol_s: float = 1e-3, max_iter: int = 200):
    """Roots of ``fn(rows, t)`` in brackets ``[a, b]`` with ``ga * gb <= 0`` (Illinois method).

    All arrays ``(m,)``. Returns the root times ``(m,)``, each within ``tol_s`` of a zero.
    As in Brent's method, every trial point stays at least ``tol_s / 2`` inside the bracket,
    so once the secant has found the root the next step closes the bracket around it.
    """
    rows = np.asarray(rows)
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    ga = np.array(ga, dtype=float)
    gb = np.array(gb, dtype=float)
    root = np.where(ga == 0, a, np.where(gb == 0, b, np.nan))
    idx = np.flatnonzero(np.isnan(root))
    a, b, ga, gb, r = a[idx], b[idx], ga[idx], gb[idx], rows[idx]
    side = np.zeros(idx.shape, dtype=np.int8)  # which end was kept last time (Illinois halving)
    for _ in range(max_iter):
        width = b - a
        done = width <= tol_s
        if np.any(done):
            root[idx[done]] = 0.5 * (a[done] + b[done])
            keep = ~done
            idx, a, b, ga, gb, r, side, width = (x[keep] for x in (idx, a, b, ga, gb, r, side, width))
        if idx.size == 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (a * gb - b * ga) / (gb - ga)
        # Keep the secant point inside, at least 1 % of the width and tol / 2 from the ends.
        margin = np.maximum(0.01 * width, 0.5 * tol_s)
        c = np.where(np.isfinite(c), np.clip(c, a + margin, b - margin), 0.5 * (a + b))
        gc = fn(r, c)
        exact = gc == 0
        if np.any(exact):
            root[idx[exact]] = c[exact]
        left = (np.sign(gc) == np.sign(ga)) & ~exact   # root is in [c, b]
        right = ~left & ~exact                          # root is in [a, c]
        a = np.where(left, c, a)
        ga_new = np.where(left, gc, np.where(right & (side == -1), 0.5 * ga, ga))
        gb = np.where(right, gc, np.where(left & (side == 1), 0.5 * gb, gb))
        ga = ga_new
        b = np.where(right, c, b)
        side = np.where(left, 1, np.where(right, -1, side)).astype(np.int8)
        if np.any(exact):
            keep = ~exact
            idx, a, b, ga, gb, r, side = (x[keep] for x in (idx, a, b, ga, gb, r, side))
    if idx.size:
        root[idx] = 0.5 * (a + b)
    return root


def refine_roots_newton(fn: Callable, rows, a, b, ga, gb, *, x0=None, tol_s: float = 1e-3,
                        max_iter: int = 60):
    """Roots in brackets ``[a, b]`` (``ga * gb <= 0``) by Newton steps kept inside the bracket.

    ``fn(rows, t)`` returns ``(g, dg/dt)``, each ``(m,)``. ``x0``: first trial points (where
    absent, NaN or outside the bracket: the secant of the bracket). A Newton step that leaves the bracket, or a zero derivative,
    falls back to the secant. When a step is shorter than ``0.45 tol_s`` the point ``tol_s / 2``
    beyond the new estimate is evaluated too: a sign change between it and the last trial
    point proves the root within ``tol_s`` (otherwise the iteration goes on from the
    narrower bracket). All arrays ``(m,)``; returns the root times ``(m,)``.
    """
    rows = np.asarray(rows)
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    ga = np.array(ga, dtype=float)
    gb = np.array(gb, dtype=float)
    root = np.where(ga == 0, a, np.where(gb == 0, b, np.nan))
    idx = np.flatnonzero(np.isnan(root))
    a, b, ga, gb, r = a[idx], b[idx], ga[idx], gb[idx], rows[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (a * gb - b * ga) / (gb - ga)
        if x0 is not None:
            given = np.asarray(x0, dtype=float)[idx]
            x = np.where(np.isfinite(given) & (given > a) & (given < b), given, x)
    x = np.where(np.isfinite(x) & (x > a) & (x < b), x, 0.5 * (a + b))
    half = 0.5 * tol_s
    for _ in range(max_iter):
        done = (b - a) <= tol_s
        if np.any(done):
            root[idx[done]] = 0.5 * (a[done] + b[done])
            keep = ~done
            idx, a, b, ga, gb, r, x = (v[keep] for v in (idx, a, b, ga, gb, r, x))
        if idx.size == 0:
            break
        g, dg = fn(r, x)
        exact = g == 0
        left = (np.sign(g) == np.sign(ga)) & ~exact
        a, ga = np.where(left, x, a), np.where(left, g, ga)
        b, gb = np.where(left | exact, b, x), np.where(left | exact, gb, g)
        if np.any(exact):
            root[idx[exact]] = x[exact]
            keep = ~exact
            idx, a, b, ga, gb, r, x, g, dg = (v[keep] for v in (idx, a, b, ga, gb, r, x, g, dg))
        with np.errstate(invalid="ignore", divide="ignore"):
            step = -g / dg
        new = x + step
        ok = np.isfinite(new) & (new > a) & (new < b)
        close = ok & (np.abs(step) < 0.45 * tol_s) & ((b - a) > tol_s)
        if np.any(close):
            # x is now an end of the bracket and the root is about |step| beyond it: one
            # point tol / 2 past the estimate closes the bracket to under tol.
            i = np.flatnonzero(close)
            t = np.clip(new[i] + np.copysign(half, step[i]), a[i], b[i])
            gt, dgt = fn(r[i], t)
            same = np.sign(gt) == np.sign(ga[i])
            move_a = same & (t >= a[i])
            move_b = ~same & (t <= b[i])
            a[i], ga[i] = np.where(move_a, t, a[i]), np.where(move_a, gt, ga[i])
            b[i], gb[i] = np.where(move_b, t, b[i]), np.where(move_b, gt, gb[i])
            # Not closed (the root lies beyond t): go on with Newton from t.
            with np.errstate(invalid="ignore", divide="ignore"):
                new[i] = np.where(b[i] - a[i] > tol_s, t - gt / dgt, new[i])
        # Off the bracket: the secant of the bracket, or its middle.
        with np.errstate(invalid="ignore", divide="ignore"):
            sec = (a * gb - b * ga) / (gb - ga)
        inner = np.maximum(0.01 * (b - a), 0.25 * tol_s)
        sec = np.where(np.isfinite(sec), np.clip(sec, a + inner, b - inner), 0.5 * (a + b))
        x = np.where((new > a) & (new < b), new, sec)
    if idx.size:
        root[idx] = 0.5 * (a + b)
    return root


def find_crossings(fn: Fn, grid_s, values, rate_bound, *, rows=None, tol_s: float = 1e-3,
                   lo_s=None, hi_s=None) -> Crossings:
    """Every zero crossing of many continuous series, none missed.

    ``grid_s``: sample times ``(n_time,)``; ``values``: g at those samples ``(n_series, n_time)``
    (NaN where unknown: such intervals are skipped); ``rate_bound``: L, a bound on |dg/dt|,
    scalar or ``(n_series,)``; ``fn(rows, t)`` evaluates g for series ``rows`` at times ``t``
    (both ``(m,)``, e.g. on Hermite-interpolated states). ``rows`` maps the rows of ``values``
    to the series ids passed to ``fn`` (default ``arange``).
    Returns :class:`Crossings` with series ids, times and direction.
    """
    grid_s = np.asarray(grid_s, dtype=float)
    values = np.asarray(values, dtype=float)
    n_series = values.shape[0]
    ids = np.arange(n_series) if rows is None else np.asarray(rows)
    rate = np.broadcast_to(np.asarray(rate_bound, dtype=float), (n_series,))
    g0, g1 = values[:, :-1], values[:, 1:]
    h = np.diff(grid_s)[None, :]
    with np.errstate(invalid="ignore"):
        cand = (np.abs(g0) + np.abs(g1) <= rate[:, None] * h) | (g0 * g1 <= 0)
    cand &= np.isfinite(g0) & np.isfinite(g1)
    r, k = np.nonzero(cand)
    return find_crossings_in(fn, ids[r], grid_s[k], grid_s[k + 1], g0[r, k], g1[r, k], rate[r],
                             tol_s=tol_s, lo_s=lo_s, hi_s=hi_s)


def find_crossings_in(fn: Fn, rows, a, b, ga, gb, rate_bound, *, tol_s: float = 1e-3,
                      lo_s=None, hi_s=None, prune=None, refine=None, isolate=None) -> Crossings:
    """Every zero crossing inside given intervals, none missed (the test of the module docstring).

    The lower-level half of :func:`find_crossings` for callers that pick their own candidate
    intervals: ``rows`` (series ids passed to ``fn``), ``a``, ``b`` (interval ends, s),
    ``ga``, ``gb`` (g at those ends) and ``rate_bound`` (a bound on |dg/dt| valid inside each
    interval; scalar or per interval), all ``(m,)``. Intervals of one series may touch but
    should not overlap.

    Options: ``prune(rows, a, b, ga, gb)`` returns a boolean ``(m,)`` that is True only where
    the interval provably holds no zero (a sharper test than the Lipschitz one, e.g. from
    polynomial bounds); it is asked about every interval without a sign change before that
    interval is split. ``refine(rows, a, b, ga, gb)`` replaces :func:`refine_roots` for the
    final brackets (e.g. :func:`refine_roots_newton` when the derivative is at hand).
    A bracket (a sign change) is taken to hold one zero; ``isolate(rows)`` returns True for
    series where it may hold three or more: the parts of those brackets beside each refined
    root (``tol_s`` away from it) are searched again, until no new zero appears.

    Returns :class:`Crossings`; a zero on an end shared by two intervals is reported once.
    """
    r = np.asarray(rows)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ga = np.asarray(ga, dtype=float)
    gb = np.asarray(gb, dtype=float)
    L = np.broadcast_to(np.asarray(rate_bound, dtype=float), a.shape)

    found = []
    while r.size:
        br = _bracket(fn, r, a, b, ga, gb, L, tol_s, prune)
        if br is None:
            break
        r, a, b, ga, gb, L = br
        t = refine_roots(fn, r, a, b, ga, gb, tol_s=tol_s) if refine is None else \
            np.asarray(refine(r, a, b, ga, gb), dtype=float)
        found.append((r, t, np.where(ga != gb, gb > ga, ga <= 0)))
        if isolate is None:
            break
        sel = np.flatnonzero(np.asarray(isolate(r), dtype=bool))
        # Search again beside each root: [a, t - tol] and [t + tol, b].
        t_lo, t_hi = t[sel] - tol_s, t[sel] + tol_s
        left = t_lo > a[sel]
        right = t_hi < b[sel]
        il, ir = sel[left], sel[right]
        g_lo = fn(r[il], t_lo[left]) if il.size else np.zeros(0)
        g_hi = fn(r[ir], t_hi[right]) if ir.size else np.zeros(0)
        r = np.concatenate([r[il], r[ir]])
        a, b = np.concatenate([a[il], t_hi[right]]), np.concatenate([t_lo[left], b[ir]])
        ga, gb = np.concatenate([ga[il], g_hi]), np.concatenate([g_lo, gb[ir]])
        L = np.concatenate([L[il], L[ir]])

    if not found:
        empty = np.zeros(0)
        return Crossings(np.zeros(0, dtype=np.int64), empty, np.zeros(0, dtype=bool))
    r, t, rising = (np.concatenate(x) for x in zip(*found))
    if lo_s is not None or hi_s is not None:
        inside = np.ones(t.shape, dtype=bool)
        if lo_s is not None:
            inside &= t >= lo_s
        if hi_s is not None:
            inside &= t <= hi_s
        r, t, rising = r[inside], t[inside], rising[inside]
    out = Crossings(r, t, rising)
    # A zero sitting exactly on a shared sample end appears in two adjacent brackets.
    if out.rows.size > 1:
        dup = np.zeros(out.rows.size, dtype=bool)
        dup[1:] = (out.rows[1:] == out.rows[:-1]) & (np.abs(np.diff(out.time_s)) <= tol_s) & \
                  (out.rising[1:] == out.rising[:-1])
        out = Crossings(out.rows[~dup], out.time_s[~dup], out.rising[~dup])
    return out


def _bracket(fn, r, a, b, ga, gb, L, tol_s, prune):
    """Bisection with the Lipschitz (and optional prune) test: the sign-change brackets,
    as ``(rows, a, b, ga, gb, rate)``, or None."""
    brackets = []
    while r.size:
        sign_change = (ga * gb <= 0) & ~((ga == 0) & (gb == 0))
        if np.any(sign_change):
            brackets.append((r[sign_change], a[sign_change], b[sign_change],
                             ga[sign_change], gb[sign_change], L[sign_change]))
        keep = ~sign_change & (np.abs(ga) + np.abs(gb) <= L * (b - a)) & (b - a > tol_s)
        if not np.any(keep):
            break
        r, a, b, ga, gb, L = r[keep], a[keep], b[keep], ga[keep], gb[keep], L[keep]
        if prune is not None:
            keep = ~np.asarray(prune(r, a, b, ga, gb), dtype=bool)
            if not np.any(keep):
                break
            r, a, b, ga, gb, L = r[keep], a[keep], b[keep], ga[keep], gb[keep], L[keep]
        m = 0.5 * (a + b)
        gm = fn(r, m)
        r = np.concatenate([r, r])
        a, b = np.concatenate([a, m]), np.concatenate([m, b])
        ga, gb = np.concatenate([ga, gm]), np.concatenate([gm, gb])
        L = np.concatenate([L, L])
    if not brackets:
        return None
    return tuple(np.concatenate(x) for x in zip(*brackets))


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
    extra = (slice(None),) + (None,) * (c.ndim - 2)
    ta = np.asarray(tau_a, dtype=float)
    width = np.asarray(tau_b, dtype=float) - ta
    shift, scale_needed = np.any(ta != 0.0), np.any(width != 1.0)
    if shift or scale_needed:
        c = c.copy()
    if shift:
        # Taylor shift to tau_a (repeated synthetic division).
        t = ta[extra]
        for i in range(deg):
            for j in range(deg - 1, i - 1, -1):
                c[:, j] += t * c[:, j + 1]
    if scale_needed:
        scale = np.ones_like(width)[extra]
        for k in range(1, deg + 1):
            scale = scale * width[extra]
            c[:, k] *= scale
    M = _bernstein_matrix(deg)
    if c.ndim == 3:
        return np.matmul(M, c)
    return np.moveaxis(np.tensordot(M, c, axes=([1], [1])), 0, 1)


_BERNSTEIN = {}


def _bernstein_matrix(deg):
    from math import comb
    if deg not in _BERNSTEIN:
        m = np.zeros((deg + 1, deg + 1))
        for i in range(deg + 1):
            for k in range(i + 1):
                m[i, k] = comb(i, k) / comb(deg, k)
        _BERNSTEIN[deg] = m
    return _BERNSTEIN[deg]
