"""Exact engines on HiGHS (through ``_highs``).

Selection problems (no timed alternative): the selection model of ``_selection`` with
integrality is the problem itself (clique rows from task choices and pairwise
incompatibilities, ``<= k-1`` rows for k-tuples, group equalities, memory knapsacks).

Small timed problems: the selection model plus, per resource, start times ``s_a`` and
binaries ``z_ab`` ("b immediately follows a"): each chosen acquisition has at most one
successor and one predecessor, the arcs number one less than the chosen acquisitions (one
path), and ``s_b >= s_a + d_a + tau_ab - M (1 - z_ab)``. ``tau_ab`` is the largest
transition over both windows (attitudes are piecewise linear in the start time, so the
maximum of ``|droll| + |dpitch|`` sits at sample or window-end times), so every MILP plan
is feasible; the MILP is *exact* when attitudes are constant (otherwise the result is
marked not proven and the bound falls back to the relaxation). Memory: per resource, the level before each
downlink and the volume each downlink drains, with an acquisition whose window overlaps a
downlink counted before it and drainable only after it (exact when no window overlaps a
downlink, conservative otherwise).
"""
from __future__ import annotations

import itertools
import math
import time

import numpy as np
from scipy.sparse import csr_matrix

from . import _highs, _selection, _sequence_search, _tiers
from ._components import (  # noqa: F401 (the engines' API)
    polish_components, price_components, settle_components)
from ._search_state import State

_EPS = 1e-9


def selection_mip(p, model=None):
    """``(model, TieredMip)``: the selection model loaded in HiGHS (with its tier cut,
    see :mod:`._tiers`)."""
    model = model or _selection.build(p)
    return model, _tiers.TieredMip(model)


def coupled(p) -> bool:
    """Knapsack rows (a memory limit, a budget) link the tasks beyond their conflicts."""
    return bool(np.any(np.isfinite(p.res_capacity_gbit))) or len(p.budget_limit) > 0


#: share of ``solve_selection``'s time for the first stage on objectives with tiers
HIGH_TIER_SHARE = 0.6


def solve_selection(p, model=None, time_limit_s: float = 10.0, start_state=None, mip=None):
    """Solve the selection MILP (from ``start_state`` if given). Objectives with tiers
    (:mod:`._tiers`) from a start, with a memory limit or a budget (knapsack rows: the
    LP trades high value for capacity fractionally; without, the MILP alone is fast): the
    high tier alone first (at most ``HIGH_TIER_SHARE`` of the time), then each component
    alone (``polish_components``), then the whole objective with the tier cut. Returns
    ``(MilpResult, model, mip)``."""
    if mip is None:
        model, mip = selection_mip(p, model)
    deadline = time.perf_counter() + time_limit_s
    start = None if start_state is None else model.point(start_state.chosen)
    if start is not None and coupled(p) and mip.high is not None:
        first = mip.maximize_high(HIGH_TIER_SHARE * time_limit_s, start)
        if first.x is not None and mip.high_value(first.x) > mip.high_value(start) + 0.5 * mip.step:
            start = first.x  # a better plan, whatever its light tier
        start = polish_components(p, model, mip, start, deadline)
    res = mip.solve(max(deadline - time.perf_counter(), 0.05), start=start)
    return res, model, mip


def state_from_selection(p, model, x) -> State:
    state = State(p)
    for c in np.flatnonzero(x[:model.alts.size] > 0.5):
        state._place(int(model.alts[c]), None)
    return state


def relaxation_bound(p, model=None, time_limit_s: float = 10.0, integer: bool = False) -> float:
    """Upper bound on any plan's objective: LP (or, with ``integer``, MILP dual bound) of
    the selection model; if the solver gives no bound in time, the sum over tasks of their
    best usable alternative's value. Timed problems: for up to half the time, the LP is
    re-solved with the time rows its optimum violates (``_selection.separate_time_rows``,
    added to ``model``); every LP solved to optimality on valid rows is a bound."""
    model = model or _selection.build(p)
    n = model.n_cols
    if model.alts.size == 0:
        return 0.0
    bound = trivial_bound(p)
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    added = 1
    if not model.exact:
        for _ in range(50):
            A, rlb, rub = model.rows.matrix(n)
            res = _highs.maximize(model.values, A, rlb, rub, model.lb, model.ub,
                                  np.zeros(n), max(deadline - time.perf_counter(), 0.05))
            if not res.optimal or res.x is None or not np.isfinite(res.bound):
                break
            bound = min(bound, res.bound)
            added = 0
            if time.perf_counter() > t0 + 0.5 * time_limit_s:
                break
            added = _selection.separate_time_rows(p, model, res.x)
            if added == 0:
                break
    if not integer and added == 0:
        return bound
    A, rlb, rub = model.rows.matrix(n)
    res = _highs.maximize(model.values, A, rlb, rub, model.lb, model.ub,
                          model.integrality if integer else np.zeros(n),
                          max(deadline - time.perf_counter(), 0.05))
    if (not integer and not res.optimal) or not np.isfinite(res.bound):
        return bound
    return min(res.bound, bound)


