"""When is an angle inside a bound: the search shared by passes, imaging access and coverage.

Each application states its condition for a (ground point, satellite) pair as a margin
``g(t)`` (>= 0 inside; e.g. ``off_nadir_limit(r) - psi`` for optical access, the elevation
margin on a mask for passes) whose rate is bounded (:mod:`groundseg.bounds`), and whose
inside lies within a geocentric angle ``limit`` of the point (psi <= limit).

The completeness argument
-------------------------
SGP4 runs on a grid ``t_k`` with steps of at most ``h``. If the pair is inside at some t in
``[t_k, t_k+1]`` and psi turns no faster than L, then psi at the nearer sample is at most
``limit + L h / 2`` (:func:`reach_rad`): the sample is a *hit*, and every grid interval that
can hold an inside instant is next to a hit. The intervals next to hits are *candidates*;
one whose ends fail ``|g_k| + |g_k+1| <= L_g h`` (with ``L_g`` the margin's rate bound)
holds no zero, and one without a zero is inside either entirely or not at all (its end
values tell). The rest go through the bisection of :mod:`groundseg.events` and the root
refinement of :mod:`groundseg.roots`, on the caller's interpolated geometry: no zero that
lasts longer than the time tolerance is missed.

- :func:`dense_hits`: hits by a dot product of every point with every sample (float32,
  threshold widened past its rounding; callers test the hits exactly).
- :func:`angle_windows`: from hits to windows (candidates, bisection, refinement, pairing).
- :func:`condition_windows`: the parts of given windows where a second condition holds
  (the Sun's elevation, and later a SAR look side), searched the same way.

A new kind of access (a SAR incidence band, a look side) brings its own margin and bound
and uses these functions unchanged.
"""
from __future__ import annotations

import numpy as np

from .events import bracket, windows
from .roots import refine_roots

__all__ = ["reach_rad", "dense_hits", "angle_windows", "interval_crossings", "condition_windows"]

_DENSE_ELEMENTS = 6_000_000        # point x sample products per chunk (memory)
_FLOAT32_MARGIN = 1e-5             # widening of the float32 cosine threshold (rounding < 1e-6)
_TIME_SCALE_S = 1000.0             # time unit of condition_windows: tolerance independent of batch


def reach_rad(limit_rad, rate_rad_s, step_s):
    """The largest psi a grid sample can have next to an inside instant: ``limit + L h / 2``
    (arrays broadcast; module docstring)."""
    return limit_rad + rate_rad_s * step_s / 2


