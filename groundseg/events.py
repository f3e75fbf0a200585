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

__all__ = ["Crossings", "find_crossings", "refine_roots"]

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
    """
    rows = np.asarray(rows)
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    ga = np.array(ga, dtype=float)
    gb = np.array(gb, dtype=float)
    root = np.where(ga == 0, a, np.where(gb == 0, b, np.nan))
    active = np.isnan(root)
    side = np.zeros(a.shape, dtype=np.int8)  # which end was kept last time (Illinois halving)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        width = b[idx] - a[idx]
        done = width <= tol_s
        if np.any(done):
            d = idx[done]
            root[d] = 0.5 * (a[d] + b[d])
            active[d] = False
            idx = idx[~done]
            if idx.size == 0:
                break
        fa, fb = ga[idx], gb[idx]
        c = (a[idx] * fb - b[idx] * fa) / (fb - fa)
        # Keep the secant point strictly inside and away from the ends (guards slow convergence).
        lo = a[idx] + 0.01 * (b[idx] - a[idx])
        hi = b[idx] - 0.01 * (b[idx] - a[idx])
        c = np.where(np.isfinite(c), np.clip(c, lo, hi), 0.5 * (a[idx] + b[idx]))
        gc = fn(rows[idx], c)
        exact = gc == 0
        if np.any(exact):
            root[idx[exact]] = c[exact]
            active[idx[exact]] = False
        left = (np.sign(gc) == np.sign(fa)) & ~exact   # root is in [c, b]
        right = ~left & ~exact                          # root is in [a, c]
        il, ir = idx[left], idx[right]
        a[il], ga[il] = c[left], gc[left]
        gb[il] = np.where(side[il] == 1, gb[il] * 0.5, gb[il])
        side[il] = 1
        b[ir], gb[ir] = c[right], gc[right]
        ga[ir] = np.where(side[ir] == -1, ga[ir] * 0.5, ga[ir])
        side[ir] = -1
    if np.any(active):
        root[active] = 0.5 * (a[active] + b[active])
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
    a, b = grid_s[k], grid_s[k + 1]
    ga, gb = g0[r, k], g1[r, k]
    L = rate[r]
    r = ids[r]

    brackets = []
    while r.size:
        sign_change = (ga * gb <= 0) & ~((ga == 0) & (gb == 0))
        if np.any(sign_change):
            brackets.append((r[sign_change], a[sign_change], b[sign_change],
                             ga[sign_change], gb[sign_change]))
        keep = ~sign_change & (np.abs(ga) + np.abs(gb) <= L * (b - a)) & (b - a > tol_s)
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
        empty = np.zeros(0)
        return Crossings(np.zeros(0, dtype=np.int64), empty, np.zeros(0, dtype=bool))
    r, a, b, ga, gb = (np.concatenate(x) for x in zip(*brackets))
    # A zero sitting exactly on a shared sample end appears in two adjacent brackets.
    t = refine_roots(fn, r, a, b, ga, gb, tol_s=tol_s)
    rising = np.where(ga != gb, gb > ga, ga <= 0)
    if lo_s is not None or hi_s is not None:
        inside = np.ones(t.shape, dtype=bool)
        if lo_s is not None:
            inside &= t >= lo_s
        if hi_s is not None:
            inside &= t <= hi_s
        r, t, rising = r[inside], t[inside], rising[inside]
    out = Crossings(r, t, rising)
    if out.rows.size > 1:
        dup = np.zeros(out.rows.size, dtype=bool)
        dup[1:] = (out.rows[1:] == out.rows[:-1]) & (np.abs(np.diff(out.time_s)) <= tol_s) & \
                  (out.rising[1:] == out.rising[:-1])
        out = Crossings(out.rows[~dup], out.time_s[~dup], out.rising[~dup])
    return out
