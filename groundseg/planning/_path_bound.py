"""Lagrangian path bound: best paths of the time graph under multipliers.

Every plan picks, on each resource, a sequence of timed alternatives that is a path of
:mod:`~groundseg.planning._time_graph` (that module says why), plus untimed alternatives.
Relax every other constraint with multipliers; for any multipliers the bound

    L = sum over resources of max(0, best path profit) + sum of positive untimed profits
        + sum_t mu_t + sum_q h_q + sum_c pi_c (|c| - 1)

is at least every plan's objective. The profit of alternative ``a`` of task ``t`` is its
value, minus ``mu_t >= 0`` (task ``t`` used at most once: a path may repeat tasks, though
not within two steps, see :class:`Sweep`), plus its
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
until the deadline, first with plain best paths (cheap), then with paths that never take a
task twice within two steps (a strip imaged one way, a neighbour, then the strip the other
way: most of what the plain paths repeat); the lowest ``L`` seen is the bound.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import _time_graph

_NEG = -1e300
#: the plain sweeps stop when the step size falls below this
PLAIN_STOP = 0.1


class Sweep:
    """Longest paths by state: per state the best profit of a path ending there (``V1``).

    With ``distinct``, no path takes a task twice within two steps (``t, u, t``; no plan
    does): also the best whose previous acquisition is of another task than that path's
    (``V2``), and ``T`` that previous task (-1: none, the path starts there; -2: a far
    predecessor, not checked, which only lets more paths through). ``IN1``/``IN2``: the
    predecessor values they used; ``PM1``/``PT``/``PM2``: the same over the state and the
    earlier buckets of its alternative (waiting). Extending a path at ``s`` by an
    alternative of task ``t`` uses ``PM1[s]`` when ``PT[s] != t``, else ``PM2[s]`` (the
    best whose previous task is not ``t``): every path without ``t, u, t`` is seen, so the
    best is still at least every plan's profit. About 3.5 times the work of a plain sweep."""

    def __init__(self, g, profit, distinct: bool = True):
        n = g.n_states
        _edge_tasks(g)
        self.distinct = distinct
        pr = profit[g.state_alt]
        IN1, IN2 = np.zeros(n), np.full(n, _NEG)
        T = np.full(n, -1, dtype=np.int32)
        PM1, PM2, PT = np.empty(n), np.full(n, _NEG), np.full(n, -1, dtype=np.int32)
        released = np.full(int(g.alt_resource.max()) + 1 if g.alt_resource.size else 1, _NEG)
        for i in range(g.n_slabs):
            r0, r1 = g.release_ptr[i], g.release_ptr[i + 1]
            if r1 > r0:
                new = g.release_alt[r0:r1]
                np.maximum.at(released, g.alt_resource[new], PM1[g.last_state[new]])
            f0, f1 = g.first_ptr[i], g.first_ptr[i + 1]
            if f1 > f0:
                fs = g.first_state[f0:f1]
                far = released[g.first_resource[f0:f1]]
                if distinct:
                    IN1[fs], T[fs], IN2[fs] = _merge(IN1[fs], T[fs], IN2[fs], far, -2, _NEG)
                else:
                    IN1[fs] = np.maximum(IN1[fs], far)
            s0, s1 = g.slab_ptr[i], g.slab_ptr[i + 1]
            p1, pt, p2 = pr[s0:s1] + IN1[s0:s1], T[s0:s1].copy(), pr[s0:s1] + IN2[s0:s1]
            q0, q1 = g.run_ptr[i], g.run_ptr[i + 1]
            carry = g.run_carry[q0:q1]
            has = carry >= 0
            if np.any(has):
                at, c = g.run_first[q0:q1][has] - s0, carry[has]
                p1[at], pt[at], p2[at] = _merge(p1[at], pt[at], p2[at], PM1[c], PT[c], PM2[c])
            pos = g.run_pos[s0:s1]
            shift = 1
            while shift < g.max_run[i]:
                ok = pos[shift:] >= shift
                e1 = np.where(ok, p1[:-shift], _NEG)
                if distinct:
                    e2 = np.where(ok, p2[:-shift], _NEG)
                    p1[shift:], pt[shift:], p2[shift:] = _merge(p1[shift:], pt[shift:], p2[shift:],
                                                                e1, pt[:-shift], e2)
                else:
                    np.maximum(p1[shift:], e1, out=p1[shift:])
                shift *= 2
            PM1[s0:s1], PT[s0:s1], PM2[s0:s1] = p1, pt, p2
            e0, e1 = g.edge_ptr[i], g.edge_ptr[i + 1]
            if e1 == e0:
                continue
            src = g.edge_src[e0:e1]
            offer = PM1[src]
            lo, hi = g.edge_tgt_lo[i], g.edge_tgt_hi[i]
            j = g.edge_tgt_off[e0:e1]
            if not distinct:
                np.maximum.at(IN1[lo:hi], j, offer)
                continue
            bad = np.flatnonzero(PT[src] == g.edge_tgt_task[e0:e1])
            offer[bad] = PM2[src[bad]]
            u = g.edge_src_task[e0:e1]
            old1, oldT = IN1[lo:hi], T[lo:hi]
            b1 = old1.copy()
            np.maximum.at(b1, j, offer)
            bT = oldT.copy()
            win = np.flatnonzero(offer == b1[j])  # (a tie with the old best: harmless)
            bT[j[win]] = u[win]
            b2 = np.where(oldT != bT, old1, IN2[lo:hi])
            np.maximum.at(b2, j, np.where(u != bT[j], offer, _NEG))
            IN1[lo:hi], T[lo:hi], IN2[lo:hi] = b1, bT, b2
        self.pr, self.IN1, self.IN2, self.T = pr, IN1, IN2, T
        self.V1, self.V2 = pr + IN1, pr + IN2
        self.PM1, self.PT, self.PM2 = PM1, PT, PM2

    def best_path(self, g, resource: int):
        """``(profit, [graph alternatives in time order])`` of the best path on ``resource``."""
        states = g.resource_states[resource]
        if states.size == 0:
            return 0.0, []
        V1, V2, T = self.V1, self.V2, self.T
        s = int(states[np.argmax(V1[states])])
        best = float(V1[s])
        if best <= 0:
            return 0.0, []
        if not hasattr(g, "rev_ptr"):
            o = np.argsort(g.edge_tgt, kind="stable")
            g.rev_src = g.edge_src[o]
            g.rev_ptr = np.searchsorted(g.edge_tgt[o], np.arange(g.n_states + 1))
        task = g.alt_task[g.state_alt]
        path = []
        w, f = best, -3  # the value wanted at s among paths whose previous task is not f
        while True:
            while (V1[s] if T[s] != f else V2[s]) != w:  # the bucket where it was earned
                s = int(g.prev_state[s])
            path.append(int(g.state_alt[s]))
            first = T[s] != f and V1[s] == w
            need = self.IN1[s] if first else self.IN2[s]
            if need <= 0:
                break
            srcs = g.rev_src[g.rev_ptr[s]:g.rev_ptr[s + 1]]
            offer = np.where(self.PT[srcs] != task[s], self.PM1[srcs], self.PM2[srcs])
            same = task[srcs] == T[s]
            hit = srcs[(offer == need) & (same if first else ~same)] if self.distinct else srcs[offer == need]
            if hit.size:
                s, f, w = int(hit[0]), int(task[s]), need
            else:  # a far predecessor, released before this slab (not checked)
                slab = int(np.searchsorted(g.slab_ptr, s, side="right")) - 1
                cand = g.release_alt[:g.release_ptr[slab + 1]]
                cand = cand[(g.alt_resource[cand] == resource) & (self.PM1[g.last_state[cand]] == need)]
                s, f, w = int(g.last_state[cand[0]]), -3, need
        return best, path[::-1]


