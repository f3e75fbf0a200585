"""Selection model: one 0/1 column per usable alternative and rows every plan satisfies.

For untimed problems (SPOT5) the rows are exact: with integrality this *is* the problem.
For timed problems the rows relax sequencing and memory (valid for every plan), so the LP
optimum, or a MILP dual bound, is an honest upper bound on the objective:

- task rows (at most one alternative per task), grown into cliques with the pairwise
  incompatibilities and the pairs that cannot share a resource in either order;
- ``sum x <= k - 1`` for each forbidden k-tuple (k >= 4) not already implied by a clique;
  forbidden triples are grown into sets ``S`` where every three columns hold a conflicting
  pair or a forbidden triple, with ``sum_S x <= 2`` (a plan choosing three of ``S`` would
  choose a forbidden pair or triple). They do for triples what cliques do for pairs: on
  SPOT5 1021's largest component (fewest units of capacity at its most heavy value) they
  halve the rows and HiGHS proves the optimum, 111, in 15 s; with a row per triple its
  bound is still 101 after 60 s;
- group rows (all-or-nothing);
- time rows per resource: the alternatives whose windows lie in an interval ``[t0, t1]``
  need ``sum (duration + min transition) <= t1 - t0 + min transition``. Why: the chosen
  ones among them run one after the other on the resource inside ``[t0, t1]``; ``n`` of
  them take their durations plus ``n - 1`` transitions, each at least the agility model's
  ``min_transition_s``, so ``sum d + (n - 1) tau_min <= t1 - t0``. This holds for every
  ``t0 <= t1``, so any set of such rows keeps the LP a relaxation: a fixed family is built
  here and ``separate_time_rows`` adds the ones an LP optimum violates (cutting planes);
  the LP optimum over valid rows bounds every plan whatever rows were picked;
- memory rows per resource: data whose windows fit between two downlinks fits in the
  memory; data recorded before a downlink fits in the memory plus what earlier downlinks
  can carry;
- budget rows (:mod:`._budgets`): what the members of a budget use stays within its limit
  (exact: membership does not depend on the start times).
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
from scipy.sparse import csr_matrix

from .requests import covered_fractions

_EPS = 1e-9


class Rows:
    """Sparse row builder: ``row_lb <= A x <= row_ub``."""

    def __init__(self):
        self.cols: list[np.ndarray] = []
        self.coefs: list[np.ndarray] = []
        self.lb: list[float] = []
        self.ub: list[float] = []

    def add(self, cols, coefs, lb, ub):
        self.cols.append(np.asarray(cols, dtype=np.int64).reshape(-1))
        self.coefs.append(np.asarray(coefs, dtype=float).reshape(-1))
        self.lb.append(lb)
        self.ub.append(ub)

    def __len__(self):
        return len(self.lb)

    def matrix(self, n_cols: int):
        counts = np.array([c.size for c in self.cols], dtype=np.int64)
        indptr = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        idx = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        val = np.concatenate(self.coefs) if self.coefs else np.zeros(0)
        A = csr_matrix((val, idx, indptr), shape=(len(self.lb), n_cols))
        A.sum_duplicates()
        return A, np.asarray(self.lb, float), np.asarray(self.ub, float)


class SelectionModel:
    """Columns: first one 0/1 column per alternative in ``alts`` (global indices), then the
    request columns (see :mod:`~groundseg.planning.requests`); ``n_cols`` in all, with
    objective ``values``, bounds ``lb``, ``ub`` and ``integrality`` (n_cols,); rows ``rows``.

    ``col_of``: global alternative -> column (or -1). ``exact``: True when, with
    integrality, the model is the problem itself (no timed alternative)."""

    def __init__(self, p, alts):
        self.p = p
        self.alts = np.asarray(alts, dtype=np.int64)
        self.col_of = np.full(p.n_alts, -1, dtype=np.int64)
        self.col_of[self.alts] = np.arange(self.alts.size)
        self.values = p.alt_value[self.alts].astype(float)
        self.lb = np.zeros(self.alts.size)
        self.ub = np.ones(self.alts.size)
        self.integrality = np.ones(self.alts.size)
        self.rows = Rows()
        self.exact = not bool(np.any(p.alt_timed[self.alts]))
        self.request_cols: list[tuple[str, np.ndarray, np.ndarray]] = []  # (kind, cols, ycols)

    @property
    def n_cols(self) -> int:
        return self.values.size

    def add_cols(self, obj, lb, ub, integer) -> np.ndarray:
        """Append columns; returns their indices."""
        obj = np.atleast_1d(np.asarray(obj, float))
        first = self.values.size
        self.values = np.concatenate([self.values, obj])
        self.lb = np.concatenate([self.lb, np.broadcast_to(np.asarray(lb, float), obj.shape)])
        self.ub = np.concatenate([self.ub, np.broadcast_to(np.asarray(ub, float), obj.shape)])
        self.integrality = np.concatenate([self.integrality, np.full(obj.size, 1.0 if integer else 0.0)])
        return np.arange(first, first + obj.size)

    def point(self, chosen_alts) -> np.ndarray:
        """The model's point (n_cols,) of a plan choosing ``chosen_alts``: alternative columns
        set, request columns at the values the plan's covered fractions give."""
        x = np.zeros(self.n_cols)
        chosen = [int(a) for a in chosen_alts if a >= 0 and self.col_of[a] >= 0]
        x[self.col_of[chosen]] = 1.0
        if self.request_cols:
            f = covered_fractions(self.p, {int(self.p.alt_task[a]) for a in chosen})
            for q, (kind, cols, ycols) in enumerate(self.request_cols):
                curve = self.p.request_curve[q]
                if kind == "concave":
                    x[cols[0]] = curve(f[q])
                elif kind == "incremental":
                    fill = np.clip(f[q] - curve.fractions[:-1], 0.0, curve.lengths)
                    x[cols] = fill
                    x[ycols] = (f[q] >= curve.fractions[1:-1] - 1e-12).astype(float)
        return x


