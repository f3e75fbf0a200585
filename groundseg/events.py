"""Crossings of many series at once, none missed, and the windows between them.

A *series* is one continuous function of time g(t), e.g. the elevation margin of one
(satellite, site) pair or the shadow margin of one satellite. Every function here works
on all series together: ``rows`` indexes the series, times are in the caller's unit (seconds,
or a fraction of a grid interval).

Completeness. If ``|dg/dt| <= L`` on ``[a, b]`` and g has a zero in it, then
``|g(a)| + |g(b)| <= L (b - a)``: from the zero, g can grow by at most L per second in
each direction. So an interval that fails this test holds no zero and can be dropped, and
one that passes is split in two and tested again. :func:`bracket` runs this bisection on
every candidate interval at once until each survivor either shows a sign change (a bracket)
or is narrower than the time tolerance; a zero that lasts longer than the tolerance cannot
be lost. Brackets are then refined to the tolerance (default 1 ms) by
:mod:`groundseg.roots`. The bounds L of the geometry are in :mod:`groundseg.bounds`.

:func:`windows` turns crossings into the intervals where g >= 0.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .roots import refine_roots

__all__ = ["Crossings", "Windows", "bracket", "find_crossings", "find_crossings_in", "windows"]

Fn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Crossings:
    """Zero crossings: ``rows`` (int64), ``time_s`` (float64), ``rising`` (bool: g goes - to +),
    all ``(m,)``, sorted by row then time."""

    def __init__(self, rows, time_s, rising):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.time_s = np.asarray(time_s, dtype=float)
        self.rising = np.asarray(rising, dtype=bool)
        r, t = self.rows, self.time_s
        if not np.all((r[1:] > r[:-1]) | ((r[1:] == r[:-1]) & (t[1:] >= t[:-1]))):
            order = _key_time_order(r, t)
            self.rows, self.time_s, self.rising = r[order], t[order], self.rising[order]

    def __len__(self) -> int:
        return self.rows.size


def bracket(fn: Fn, rows, a, b, ga, gb, rate_bound, *, tol_s: float = 1e-3, prune=None,
            ordered: bool = True):
    """Split intervals until each shows a sign change or is proved empty (module docstring).

    ``rows`` (series ids passed to ``fn``), ``a``, ``b`` (interval ends), ``ga``, ``gb`` (g
    there) and ``rate_bound`` (L, scalar or per interval): all ``(m,)``. ``prune(rows, a, b,
    ga, gb)``: optional sharper test, True where an interval without a sign change provably
    holds no zero; asked before each split. Returns the brackets ``(rows, a, b, ga, gb,
    rate)``, each ``(k,)``; with ``ordered``, sorted by row and start when the input
    intervals are (otherwise in no particular order).
    """
    r = np.asarray(rows)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ga = np.asarray(ga, dtype=float)
    gb = np.asarray(gb, dtype=float)
    L = np.broadcast_to(np.asarray(rate_bound, dtype=float), a.shape)
    rounds = []
    while r.size:
        with np.errstate(invalid="ignore"):
            sign = (ga * gb <= 0) & ~((ga == 0) & (gb == 0))
            keep = ~sign & (np.abs(ga) + np.abs(gb) <= L * (b - a)) & (b - a > tol_s)
        if np.any(sign):
            rounds.append(tuple(x[sign] for x in (r, a, b, ga, gb, L)))
        if not np.any(keep):
            break
        r, a, b, ga, gb, L = (x[keep] for x in (r, a, b, ga, gb, L))
        if prune is not None:
            keep = ~np.asarray(prune(r, a, b, ga, gb), dtype=bool)
            if not np.any(keep):
                break
            r, a, b, ga, gb, L = (x[keep] for x in (r, a, b, ga, gb, L))
        m = 0.5 * (a + b)
        gm = fn(r, m)
        # The halves side by side, so each round stays in input and time order.
        r, L = np.repeat(r, 2), np.repeat(L, 2)
        a, b, ga, gb = _pairs(a, m), _pairs(m, b), _pairs(ga, gm), _pairs(gm, gb)
    if not rounds:
        e = np.zeros(0)
        return np.zeros(0, dtype=np.asarray(rows).dtype), e, e, e, e, e
    r, a, b, ga, gb, L = (np.concatenate(x) for x in zip(*rounds))
    if ordered and len(rounds) > 1:           # merge the rounds (each in order)
        o = _key_time_order(r, a)
        r, a, b, ga, gb, L = r[o], a[o], b[o], ga[o], gb[o], L[o]
    return r, a, b, ga, gb, L


def _key_time_order(key, t):
    """``np.lexsort((t, key))`` (by integer ``key``, then time; stable) as two stable sorts,
    the second a radix sort when the keys fit 16 bits: a quarter of lexsort's time."""
    order = np.argsort(t, kind="stable")
    k = key[order]
    if k.size and 0 <= k.min() and k.max() < 1 << 16:
        k = k.astype(np.uint16)
    return order[np.argsort(k, kind="stable")]


