"""Time-expanded graph of acquisition sequences, the relaxation behind the path bound.

A state ``(a, k)`` of timed alternative ``a`` stands for "``a`` starts at ``x_k = e_a + k
delta`` or later" (``k = 0 .. K_a - 1``, ``x_k <= ls_a``). An edge ``(a, k) -> (b, j)`` says
``b`` may follow ``a`` on their resource, with ``x_j`` at most the start of ``b`` in every
plan where ``b`` directly follows an ``a`` started at ``x_k`` or later. Then every plan's
sequence on a resource is a path of the graph whose state times are at most the plan's
start times (by induction along the sequence), so the best path of any profit is at least
the plan's profit: the graph is a relaxation, whatever else it allows.

Edges come from :class:`EarliestStart`, a lower bound ``LB(a, x, b)`` on the start of
``b`` after ``a`` started at ``x`` or later:

- always valid: ``max(e_b, x + d_a + min_transition_s)`` (each satellite's own model:
  ``Problem.res_agility``);
- tighter, when the transition from ``a``'s end attitude to ``b``'s start attitude is known
  to behave: both attitudes constant and a time-independent model (the transition is one
  number ``tau``: ``max(e_b, x + d_a + tau)``), or a model declaring
  ``lipschitz_s_per_deg = L`` and ``lipschitz_jump_s = J`` (the transition changes by at
  most ``L`` s per degree of change of ``|droll| + |dpitch|`` of either attitude, plus
  ``J``) with attitude rates ``rho_a`` (end of ``a``) and ``rho_b`` (start of ``b``), in
  deg/s (L1, over the attitude samples), such that ``L rho_a <= 1`` and ``c = 1 - L rho_b
  > 0``. Then ``g(y) = y - end - tau(y)`` (``b`` at ``y`` after ``a`` at ``x``) rises at
  least ``c`` per second up to jumps of ``J``: for any ``y``, the earliest feasible
  ``y* >= y - max(0, g(y) + J) / c``; and starting ``a`` later never lets ``b`` start more
  than ``eta = 2 J / c`` earlier (the first-in-first-out property up to the jumps), so
  ``LB = y - max(0, g(y) + J) / c - eta`` for any ``y`` (secant steps from a guess bring
  ``g(y)`` near 0; a ``J`` term drops when its attitude is constant). The Liu model
  declares ``L = 1/1.5`` and ``J = 0.0067`` s: with attitudes sweeping at 0.55 deg/s,
  ``LB`` is within 0.05 s of the search state's earliest start.

Times are rounded down to the bucket grid (``j = floor((LB - e_b) / delta)``), which only
lowers them, and made nondecreasing in ``k`` by a suffix minimum (lower values stay
bounds). A state's profit is available at its later buckets too (waiting), so per
pair only the last ``k`` mapping to each ``j`` keeps its edge. Pairs whose windows are far
apart (``e_b`` past ``ls_a + d_a + tau_hi``, ``tau_hi`` a sampled upper estimate of the
transitions) get no edge: ``b``'s first state takes the best path over every such ``a``
(valid for any ``tau_hi``: ``e_b`` is a lower bound of every start of ``b``).

States are processed in slabs of time ``w <= d_min + tau_min - delta``: an edge always
goes to a later slab, so one pass over the slabs in time order is a longest-path sweep.
"""
from __future__ import annotations

import math
import time

import numpy as np

_TOL = 1e-9
#: at most this many (pair, bucket) rows are evaluated at once
_CHUNK = 400_000