def _pair_edges(p, col_of):
    """Edges between columns that can never be chosen together (pairwise)."""
    edges = []
    for members in p.incompat:
        if len(members) == 2:
            a, b = col_of[members[0]], col_of[members[1]]
            if a >= 0 and b >= 0:
                edges.append((int(a), int(b)))
    return edges


def _timed_pair_edges(p, alts_by_res, col_of, tau_min):
    """Pairs on one resource that fit in neither order even with the minimum transition."""
    edges = []
    for r, alts in alts_by_res.items():
        if alts.size < 2:
            continue
        e = p.alt_earliest_s[alts]
        ls = p.alt_latest_start_s[alts]
        d = p.alt_duration_s[alts]
        order = np.argsort(e, kind="stable")
        alts, e, ls, d = alts[order], e[order], ls[order], d[order]
        reach = ls + d + tau_min  # a conflicting partner must start before this
        hi = np.searchsorted(e, reach, side="left")
        task = p.alt_task[alts]
        for i in range(alts.size):
            j = np.arange(i + 1, hi[i])
            if j.size == 0:
                continue
            # i before j impossible and j before i impossible
            bad = (e[i] + d[i] + tau_min > ls[j] + _EPS) & (e[j] + d[j] + tau_min > ls[i] + _EPS)
            bad &= task[j] != task[i]
            for jj in j[bad]:
                edges.append((int(col_of[alts[i]]), int(col_of[alts[jj]])))
    return edges


def _adjacency(cliques_seed, edges) -> dict[int, set[int]]:
    """Each column's neighbours in the union graph of the seed cliques and ``edges``."""
    adj: dict[int, set[int]] = defaultdict(set)
    for u, v in itertools.chain(edges, *(itertools.combinations(q, 2) for q in cliques_seed)):
        if u != v:
            adj[u].add(v)
            adj[v].add(u)
    return adj


def _clique_cover(adj, cliques_seed, edges):
    """Rows of a greedy clique cover of the graph ``adj`` (:func:`_adjacency`).

    Seeds (task alternative sets) are extended with common neighbours first; the remaining
    uncovered ``edges`` are covered by cliques grown greedily."""
    covered: set[tuple[int, int]] = set()
    rows = []

    def grow(clique):
        cand = set.intersection(*(adj[u] for u in clique)) - set(clique)
        while cand:
            x = max(cand, key=lambda y: (len(adj[y] & cand), -y))
            clique.append(x)
            cand &= adj[x]
        for a, b in itertools.combinations(clique, 2):
            covered.add((a, b) if a < b else (b, a))
        rows.append(clique)

    for seed in cliques_seed:
        if len(seed) >= 2:
            grow(list(seed))
    if edges:
        for u in sorted(adj, key=lambda x: -len(adj[x])):
            for v in sorted(adj[u], key=lambda x: -len(adj[x])):
                key = (u, v) if u < v else (v, u)
                if key in covered:
                    continue
                grow([u, v])
    return rows


