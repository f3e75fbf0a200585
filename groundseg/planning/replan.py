"""Minimal-perturbation re-planning: one urgent task into a plan that is already running.

:func:`replan` takes a :class:`~groundseg.planning.Problem`, the current plan (each scheduled
task's alternative and start) and the id of an urgent task, and puts the urgent task in
with three moves, the least disruptive first:

1. **insert**: a slot where nothing else moves;
2. **shift**: a slot that pushes the later acquisitions of the satellite later, each within
   its window, transitions kept;
3. **remove**: the least valuable acquisitions in the way are removed one at a time, cheapest
   first, until the urgent one fits: those of its satellite within ``margin_s`` of its
   window (time and slews), then those sharing one of its budgets (radar time, energy),
   then those recording between the downlinks around it (memory). Each removed task is then
   offered again (any alternative, most valuable first) where it fits without moving the
   urgent acquisition or a frozen one.

The urgent task's alternatives are tried in the caller's order (``rank``: keys compared
lexicographically, lower first, e.g. delivery time then less coverage); among alternatives of
the best rank that can be served, the one that displaces the least value wins (then the
fewest changes). Acquisitions starting before
``frozen_until_s`` of their resource (already commanded) never move. The result is checked
with :func:`~groundseg.planning.verify_plan` and its changes are listed: every task of
either plan ``kept``, ``moved``, ``dropped`` or ``added``, with the reason.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from . import milp
from ._search_state import State
from .errors import PlanningError
from .model import Problem
from .plan import Plan, Table
from .solve import build_plan
from .verify import verify_plan

__all__ = ["Replan", "replan", "CHANGE_ACTIONS"]

CHANGE_ACTIONS = ("kept", "moved", "dropped", "added")
_SAME_S = 1e-6


@dataclass
class Replan:
    """The new ``plan`` (:class:`~groundseg.planning.Plan`) and its ``changes`` (a
    :class:`~groundseg.planning.Table` ``task, action, old_start_s, new_start_s, reason``),
    the urgent task's chosen ``alternative`` (local index, -1 when it could not be served),
    the ``strategy`` that placed it (``insert``, ``shift``, ``remove`` or ``none``), the
    ``displaced_value`` (objective lost by the other tasks) and ``elapsed_s``."""

    plan: Plan
    changes: Table
    alternative: int
    strategy: str
    displaced_value: float
    elapsed_s: float


def load_plan(p: Problem, current: dict, tolerance_s: float = 0.0) -> State:
    """A search state holding ``current`` ``{task id: (alternative index, start_s)}``
    (``start_s`` NaN for untimed alternatives); PlanningError if a task, alternative or start
    does not belong to ``p`` or the plan breaks it. Starts given to ``tolerance_s`` (a
    ``plan.json`` has milliseconds) are moved by at most that much to the exact times their
    windows and transitions allow."""
    state = State(p)
    placed = []
    for tid, (j, start) in current.items():
        if tid not in p.task_index:
            raise PlanningError(f"current plan: unknown task {tid!r}")
        t = p.task_index[tid]
        if not isinstance(j, (int, np.integer)) or not 0 <= j < len(p.task_alts[t]):
            raise PlanningError(f"current plan: task {tid!r} has no alternative {j!r}")
        a = int(p.task_alts[t][j])
        slack = max(_SAME_S, tolerance_s)
        if p.alt_timed[a] and not (p.alt_earliest_s[a] - slack <= start <= p.alt_latest_start_s[a] + slack):
            raise PlanningError(f"current plan: task {tid!r} starts at {start:.3f} s, outside its "
                                f"window [{p.alt_earliest_s[a]:.3f}, {p.alt_latest_end_s[a]:.3f}] s")
        start = min(max(float(start), p.alt_earliest_s[a]), p.alt_latest_start_s[a])
        placed.append((start if p.alt_timed[a] else -math.inf, a))
    for start, a in sorted(placed):
        r = int(p.alt_resource[a])
        if p.alt_timed[a] and state.seq[r]:
            exact = state.earliest_after(state.seq[r][-1], state.seq_start[r][-1], a, start)
            start = exact if start < exact <= start + tolerance_s else start
        slot = None if not p.alt_timed[a] else (len(state.seq[r]), start, [])
        state._place(a, slot)
    bad = verify_plan(p, build_plan(p, state, math.inf, "feasible", "replan", 0.0))
    bad = [b for b in bad if not b.startswith("upper bound")]
    if bad:
        raise PlanningError(f"current plan: does not satisfy the problem ({len(bad)} violations; "
                            f"first: {bad[0]})")
    return state


def _starts(state: State) -> dict:
    """``{task: (alternative, start)}`` of the scheduled tasks."""
    return {t: (a, state.start[t]) for t, a in enumerate(state.chosen) if a >= 0}


def _obstacles(p: Problem, state: State, a: int, frozen_s: float, margin_s: float) -> list:
    """Tasks that may stand in the way of alternative ``a``, in the order they are removed."""
    r = int(p.alt_resource[a])
    lo, hi = float(p.alt_earliest_s[a]), float(p.alt_latest_end_s[a])
    mine = [(t, b) for t, b in enumerate(state.chosen)
            if b >= 0 and int(p.alt_resource[b]) == r and not (state.start[t] < frozen_s)
            and p.alt_task[b] != p.alt_task[a]]
    value = lambda tb: state.value[tb[1]]
    near = [x for x in mine if state.start[x[0]] - margin_s <= hi
            and state.start[x[0]] + p.alt_duration_s[x[1]] + margin_s >= lo]
    spend = {k for k, _ in p.alt_budgets[a]}
    shared = [x for x in mine if x not in near and spend & {k for k, _ in p.alt_budgets[x[1]]}]
    k = np.flatnonzero((p.dl_resource == r) & p.dl_usable)
    before = p.dl_end_s[k][p.dl_end_s[k] <= lo]
    after = p.dl_start_s[k][p.dl_start_s[k] >= hi]
    t0 = before.max() if before.size else -math.inf
    t1 = after.min() if after.size else math.inf
    held = [x for x in mine if x not in near and x not in shared
            and t0 <= state.start[x[0]] <= t1]
    return [t for t, _ in sorted(near, key=value) + sorted(shared, key=value) + sorted(held, key=value)]


def _serve(p: Problem, state: State, a: int, frozen: np.ndarray, margin_s: float):
    """Put alternative ``a`` in (module docstring). Returns the strategy or None (``state``
    unchanged then)."""
    snap = state.snapshot()
    ok, slot = state._feasible(a, True)
    if ok:
        state._place(a, slot)
        return "insert" if not slot or not slot[2] else "shift"
    r = int(p.alt_resource[a])
    removed = []
    for t in _obstacles(p, state, a, frozen[r], margin_s):
        state.remove_group_of(t)
        removed.append(t)
        ok, slot = state._feasible(a, True)
        if ok:
            break
    if not ok:
        state.restore(snap)
        return None
    state._place(a, slot)
    keep = {t: state.start[t] for t, b in enumerate(state.chosen)
            if b >= 0 and (b == a or state.start[t] < frozen[int(p.alt_resource[b])])}
    best_value = {t: max((state.value[b] for b in p.task_alts[t]), default=0.0) for t in set(removed)}
    for t in sorted(best_value, key=lambda t: -best_value[t]):
        before = state.snapshot()
        if state.insert_task(t) and any(state.start[u] != s for u, s in keep.items()):
            state.restore(before)
    return "remove"


def replan(problem: Problem, current: dict, urgent, *, rank=None, frozen_until_s=None,
           margin_s: float = 300.0, tolerance_s: float = 0.0, missing_ok: bool = False) -> Replan:
    """Insert task ``urgent`` (its id) into the plan ``current`` ``{task id: (alternative
    index, start_s)}`` of ``problem`` with the least perturbation (module docstring).
    ``rank``: per alternative of the urgent task ``(n,)`` or ``(n, k)`` keys, lower is better
    (rows compared lexicographically; default: earliest start);
    ``frozen_until_s``: ``(n_resources,)`` (default: nothing frozen); ``tolerance_s``: the
    precision of the given starts (:func:`load_plan`; a task re-timed by less is kept);
    ``missing_ok``: an urgent task the problem does not have (no opportunity) leaves the plan
    as it is instead of raising."""
    t_start = time.perf_counter()
    p = problem
    if urgent not in p.task_index and not missing_ok:
        raise PlanningError(f"replan: unknown urgent task {urgent!r}")
    u = p.task_index.get(urgent, -1)
    if urgent in current:
        raise PlanningError(f"replan: task {urgent!r} is already in the plan")
    alts = [int(a) for a in p.task_alts[u]] if u >= 0 else []
    rank = np.asarray(p.alt_earliest_s[alts] if rank is None else rank, dtype=float)
    rank = rank.reshape(len(alts), -1) if alts else np.zeros((0, 1))
    if rank.ndim != 2 or rank.shape[0] != len(alts):
        raise PlanningError(f"replan: rank needs {len(alts)} rows, got shape {rank.shape}")
    frozen = (np.full(p.n_resources, -math.inf) if frozen_until_s is None
              else np.asarray(frozen_until_s, dtype=float).reshape(p.n_resources))
    state = load_plan(p, current, tolerance_s)
    given = {p.task_index[tid]: float(js[1]) for tid, js in current.items()}
    old = {t: (a, given[t]) for t, (a, _) in _starts(state).items()}
    same_s = max(_SAME_S, tolerance_s)
    base = state.objective
    chosen, strategy, displaced = -1, "none", 0.0
    usable = np.all(np.isfinite(rank), axis=1) if alts else np.zeros(0, bool)
    levels = np.unique(rank[usable], axis=0) if usable.any() else []
    for level in levels:
        best = None
        for j in np.flatnonzero(np.all(rank == level, axis=1)):
            a = alts[j]
            if not p.alt_valid[a]:
                continue
            snap = state.snapshot()
            how = _serve(p, state, a, frozen, margin_s)
            if how is not None:
                lost = base + float(p.alt_value[a]) - state.objective
                moved = sum(1 for t, (b, s) in old.items()
                            if state.chosen[t] != b or abs(state.start[t] - s) > same_s)
                key = (round(lost, 9), moved)
                if best is None or key < best[0]:
                    best = (key, int(j), how, state.snapshot())
            state.restore(snap)
        if best is not None:
            state.restore(best[3])
            chosen, strategy, displaced = best[1], best[2], max(best[0][0], 0.0)
            break
    bound = milp.trivial_bound(p)
    plan = build_plan(p, state, bound, "feasible", "replan", time.perf_counter() - t_start)
    bad = verify_plan(p, plan)
    if bad:  # pragma: no cover - every move keeps the state feasible; this guards the claim
        raise PlanningError(f"replan: the new plan breaks the problem: {bad[0]}")
    changes = _changes(p, old, _starts(state), u, same_s)
    return Replan(plan, changes, chosen, strategy, displaced, time.perf_counter() - t_start)


def _changes(p: Problem, old: dict, new: dict, urgent: int, same_s: float) -> Table:
    """Every task of either plan: kept, moved, dropped or added, and why."""
    rows = {k: [] for k in ("task", "action", "old_start_s", "new_start_s", "reason")}
    for t in sorted(set(old) | set(new), key=lambda t: (old.get(t, new.get(t))[1], str(p.task_id[t]))):
        o, n = old.get(t), new.get(t)
        if o and n and o[0] == n[0] and (abs(o[1] - n[1]) <= same_s or not math.isfinite(o[1])):
            action, reason = "kept", ""
        elif o and n:
            action = "moved"
            reason = ("another opportunity, to make room for the urgent request" if o[0] != n[0]
                      else "re-timed within its window to make room for the urgent request")
        elif o:
            action = "dropped"
            reason = "gave way to the urgent request (least valuable in its way)"
        else:
            action = "added"
            reason = "urgent request" if t == urgent else "fits in the new plan"
        rows["task"].append(str(p.task_id[t]))
        rows["action"].append(action)
        rows["old_start_s"].append(o[1] if o else math.nan)
        rows["new_start_s"].append(n[1] if n else math.nan)
        rows["reason"].append(reason)
    return Table({k: (np.asarray(v, dtype=float) if k.endswith("_s") else v) for k, v in rows.items()})
