"""Solver entry point: run the engines, bound the result, build the :class:`Plan`."""
from __future__ import annotations

import math
import time

import numpy as np

from . import _memory, _path_bound, _selection, _sequence_search, _time_graph, milp
from ._search_state import State
from .agility import model_dict
from .errors import PlanningError
from .greedy import Ordering, construct
from .lns import improve
from .model import Problem
from .plan import Plan, Table
from .requests import covered_fractions

__all__ = ["solve", "upper_bound", "METHODS"]

METHODS = ("auto", "greedy", "lns", "milp")
#: timed problems with at most this many usable alternatives go to the exact MILP in "auto"
SMALL_TIMED_ALTS = 40
#: selection problems with knapsack rows: the most of the budget for settling components
SETTLE_SHARE = 0.25


def upper_bound(problem: Problem, time_limit_s: float = 10.0, integer: bool = False) -> float:
    """An upper bound on the objective of every plan of ``problem``: the LP relaxation of
    the selection model (with ``integer``, the dual bound of its MILP within the time
    limit; exact for selection problems); for timed problems also the Lagrangian path
    bound (:mod:`~groundseg.planning._path_bound`), whichever is lower."""
    t0 = time.perf_counter()
    bound = milp.relaxation_bound(problem, time_limit_s=0.5 * time_limit_s, integer=integer)
    if not problem.is_selection:
        bound = min(bound, _path_bound.path_bound(problem, t0 + time_limit_s))
    return bound