def _triple_cover(triples, adj) -> list[list[int]]:
    """Sets covering the forbidden ``triples`` (sorted column triples) in which every three
    columns hold an edge of ``adj`` (:func:`_adjacency`) or are a forbidden triple: each
    triple not yet inside a set grows one, adding first the columns sharing most triples."""
    forbidden = set(triples)
    near: dict[int, set[int]] = defaultdict(set)       # columns sharing a triple
    of: dict[int, list] = defaultdict(list)
    for t in triples:
        for c in t:
            near[c].update(t)
            of[c].append(t)

    def blocked(a, b, c):
        return b in adj[a] or c in adj[a] or c in adj[b] or tuple(sorted((a, b, c))) in forbidden

    inside: set[tuple[int, int, int]] = set()
    sets = []
    for t in triples:
        if t in inside:
            continue
        s = list(t)
        cand = set.intersection(*(near[c] | adj[c] for c in s)) - set(s)
        for v in sorted(cand, key=lambda v: (-len(near[v]), v)):
            if all(blocked(a, b, v) for a, b in itertools.combinations(s, 2)):
                s.append(v)
        members = set(s)
        inside.update(u for c in s for u in of[c] if members.issuperset(u))
        sets.append(s)
    return sets


def build(p, time_rows: bool = True, interval_lengths_s=None, anchor_step_s=None) -> SelectionModel:
    """The selection model of ``p`` over its usable alternatives."""
    alts = np.flatnonzero(p.alt_valid)
    m = SelectionModel(p, alts)
    col_of = m.col_of
    seeds = []
    for t in range(p.n_tasks):
        cols = col_of[p.task_alts[t]]
        cols = cols[cols >= 0]
        if cols.size:
            seeds.append([int(c) for c in cols])
    edges = _pair_edges(p, col_of)
    timed = p.alt_timed[alts]
    tau_min = float(p.min_transition_s)
    alts_by_res = {}
    if np.any(timed):
        for r in range(p.n_resources):
            sel = alts[timed & (p.alt_resource[alts] == r)]
            if sel.size:
                alts_by_res[r] = sel
        edges += _timed_pair_edges(p, alts_by_res, col_of, tau_min)
    adj = _adjacency(seeds, edges) if edges or any(len(q) == 3 for q in p.incompat) else None
    if edges:
        cliques = _clique_cover(adj, seeds, edges)
    else:
        cliques = [q for q in seeds if len(q) >= 2]
    edge_set = set()
    for q in cliques:
        m.rows.add(q, np.ones(len(q)), -math.inf, 1.0)
        if len(q) <= 60:
            for a, b in itertools.combinations(q, 2):
                edge_set.add((a, b) if a < b else (b, a))
    triples = []
    for members in p.incompat:
        if len(members) < 2:
            c = col_of[members[0]]
            if c >= 0:
                m.rows.add([c], [1.0], -math.inf, 0.0)
            continue
        if len(members) == 2:
            continue
        cols = [int(col_of[a]) for a in members]
        if any(c < 0 for c in cols):
            continue
        if any(((a, b) if a < b else (b, a)) in edge_set for a, b in itertools.combinations(cols, 2)):
            continue
        if len(cols) == 3:
            triples.append(tuple(sorted(cols)))
        else:
            m.rows.add(cols, np.ones(len(cols)), -math.inf, len(cols) - 1.0)
    for s in _triple_cover(triples, adj):
        m.rows.add(s, np.ones(len(s)), -math.inf, 2.0)
    for g in p.groups:
        first = None
        for t in g:
            cols = col_of[p.task_alts[t]]
            cols = cols[cols >= 0]
            if first is None:
                first = cols
                continue
            m.rows.add(np.concatenate([cols, first]),
                       np.concatenate([np.ones(cols.size), -np.ones(first.size)]), 0.0, 0.0)
    _memory_rows(p, m, alts)
    _budget_rows(p, m)
    _request_rows(p, m)
    if time_rows and alts_by_res:
        for r, ra in alts_by_res.items():
            _interval_rows(p, m, ra, tau_min, interval_lengths_s, anchor_step_s)
    return m