def _merge(a1, at, a2, b1, bt, b2):
    """Two (best, its previous task, best with another previous task) summaries merged."""
    a_wins = a1 >= b1
    r1 = np.where(a_wins, a1, b1)
    rt = np.where(a_wins, at, bt)
    l1, lt = np.where(a_wins, b1, a1), np.where(a_wins, bt, at)
    l2, w2 = np.where(a_wins, b2, a2), np.where(a_wins, a2, b2)
    return r1, rt, np.maximum(w2, np.where(lt != rt, l1, l2))


def _edge_tasks(g) -> None:
    """The tasks at both ends of every edge (cached on ``g``)."""
    if not hasattr(g, "edge_tgt_task"):
        task = g.alt_task[g.state_alt].astype(np.int32)
        g.edge_src_task, g.edge_tgt_task = task[g.edge_src], task[g.edge_tgt]
        # each slab's edges reach the states lo .. hi - 1; offsets from lo
        g.edge_tgt_lo = np.zeros(g.n_slabs, dtype=np.int64)
        g.edge_tgt_hi = np.zeros(g.n_slabs, dtype=np.int64)
        g.edge_tgt_off = np.zeros(g.edge_tgt.size, dtype=np.int32)
        for i in range(g.n_slabs):
            e0, e1 = g.edge_ptr[i], g.edge_ptr[i + 1]
            if e1 > e0:
                tgt = g.edge_tgt[e0:e1]
                g.edge_tgt_lo[i], g.edge_tgt_hi[i] = tgt.min(), tgt.max() + 1
                g.edge_tgt_off[e0:e1] = tgt - g.edge_tgt_lo[i]


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
    at most ``max_iterations`` steps in each phase (plain, then without ``t, u, t``;
    default: until the deadline). ``stats``: a dict that receives ``iterations`` (and per
    phase ``plain_iterations``, ``distinct_iterations``) and ``graph``."""
    if p.is_selection:
        return math.inf
    g = graph if graph is not None else _time_graph.build(p, deadline=deadline)
    if g is None:
        return math.inf
    dual = _Dual(p, g)
    best = math.inf
    it = 0
    limit = math.inf if max_iterations is None else max_iterations
    done = False
    # plain sweeps bring the multipliers near their optimum cheaply; the sweeps without
    # ``t, u, t`` then tighten the bound from there
    for distinct, theta, stop in ((False, 1.0, PLAIN_STOP), (True, 0.25, 1e-3)):
        phase_best, stall, steps = math.inf, 0, 0
        while not done and steps < limit and (it == 0 or time.perf_counter() < deadline):
            it += 1
            steps += 1
            value, x, z, f_star = _relaxation(dual, g, distinct)
            best = min(best, value)
            if value < phase_best - 1e-9 * max(1.0, abs(value)):
                phase_best, stall = value, 0
            else:
                stall += 1
                if stall >= 5:
                    theta, stall = theta / 2, 0
            done = best <= target + 1e-9 * max(1.0, abs(target))
            if theta < stop or not dual.step(x, z, f_star, value, target, theta):
                break
        if stats is not None:
            stats["distinct_iterations" if distinct else "plain_iterations"] = steps
    if stats is not None:
        stats.update(iterations=it, graph=g)
    return best


def _relaxation(dual, g, distinct):
    """``(L, x, z, f*)`` of the relaxation at ``dual``'s multipliers (see ``_Dual.step``)."""
    prof = dual.profit()
    sw = Sweep(g, prof[:dual.m_graph], distinct)
    x = np.zeros(prof.size)
    value = 0.0
    for r in g.resource_states:
        v, path = sw.best_path(g, r)
        value += v
        np.add.at(x, np.asarray(path, dtype=np.int64), 1.0)
    untimed = prof[dual.m_graph:] > 0
    value += float(prof[dual.m_graph:][untimed].sum())
    x[dual.m_graph:] = untimed
    const, z, f_star = dual.constant()
    return value + const, x, z, f_star