def trivial_bound(p) -> float:
    """Sum over tasks of the best value among their usable alternatives, plus every
    request complete."""
    best = np.zeros(p.n_tasks)
    valid = np.flatnonzero(p.alt_valid)
    np.maximum.at(best, p.alt_task[valid], p.alt_value[valid])
    return float(best.sum()) + float(sum(c.total for c in p.request_curve))


# -- small timed problems ------------------------------------------------------------------------

def _corner_times(p, a):
    """Start times at which the attitude of ``a`` has a breakpoint within its window."""
    q0, q1 = int(p.att_ptr[a]), int(p.att_ptr[a + 1])
    e, ls = p.alt_earliest_s[a], p.alt_latest_start_s[a]
    ts = p.att_time_s[q0:q1]
    ts = ts[(ts > e) & (ts < ls)]
    return np.unique(np.concatenate([[e, ls], ts]))


def _max_transition(p, a, b) -> float:
    ta = _corner_times(p, a)
    tb = _corner_times(p, b)
    ea = np.array([p.attitude_deg(a, x, end=True) for x in ta])
    sb = np.array([p.attitude_deg(b, x) for x in tb])
    model = p.res_agility[int(p.alt_resource[b])]
    tt = model.transition_time_s(ea[:, None, :], sb[None, :, :],
                                 (ta + p.alt_duration_s[a])[:, None], tb[None, :])
    return float(np.max(tt))


def solve_timed(p, time_limit_s: float = 10.0, model=None):
    """Exact MILP for a small timed problem.

    Returns ``(state or None, bound, proven)``: ``proven`` when the MILP is exact for
    ``p`` (see the module docstring) and solved to optimality.
    """
    model = model or _selection.build(p)
    n_sel = model.n_cols
    A0, rlb0, rub0 = model.rows.matrix(n_sel)
    rows = _selection.Rows()
    col_obj = list(model.values)
    col_lb = list(model.lb)
    col_ub = list(model.ub)
    col_int = list(model.integrality)
    exact = True

    def add_col(obj, lo, hi, integer):
        col_obj.append(obj)
        col_lb.append(lo)
        col_ub.append(hi)
        col_int.append(1.0 if integer else 0.0)
        return len(col_obj) - 1

    timed_alts = model.alts[p.alt_timed[model.alts]]
    if np.any(np.diff(p.att_ptr)[timed_alts] > 1) or any(
            getattr(m, "time_dependent", False) for m in p.res_agility + [p.agility]):
        exact = False  # the largest transition over corner times may not be the largest
    s_col = {}
    for a in timed_alts:
        s_col[int(a)] = add_col(0.0, float(p.alt_earliest_s[a]), float(p.alt_latest_start_s[a]), False)
    col_of = model.col_of
    for r in range(p.n_resources):
        alts = [int(a) for a in timed_alts if p.alt_resource[a] == r]
        if not alts:
            continue
        # the chosen acquisitions of a resource form one path of "immediately followed by"
        # arcs z_ab, along which start times increase by duration + transition
        out_arcs = {a: [] for a in alts}
        in_arcs = {a: [] for a in alts}
        arcs = []
        for a, b in itertools.permutations(alts, 2):
            if p.alt_task[a] == p.alt_task[b]:
                continue
            tau = _max_transition(p, a, b)
            status = _order_status(p, a, b, tau)
            if status == "never":
                continue
            z = add_col(0.0, 0.0, 1.0, True)
            arcs.append(z)
            out_arcs[a].append(z)
            in_arcs[b].append(z)
            if status == "maybe":
                _precedence(p, rows, s_col, a, b, tau, [z], 1.0)
        for a in alts:
            xa = int(col_of[a])
            if out_arcs[a]:
                rows.add(out_arcs[a] + [xa], [1.0] * len(out_arcs[a]) + [-1.0], -math.inf, 0.0)
            if in_arcs[a]:
                rows.add(in_arcs[a] + [xa], [1.0] * len(in_arcs[a]) + [-1.0], -math.inf, 0.0)
        u = add_col(0.0, 0.0, 1.0, True)
        xs = [int(col_of[a]) for a in alts]
        # sum z = sum x - u, u = 1 iff anything is chosen on r
        rows.add(arcs + xs + [u], [1.0] * len(arcs) + [-1.0] * len(xs) + [1.0], 0.0, 0.0)
        rows.add(xs + [u], [1.0] * len(xs) + [-float(len(xs))], -math.inf, 0.0)
        rows.add(xs + [u], [1.0] * len(xs) + [-1.0], 0.0, math.inf)
        exact &= _memory_model(p, r, alts, rows, col_of, add_col)
    n = len(col_obj)
    A1, rlb1, rub1 = rows.matrix(n)
    from scipy.sparse import hstack, vstack
    A0 = hstack([A0, csr_matrix((A0.shape[0], n - n_sel))]).tocsr()
    A = vstack([A0, A1]).tocsr()
    res = _highs.maximize(np.asarray(col_obj), A, np.concatenate([rlb0, rlb1]),
                          np.concatenate([rub0, rub1]), np.asarray(col_lb), np.asarray(col_ub),
                          np.asarray(col_int), time_limit_s)
    if res.x is None:
        return None, (res.bound if exact else math.inf), False
    state = State(p)
    chosen = [int(model.alts[c]) for c in np.flatnonzero(res.x[:model.alts.size] > 0.5)]
    starts = {a: float(res.x[s_col[a]]) for a in chosen if a in s_col}
    _load(p, state, chosen, starts)
    return state, (res.bound if exact else math.inf), bool(exact and res.optimal)