def solve(problem: Problem, method: str = "auto", time_limit_s: float = 10.0, seed: int = 0,
          bound_time_s: float | None = None, iterations: int | None = None) -> Plan:
    """Plan ``problem`` with ``method`` within about ``time_limit_s`` seconds.

    - ``"greedy"``: the constructive heuristic only (plus the LP relaxation bound).
    - ``"lns"``: the better of the heuristic and the pass-by-pass sequence search, then
      large-neighbourhood search until the time limit.
    - ``"milp"``: the exact engine (selection problems, or small timed problems; larger
      timed problems are refused, see ``MAX_EXACT_ARCS``).
    - ``"auto"``: selection problems: the MILP (warm-started from the heuristic) for
      ``max(10%, min(10 s, 50%))`` of the budget, then, unless optimality is proved, LNS
      with HiGHS on neighbourhoods. With knapsack rows, the components outside them are
      first solved alone and held (``milp.settle_components``, at most ``SETTLE_SHARE``
      of the budget; "milp" too). Timed problems with at most ``SMALL_TIMED_ALTS``
      usable alternatives: the exact MILP for 60% of the budget, then LNS if not proved;
      larger ones: the better of the heuristic and a pass-by-pass sequence search (at
      most 30% of the budget), then LNS.

    ``bound_time_s`` (default: a fifth of the budget): time for the LP relaxation bound;
    timed problems searched by LNS also get the Lagrangian path bound (its time graph is
    built after the LP, in at most 1.5 times this or half the remaining budget, whichever
    is longer, and its multipliers take the last 1.25 times this); the plan's bound is the
    lower one.
    ``iterations``: the large-neighbourhood search stops after this many steps (the time
    limit still caps it): the same plan for a seed on any machine load, as tests need.
    Every plan carries ``objective``, ``upper_bound`` and ``gap``.
    """
    if not isinstance(problem, Problem):
        raise PlanningError(f"solve: expected a Problem, got {type(problem).__name__}")
    if method not in METHODS:
        raise PlanningError(f"solve: unknown method {method!r} (expected one of {', '.join(METHODS)})")
    if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise PlanningError(f"solve: time_limit_s must be a positive number, got {time_limit_s!r}")
    if iterations is not None and not (isinstance(iterations, (int, np.integer)) and iterations >= 0):
        raise PlanningError(f"solve: iterations must be an integer >= 0, got {iterations!r}")
    t_start = time.perf_counter()
    deadline = t_start + float(time_limit_s)
    rng = np.random.default_rng(seed)
    p = problem
    n_valid = int(np.sum(p.alt_valid))
    ordering = Ordering(p)
    model = None
    proven = False
    bound = math.inf
    if bound_time_s is None:
        bound_time_s = max(0.5, 0.2 * time_limit_s)

    if n_valid == 0:
        state = State(p)
        bound = 0.0
        proven = True
        solver = method
    elif p.is_selection and method in ("auto", "milp"):
        state = construct(p, ordering=ordering)
        model, mip = milp.selection_mip(p)
        if milp.coupled(p):
            # components outside the knapsack rows: solved alone once, then held
            now = time.perf_counter()
            x = milp.settle_components(p, model, mip, model.point(state.chosen),
                                       now + SETTLE_SHARE * (deadline - now))
            if model.values @ x > state.objective + 1e-9:
                state = milp.state_from_selection(p, model, x)
        budget = deadline - time.perf_counter()
        # "auto": the MILP alone proves small instances in seconds; on hard ones the LNS
        # (HiGHS on neighbourhoods, warm-started) makes better use of the rest
        first = budget if method == "milp" else max(0.1 * budget, min(10.0, 0.5 * budget))
        res, model, mip = milp.solve_selection(p, model, time_limit_s=max(first, 0.05),
                                                start_state=state, mip=mip)
        bound = res.bound
        if res.x is not None and res.objective >= state.objective - 1e-9:
            state = milp.state_from_selection(p, model, res.x)
        proven = res.optimal
        solver = "milp"
        if not proven and method == "auto" and time.perf_counter() < deadline - 0.2:
            if iterations is None and mip.high is not None and milp.coupled(p):
                state = _search_and_price(p, state, ordering, deadline, rng, model, mip, bound)
            else:
                state = improve(p, state, ordering, deadline, rng, model=model, mip=mip, target=bound,
                                iterations=iterations)
            solver = "milp+lns"
    elif method == "milp" or (method == "auto" and n_valid <= SMALL_TIMED_ALTS):
        _check_exact_size(p)
        state = construct(p, ordering=ordering)
        model = _selection.build(p)
        budget = deadline - time.perf_counter()
        share = budget if method == "milp" else 0.6 * budget
        mstate, mbound, proven = milp.solve_timed(p, time_limit_s=max(share, 0.05), model=model)
        solver = "milp"
        if mstate is not None:
            mstate.compact()
            if mstate.objective >= state.objective - 1e-9:
                state = mstate
        if math.isfinite(mbound):
            bound = mbound
        if not proven and method == "auto" and time.perf_counter() < deadline - 0.05:
            bound = min(bound, milp.relaxation_bound(p, model, time_limit_s=max(bound_time_s, 0.5)))
            search_end = deadline - min(bound_time_s, 0.5 * (deadline - time.perf_counter()))
            improve(p, state, ordering, search_end, rng, target=bound, iterations=iterations)
            solver = "milp+lns"
        if not proven:
            bound = min(bound, _path_bound.path_bound(p, deadline, target=state.objective,
                                                      max_iterations=_steps(iterations)))
    else:
        # the bounds do not depend on the plan: the LP and the time graph of the path bound
        # first, then the search, then the path bound's multipliers, aimed at the plan
        model = _selection.build(p)
        bound = milp.relaxation_bound(p, model, time_limit_s=max(bound_time_s, 0.5))
        # the graph's size is kept in proportion to the budget (about 0.2 M rows a second);
        # on a loaded machine it may take up to half of what is left (the LP alone is far
        # looser on timed problems)
        now = time.perf_counter()
        graph = None if method == "greedy" else _time_graph.build(
            p, deadline=now + max(1.5 * bound_time_s, 0.5 * (deadline - now), 1.0),
            max_rows=2e5 * time_limit_s)
        state = construct(p, ordering=ordering)
        solver = "greedy"
        now = time.perf_counter()
        search_end = deadline if graph is None else deadline - min(1.25 * bound_time_s, 0.5 * (deadline - now))
        if method in ("lns", "auto"):
            # the pass-by-pass sequence search usually starts far better than the greedy
            by_pass = State(p)
            share = 0.3 if iterations is None else 1.0  # with a step budget: run to completion
            _sequence_search.construct_by_pass(p, by_pass, now + share * (search_end - now))
            construct(p, by_pass, ordering)
            if by_pass.objective > state.objective:
                state = by_pass
            improve(p, state, ordering, search_end, rng, target=bound, iterations=iterations)
            solver = "greedy+lns"
        if graph is not None:
            now = time.perf_counter()
            bound = min(bound, _path_bound.path_bound(p, max(deadline, now + 0.5), target=state.objective,
                                                      graph=graph, max_iterations=_steps(iterations)))
            if method in ("lns", "auto") and iterations is None and time.perf_counter() < deadline - 0.5:
                # the multipliers converged early: the rest of the budget goes to the search
                improve(p, state, ordering, deadline, rng, target=bound)
    _fill(p, state, ordering)
    if not proven:
        if not math.isfinite(bound):
            if model is None:
                model = _selection.build(p)
            bound = milp.relaxation_bound(p, model, time_limit_s=max(bound_time_s, 0.5))
        if abs(bound - state.objective) <= 1e-9 * max(1.0, abs(bound)):
            proven = True
    elapsed = time.perf_counter() - t_start
    return build_plan(p, state, bound, "optimal" if proven else "feasible", solver, elapsed)