def _request_rows(p, m):
    """Each request's value of its covered fraction ``f = sum share_t x_a`` (see
    :mod:`~groundseg.planning.requests`): linear curves as objective coefficients on the
    alternative columns, concave ones as ``v <= c_k + s_k f``, others incrementally."""
    for q, curve in enumerate(p.request_curve):
        cols, shares = [], []
        for t in p.request_tasks[q]:
            c = m.col_of[p.task_alts[t]]
            c = c[c >= 0]
            cols.append(c)
            shares.append(np.full(c.size, p.task_share[t]))
        cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        shares = np.concatenate(shares) if shares else np.zeros(0)
        if curve.convex and curve.concave:
            m.values[cols] += curve.total * shares
            m.request_cols.append(("linear", np.zeros(0, np.int64), np.zeros(0, np.int64)))
        elif curve.concave:
            v = m.add_cols(1.0, 0.0, curve.total, False)
            for k, s in enumerate(curve.slopes):
                c_k = float(curve.values[k] - s * curve.fractions[k])
                m.rows.add(np.concatenate([v, cols]), np.concatenate([[1.0], -s * shares]), -math.inf, c_k)
            m.request_cols.append(("concave", v, np.zeros(0, np.int64)))
        else:
            lengths = curve.lengths
            delta = m.add_cols(curve.slopes, 0.0, lengths, False)
            y = m.add_cols(np.zeros(lengths.size - 1), 0.0, 1.0, True)
            m.rows.add(np.concatenate([cols, delta]), np.concatenate([shares, -np.ones(delta.size)]), 0.0, 0.0)
            for k in range(lengths.size - 1):
                m.rows.add([delta[k], y[k]], [1.0, -lengths[k]], 0.0, math.inf)
                m.rows.add([delta[k + 1], y[k]], [1.0, -lengths[k + 1]], -math.inf, 0.0)
            m.request_cols.append(("incremental", delta, y))


def _budget_rows(p, m):
    """One knapsack row per budget (:mod:`._budgets`): exact, as membership is static."""
    members = [([], []) for _ in range(len(p.budget_limit))]
    for a in np.flatnonzero(p.alt_valid):
        for k, amount in p.alt_budgets[a]:
            members[k][0].append(int(m.col_of[a]))
            members[k][1].append(amount)
    for k, (cols, amounts) in enumerate(members):
        if cols and sum(amounts) > p.budget_limit[k] + _EPS:
            m.rows.add(cols, amounts, -math.inf, float(p.budget_limit[k]))


def _memory_rows(p, m, alts):
    col_of = m.col_of
    for r in range(p.n_resources):
        cap = float(p.res_capacity_gbit[r])
        if not math.isfinite(cap):
            continue
        on_r = alts[(p.alt_resource[alts] == r) & (p.alt_data_gbit[alts] > 0)]
        if on_r.size == 0:
            continue
        room = cap - float(p.res_initial_gbit[r])
        untimed = on_r[~p.alt_timed[on_r]]
        timed = on_r[p.alt_timed[on_r]]
        k = np.flatnonzero((p.dl_resource == r) & p.dl_usable)
        k = k[np.argsort(p.dl_start_s[k])]
        if k.size == 0 or timed.size == 0:
            if k.size == 0:
                m.rows.add(col_of[on_r], p.alt_data_gbit[on_r], -math.inf, room)
            else:
                m.rows.add(col_of[untimed], p.alt_data_gbit[untimed], -math.inf, room)
            continue
        S, E = p.dl_start_s[k], p.dl_end_s[k]
        vol = p.dl_rate_gbit_s[k] * (E - S)
        e, l = p.alt_earliest_s[timed], p.alt_latest_end_s[timed]
        before = np.concatenate([[0.0], np.cumsum(vol)])
        # data recorded before downlink j starts <= room + what downlinks before j carry
        for j in range(k.size + 1):
            limit = S[j] if j < k.size else math.inf
            sel = timed[l <= limit] if j < k.size else timed
            cols = np.concatenate([col_of[untimed], col_of[sel]])
            data = np.concatenate([p.alt_data_gbit[untimed], p.alt_data_gbit[sel]])
            if cols.size and data.sum() > room + before[j] + _EPS:
                m.rows.add(cols, data, -math.inf, room + before[j])
        # data whose windows fit between two downlinks fits in memory
        for j in range(k.size):
            lo = E[j]
            hi = S[j + 1] if j + 1 < k.size else math.inf
            sel = timed[(e >= lo) & (l <= hi)]
            if sel.size and p.alt_data_gbit[sel].sum() > cap + _EPS:
                m.rows.add(col_of[sel], p.alt_data_gbit[sel], -math.inf, cap)