def dense_hits(point_unit, sat_unit, cos_reach):
    """Every (point, satellite, time) sample with ``cos psi >= cos_reach`` (a superset).

    ``point_unit``: ``(n_point, 3)``; ``sat_unit``: ``(n_sat, n_time, 3)`` (NaN where not
    propagated: never a hit); ``cos_reach``: broadcasts to ``(n_point, n_sat)``. Returns
    ``(point, sat, k)`` int64 ``(m,)``, sorted by point, satellite, time.
    """
    point_unit = np.asarray(point_unit, dtype=float).reshape(-1, 3)
    n_p = point_unit.shape[0]
    n_sat, n_time = sat_unit.shape[:2]
    if n_p == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    cos_reach = np.broadcast_to(np.asarray(cos_reach, dtype=float), (n_p, n_sat))
    threshold = (cos_reach - _FLOAT32_MARGIN).astype(np.float32)
    sat32 = np.ascontiguousarray(sat_unit.reshape(-1, 3).T, dtype=np.float32)
    p32 = point_unit.astype(np.float32)
    out = []
    chunk = max(1, _DENSE_ELEMENTS // max(n_sat * n_time, 1))
    for c0 in range(0, n_p, chunk):
        c1 = min(n_p, c0 + chunk)
        with np.errstate(invalid="ignore"):
            near = (p32[c0:c1] @ sat32).reshape(c1 - c0, n_sat, n_time) >= \
                threshold[c0:c1, :, None]
        p, s, k = np.unravel_index(np.flatnonzero(near), near.shape)
        out.append((p + c0, s, k))
    return tuple(np.concatenate(x).astype(np.int64) for x in zip(*out))


def angle_windows(point, sat, k, g, rate_rad_s, grid_s, sample_margin, interval_margin,
                  valid_end_s, tol_s: float, batch_rows: int | None = None):
    """Windows in which the margin is >= 0, for every pair with a hit.

    ``point``, ``sat``, ``k``: the hits (unique, any order); ``g``: the margin there;
    ``rate_rad_s``: a bound on ``|dg/dt|`` for the hit's pair; all ``(m,)``.
    ``sample_margin(point, sat, k)`` gives g at other samples; ``interval_margin(point,
    sat, k)`` returns ``fn(rows, tau)``, g on those grid intervals at fraction ``tau``.
    ``valid_end_s``: ``(n_sat,)``, where windows still open close (the window's end or the
    last sample before propagation fails). A pair inside at the first sample opens there.
    ``batch_rows``: candidate intervals searched together (default all; each is searched on
    its own, so batches change nothing but the memory a step touches).
    Returns ``(point, sat, start_s, end_s)`` ``(n,)``, sorted by point, satellite, start.
    """
    n_time = grid_s.size
    h = np.diff(grid_s)
    if point.size == 0:
        z = np.zeros(0)
        return np.zeros(0, np.int64), np.zeros(0, np.int64), z, z.copy()
    key = (point * (int(sat.max()) + 1) + sat) * n_time + k
    order = np.argsort(key)
    key = key[order]
    point, sat, k, g, rate_rad_s = (x[order] for x in (point, sat, k, g, rate_rad_s))
    pair_key = key // n_time
    new = np.ones(key.size, bool)
    new[1:] = pair_key[1:] != pair_key[:-1]
    pair_of_hit = np.cumsum(new) - 1
    pair_p, pair_s = point[new], sat[new]
    inside0 = pair_of_hit[(k == 0) & (g >= 0)]
    prow, pk, g0, g1 = _candidates(point, sat, k, g, key, n_time, sample_margin)
    rate = rate_rad_s[prow] * h[pk]
    with np.errstate(invalid="ignore"):
        cand = (np.abs(g0) + np.abs(g1) <= rate) | (g0 * g1 <= 0)
    prow, pk, g0, g1, rate = prow[cand], pk[cand], g0[cand], g1[cand], rate[cand]
    out = []
    batch = batch_rows or max(prow.size, 1)
    for b0 in range(0, prow.size, batch):
        sl = slice(b0, b0 + batch)
        fn = interval_margin(point[prow[sl]], sat[prow[sl]], pk[sl])
        r_b, tau_b, rise_b = interval_crossings(fn, g0[sl], g1[sl], rate[sl],
                                                tol_s / float(h.max()))
        out.append((r_b + b0, tau_b, rise_b))
    rows, tau, rising = (np.concatenate(x) for x in zip(*out)) if out else \
        (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    ev_t = grid_s[pk[rows]] + tau * h[pk[rows]]
    w = windows(np.concatenate([inside0, pair_of_hit[prow[rows]]]),
                np.concatenate([np.full(inside0.size, float(grid_s[0])), ev_t]),
                np.concatenate([np.ones(inside0.size, bool), rising]),
                opens_s=lambda i: np.full(i.shape, float(grid_s[0])),
                closes_s=lambda i: valid_end_s[pair_s[i]])
    return pair_p[w.key], pair_s[w.key], w.start_s, w.end_s


def _candidates(point, sat, k, g, key, n_time, sample_margin):
    """Grid intervals next to a hit: ``(hit, k, g_k, g_k+1)`` ``(n,)``, sorted by pair and k.
    A hit proposes the interval after it and, unless the sample before is itself a hit
    (which proposes that interval already), the one before."""
    next_hit = np.zeros(key.size, bool)
    next_hit[:-1] = key[1:] == key[:-1] + 1
    prev_hit = np.zeros(key.size, bool)
    prev_hit[1:] = next_hit[:-1]
    fwd = k < n_time - 1
    back = (k >= 1) & ~prev_hit
    g_next = np.empty(key.size)
    g_next[:-1] = g[1:]
    lone = fwd & ~next_hit
    g_next[lone] = sample_margin(point[lone], sat[lone], k[lone] + 1)
    g_prev = np.full(key.size, np.nan)
    g_prev[back] = sample_margin(point[back], sat[back], k[back] - 1)
    # Interleave (back, forward) per hit: the proposals come out sorted by (pair, k).
    use = np.stack([back, fwd], axis=1).ravel()
    pk = np.stack([k - 1, k], axis=1).ravel()[use]
    g0 = np.stack([g_prev, g], axis=1).ravel()[use]
    g1 = np.stack([g, g_next], axis=1).ravel()[use]
    prow = np.repeat(np.arange(key.size), 2)[use]
    return prow, pk, g0, g1


def interval_crossings(fn, ga, gb, rate, tol, span=None):
    """Zeros of many series on ``tau`` in ``[0, span]`` (default 1), none missed: row r has
    g(0) = ``ga[r]``, g(span) = ``gb[r]`` and ``|dg/dtau| <= rate[r]`` (all ``(m,)``);
    ``fn(rows, tau)`` evaluates g. Returns ``(rows, tau, rising)``, sorted by row then tau,
    each zero within ``tol`` (in tau)."""
    b = np.ones(ga.size) if span is None else np.asarray(span, dtype=float)
    r, a, b, ga, gb, _ = bracket(fn, np.arange(ga.size), np.zeros(ga.size), b, ga, gb, rate,
                                 tol_s=tol)
    tau = refine_roots(fn, r, a, b, ga, gb, tol_s=tol)
    return r, tau, np.where(ga != gb, gb > ga, ga <= 0)


def condition_windows(margin, start_s, end_s, rate_rad_s: float, tol_s: float):
    """The parts of windows ``[start_s, end_s]`` ``(m,)`` in which ``margin(i, t) >= 0``
    (``i``: window indices, ``t``: seconds, both ``(n,)``), where ``|d margin / dt| <=
    rate_rad_s``. Returns ``(window, start_s, end_s)`` ``(n,)`` sorted by window, start.

    Time is measured in units of a fixed scale, so the tolerance does not depend on which
    windows are searched together.
    """
    t0, t1 = np.asarray(start_s, dtype=float), np.asarray(end_s, dtype=float)
    if t0.size == 0:
        return np.zeros(0, np.int64), t0, t1
    idx = np.arange(t0.size)
    dur = t1 - t0
    m0, m1 = margin(idx, t0), margin(idx, t1)
    scale = _TIME_SCALE_S
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero((np.abs(m0) + np.abs(m1) <= rate_rad_s * dur) | (m0 * m1 <= 0))

    def fn(rows, tau):
        i = cand[rows]
        return margin(i, t0[i] + tau * scale)

    sub, tau, rising = interval_crossings(fn, m0[cand], m1[cand],
                                          np.full(cand.size, rate_rad_s * scale),
                                          tol_s / scale, span=dur[cand] / scale)
    rows = cand[sub]
    ev_t = np.clip(t0[rows] + tau * scale, t0[rows], t1[rows])
    inside = np.flatnonzero(m0 >= 0)
    w = windows(np.concatenate([inside, rows]), np.concatenate([t0[inside], ev_t]),
                np.concatenate([np.ones(inside.size, bool), rising]),
                opens_s=lambda i: t0[i], closes_s=lambda i: t1[i])
    return w.key, w.start_s, w.end_s
