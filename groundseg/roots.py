"""Batched root refinement: every bracket of every (satellite, site) series at once.

A bracket is an interval ``[a, b]`` of one series ``rows`` with ``g(a) g(b) <= 0`` (found by
:mod:`groundseg.events`). All functions take and return ``(m,)`` arrays, one per bracket,
and call ``fn(rows, t)`` on all unfinished brackets together; each returns root times within
``tol_s`` of a zero. Brackets whose end value is exactly zero return that end.

- :func:`refine_roots`: the Illinois (modified regula falsi) method, safeguarded as in
  Brent's method: every trial point stays at least ``tol_s / 2`` inside the bracket.
- :func:`refine_roots_newton`: Newton steps on ``(g, dg/dt)`` kept inside the bracket, with
  the secant as fallback.
- :func:`cubic_root`: a first trial point from the cubic matching g and its slope at both
  ends of a bracket.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["refine_roots", "refine_roots_newton", "cubic_root"]


def _open_brackets(rows, a, b, ga, gb):
    """Roots already known (an end value is zero; NaN elsewhere) and the unfinished brackets:
    ``root (m,), idx, a, b, ga, gb, rows`` (the last six for the unfinished ones)."""
    rows = np.asarray(rows)
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    ga = np.array(ga, dtype=float)
    gb = np.array(gb, dtype=float)
    root = np.where(ga == 0, a, np.where(gb == 0, b, np.nan))
    idx = np.flatnonzero(np.isnan(root))
    return root, idx, a[idx], b[idx], ga[idx], gb[idx], rows[idx]


def refine_roots(fn: Callable, rows, a, b, ga, gb, *, tol_s: float = 1e-3, max_iter: int = 200):
    """Roots of ``fn(rows, t)`` in brackets ``[a, b]`` with ``ga * gb <= 0`` (Illinois method).

    All arrays ``(m,)``. Returns the root times ``(m,)``, each within ``tol_s`` of a zero.
    As in Brent's method, every trial point stays at least ``tol_s / 2`` inside the bracket,
    so once the secant has found the root the next step closes the bracket around it.
    """
    root, idx, a, b, ga, gb, r = _open_brackets(rows, a, b, ga, gb)
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
                        max_iter: int = 100):
    """Roots in brackets ``[a, b]`` (``ga * gb <= 0``) by Newton steps kept inside the bracket.

    ``fn(rows, t)`` returns ``(g, dg/dt)``, each ``(m,)``. ``x0``: first trial points (where
    absent, NaN or outside the bracket: the secant of the bracket). A Newton step that leaves
    the bracket, or a zero derivative, falls back to the secant. When a step is shorter than
    ``0.45 tol_s`` the next trial point is ``tol_s / 2`` beyond the new estimate: a sign
    change between it and the last trial point proves the root within ``tol_s`` (otherwise
    the iteration goes on from the narrower bracket). All arrays ``(m,)``; returns the root
    times ``(m,)``.
    """
    root, idx, a, b, ga, gb, r = _open_brackets(rows, a, b, ga, gb)
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
        left = (g > 0) == (ga > 0)           # ga is never 0 here; exact zeros leave below
        a, ga = np.where(left, x, a), np.where(left, g, ga)     # twice as fast as copyto
        b, gb = np.where(left, b, x), np.where(left, gb, g)
        if np.any(exact):
            root[idx[exact]] = x[exact]
            keep = ~exact
            idx, a, b, ga, gb, r, x, g, dg = (v[keep] for v in (idx, a, b, ga, gb, r, x, g, dg))
        with np.errstate(invalid="ignore", divide="ignore"):
            step = -g / dg
            new = x + step
            inside = (new > a) & (new < b)
        x = new
        off = np.flatnonzero(~inside)
        if off.size:
            # Off the bracket: the secant of the bracket, or its middle.
            oa, ob, oga, ogb = a[off], b[off], ga[off], gb[off]
            with np.errstate(invalid="ignore", divide="ignore"):
                sec = (oa * ogb - ob * oga) / (ogb - oga)
            inner = np.maximum(0.01 * (ob - oa), 0.25 * tol_s)
            x[off] = np.where(np.isfinite(sec), np.clip(sec, oa + inner, ob - inner),
                              0.5 * (oa + ob))
        close = inside & (np.abs(step) < 0.45 * tol_s)
        if np.any(close):
            # The last trial point is an end of the bracket and the root about |step| beyond
            # it: the point tol / 2 past the estimate closes the bracket to under tol.
            i = np.flatnonzero(close)
            x[i] = np.clip(new[i] + np.copysign(half, step[i]), a[i], b[i])
    if idx.size:
        root[idx] = 0.5 * (a + b)
    return root


def cubic_root(g0, g1, d0, d1):
    """A root in (0, 1) of the cubic with values ``g0``, ``g1`` and slopes ``d0``, ``d1`` (per
    unit of the interval) at 0 and 1, where ``g0 * g1 < 0``: a few Newton steps from the
    secant, bisection where they leave (0, 1) (a Newton refinement started from the secant
    instead took up to 18 steps); NaN where the cubic is not finite. All ``(m,)``."""
    c2 = 3 * (g1 - g0) - 2 * d0 - d1
    c3 = 2 * (g0 - g1) + d0 + d1
    with np.errstate(invalid="ignore", divide="ignore"):
        x = g0 / (g0 - g1)
        for _ in range(3):
            f = ((c3 * x + c2) * x + d0) * x + g0
            df = (3 * c3 * x + 2 * c2) * x + d0
            x = x - f / df
        bad = np.flatnonzero(~((x > 0) & (x < 1)))
        if bad.size:
            # Bisection of the cubic's own sign change in (0, 1), to 1e-4 of the interval.
            lo, hi = np.zeros(bad.size), np.ones(bad.size)
            s0 = g0[bad] > 0
            b2, b3, bd, bg = c2[bad], c3[bad], d0[bad], g0[bad]
            for _ in range(14):
                mid = 0.5 * (lo + hi)
                up = (((b3 * mid + b2) * mid + bd) * mid + bg > 0) == s0
                lo = np.where(up, mid, lo)
                hi = np.where(up, hi, mid)
            x[bad] = np.where(np.isfinite(b2 + b3 + bd + bg), 0.5 * (lo + hi), np.nan)
    return np.where((x > 0) & (x < 1), x, np.nan)
