"""Large-neighbourhood search within a time budget.

Timed problems: destroy part of the plan (a time slice of one resource, a few random
acquisitions, or the acquisitions in the way of one unscheduled task's alternative), then
repair by greedy insertion of the freed and nearby unscheduled tasks in a noisy order; keep
the result when it is not worse (equal moves let the search drift), otherwise undo. One
time-slice neighbourhood is first re-filled by the pass search of ``_sequence_search`` (best sequence
of the slice, values with noise) before the greedy repair.

Selection problems (no timed alternative, e.g. SPOT5): fix most tasks to their current
choice and let HiGHS, started from the incumbent, re-optimise the rest (neighbourhoods in
``_improve_selection``); the neighbourhood size adapts to how fast the sub-MILPs solve.

Both stop at the deadline or when the objective reaches a known upper bound.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import _highs, _sequence_search
from ._components import task_neighbours
from ._search_state import State
from .greedy import Ordering


def improve(p, state: State, ordering: Ordering, deadline: float, rng, model=None,
            mip=None, target: float = float("inf"), iterations: int | None = None,
            stop=None) -> State:
    """Improve ``state`` in place until ``time.perf_counter() >= deadline`` or after
    ``iterations`` destroy-and-repair steps (sub-MILPs for selection problems); returns the
    best state found (``state`` itself, restored to the best). For selection problems,
    ``model`` (the selection model) and ``mip`` (it loaded in HiGHS) are reused if given,
    and ``stop(state)``, if given, is asked after each step whether to end the search.
    The search stops early once the objective reaches ``target`` (an upper bound)."""
    limit = math.inf if iterations is None else int(iterations)
    if p.is_selection:
        if model is None:
            from . import _selection
            model = _selection.build(p)
        return _improve_selection(p, state, model, deadline, rng, mip, target, limit, stop)
    return _improve_timed(p, state, ordering, deadline, rng, target, limit)


def _below(value: float, target: float) -> bool:
    """``value`` is still short of the upper bound ``target``."""
    return not math.isfinite(target) or value < target - 1e-9 * max(1.0, abs(target))


# -- timed -----------------------------------------------------------------------------------

class _Index:
    """Valid alternatives per resource sorted by earliest start, for window queries."""

    def __init__(self, p):
        self.by_res = []
        valid = p.alt_valid & p.alt_timed
        for r in range(p.n_resources):
            alts = np.flatnonzero(valid & (p.alt_resource == r))
            o = np.argsort(p.alt_earliest_s[alts], kind="stable")
            alts = alts[o]
            e = p.alt_earliest_s[alts]
            lend = p.alt_latest_end_s[alts]
            span = float(np.max(lend - e)) if alts.size else 0.0
            self.by_res.append((alts, e, lend, p.alt_task[alts], span))

    def alts_near(self, r: int, t0: float, t1: float) -> np.ndarray:
        """Alternatives of resource ``r`` whose windows meet [t0, t1]."""
        alts, e, lend, task, span = self.by_res[r]
        i0 = np.searchsorted(e, t0 - span, side="left")
        i1 = np.searchsorted(e, t1, side="right")
        sel = np.arange(i0, i1)
        sel = sel[lend[sel] >= t0]
        return alts[sel]


def _improve_timed(p, state: State, ordering: Ordering, deadline: float, rng,
                   target: float = float("inf"), limit: float = math.inf) -> State:
    index = _Index(p)
    best = state.snapshot()
    best_obj = state.objective
    tau = float(p.min_transition_s)
    med_d = float(np.median(p.alt_duration_s[p.alt_valid & p.alt_timed])) if np.any(p.alt_timed) else 10.0
    step = med_d + tau
    dp_share, dp_front = 0.25, 4
    unsched_value = np.where(np.isfinite(ordering.task_score), ordering.task_score, 0.0)
    it = 0
    while it < limit and time.perf_counter() < deadline and _below(best_obj, target):
        it += 1
        snap = state.snapshot()
        obj0 = state.objective
        op = rng.random()
        first: list[int] = []
        removed: list[int] = []
        near: list[np.ndarray] = []
        if op < 0.35:
            # forced insertion: an unscheduled task, or a scheduled one on a better
            # alternative; clear its way (time neighbours, forbidden partners, and if
            # memory still blocks, the least valuable data of that memory segment)
            un = [t for t in range(p.n_tasks)
                  if state.chosen[t] == -1 and np.isfinite(ordering.task_score[t])]
            if un and rng.random() < 0.75:
                w = unsched_value[un]
                w = w / w.sum() if w.sum() > 0 else None
                t = int(un[rng.choice(len(un), p=w)])
                alts = ordering.alt_order(t)
            else:
                sched = state.scheduled_tasks()
                if not sched:
                    break
                t = int(sched[rng.integers(len(sched))])
                cur = state.chosen[t]
                alts = [a for a in ordering.alt_order(t) if state.value[a] > state.value[cur] + 1e-12]
                if not alts:
                    continue
            a = int(alts[rng.integers(len(alts))])
            if not p.alt_timed[a]:
                continue
            r = int(p.alt_resource[a])
            t0 = state.earliest_s[a] - step
            t1 = p.alt_latest_end_s[a] + step
            removed += state.remove_group_of(t)
            for u in _tasks_on(state, r, t0, t1):
                removed += state.remove_group_of(u)
            for c in p.alt_incompat[a]:
                for b in p.incompat[c]:
                    u = int(p.alt_task[b])
                    if b != a and state.chosen[u] == b:
                        removed += state.remove_group_of(u)
            if state.task_group[t] < 0:
                if not state.try_insert(a):
                    if not state.fits(a, memory=False):
                        state.restore(snap)
                        continue
                    for u in _memory_victims(p, state, r, a, rng):
                        removed += state.remove_group_of(u)
                        if state.try_insert(a):
                            break
                    else:
                        state.restore(snap)
                        continue
            first = [t]
            near.append(index.alts_near(r, t0, t1))
        elif op < 0.35 + dp_share:
            # time slice of one resource re-filled by the pass search, then greedy
            rs = [r for r in range(p.n_resources) if index.by_res[r][0].size]
            if not rs:
                break
            r = rs[rng.integers(len(rs))]
            alts_r = index.by_res[r][0]
            a = int(alts_r[rng.integers(alts_r.size)])
            centre = rng.uniform(state.earliest_s[a], p.alt_latest_end_s[a])
            half = step * rng.uniform(2.0, 8.0)
            t0, t1 = centre - half, centre + half
            for u in _tasks_on(state, r, t0, t1):
                removed += state.remove_group_of(u)
            near.append(index.alts_near(r, t0, t1))
            cands = [b for b in near[-1].tolist() if state.chosen[state.task[b]] == -1]
            noise = rng.uniform(0.0, 0.2) if rng.random() < 0.5 else 0.0
            val = state.value
            if noise:
                f = rng.uniform(1 - noise, 1 + noise, size=len(cands)).tolist()
                val = dict(zip(cands, (state.value[b] * x for b, x in zip(cands, f))))
            items = _sequence_search.best_sequence(state, r, cands, t0, t1, value=val, front=dp_front,
                                                   deadline=deadline)
            if not _sequence_search.place_sequence(state, r, items, t0, t1) or not state.memory_ok(r):
                state.restore(snap)
                continue
            _sequence_search.drop_partial_groups(state)
        elif op < 0.8:
            # time slice of one resource
            rs = [r for r in range(p.n_resources) if state.seq[r]]
            if not rs:
                break
            r = rs[rng.integers(len(rs))]
            i = int(rng.integers(len(state.seq[r])))
            centre = state.seq_start[r][i]
            half = step * rng.uniform(1.5, 6.0)
            t0, t1 = centre - half, centre + half
            for u in _tasks_on(state, r, t0, t1):
                removed += state.remove_group_of(u)
            near.append(index.alts_near(r, t0, t1))
        else:
            # a few random acquisitions
            sched = state.scheduled_tasks()
            if not sched:
                break
            k = min(len(sched), int(rng.integers(2, 9)))
            for u in rng.choice(sched, size=k, replace=False):
                a = state.chosen[int(u)]
                if a < 0:
                    continue
                removed += state.remove_group_of(int(u))
                if p.alt_timed[a]:
                    near.append(index.alts_near(int(p.alt_resource[a]), state.earliest_s[a] - step,
                                                p.alt_latest_end_s[a] + step))
        # freed tasks may go anywhere; the others only gained room near the destroyed part
        full = set(removed) | set(first)
        restricted: dict[int, list[int]] = {}
        for arr in near:
            for a in arr.tolist():
                u = state.task[a]
                if u not in full and state.chosen[u] == -1:
                    restricted.setdefault(u, []).append(a)
        cand = [u for u in full if u not in first and state.chosen[u] == -1] + list(restricted)
        noise = rng.uniform(0.0, 0.3)
        score = ordering.task_score[cand] * rng.uniform(1 - noise, 1 + noise, size=len(cand))
        order = [cand[j] for j in np.argsort(-score, kind="stable")]
        rank = ordering.alt_rank

        by_value = rng.random() < 0.3
        value = state.value

        def alt_order(u):
            if u in restricted and state.task_group[u] < 0:
                alts = sorted(restricted[u], key=rank.__getitem__)
            else:
                alts = ordering.alt_order(u)
            if by_value:
                alts = sorted(alts, key=lambda a: -value[a])
            return alts

        for u in first + order:
            if state.chosen[u] == -1:
                state.insert_task(u, alt_order)
        if state.objective >= obj0 - 1e-9:
            if state.objective > best_obj + 1e-9:
                best_obj = state.objective
                best = state.snapshot()
        else:
            state.restore(snap)
    if state.objective < best_obj - 1e-9:
        state.restore(best)
    return state


def _memory_victims(p, state: State, r: int, a: int, rng) -> list[int]:
    """Tasks on ``r`` recorded between the downlinks around ``a``'s window, least value per
    Gbit first (with noise)."""
    k, ds, de, dr = state.dl[r]
    j = int(np.searchsorted(de, state.earliest_s[a], side="right"))
    lo = de[j - 1] if j > 0 else -np.inf
    hi = ds[j] if j < len(ds) else np.inf
    tasks = _tasks_on(state, r, lo, hi)
    dens = np.array([state.value[state.chosen[u]] / max(state.data_gbit[state.chosen[u]], 1e-9) for u in tasks])
    dens *= rng.uniform(0.8, 1.2, size=dens.size)
    return [tasks[i] for i in np.argsort(dens, kind="stable")]


def _tasks_on(state: State, r: int, t0: float, t1: float) -> list[int]:
    st = state.seq_start[r]
    from bisect import bisect_left, bisect_right
    i0, i1 = bisect_left(st, t0), bisect_right(st, t1)
    return [state.task[a] for a in state.seq[r][i0:i1]]


# -- selection (sub-MILPs) ---------------------------------------------------------------------

def _improve_selection(p, state: State, model, deadline: float, rng, mip=None,
                       target: float = float("inf"), limit: float = math.inf, stop=None) -> State:
    """Sub-MILP LNS; ``mip``: a loaded :class:`_highs.MipModel` of ``model`` (built if None).

    Neighbourhoods (picked with adaptive weights): a block of consecutive tasks (SPOT5
    numbers photographs along the track), the forbidden-combination neighbourhood of a few
    valuable unscheduled tasks, random tasks (with a limited memory, some scheduled tasks
    holding memory elsewhere are freed as well), or every scheduled task plus a block of
    unscheduled ones (drop-and-add: trades memory across the whole plan).
    """
    n = model.alts.size
    if mip is None:
        A, rlb, rub = model.rows.matrix(model.n_cols)
        mip = _highs.MipModel(model.values, A, rlb, rub, model.lb, model.ub, model.integrality)
    col_task = p.alt_task[model.alts]
    uses_memory = np.zeros(p.n_tasks, dtype=bool)
    uses_memory[p.alt_task[model.alts[p.alt_data_gbit[model.alts] > 0]]] = True
    memory_limited = bool(np.any(np.isfinite(p.res_capacity_gbit)))
    neighbours = task_neighbours(p)
    best_value = np.zeros(p.n_tasks)
    np.maximum.at(best_value, col_task, model.values[:n])
    # tasks whose columns are all fixed (settled components) stay out of the neighbourhoods
    is_movable = np.zeros(p.n_tasks, dtype=bool)
    is_movable[col_task[model.lb[:n] < model.ub[:n]]] = True
    movable = np.flatnonzero(is_movable)
    if movable.size == 0:
        return state
    size = max(min(20, movable.size), min(movable.size, 100))
    sub_time = 2.0
    weights = np.ones(4)
    it = 0
    while it < limit and _below(state.objective, target):
        it += 1
        remaining = deadline - time.perf_counter()
        if remaining < 0.2:
            break
        chosen = np.asarray(state.chosen)
        x = model.point(chosen)
        op = int(rng.choice(4, p=weights / weights.sum()))
        free = np.zeros(p.n_tasks, dtype=bool)
        if op == 0:
            start = int(rng.integers(movable.size))
            free[movable[np.arange(start, start + size) % movable.size]] = True
            free[rng.choice(movable, size=max(1, size // 10), replace=False)] = True
        elif op == 1:
            un = np.flatnonzero((chosen < 0) & (best_value > 0) & is_movable)
            if un.size == 0:
                weights[1] = 1e-3
                continue
            w = best_value[un] / best_value[un].sum()
            frontier = list(rng.choice(un, size=min(un.size, 3), replace=False, p=w))
            count = 0
            while frontier and count < size:
                t = int(frontier.pop(0))
                if free[t]:
                    continue
                free[t] = True
                count += 1
                nb = neighbours[t]
                if nb.size:
                    frontier.extend(rng.permutation(nb).tolist())
        elif op == 2:
            free[rng.choice(movable, size=size, replace=False)] = True
        else:
            # every scheduled task may go or change; a block of others may come in
            free[(chosen >= 0) & is_movable] = True
            start = int(rng.integers(movable.size))
            free[movable[np.arange(start, start + size) % movable.size]] = True
        if memory_limited and op != 3:
            # scheduled tasks elsewhere that hold memory: dropping them makes room; the
            # cheap ones (value per Gbit under a tenth of the median) always
            holders = np.flatnonzero(uses_memory & (chosen >= 0) & ~free & is_movable)
            if holders.size:
                a_h = chosen[holders]
                density = p.alt_value[a_h] / np.maximum(p.alt_data_gbit[a_h], 1e-12)
                free[holders[density < 0.1 * np.median(density)]] = True
                k = min(holders.size, max(1, size // 4))
                free[rng.choice(holders, size=k, replace=False)] = True
        for g in p.groups:
            if np.any(free[g]):
                free[g] = True
        everything = bool(np.all(free[movable]))
        fixed_col = np.concatenate([~free[col_task], np.zeros(model.n_cols - n, bool)])
        lb = np.where(fixed_col, x, model.lb)
        ub = np.where(fixed_col, x, model.ub)
        t0 = time.perf_counter()
        res = mip.solve(min(sub_time, remaining), lb=lb, ub=ub, start=x)
        took = time.perf_counter() - t0
        reward = 0.5
        if res.x is not None and res.objective > state.objective + 1e-9:
            _set_selection(p, state, model, res.x)
            reward = 5.0
        if res.optimal or res.infeasible:
            if everything:
                break  # the whole problem was the neighbourhood: nothing better exists
            if took < 0.5 * sub_time:
                size = min(movable.size, int(size * 1.2) + 1)
            reward = max(reward, 1.0)
        else:
            size = max(min(20, movable.size), int(size * 0.85))
        weights[op] = 0.8 * weights[op] + 0.2 * reward
        if stop is not None and stop(state):
            break
    return state


def _set_selection(p, state: State, model, x) -> None:
    """Replace ``state``'s choices with the columns set in ``x`` (selection problems)."""
    for t in range(p.n_tasks):
        if state.chosen[t] >= 0:
            state.remove_task(t)
    for c in np.flatnonzero(x[:model.alts.size] > 0.5):
        a = int(model.alts[c])
        state._place(a, None)