def _interval_rows(p, m, alts, tau_min, lengths_s=None, anchor_step_s=None):
    """Time rows of one resource (see the module docstring)."""
    e = p.alt_earliest_s[alts]
    order = np.argsort(e, kind="stable")
    alts = alts[order]
    e = e[order]
    l = p.alt_latest_end_s[alts]
    w = p.alt_duration_s[alts] + tau_min
    win = l - e
    if lengths_s is None:
        med = float(np.median(win)) if win.size else 0.0
        lengths_s = sorted({max(med, 1.0) * f for f in (1.0, 1.5, 2.0, 3.0, 5.0, 8.0)})
    max_len = max(lengths_s)
    seen = set()
    col = m.col_of[alts]
    ends = np.searchsorted(e, e + max_len, side="right")
    thin = 0.5 * float(np.median(w)) if anchor_step_s is None else anchor_step_s
    prev_start = -math.inf
    for i in range(alts.size):
        if e[i] < prev_start + thin:
            continue
        prev_start = e[i]
        j = np.arange(i, ends[i])
        lj = l[j]
        for L in list(lengths_s) + [float(win[i])]:
            t1 = e[i] + L
            inside = j[lj <= t1 + _EPS]
            if inside.size < 2:
                continue
            if w[inside].sum() <= L + tau_min + _EPS:
                continue
            key = tuple(inside.tolist())
            if key in seen:
                continue
            seen.add(key)
            m.rows.add(col[inside], w[inside], -math.inf, L + tau_min)


def separate_time_rows(p, m, x, tol: float = 1e-6, horizon_s: float = 1800.0) -> int:
    """Add to ``m`` the time rows (same family as ``_interval_rows``: alternatives of one
    resource whose windows lie in ``[t0, t1]``) that the LP point ``x`` (n_cols,) violates
    by more than ``tol``: per resource and per anchor ``t0`` = an earliest start, the most
    violated ``t1`` = a latest end within ``horizon_s``. Returns the number of rows added."""
    tau = float(p.min_transition_s)
    alts = m.alts[p.alt_timed[m.alts]]
    added = 0
    for r in np.unique(p.alt_resource[alts]):
        ra = alts[p.alt_resource[alts] == r]
        ra = ra[np.argsort(p.alt_earliest_s[ra], kind="stable")]
        col = m.col_of[ra]
        xv = x[col]
        if not np.any(xv > tol):
            continue
        e, l = p.alt_earliest_s[ra], p.alt_latest_end_s[ra]
        w = p.alt_duration_s[ra] + tau
        wx = w * xv
        lo = np.searchsorted(e, e, side="left")
        hi = np.searchsorted(e, e + horizon_s, side="right")
        seen = set()
        for i in range(ra.size):
            if xv[i] <= tol or lo[i] != i and i > 0 and e[i - 1] == e[i]:
                continue
            j = np.arange(lo[i], hi[i])
            j = j[l[j] <= e[i] + horizon_s]
            o = np.argsort(l[j], kind="stable")
            j = j[o]
            viol = np.cumsum(wx[j]) - (l[j] - e[i] + tau)
            k = int(np.argmax(viol))
            if viol[k] <= tol:
                continue
            # every alternative ending by l[j[k]] (ties included) is inside
            inside = j[l[j] <= l[j[k]] + _EPS]
            key = (i, inside.size)
            if key in seen or inside.size < 2:
                continue
            seen.add(key)
            m.rows.add(col[inside], w[inside], -math.inf, float(l[j[k]] - e[i]) + tau)
            added += 1
    return added