#: ``_search_and_price``: the search hands over to the priced components once the high tier
#: has not risen for ``HIGH_STALL_S`` (at the latest after ``PRICE_FROM`` of the time left);
#: they run until ``PRICE_TO`` of it
PRICE_FROM, PRICE_TO, HIGH_STALL_S = 0.4, 0.9, 4.0


def _search_and_price(p, state, ordering, deadline, rng, model, mip, bound):
    """Tiers and knapsack rows (SPOT5 multi-orbit): the search until the high tier settles,
    then the components holding high value re-solved with their room priced
    (``milp.price_components``: room the light tier can use once the high tier is in
    place), then the search again."""
    now = time.perf_counter()
    last = [mip.high_value(model.point(state.chosen)), now]

    def high_settled(s) -> bool:
        high, t = mip.high_value(model.point(s.chosen)), time.perf_counter()
        if high > last[0]:
            last[:] = [high, t]
        return t - last[1] >= HIGH_STALL_S

    state = improve(p, state, ordering, now + PRICE_FROM * (deadline - now), rng, model=model,
                    mip=mip, target=bound, stop=high_settled)
    now = time.perf_counter()
    x = milp.price_components(p, model, mip, model.point(state.chosen), now + PRICE_TO * (deadline - now))
    if model.values @ x > state.objective + 1e-9:
        state = milp.state_from_selection(p, model, x)
    return improve(p, state, ordering, deadline, rng, model=model, mip=mip, target=bound)


def _steps(iterations):
    """Subgradient steps of the path bound when the search is bounded by steps (the same
    bound on any machine load, as tests need)."""
    return None if iterations is None else 60


#: the exact timed engine refuses problems with more order variables than this
MAX_EXACT_ARCS = 200_000


def _check_exact_size(p: Problem) -> None:
    timed = p.alt_valid & p.alt_timed
    per_res = np.bincount(p.alt_resource[timed], minlength=p.n_resources)
    arcs = int(np.sum(per_res * (per_res - 1)))
    if arcs > MAX_EXACT_ARCS:
        raise PlanningError(
            f"solve: method 'milp' on {int(timed.sum())} timed alternatives needs about {arcs} "
            f"order variables (limit {MAX_EXACT_ARCS}); use 'auto' or 'lns'")


def _fill(p, state: State, ordering: Ordering) -> None:
    """Insert every task that still fits (the searches leave none on purpose, but MILP
    time limits can)."""
    for t in ordering.task_order():
        if state.chosen[t] == -1:
            state.insert_task(t, ordering.alt_order)


# -- plan construction ---------------------------------------------------------------------

