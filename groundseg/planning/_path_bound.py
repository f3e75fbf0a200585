"""Lagrangian path bound: best paths of the time graph under multipliers.

Every plan picks, on each resource, a sequence of timed alternatives that is a path of
:mod:`~groundseg.planning._time_graph` (that module says why), plus untimed alternatives.
Relax every other constraint with multipliers; for any multipliers the bound

    L = sum over resources of max(0, best path profit) + sum of positive untimed profits
        + sum_t mu_t + sum_q h_q + sum_c pi_c (|c| - 1)

is at least every plan's objective. The profit of alternative ``a`` of task ``t`` is its
value, minus ``mu_t >= 0`` (task ``t`` used at most once: a path may repeat tasks), plus its
request's price, plus ``nu`` (member ``i`` of a group minus its first member: all or none,
``nu`` free), minus ``pi_c >= 0`` for each forbidden combination ``c`` holding ``a``
(``sum x <= |c| - 1``). Requests (``f_q = sum of the shares of the scheduled tasks``):

- linear curves: ``value * share`` as profit, exact;
- convex curves (``v = max_k (c_k + s_k f)``): a price ``lam_t`` per task and
  ``h_q = max over task subsets T of v(f(T)) - sum_{t in T} lam_t
  = max(0, max_k (c_k + sum_t max(0, s_k share_t - lam_t)))``, so a plan's
  ``v(f) <= h_q + sum of its tasks' prices``;
- other curves: one price ``lam_q`` per unit of fraction, ``h_q = max_f (v(f) - lam_q f)``
  over the curve's breakpoints (``v`` is linear between them).

Each term is a plan's value with its constraints' slack weighted by the multipliers, and
the slack is >= 0 (or 0 for equalities); so ``L`` bounds every plan. The multipliers are
improved by projected subgradient steps (Polyak's step towards the incumbent's objective)
until the deadline; the lowest ``L`` seen is the bound.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import _time_graph

_NEG = -1e300


def sweep(g, profit):
    """Longest paths by state: ``(V, IN, PM)`` (n_states,): ``V`` the best profit of a path
    ending at the state, ``IN`` the best predecessor value it used (0: the path starts
    there), ``PM`` the best over the state and the earlier buckets of its alternative.
    ``profit`` (m,) per graph alternative."""
    n = g.n_states
    pr = profit[g.state_alt]
    IN = np.zeros(n)
    V = np.empty(n)
    PM = np.empty(n)
    released = np.zeros(int(g.alt_resource.max()) + 1 if g.alt_resource.size else 1)
    for i in range(g.n_slabs):
        r0, r1 = g.release_ptr[i], g.release_ptr[i + 1]
        if r1 > r0:
            new = g.release_alt[r0:r1]
            np.maximum.at(released, g.alt_resource[new], PM[g.last_state[new]])
        f0, f1 = g.first_ptr[i], g.first_ptr[i + 1]
        if f1 > f0:
            fs = g.first_state[f0:f1]
            IN[fs] = np.maximum(IN[fs], released[g.first_resource[f0:f1]])
        s0, s1 = g.slab_ptr[i], g.slab_ptr[i + 1]
        v = pr[s0:s1] + IN[s0:s1]
        V[s0:s1] = v
        pm = v.copy()
        q0, q1 = g.run_ptr[i], g.run_ptr[i + 1]
        carry = g.run_carry[q0:q1]
        has = carry >= 0
        if np.any(has):
            at = g.run_first[q0:q1][has] - s0
            pm[at] = np.maximum(pm[at], PM[carry[has]])
        pos = g.run_pos[s0:s1]
        shift = 1
        while shift < g.max_run[i]:
            earlier = np.where(pos[shift:] >= shift, pm[:-shift], _NEG)
            np.maximum(pm[shift:], earlier, out=pm[shift:])
            shift *= 2
        PM[s0:s1] = pm
        e0, e1 = g.edge_ptr[i], g.edge_ptr[i + 1]
        if e1 > e0:
            np.maximum.at(IN, g.edge_tgt[e0:e1], PM[g.edge_src[e0:e1]])
    return V, IN, PM


def best_path(g, V, IN, PM, resource: int):
    """``(profit, [graph alternatives in time order])`` of the best path on ``resource``."""
    states = g.resource_states[resource]
    if states.size == 0:
        return 0.0, []
    s = int(states[np.argmax(V[states])])
    best = float(V[s])
    if best <= 0:
        return 0.0, []
    if not hasattr(g, "rev_ptr"):
        o = np.argsort(g.edge_tgt, kind="stable")
        g.rev_src = g.edge_src[o]
        g.rev_ptr = np.searchsorted(g.edge_tgt[o], np.arange(g.n_states + 1))
    path = []
    while True:
        path.append(int(g.state_alt[s]))
        need = IN[s]
        if need <= 0:
            break
        srcs = g.rev_src[g.rev_ptr[s]:g.rev_ptr[s + 1]]
        hit = srcs[PM[srcs] == need]
        if hit.size:
            s = int(hit[0])
        else:  # a far predecessor, released before this slab
            slab = int(np.searchsorted(g.slab_ptr, s, side="right")) - 1
            cand = g.release_alt[:g.release_ptr[slab + 1]]
            cand = cand[(g.alt_resource[cand] == resource) & (PM[g.last_state[cand]] == need)]
            s = int(g.last_state[cand[0]])
        while V[s] != need:  # the bucket where that value was earned
            s = int(g.prev_state[s])
    return best, path[::-1]


class _Dual:
    """The multipliers of ``p``'s relaxed constraints and the bound they give."""

    def __init__(self, p, g):
        self.p = p
        untimed = np.flatnonzero(p.alt_valid & ~p.alt_timed)
        self.alts = np.concatenate([g.alts, untimed])  # profit index space
        self.m_graph = g.alts.size
        alts = self.alts
        task = p.alt_task[alts]
        self.task = task
        base = p.alt_value[alts].astype(float)
        q_of = p.task_request[task]
        share = p.task_share[task]
        curves = p.request_curve
        kind = np.array([0 if c.convex and c.concave else 1 if c.convex else 2 for c in curves] + [-1])
        self.kind_t = kind[p.task_request]  # per task, -1 outside requests
        k_alt = kind[q_of]
        totals = np.array([c.total for c in curves] + [0.0])
        base[k_alt == 0] += totals[q_of[k_alt == 0]] * share[k_alt == 0]
        forbidden = [c[0] for c in p.incompat if len(c) == 1]
        loc = np.full(p.n_alts, -1, dtype=np.int64)
        loc[alts] = np.arange(alts.size)
        if forbidden:
            f = loc[np.asarray(forbidden)]
            base[f[f >= 0]] = _NEG
        self.base = base
        self.mu = np.zeros(p.n_tasks)
        # convex requests: per-task prices and the (request, task, segment) triples
        self.conv_alt = np.flatnonzero(k_alt == 1)
        self.lam_t = np.where(self.kind_t == 1, totals[p.task_request] * p.task_share, 0.0)
        trip_q, trip_t, seg_s, seg_c = [], [], [], []
        self.conv_q = [q for q, c in enumerate(curves) if kind[q] == 1]
        n_seg = 0
        for q in self.conv_q:
            c = curves[q]
            members = p.request_tasks[q]
            for k, s in enumerate(c.slopes):
                trip_q.append(np.full(members.size, len(seg_s)))
                trip_t.append(members)
                seg_s.append(s)
                seg_c.append(c.values[k] - s * c.fractions[k])
            n_seg += c.slopes.size
        self.trip_seg = np.concatenate(trip_q) if trip_q else np.zeros(0, np.int64)
        self.trip_task = np.concatenate(trip_t) if trip_t else np.zeros(0, np.int64)
        self.seg_slope = np.asarray(seg_s, float)
        self.seg_icpt = np.asarray(seg_c, float)
        seg_req = np.repeat(np.arange(len(self.conv_q)), [curves[q].slopes.size for q in self.conv_q])
        self.seg_req = seg_req.astype(np.int64)
        self.seg_first = np.searchsorted(seg_req, np.arange(len(self.conv_q)))
        # other curves: one price per request
        self.other_q = np.array([q for q, c in enumerate(curves) if kind[q] == 2], dtype=np.int64)
        self.lam_q = totals[:-1].copy()
        self.other_alt = np.flatnonzero(k_alt == 2)
        # groups: member i minus member 0
        gr_alt, gr_row, gr_sign, self.group_rows = [], [], [], []
        for members in p.groups:
            for i in range(1, members.size):
                row = len(self.group_rows)
                self.group_rows.append((int(members[i]), int(members[0])))
                for t, sign in ((members[i], 1.0), (members[0], -1.0)):
                    a = loc[p.task_alts[t]]
                    a = a[a >= 0]
                    gr_alt.append(a)
                    gr_row.append(np.full(a.size, row))
                    gr_sign.append(np.full(a.size, sign))
        self.gr_alt = np.concatenate(gr_alt) if gr_alt else np.zeros(0, np.int64)
        self.gr_row = np.concatenate(gr_row) if gr_row else np.zeros(0, np.int64)
        self.gr_sign = np.concatenate(gr_sign) if gr_sign else np.zeros(0)
        self.group_pairs = np.asarray(self.group_rows, dtype=np.int64).reshape(-1, 2)
        self.nu = np.zeros(len(self.group_rows))
        # forbidden combinations of two or more
        combos = [c for c in p.incompat if len(c) >= 2 and np.all(loc[np.asarray(c)] >= 0)]
        self.inc_alt = np.concatenate([loc[np.asarray(c)] for c in combos]) if combos else np.zeros(0, np.int64)
        self.inc_row = np.repeat(np.arange(len(combos)), [len(c) for c in combos]).astype(np.int64)
        self.inc_rhs = np.array([len(c) - 1.0 for c in combos])
        self.pi = np.zeros(len(combos))

    def profit(self) -> np.ndarray:
        p, task = self.p, self.task
        prof = self.base - self.mu[task]
        prof[self.conv_alt] += self.lam_t[task[self.conv_alt]]
        if self.other_alt.size:
            a = self.other_alt
            prof[a] += self.lam_q[p.task_request[task[a]]] * p.task_share[task[a]]
        m = prof.size
        if self.gr_alt.size:
            prof += np.bincount(self.gr_alt, weights=self.gr_sign * self.nu[self.gr_row], minlength=m)
        if self.inc_alt.size:
            prof -= np.bincount(self.inc_alt, weights=self.pi[self.inc_row], minlength=m)
        return prof

    def constant(self):
        """``(sum of the constant terms, z (n_tasks,) convex-request subsets, f* of the
        other requests)``."""
        p = self.p
        total = float(self.mu.sum()) + float(self.pi @ self.inc_rhs)
        z = np.zeros(p.n_tasks)
        if self.conv_q:
            gain = np.maximum(0.0, self.seg_slope[self.trip_seg] * p.task_share[self.trip_task]
                              - self.lam_t[self.trip_task])
            tot = self.seg_icpt + np.bincount(self.trip_seg, weights=gain, minlength=self.seg_slope.size)
            best = np.maximum.reduceat(tot, self.seg_first)
            total += float(np.maximum(best, 0.0).sum())
            # the chosen subset: the first maximising segment of each request
            is_best = tot >= best[self.seg_req] - 1e-12
            first = np.full(len(self.conv_q), self.seg_slope.size, dtype=np.int64)
            seg_idx = np.flatnonzero(is_best)
            np.minimum.at(first, self.seg_req[seg_idx], seg_idx)
            chosen = np.zeros(self.seg_slope.size, bool)
            chosen[first[best > 0]] = True
            pick = chosen[self.trip_seg] & (gain > 0)
            z[self.trip_task[pick]] = 1.0
        f_star = np.zeros(self.other_q.size)
        for i, q in enumerate(self.other_q):
            c = p.request_curve[q]
            h = c.values - self.lam_q[q] * c.fractions
            k = int(np.argmax(h))
            total += float(h[k])
            f_star[i] = c.fractions[k]
        return total, z, f_star

    def step(self, x, z, f_star, value, target, theta):
        """One projected subgradient step from the relaxation's solution ``x`` (counts per
        profit index); returns False when the subgradient vanishes."""
        p = self.p
        u = np.bincount(self.task, weights=x, minlength=p.n_tasks)
        d_mu = 1.0 - u
        d_mu[(self.mu <= 0) & (d_mu > 0)] = 0.0
        d_lt = np.where(self.kind_t == 1, u - z, 0.0)
        d_lq = np.zeros(0)
        if self.other_q.size:
            cover = np.bincount(p.task_request[p.task_request >= 0],
                                weights=(p.task_share * u)[p.task_request >= 0], minlength=len(p.request_curve))
            d_lq = cover[self.other_q] - f_star
        d_nu = u[self.group_pairs[:, 0]] - u[self.group_pairs[:, 1]] if self.nu.size else np.zeros(0)
        d_pi = self.inc_rhs - np.bincount(self.inc_row, weights=x[self.inc_alt], minlength=self.pi.size) \
            if self.pi.size else np.zeros(0)
        if self.pi.size:
            d_pi[(self.pi <= 0) & (d_pi > 0)] = 0.0
        norm = float(d_mu @ d_mu + d_lt @ d_lt + d_lq @ d_lq + d_nu @ d_nu + d_pi @ d_pi)
        if norm <= 1e-12:
            return False
        t = theta * max(value - target, 1e-6 * max(1.0, abs(value))) / norm
        self.mu = np.maximum(0.0, self.mu - t * d_mu)
        self.lam_t -= t * d_lt
        if self.other_q.size:
            self.lam_q[self.other_q] -= t * d_lq
        self.nu -= t * d_nu
        if self.pi.size:
            self.pi = np.maximum(0.0, self.pi - t * d_pi)
        return True


