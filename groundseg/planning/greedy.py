"""Constructive heuristic: greedy insertion by value over crowding.

Every alternative gets a crowding figure ``c``: for a timed alternative, the time the
other tasks' alternatives on the same resource would like to spend inside its window,
divided by the window (plus one transition), plus, on a limited memory, its data volume
relative to the mean times twice the ratio of data demand to memory-plus-downlink supply;
for an untimed one, its number of forbidden combinations plus its share of a limited
memory. Tasks are taken in decreasing
``value / (1 + c)`` of their best alternative, and each is inserted with the first
alternative (same order) that fits; a group is inserted whole or not at all.
"""
from __future__ import annotations

import numpy as np

from ._search_state import State
from .requests import task_nominal_value


def crowding(p) -> np.ndarray:
    """Crowding of every alternative (n_alts,), dimensionless (see the module docstring)."""
    c = np.zeros(p.n_alts)
    tau = float(p.min_transition_s)
    valid = p.alt_valid
    timed = p.alt_timed & valid
    for r in range(p.n_resources):
        alts = np.flatnonzero(timed & (p.alt_resource == r))
        if alts.size == 0:
            continue
        e = p.alt_earliest_s[alts]
        order = np.argsort(e, kind="stable")
        alts = alts[order]
        e = e[order]
        lend = p.alt_latest_end_s[alts]
        span = np.maximum(lend - e, 1e-6)
        need = p.alt_duration_s[alts] + tau
        task = p.alt_task[alts]
        max_span = float(span.max())
        lo = np.searchsorted(e, e - max_span, side="left")
        hi = np.searchsorted(e, lend, side="right")
        for i in range(alts.size):
            j = np.arange(lo[i], hi[i])
            ov = np.minimum(lend[j], lend[i]) - np.maximum(e[j], e[i])
            keep = (ov > 0) & (task[j] != task[i])
            j = j[keep]
            c[alts[i]] = float(np.sum(need[j] * ov[keep] / span[j])) / (span[i] + tau)
    # memory pressure: demand (each task's data spread over its alternatives) over what
    # the memory plus the downlinks can take, charged in proportion to the data volume
    share = np.zeros(p.n_alts)
    for alts in p.task_alts:
        if len(alts):
            share[alts] = 1.0 / len(alts)
    for r in range(p.n_resources):
        cap = float(p.res_capacity_gbit[r])
        on = np.flatnonzero(timed & (p.alt_resource == r) & (p.alt_data_gbit > 0))
        if not np.isfinite(cap) or on.size == 0:
            continue
        dl = (p.dl_resource == r) & p.dl_usable
        supply = cap + float(np.sum(p.dl_rate_gbit_s[dl] * (p.dl_end_s[dl] - p.dl_start_s[dl])))
        demand = float(np.sum(p.alt_data_gbit[on] * share[on]))
        if supply > 0 and demand > 0:
            c[on] += 2.0 * (demand / supply) * p.alt_data_gbit[on] / float(np.mean(p.alt_data_gbit[on]))
    untimed = np.flatnonzero(valid & ~p.alt_timed)
    if untimed.size:
        deg = np.array([len(p.alt_incompat[a]) for a in untimed], dtype=float)
        cap = p.res_capacity_gbit[p.alt_resource[untimed]]
        share = np.zeros(untimed.size)
        lim = np.isfinite(cap) & (cap > 0)
        if np.any(lim):
            total = np.bincount(p.alt_resource[untimed], weights=p.alt_data_gbit[untimed],
                                minlength=p.n_resources)
            pressure = total[p.alt_resource[untimed]] / np.where(lim, cap, 1.0)
            share[lim] = (p.alt_data_gbit[untimed][lim] / cap[lim]) * pressure[lim] * 10.0
        c[untimed] = deg / 4.0 + share
    return c


class Ordering:
    """Task order and per-task alternative order for greedy insertion."""

    def __init__(self, p):
        self.p = p
        self.crowd = crowding(p)
        alt_score = (p.alt_value + task_nominal_value(p)[p.alt_task]) / (1.0 + self.crowd)
        alt_score[~p.alt_valid] = -np.inf
        self.alt_score = alt_score
        self.task_score = np.full(p.n_tasks, -np.inf)
        self.alts_sorted = []
        for t in range(p.n_tasks):
            alts = p.task_alts[t]
            alts = alts[p.alt_valid[alts]]
            if alts.size:
                o = np.argsort(-alt_score[alts], kind="stable")
                alts = alts[o]
                self.task_score[t] = alt_score[alts[0]]
            self.alts_sorted.append(alts.tolist())
        self.alt_rank = np.zeros(p.n_alts, dtype=np.int64)
        for alts in self.alts_sorted:
            self.alt_rank[alts] = np.arange(len(alts))
        self.alt_rank = self.alt_rank.tolist()
        # a group is ranked by its members' total score
        for g in p.groups:
            s = float(np.sum(np.where(np.isfinite(self.task_score[g]), self.task_score[g], 0.0)))
            if np.all(np.isfinite(self.task_score[g])):
                self.task_score[g] = s
            else:
                self.task_score[g] = -np.inf

    def task_order(self, rng=None, noise: float = 0.0) -> list[int]:
        score = self.task_score
        if rng is not None and noise > 0:
            score = score * rng.uniform(1.0 - noise, 1.0 + noise, size=score.size)
        order = np.argsort(-score, kind="stable")
        return [int(t) for t in order if np.isfinite(self.task_score[t])]

    def alt_order(self, t: int) -> list[int]:
        return self.alts_sorted[t]


def construct(p, state: State | None = None, ordering: Ordering | None = None,
              tasks=None, rng=None, noise: float = 0.0) -> State:
    """Greedy insertion of ``tasks`` (default: all, in ``ordering``'s order) into ``state``."""
    state = state or State(p)
    ordering = ordering or Ordering(p)
    if tasks is None:
        tasks = ordering.task_order(rng, noise)
    for t in tasks:
        if state.chosen[t] == -1:
            state.insert_task(t, ordering.alt_order)
    return state
