"""Selection plans re-optimised one component of the task graph at a time.

Tasks joined by a forbidden combination or a group form a component; what links the
components is only the knapsack rows (memory, budgets): the *coupling rows*. A component
none of whose columns lies in a coupling row is a problem of its own: its best choice does
not depend on the rest of the plan, so :func:`settle_components` solves it once, alone, and
where that is proved optimal fixes it for the rest of the search (the plans it removes are
never better). Two sweeps over the others:

- **fill** (:func:`polish_components`): each component re-solved alone with every other
  column fixed, smallest first: it takes the most value the room left allows; a component
  that uses no coupling row ends at its own optimum.
- **price** (:func:`price_components`): once the room is full, a component that could hold
  its value with less room gains nothing in a fill. Priced, it does: each component holding
  high-tier value (:mod:`._tiers`) is re-solved alone with its use of the coupling rows
  charged at their prices (the LP duals of those rows with the high tier held at the plan's:
  what the light tier pays for room at the margin), and kept when value minus charge rises;
  a fill then spends the room freed (the other components using the coupling rows first).
  The result is kept only if the plan's value rose.

Both only ever return a feasible point at least as good as the one given.
"""
from __future__ import annotations

import time

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from . import _highs

__all__ = ["task_components", "task_neighbours", "settle_components", "polish_components",
           "price_components"]

#: time limit of one component's sub-MILP in ``polish_components``
COMPONENT_TIME_S = 4.0
#: ``settle_components``: a component's share of the time left when it is solved
SETTLE_COMPONENT_SHARE = 0.5
#: share of ``price_components``' time for the priced sub-MILPs (the rest: the fill)
PRICED_SHARE = 0.7


def task_components(p) -> np.ndarray:
    """Component label (n_tasks,) of the graph joining the tasks of a forbidden
    combination or of a group."""
    a, b = [], []
    for members in p.incompat:
        ts = p.alt_task[np.asarray(members)]
        a.extend([ts[0]] * (ts.size - 1))
        b.extend(ts[1:].tolist())
    for g in p.groups:
        a.extend([g[0]] * (len(g) - 1))
        b.extend(list(g[1:]))
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(p.n_tasks, p.n_tasks))
    return connected_components(graph, directed=False)[1]


def _column_components(p, model) -> tuple[np.ndarray, np.ndarray]:
    """Task components (n_tasks,) and each column's (n_cols,), -1 for columns that are
    not alternatives."""
    comp = task_components(p)
    extra = np.full(model.n_cols - model.alts.size, -1)
    return comp, np.concatenate([comp[p.alt_task[model.alts]], extra])


def settle_components(p, model, mip, x, deadline: float) -> np.ndarray:
    """Solve each component outside the coupling rows alone (smallest first, at most
    ``SETTLE_COMPONENT_SHARE`` of the time left each), from ``x`` (a feasible point
    (n_cols,)) with the other columns held; the columns of those proved optimal are fixed
    from then on in ``model`` and ``mip`` (their bounds). Returns the improved point."""
    comp, col_comp = _column_components(p, model)
    A, _, _ = model.rows.matrix(model.n_cols)
    A = A.tocsr()
    coupled = np.unique(col_comp[A[_coupling_rows(A, col_comp)].indices])
    x = np.array(x, float)
    lb, ub = model.lb.copy(), model.ub.copy()
    for c in np.argsort(np.bincount(comp), kind="stable"):
        free = (col_comp == c) & (lb < ub)
        if c in coupled or not free.any():
            continue
        remaining = deadline - time.perf_counter()
        if remaining < 0.05:
            break
        res = mip.solve(SETTLE_COMPONENT_SHARE * remaining, lb=np.where(free, lb, x),
                        ub=np.where(free, ub, x), start=x)
        if res.x is None:
            continue
        if res.objective > model.values @ x + 1e-9:
            x = res.x
        if res.optimal:
            x[free] = lb[free] = ub[free] = np.round(x[free])
    model.lb, model.ub = lb, ub
    mip.set_col_bounds(lb, ub)
    return x


def polish_components(p, model, mip, x, deadline: float, columns=None) -> np.ndarray:
    """Fill: re-optimise the tasks of each component (smallest first; those holding one of
    ``columns``, a mask (n_cols,), before the others if given) with every other column
    fixed at ``x`` (a feasible point, (n_cols,)); returns the improved point."""
    comp, col_comp = _column_components(p, model)
    x = np.asarray(x, float)
    value = float(model.values @ x)
    order = np.argsort(np.bincount(comp), kind="stable")
    if columns is not None:
        first = np.isin(order, col_comp[columns])
        order = np.concatenate([order[first], order[~first]])
    for c in order:
        remaining = deadline - time.perf_counter()
        if remaining < 0.05:
            break
        free = (col_comp == c) & (model.lb < model.ub)
        if not free.any():
            continue
        res = mip.solve(min(COMPONENT_TIME_S, remaining), lb=np.where(free, model.lb, x),
                        ub=np.where(free, model.ub, x), start=x)
        if res.x is not None and res.objective > value + 1e-9:
            x, value = res.x, res.objective
    return x