def path_bound(p, deadline: float, target: float = 0.0, graph=None, stats=None,
               max_iterations: int | None = None) -> float:
    """The Lagrangian path bound of ``p`` (``math.inf`` for selection problems or when no
    graph could be built by ``deadline``, ``time.perf_counter()``); ``target``: the
    incumbent's objective (the subgradient steps aim at it; reaching it proves optimality);
    at most ``max_iterations`` steps (default: until the deadline). ``stats``: a dict that
    receives ``iterations`` and ``graph``."""
    if p.is_selection:
        return math.inf
    g = graph if graph is not None else _time_graph.build(p, deadline=deadline)
    if g is None:
        return math.inf
    dual = _Dual(p, g)
    best = math.inf
    theta, stall = 1.0, 0
    it = 0
    limit = math.inf if max_iterations is None else max_iterations
    while it < limit and (it == 0 or time.perf_counter() < deadline):
        it += 1
        prof = dual.profit()
        V, IN, PM = sweep(g, prof[:dual.m_graph])
        x = np.zeros(prof.size)
        value = 0.0
        for r in g.resource_states:
            v, path = best_path(g, V, IN, PM, r)
            value += v
            np.add.at(x, np.asarray(path, dtype=np.int64), 1.0)
        untimed = prof[dual.m_graph:] > 0
        value += float(prof[dual.m_graph:][untimed].sum())
        x[dual.m_graph:] = untimed
        const, z, f_star = dual.constant()
        value += const
        if value < best - 1e-9 * max(1.0, abs(value)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 5:
                theta, stall = theta / 2, 0
        if best <= target + 1e-9 * max(1.0, abs(target)) or theta < 1e-3:
            break
        if not dual.step(x, z, f_star, value, target, theta):
            break
    if stats is not None:
        stats.update(iterations=it, graph=g)
    return best