def _order_status(p, a, b, tau_ab) -> str:
    """'always' (a before b whatever the starts), 'never' (a cannot precede b) or 'maybe'."""
    if p.alt_latest_start_s[a] + p.alt_duration_s[a] + tau_ab <= p.alt_earliest_s[b] + _EPS:
        return "always"
    if p.alt_earliest_s[a] + p.alt_duration_s[a] + tau_ab > p.alt_latest_start_s[b] + _EPS:
        return "never"
    return "maybe"


def _precedence(p, rows, s_col, a, b, tau_ab, ind_cols, k):
    """s_b - s_a >= d_a + tau - M (k - sum(ind_cols))."""
    gap = p.alt_duration_s[a] + tau_ab
    big = p.alt_latest_start_s[a] + gap - p.alt_earliest_s[b]
    cols = [s_col[b], s_col[a]] + list(ind_cols)
    coefs = [1.0, -1.0] + [-big] * len(ind_cols)
    rows.add(cols, coefs, gap - big * k, math.inf)


def _memory_model(p, r, alts, rows, col_of, add_col) -> bool:
    """Memory rows for resource ``r``; returns True when exact (no window overlaps a
    downlink)."""
    cap = float(p.res_capacity_gbit[r])
    if not math.isfinite(cap):
        return True
    k = np.flatnonzero((p.dl_resource == r) & p.dl_usable)
    k = k[np.argsort(p.dl_start_s[k])]
    if k.size == 0:
        return True  # the selection model already has the knapsack row
    S, E = p.dl_start_s[k], p.dl_end_s[k]
    vol = p.dl_rate_gbit_s[k] * (E - S)
    K = k.size
    base_cols = [int(col_of[a]) for a in np.flatnonzero(p.alt_valid & ~p.alt_timed & (p.alt_resource == r))]
    base_data = [float(p.alt_data_gbit[a]) for a in np.flatnonzero(p.alt_valid & ~p.alt_timed & (p.alt_resource == r))]
    m0 = float(p.res_initial_gbit[r])
    exact = True
    rec = {}   # a -> index of the first downlink it is recorded before
    avail = {}  # a -> index of the first downlink that can drain it
    for a in alts:
        e, lend = p.alt_earliest_s[a], p.alt_latest_end_s[a]
        j = int(np.searchsorted(E, e, side="right"))  # first downlink ending after e
        if j >= K or lend <= S[j] + _EPS:
            rec[a] = avail[a] = j
        else:
            last = j
            while last + 1 < K and lend > S[last + 1] + _EPS:
                last += 1
            rec[a], avail[a] = j, last + 1
            exact = False
    u = [add_col(0.0, 0.0, float(vol[j]), False) for j in range(K)]
    for j in range(K + 1):
        # level before downlink j (or at the end) <= capacity
        cols = list(base_cols) + [int(col_of[a]) for a in alts if rec[a] <= j]
        coefs = list(base_data) + [float(p.alt_data_gbit[a]) for a in alts if rec[a] <= j]
        cols += u[:j]
        coefs += [-1.0] * j
        rows.add(cols, coefs, -math.inf, cap - m0)
        if j < K:
            # what downlinks up to j drain <= what was drainable by then
            cols = list(base_cols) + [int(col_of[a]) for a in alts if avail[a] <= j]
            coefs = list(base_data) + [float(p.alt_data_gbit[a]) for a in alts if avail[a] <= j]
            cols += u[:j + 1]
            coefs = [-c for c in coefs] + [1.0] * (j + 1)
            rows.add(cols, coefs, -math.inf, m0)
    return exact


def _load(p, state: State, chosen, starts) -> None:
    """Put a MILP solution into ``state`` (timed alternatives sorted by start), each at
    its MILP start or as early as its placed predecessor allows with the model's own
    transition (the MILP's transition bound is exact only for corner maxima); what no
    longer fits is left out with its group."""
    for a in sorted(chosen, key=lambda a: starts.get(a, -math.inf)):
        if a not in starts:
            state._place(a, None)
            continue
        r = int(p.alt_resource[a])
        s = min(max(starts[a], state.earliest_s[a]), state.latest_start_s[a])
        if state.seq[r]:
            x = state.earliest_after(state.seq[r][-1], state.seq_start[r][-1], a, s)
            if x == math.inf:
                continue
            s = max(s, x)
        state._place(a, (len(state.seq[r]), s, []))
    _sequence_search.drop_partial_groups(state)