def price_components(p, model, mip, x, deadline: float) -> np.ndarray:
    """Price, then fill (module docstring), for a :class:`._tiers.TieredMip` ``mip`` with
    tiers and ``x`` a feasible point (n_cols,); returns a point at least as good."""
    x = np.asarray(x, float)
    if mip.high is None:
        return x
    comp, col_comp = _column_components(p, model)
    A, row_lb, row_ub = model.rows.matrix(model.n_cols)
    A = A.tocsr()
    coupling = _coupling_rows(A, col_comp)
    if coupling.size == 0:
        return x
    charge = A[coupling].T @ _prices(model, A, row_lb, row_ub, coupling, mip.high, x,
                                     deadline - time.perf_counter())
    priced = model.values - charge
    held = np.unique(col_comp[mip.high & (np.abs(charge) > 0) & (col_comp >= 0)])
    if held.size == 0:
        return x
    sizes = np.bincount(comp)
    end_priced = time.perf_counter() + PRICED_SHARE * (deadline - time.perf_counter())
    col_task = np.concatenate([p.alt_task[model.alts], np.full(model.n_cols - model.alts.size, -1)])
    search = _PricedSearch(p, model, mip, priced, col_task)
    y = x.copy()
    mip.set_costs(priced)
    try:
        for c in held[np.argsort(-sizes[held], kind="stable")]:
            if end_priced - time.perf_counter() < 0.05:
                break
            y = search.component(y, np.flatnonzero(comp == c), end_priced)
    finally:
        mip.set_costs(model.values)
    y = polish_components(p, model, mip, y, deadline, columns=(charge != 0) & ~np.isin(col_comp, held))
    return y if model.values @ y > model.values @ x + 1e-9 else x


class _PricedSearch:
    """One component re-solved with ``mip``'s costs set to ``priced`` (n_cols,): whole
    first (``WHOLE_SHARE`` of its time: from a start, HiGHS's own heuristics and branching
    find the cheaper configurations that need many tasks changed at once); if that is not
    proved optimal, sub-MILPs over connected blocks of its tasks (breadth-first along
    forbidden combinations, the size adapting to how fast they solve) until the deadline.
    A point is kept when its priced value rises."""

    WHOLE_SHARE = 0.8
    SUB_TIME_S = 1.0

    def __init__(self, p, model, mip, priced, col_task):
        self.p, self.model, self.mip, self.priced, self.col_task = p, model, mip, priced, col_task
        self.neighbours = task_neighbours(p)
        self.rng = np.random.default_rng(0)

    def _solve(self, y, free_tasks, time_limit_s):
        free = np.zeros(self.p.n_tasks + 1, dtype=bool)
        free[free_tasks] = True
        for g in self.p.groups:
            if np.any(free[g]):
                free[g] = True
        cols = free[self.col_task]                          # -1 (not an alternative): the False pad
        m = self.model
        res = self.mip.solve(time_limit_s, lb=np.where(cols, m.lb, y), ub=np.where(cols, m.ub, y), start=y)
        if res.x is not None and self.priced @ res.x > self.priced @ y + 1e-9:
            y = res.x
        return y, res.optimal or res.infeasible

    def component(self, y, tasks, deadline: float):
        y, done = self._solve(y, tasks, max(self.WHOLE_SHARE * (deadline - time.perf_counter()), 0.05))
        size = max(10, tasks.size // 4)
        while not done and deadline - time.perf_counter() > 0.05:
            block = self._block(int(self.rng.choice(tasks)), size)
            y, proved = self._solve(y, block, max(min(self.SUB_TIME_S, deadline - time.perf_counter()), 0.05))
            size = min(tasks.size, int(size * 1.2) + 1) if proved else max(10, int(size * 0.85))
        return y

    def _block(self, seed: int, size: int) -> np.ndarray:
        seen, frontier = {seed}, [seed]
        while frontier and len(seen) < size:
            t = frontier.pop(0)
            for u in self.rng.permutation(self.neighbours[t]):
                if len(seen) >= size:
                    break
                if int(u) not in seen:
                    seen.add(int(u))
                    frontier.append(int(u))
        return np.fromiter(seen, dtype=np.int64)


def task_neighbours(p) -> list[np.ndarray]:
    """Tasks sharing a forbidden combination with each task."""
    nb: list[set] = [set() for _ in range(p.n_tasks)]
    for members in p.incompat:
        ts = {int(p.alt_task[a]) for a in members}
        for t in ts:
            nb[t].update(ts)
    return [np.fromiter((u for u in s if u != t), dtype=np.int64) for t, s in enumerate(nb)]


def _coupling_rows(A, col_comp) -> np.ndarray:
    """Rows of ``A`` (csr) whose columns lie in more than one component."""
    rows = []
    for i in range(A.shape[0]):
        cs = col_comp[A.indices[A.indptr[i]:A.indptr[i + 1]]]
        if cs.size > 1 and np.any(cs != cs[0]):
            rows.append(i)
    return np.asarray(rows, dtype=np.int64)


def _prices(model, A, row_lb, row_ub, coupling, high, x, time_limit_s) -> np.ndarray:
    """The coupling rows' prices (coupling.size,): value per unit of each row in the LP
    relaxation with the high-tier columns held at ``x`` (0 where the LP does not solve)."""
    lp = _highs.MipModel(model.values, A, row_lb, row_ub, model.lb, model.ub, np.zeros(model.n_cols))
    res = lp.solve(max(time_limit_s, 0.05), lb=np.where(high, x, model.lb), ub=np.where(high, x, model.ub))
    if not res.optimal:
        return np.zeros(coupling.size)
    return lp.row_prices()[coupling]