class Attitudes:
    """:meth:`Problem.attitude_deg` vectorised: ``(n, 2)`` (roll, pitch) of alternatives
    ``alts`` (n,) started at ``x_s`` (n,), linear between samples and constant outside.
    Alternatives with one or two samples take a precomputed line (most of them)."""

    def __init__(self, p):
        self.p = p
        ptr = p.att_ptr
        n = np.diff(ptr)
        first = ptr[:-1]
        second = np.where(n >= 2, first + 1, first)
        self.t0 = p.att_time_s[first]
        self.span = np.where(n == 2, p.att_time_s[second] - self.t0, 0.0)
        inv = np.where(self.span > 0, 1.0 / np.where(self.span > 0, self.span, 1.0), 0.0)
        self.line = {}
        for end, vals in ((False, p.att_start_deg), (True, p.att_end_deg)):
            base = vals[first]
            rate = (vals[second] - base) * inv[:, None]
            self.line[end] = (base[:, 0].copy(), base[:, 1].copy(), rate[:, 0].copy(), rate[:, 1].copy())
        self.wide = n > 2
        self.any_wide = bool(np.any(self.wide))

    def __call__(self, alts, x_s, end: bool = False) -> np.ndarray:
        r0, q0, dr, dq = self.line[end]
        u = np.clip(x_s - self.t0[alts], 0.0, self.span[alts])
        out = np.empty((alts.size, 2))
        out[:, 0] = r0[alts] + dr[alts] * u
        out[:, 1] = q0[alts] + dq[alts] * u
        if self.any_wide:
            w = np.flatnonzero(self.wide[alts])
            if w.size:
                out[w] = self._sampled(alts[w], x_s[w], end)
        return out

    def _sampled(self, alts, x_s, end):
        p = self.p
        lo = p.att_ptr[alts].copy()
        hi = p.att_ptr[alts + 1] - 1
        t = p.att_time_s
        while True:
            open_ = hi - lo > 1
            if not np.any(open_):
                break
            mid = (lo + hi) // 2
            go = open_ & (t[mid] <= x_s)
            lo = np.where(go, mid, lo)
            hi = np.where(open_ & ~go, mid, hi)
        vals = p.att_end_deg if end else p.att_start_deg
        span = t[hi] - t[lo]
        f = np.clip((x_s - t[lo]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        return vals[lo] + f[:, None] * (vals[hi] - vals[lo])


def attitude_rates(p, end: bool) -> np.ndarray:
    """Largest ``|d roll / dt| + |d pitch / dt|`` (deg/s) of each alternative's start (or
    end) attitude over its samples (n_alts,); 0 for a constant attitude."""
    vals = p.att_end_deg if end else p.att_start_deg
    t = p.att_time_s
    seg = np.abs(np.diff(vals, axis=0)).sum(axis=1) / np.maximum(np.diff(t), 1e-300)
    owner = np.repeat(np.arange(p.n_alts), np.diff(p.att_ptr))
    inner = owner[1:] == owner[:-1]
    rate = np.zeros(p.n_alts)
    np.maximum.at(rate, owner[1:][inner], seg[inner])
    return rate


class EarliestStart:
    """Lower bounds on the start of ``b`` after ``a`` (see the module docstring)."""

    def __init__(self, p, model=None):
        self.p = p
        model = self.model = p.agility if model is None else model
        self.tau_min = float(model.min_transition_s)
        self.time_dependent = bool(getattr(model, "time_dependent", False))
        lip = getattr(model, "lipschitz_s_per_deg", None)
        self.lip = float(lip) if lip is not None and math.isfinite(lip) and lip >= 0 else None
        self.jump = float(getattr(model, "lipschitz_jump_s", 0.0) or 0.0)
        self.rho_start = attitude_rates(p, end=False)
        self.rho_end = attitude_rates(p, end=True)
        self.attitude = Attitudes(p)

    def lower_bound(self, a, x_s, b, iterations: int = 12, guess=None) -> np.ndarray:
        """``LB(a, x, b)`` (n,) for arrays ``a``, ``x_s``, ``b`` (n,); ``guess`` (n,): where
        to start looking for the earliest start (any value keeps the bound valid)."""
        p = self.p
        end = x_s + p.alt_duration_s[a]
        weak = np.maximum(p.alt_earliest_s[b], end + self.tau_min)
        if self.time_dependent:
            return weak
        ra, rb = self.rho_end[a], self.rho_start[b]
        const = (ra == 0) & (rb == 0)
        if self.lip is None:
            ok = const
            c = np.ones(a.size)
        else:
            c = 1.0 - self.lip * rb
            ok = const | ((self.lip * ra <= 1.0) & (c > 1e-3))
        if not np.any(ok):
            return weak
        idx = np.flatnonzero(ok)
        a, b, end, y = a[idx], b[idx], end[idx], weak[idx]
        if guess is not None:
            y = np.maximum(y, guess[idx])
        c = c[idx]
        x = x_s[idx]
        model = self.model
        A = self.attitude(a, x, end=True)

        def g_of(i, yy):
            B = self.attitude(b[i], yy)
            tau = np.asarray(model.transition_time_s(A[i], B, end[i], yy), dtype=float)
            return yy - end[i] - tau

        eb = p.alt_earliest_s[b]
        g = g_of(np.arange(a.size), y)
        y_prev = np.full(a.size, np.nan)
        g_prev = np.full(a.size, np.nan)
        for it in range(iterations):
            # converged, or feasible at b's earliest start (then y* = e_b)
            act = np.flatnonzero((np.abs(g) > 1e-9) & ~((g > 0) & (y <= eb + 1e-9)))
            if act.size == 0:
                break
            ya, ga, yp, gp = y[act], g[act], y_prev[act], g_prev[act]
            y_new = ya - ga  # end + tau(y): the fixed-point step
            if it >= 2:
                with np.errstate(divide="ignore", invalid="ignore"):
                    sec = ya - ga * (ya - yp) / (ga - gp)
                use = np.isfinite(sec) & (ga != gp)
                y_new = np.where(use, sec, y_new)
            y_new = np.maximum(y_new, eb[act])
            y_prev[act], g_prev[act] = ya, ga
            y[act] = y_new
            g[act] = g_of(act, y_new)
        jb = np.where(rb[idx] > 0, self.jump, 0.0)
        eta = np.where(ra[idx] > 0, (self.jump + jb) / c, 0.0)
        lb = y - np.maximum(0.0, g + jb) / c - eta
        out = weak.copy()
        out[idx] = np.maximum(weak[idx], lb)
        return out


def sampled_max_transition(p, alts, model, rng_seed: int = 0, n: int = 300) -> float:
    """A sampled estimate of the largest transition between ``alts`` (``n`` end and ``n``
    start attitude samples; only the graph's precision depends on it)."""
    rng = np.random.default_rng(rng_seed)
    samples = np.concatenate([np.arange(p.att_ptr[a], p.att_ptr[a + 1]) for a in alts])
    ends = p.att_end_deg[rng.choice(samples, size=min(n, samples.size), replace=False)]
    starts = p.att_start_deg[rng.choice(samples, size=min(n, samples.size), replace=False)]
    tau = np.asarray(model.transition_time_s(ends[:, None, :], starts[None, :, :],
                                                 np.zeros((ends.shape[0], 1)),
                                                 np.zeros((1, starts.shape[0]))), dtype=float)
    finite = tau[np.isfinite(tau)]
    return float(finite.max()) if finite.size else float(model.min_transition_s)


class TimeGraph:
    """The states and edges of every resource's timed alternatives, in slab order.

    Alternatives: ``alts`` (m,) global indices (graph-local index = position). States
    (``n_states``): ``state_alt`` (graph-local), ``state_x`` (s). Slabs (``n_slabs``):
    states ``slab_ptr[i]:slab_ptr[i+1]`` (by alternative, then bucket); edges
    ``edge_ptr[i]:edge_ptr[i+1]`` of ``edge_src``, ``edge_tgt`` leave slab ``i``. Within a
    slab, ``run_pos`` is a state's position in its alternative's run, ``run_first`` the
    run's first states and ``run_carry`` the state before each (-1: none). Far pairs:
    ``release_ptr``/``release_alt`` list the alternatives whose best path is final before
    each slab; ``first_ptr``/``first_state`` the slab's first states (k = 0), with
    ``alt_resource`` and ``alt_task`` (m,); ``last_state`` (m,) each alternative's last state."""


def build(p, delta_s: float = 1.0, deadline: float = math.inf, alts=None,
          max_rows: float = 12e6) -> TimeGraph | None:
    """The time graph of ``p``'s usable timed alternatives (or ``alts``), or None when the
    deadline (``time.perf_counter()``) passes first, when even buckets of ``2 delta_s``
    would need more than ``max_rows`` (pair, bucket) rows (the graph's size and cost), or
    when the slabs would be empty (no positive duration plus minimum transition)."""
    if alts is None:
        alts = np.flatnonzero(p.alt_valid & p.alt_timed)
    alts = np.asarray(alts, dtype=np.int64)
    if alts.size == 0:
        return None
    d_min = float(p.alt_duration_s[alts].min())
    delta = float(delta_s)
    t0 = float(p.alt_earliest_s[alts].min())
    per_res, ess = [], []
    for r in np.unique(p.alt_resource[alts]):
        ra = alts[p.alt_resource[alts] == r]
        ra = ra[np.argsort(p.alt_earliest_s[ra], kind="stable")]
        per_res.append(ra)
        ess.append(EarliestStart(p, p.res_agility[int(r)]))  # each satellite's own model
    tau_min = min(es.tau_min for es in ess)
    tau_hi = max(max(sampled_max_transition(p, ra, es.model) for ra, es in zip(per_res, ess)), tau_min)
    while True:
        w = d_min + tau_min - delta - 1e-6
        if w <= 1e-3:
            return None
        pairs = [_pairs(p, ra, delta, es.tau_min, tau_hi, w, t0) for ra, es in zip(per_res, ess)]
        rows = sum(int(np.sum(q[3] - q[2])) for q in pairs)
        if rows <= max_rows:
            break
        if delta >= 2.0 * delta_s:
            return None
        delta = min(1.5 * delta, 2.0 * delta_s)
    order = np.concatenate(per_res)
    g = TimeGraph()
    g.alts, g.delta_s, g.tau_hi_s, g.slab_s = order, delta, tau_hi, w
    loc = np.full(p.n_alts, -1, dtype=np.int64)
    loc[order] = np.arange(order.size)
    e = p.alt_earliest_s[order]
    K = np.floor((p.alt_latest_start_s[order] - e) / delta + _TOL).astype(np.int64) + 1
    off = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(K, out=off[1:])
    src, tgt = [], []
    for (pa, pb, k_lo, k_end), es in zip(pairs, ess):
        if time.perf_counter() > deadline:
            return None
        s, t = _edges(p, es, pa, pb, k_lo, k_end, tau_hi, loc, off, delta, deadline)
        if s is None:
            return None
        src.append(s)
        tgt.append(t)
    src = np.concatenate(src) if src else np.zeros(0, np.int64)
    tgt = np.concatenate(tgt) if tgt else np.zeros(0, np.int64)
    _order_states(p, g, order, e, K, off, src, tgt, w, tau_hi)
    slab_of = np.repeat(np.arange(g.n_slabs), np.diff(g.slab_ptr))
    if np.any(slab_of[g.edge_tgt] <= slab_of[g.edge_src]):  # cannot happen (see above)
        raise AssertionError("time graph: an edge does not go to a later slab")
    return g


def _pairs(p, ra, delta, tau_min, tau_hi, w, t0):
    """Near pairs ``(a, b, k_lo, k_end)`` of one resource's alternatives ``ra`` (sorted by
    earliest start): ``b`` of another task can follow ``a``, and its window opens before
    ``a``'s release (the end of the slab holding ``ls_a + d_a + tau_hi``). Buckets ``k <
    k_end`` of ``a`` can still reach ``b`` (by the minimum transition); those up to ``k_lo``
    reach ``b`` at ``e_b`` (after ``tau_hi``), so only ``k_lo`` of them is kept."""
    e = p.alt_earliest_s[ra]
    ls = p.alt_latest_start_s[ra]
    d = p.alt_duration_s[ra]
    task = p.alt_task[ra]
    release = t0 + (np.floor((ls + d + tau_hi - t0) / w) + 1.0) * w
    reach = np.max(ls - e) if ra.size else 0.0
    lo = np.searchsorted(e, e + d + tau_min - reach - _TOL, side="left")
    hi = np.searchsorted(e, release + 1e-6, side="left")  # near when in doubt
    n = np.maximum(hi - lo, 0)
    ia = np.repeat(np.arange(ra.size), n)
    ib = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    keep = (ls[ib] >= e[ia] + d[ia] + tau_min - _TOL) & (task[ib] != task[ia])
    ia, ib = ia[keep], ib[keep]
    K = np.floor((ls - e) / delta + _TOL).astype(np.int64) + 1
    # buckets of a from which b can still follow (by the minimum transition)
    k_max = np.floor((ls[ib] - d[ia] - tau_min - e[ia]) / delta + _TOL).astype(np.int64)
    k_end = np.maximum(np.minimum(K[ia] - 1, k_max) + 1, 0)
    k_sat = np.floor((e[ib] - d[ia] - tau_hi - e[ia]) / delta - _TOL).astype(np.int64)
    k_lo = np.clip(k_sat, 0, np.maximum(k_end - 1, 0))
    return ra[ia], ra[ib], np.minimum(k_lo, k_end), k_end


def _edges(p, es, pa, pb, k_lo, k_end, tau_hi, loc, off, delta, deadline):
    """Edges ``(src, tgt)`` of the pairs ``pa -> pb`` (buckets ``k_lo .. k_end - 1``)."""
    src, tgt = [], []
    nk = k_end - k_lo
    cum = np.concatenate([[0], np.cumsum(nk)])
    start = 0
    while start < pa.size:
        if time.perf_counter() > deadline:
            return None, None
        stop = int(np.searchsorted(cum, cum[start] + _CHUNK, side="right")) - 1
        stop = min(max(stop, start + 1), pa.size)
        n = nk[start:stop]
        rows = int(n.sum())
        if rows:
            pair = np.repeat(np.arange(start, stop), n)
            k = np.arange(rows) - np.repeat(cum[start:stop] - cum[start], n) + k_lo[pair]
            a, b = pa[pair], pb[pair]
            x = p.alt_earliest_s[a] + k * delta
            eb = p.alt_earliest_s[b]
            lb = eb.copy()  # e_b: a lower bound of any start; exact after tau_hi
            near = x + p.alt_duration_s[a] + tau_hi > eb
            # every fourth bucket of a pair (and its last) solved from scratch; the others
            # start from the previous solved bucket's bound shifted by the buckets between
            step = (k - k_lo[pair]) % 4
            full = near & ((step == 0) | (k == k_end[pair] - 1))
            i = np.flatnonzero(full)
            lb[i] = es.lower_bound(a[i], x[i], b[i])
            i = np.flatnonzero(near & ~full)
            lb[i] = es.lower_bound(a[i], x[i], b[i], iterations=2, guess=lb[i - step[i]] + step[i] * delta)
            Kb = off[loc[b] + 1] - off[loc[b]]
            j = np.floor((lb - eb) / delta + _TOL).astype(np.int64)
            j = np.where(lb > p.alt_latest_start_s[b] + _TOL, np.iinfo(np.int32).max, np.clip(j, 0, Kb - 1))
            # monotone in k (a suffix minimum keeps every bound valid), then the last k of
            # each target bucket
            shift = (pair - start).astype(np.int64) << 40
            j = np.minimum.accumulate((shift + j)[::-1])[::-1] - shift
            last = np.ones(rows, dtype=bool)
            last[:-1] = (pair[1:] != pair[:-1]) | (j[1:] != j[:-1])
            keep = last & (j < np.iinfo(np.int32).max)
            src.append(off[loc[a[keep]]] + k[keep])
            tgt.append(off[loc[b[keep]]] + j[keep])
        start = stop
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(src), np.concatenate(tgt)


def _order_states(p, g, order, e, K, off, src, tgt, w, tau_hi):
    """Number the states by (slab, alternative, bucket) and fill ``g``'s slab arrays."""
    m = order.size
    n_states = int(off[-1])
    s_alt = np.repeat(np.arange(m), K)
    s_k = np.arange(n_states) - off[s_alt]
    s_x = e[s_alt] + s_k * g.delta_s
    t0 = float(s_x.min())
    slab_id = np.floor((s_x - t0) / w).astype(np.int64)
    perm = np.lexsort((s_k, s_alt, slab_id))
    new_of = np.empty(n_states, dtype=np.int64)
    new_of[perm] = np.arange(n_states)
    ids, first = np.unique(slab_id[perm], return_index=True)
    g.n_states = n_states
    g.n_slabs = ids.size
    g.state_alt = s_alt[perm]
    g.state_x = s_x[perm]
    g.slab_ptr = np.append(first, n_states).astype(np.int64)
    slab_of = np.repeat(np.arange(ids.size), np.diff(g.slab_ptr))
    src, tgt = new_of[src], new_of[tgt]
    key = slab_of[src]
    if ids.size < 2 ** 15:
        key = key.astype(np.int16)  # a stable sort of 16-bit keys is a radix sort
    o = np.argsort(key, kind="stable")
    index = np.int32 if n_states < 2 ** 31 else np.int64  # half the memory and traffic
    g.edge_src, g.edge_tgt = src[o].astype(index), tgt[o].astype(index)
    g.edge_ptr = np.searchsorted(slab_of[g.edge_src], np.arange(ids.size + 1)).astype(np.int64)
    # runs: consecutive states of one alternative within a slab
    k_new = s_k[perm]
    head = np.ones(n_states, dtype=bool)
    head[1:] = (g.state_alt[1:] != g.state_alt[:-1]) | (slab_of[1:] != slab_of[:-1])
    run_start = np.flatnonzero(head)
    g.run_pos = np.arange(n_states) - np.repeat(run_start, np.diff(np.append(run_start, n_states)))
    prev_old = off[g.state_alt[run_start]] + k_new[run_start] - 1
    g.run_first = run_start
    g.run_carry = np.where(k_new[run_start] > 0, new_of[np.maximum(prev_old, 0)], -1)
    g.run_ptr = np.searchsorted(run_start, g.slab_ptr).astype(np.int64)
    g.max_run = np.array([int(g.run_pos[g.slab_ptr[i]:g.slab_ptr[i + 1]].max()) + 1
                          for i in range(ids.size)], dtype=np.int64)
    g.last_state = new_of[off[1:] - 1]
    g.prev_state = np.where(k_new > 0, new_of[np.maximum(off[g.state_alt] + k_new - 1, 0)], -1)
    g.alt_resource = p.alt_resource[order]
    g.alt_task = p.alt_task[order]
    # far pairs: a is released for the slabs after the one holding ls_a + d_a + tau_hi
    ls = p.alt_latest_start_s[order]
    rel_id = np.floor((ls + p.alt_duration_s[order] + tau_hi - t0) / w).astype(np.int64)
    # released before slab i: rel_id < ids[i]
    rel_pos = np.searchsorted(ids, rel_id, side="right")  # first slab index with ids > rel_id
    ro = np.argsort(rel_pos, kind="stable")
    g.release_alt = ro
    g.release_ptr = np.searchsorted(rel_pos[ro], np.arange(ids.size + 1), side="left").astype(np.int64)
    firsts = np.flatnonzero(k_new == 0)
    g.first_state = firsts
    g.first_ptr = np.searchsorted(firsts, g.slab_ptr).astype(np.int64)
    g.first_resource = g.alt_resource[g.state_alt[firsts]]
    res_of_state = g.alt_resource[g.state_alt]
    g.resource_states = {int(r): np.flatnonzero(res_of_state == r) for r in np.unique(g.alt_resource)}