def build_plan(p: Problem, state: State, bound: float, status: str, solver: str,
               elapsed_s: float) -> Plan:
    """The :class:`Plan` of ``state`` (acquisitions, downlinks, timeline, unscheduled)."""
    acq = {k: [] for k in ("target", "alternative", "label", "resource", "resource_name",
                           "start_s", "end_s", "value", "data_gbit", "start_roll_deg",
                           "start_pitch_deg", "end_roll_deg", "end_pitch_deg")}
    tl = {k: [] for k in ("resource", "resource_name", "time_s", "event", "target", "station",
                          "roll_deg", "pitch_deg", "data_gbit")}
    dl = {k: [] for k in ("downlink", "resource", "resource_name", "station", "start_s",
                          "end_s", "drained_gbit", "drain_stop_s")}
    objective = 0.0

    def add_acq(a, s):
        nonlocal objective
        t = int(p.alt_task[a])
        r = int(p.alt_resource[a])
        acq["target"].append(p.task_id[t])
        acq["alternative"].append(int(p.alt_local[a]))
        acq["label"].append(p.alt_label[a])
        acq["resource"].append(r)
        acq["resource_name"].append(p.res_name[r])
        timed = not math.isnan(s)
        acq["start_s"].append(float(s) if timed else math.nan)
        acq["end_s"].append(float(s + p.alt_duration_s[a]) if timed else math.nan)
        acq["value"].append(float(p.alt_value[a]))
        acq["data_gbit"].append(float(p.alt_data_gbit[a]))
        sr, sp = p.attitude_deg(a, s if timed else 0.0)
        er, ep = p.attitude_deg(a, s if timed else 0.0, end=True)
        acq["start_roll_deg"].append(sr)
        acq["start_pitch_deg"].append(sp)
        acq["end_roll_deg"].append(er)
        acq["end_pitch_deg"].append(ep)
        objective += float(p.alt_value[a])

    def add_tl(r, time_s, event, target="", station="", roll=math.nan, pitch=math.nan, data=math.nan):
        tl["resource"].append(r)
        tl["resource_name"].append(p.res_name[r])
        tl["time_s"].append(float(time_s))
        tl["event"].append(event)
        tl["target"].append(target)
        tl["station"].append(station)
        tl["roll_deg"].append(roll)
        tl["pitch_deg"].append(pitch)
        tl["data_gbit"].append(data)

    for r in range(p.n_resources):
        for t, a in enumerate(state.chosen):
            if a >= 0 and p.alt_resource[a] == r and not p.alt_timed[a]:
                add_acq(a, math.nan)
        seq, st = state.seq[r], state.seq_start[r]
        events = []
        prev = None
        for a, s in zip(seq, st):
            add_acq(a, s)
            tid = p.task_id[int(p.alt_task[a])]
            sr, sp = p.attitude_deg(a, s)
            er, ep = p.attitude_deg(a, s, end=True)
            if prev is None:
                tau = p._res_transition[r](0.0, 0.0, sr, sp, s, s)
                if not math.isfinite(tau):  # a table model without nadir
                    tau = float(p.res_agility[r].min_transition_s)
            else:
                tau = p.transition_s(prev[0], prev[1], a, s)
            events.append((s - tau, 3, "slew_start", tid, "", sr, sp, math.nan))
            events.append((s, 4, "imaging_on", tid, "", sr, sp, float(p.alt_data_gbit[a])))
            events.append((s + p.alt_duration_s[a], 0, "imaging_off", tid, "", er, ep, math.nan))
            prev = (a, s)
        k, ds, de, dr = state.dl[r]
        base = float(p.res_initial_gbit[r]) + sum(
            float(p.alt_data_gbit[a]) for a in state.chosen if a >= 0 and p.alt_resource[a] == r and not p.alt_timed[a])
        _, drained, stop, _ = _memory.simulate(
            base, st, [s + p.alt_duration_s[a] for a, s in zip(seq, st)],
            [p.alt_data_gbit[a] for a in seq], ds, de, dr, float(p.res_capacity_gbit[r]),
            stop_at_violation=False)
        for j, kk in enumerate(k.tolist()):
            if drained[j] <= 1e-12:
                continue
            dl["downlink"].append(kk)
            dl["resource"].append(r)
            dl["resource_name"].append(p.res_name[r])
            dl["station"].append(p.dl_station[kk])
            dl["start_s"].append(float(ds[j]))
            dl["end_s"].append(float(de[j]))
            dl["drained_gbit"].append(float(drained[j]))
            dl["drain_stop_s"].append(float(stop[j]))
            events.append((float(ds[j]), 2, "downlink_start", "", p.dl_station[kk], math.nan, math.nan, math.nan))
            events.append((float(stop[j]), 1, "downlink_stop", "", p.dl_station[kk], math.nan, math.nan, float(drained[j])))
        events.sort(key=lambda e: (e[0], e[1]))
        for ev in events:
            add_tl(r, ev[0], ev[2], ev[3], ev[4], ev[5], ev[6], ev[7])

    uns = {"target": [], "reason": [], "detail": []}
    for t in range(p.n_tasks):
        if state.chosen[t] >= 0:
            continue
        reason, detail = _reason(p, state, t)
        uns["target"].append(p.task_id[t])
        uns["reason"].append(reason)
        uns["detail"].append(detail)

    req = {"request": list(p.request_id), "covered_fraction": [], "value": [], "tasks": [],
           "scheduled": []}
    f = covered_fractions(p, [t for t, a in enumerate(state.chosen) if a >= 0])
    for q, curve in enumerate(p.request_curve):
        members = p.request_tasks[q]
        req["covered_fraction"].append(float(f[q]))
        req["value"].append(float(curve(f[q])))
        req["tasks"].append(int(members.size))
        req["scheduled"].append(int(sum(1 for u in members if state.chosen[u] >= 0)))
    objective += float(sum(req["value"]))

    caps = p.res_capacity_gbit
    if np.all(caps == caps[0]):
        mem = float(caps[0]) if math.isfinite(caps[0]) else None
    else:
        mem = [float(c) if math.isfinite(c) else None for c in caps]
    arr = lambda cols, names: {k: (np.asarray(v, dtype=float) if k in names else v) for k, v in cols.items()}
    if objective - 1e-6 * max(1.0, abs(objective)) <= bound < objective \
            or objective <= bound <= objective + 1e-9 * max(1.0, abs(objective)):
        bound = objective  # solver round-off; a larger shortfall is left for the verifier
    return Plan(
        objective=objective, upper_bound=bound, status=status, solver=solver,
        solve_time_s=elapsed_s,
        acquisitions=Table(arr(acq, {"start_s", "end_s", "value", "data_gbit", "start_roll_deg",
                                     "start_pitch_deg", "end_roll_deg", "end_pitch_deg"})),
        downlinks=Table(arr(dl, {"start_s", "end_s", "drained_gbit", "drain_stop_s"})),
        timeline=Table(arr(tl, {"time_s", "roll_deg", "pitch_deg", "data_gbit"})),
        unscheduled=Table(uns),
        requests=Table(arr(req, {"covered_fraction", "value"})),
        agility_model=model_dict(p.agility), memory_capacity_gbit=mem, epoch_utc=p.epoch_utc)