def _pairs(x, y):
    """``[x0, y0, x1, y1, ...]``."""
    return np.stack([x, y], axis=1).ravel()


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
    interval is split. ``refine(rows, a, b, ga, gb)`` replaces
    :func:`groundseg.roots.refine_roots` (Illinois) for the
    final brackets (e.g. :func:`groundseg.roots.refine_roots_newton` when the derivative
    is at hand).
    A bracket (a sign change) is taken to hold one zero; ``isolate(rows)`` returns True for
    series where it may hold three or more: the parts of those brackets beside each refined
    root (``tol_s`` away from it) are searched again, until no new zero appears.

    Returns :class:`Crossings`; a zero on an end shared by two intervals is reported once.
    """
    r, L = np.asarray(rows), rate_bound
    found = []
    while r.size:
        r, a, b, ga, gb, L = bracket(fn, r, a, b, ga, gb, L, tol_s=tol_s, prune=prune,
                                     ordered=False)
        if r.size == 0:
            break
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


class Windows(NamedTuple):
    """Intervals where a condition holds, ``(n,)`` each, sorted by key then start:
    ``key``, ``start_s``, ``end_s``, and the events that open and close them
    (``start_event``, ``end_event``: indices into the events given; -1 where a window opens
    or closes at the series' own start or end). ``unmatched``: events that opened or closed
    nothing (a set before any rise, a rise never set, when no start / end was given)."""

    key: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    start_event: np.ndarray
    end_event: np.ndarray
    unmatched: int


def windows(keys, time_s, rising, *, opens_s=None, closes_s=None) -> Windows:
    """The windows between crossing events of many series.

    ``keys`` (int), ``time_s``, ``rising`` (True where the condition starts to hold): the
    events, ``(m,)``, in any order (events of one key at one time keep their given order:
    list a series' start before its crossings). Per key, in time order, a run of events in
    one direction (a zero found twice) counts once: its first rise, its last set. A set
    before any rise opens at ``opens_s(keys)`` (the condition held from the start), a rise
    never set closes at ``closes_s(keys)``; without those functions such events are left
    unmatched.
    """
    k = np.asarray(keys, dtype=np.int64)
    t = np.asarray(time_s, dtype=float)
    up = np.asarray(rising, dtype=bool)
    order = _key_time_order(k, t)
    k, t, up = k[order], t[order], up[order]
    same_prev = np.zeros(k.size, dtype=bool)
    same_prev[1:] = (k[1:] == k[:-1]) & (up[1:] == up[:-1])
    same_next = np.zeros(k.size, dtype=bool)
    same_next[:-1] = same_prev[1:]
    kept = np.where(up, ~same_prev, ~same_next)
    order, k, t, up = order[kept], k[kept], t[kept], up[kept]
    # Now rises and sets alternate per key. A window per anchor event: a rise (closed by the
    # next event of its key, or at closes_s) or a leading set (opened at opens_s).
    n = k.size
    next_same = np.zeros(n, dtype=bool)
    next_same[:-1] = k[1:] == k[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    is_pair = up & next_same
    is_open = up & ~next_same & (closes_s is not None)
    is_head = ~up & first & (opens_s is not None)
    i = np.flatnonzero(is_pair | is_open | is_head)          # in (key, start) order
    nxt = np.minimum(i + 1, max(n - 1, 0))
    opened, closed, head = is_open[i], is_pair[i], is_head[i]
    key, start, end, start_event, end_event = k[i], t[i], t[nxt], order[i], order[nxt]
    if np.any(head):
        end[head], end_event[head] = start[head], start_event[head]
        start[head], start_event[head] = opens_s(key[head]), -1
    if np.any(opened):
        end[opened], end_event[opened] = closes_s(key[opened]), -1
    unmatched = n - 2 * int(closed.sum()) - int(opened.sum()) - int(head.sum())
    out = Windows(key, start, end, start_event, end_event, unmatched)
    good = end >= start
    if not np.all(good):
        out = Windows(*(x[good] for x in out[:5]), unmatched)
    return out