def _reason(p: Problem, state: State, t: int) -> tuple[str, str]:
    alts = p.task_alts[t]
    valid = [int(a) for a in alts if p.alt_valid[a]]
    if not valid:
        if len(alts) == 0:
            return p.task_reason[t], "no alternative"
        issues = "; ".join(sorted({p.alt_issue[a] for a in alts if p.alt_issue[a]}))
        return p.task_reason[t], issues
    if any(state.fits(a) for a in valid):
        g = p.groups[p.task_group[t]] if p.task_group[t] >= 0 else []
        others = [p.task_id[u] for u in g if u != t]
        return "group", f"fits alone but not together with {others}"
    if any(state.fits(a, memory=False) for a in valid):
        return "memory", f"{len(valid)} alternatives: each would overflow the on-board memory"
    spent = [a for a in valid if not state.budgets_ok(a)]
    if spent and len(spent) == len(valid):
        k = p.alt_budgets[spent[0]][0][0]
        return "budget", (f"{len(valid)} alternatives: each would exceed a budget (e.g. "
                          f"{p.budget_name[k]}: {p.budget_quantity[k]})")
    return "conflict", (f"{len(valid)} alternatives: each overlaps scheduled acquisitions, "
                        "needs a transition that does not fit, or completes a forbidden combination")
