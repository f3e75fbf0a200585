"""Lexicographic value tiers of a selection problem, and the cut they give.

Some objectives are lexicographic in disguise: in SPOT5 the photographs weigh 1000 or 2000
(the "high" tier, multiples of ``g = 1000``) or 1, 2, 5, and all the light ones together
weigh less than 1000. Then a plan beats another only if its high value is at least as
large. Why: total = H + S with H a multiple of g and 0 <= S <= S_max < g; H_A < H_B means
H_A <= H_B - g, so total_A <= H_B - g + S_max < H_B <= total_B.

Two uses, both exact:

- two stages: maximise H alone first (a smaller MILP, which proves its optimum where the
  whole one does not, e.g. SPOT5 1506), then the whole objective from the plan found;
  the first stage's dual bound, rounded down to a multiple of g, bounds every plan's H;
- the tier cut: every plan at least as good as a feasible point ``x0`` has
  ``H >= H(x0)``, so a row ``H(x0) <= H <= bound`` in a MILP started from ``x0`` removes
  only worse plans; it keeps the LP from giving up high value for light value (and, with
  the first stage's bound, from adding fractional high value); the MILP's dual bound then
  bounds the plans with ``H >= H(x0)``, ``total(x0)`` the others.
"""
from __future__ import annotations

import math
from functools import reduce

import numpy as np
from scipy.sparse import csr_matrix, vstack

from . import _highs


def value_tiers(model) -> tuple[np.ndarray, float, float] | None:
    """``(high, g, light_max)``: ``high`` a mask (n_cols,) of the high-tier columns, whose
    values are integer multiples of ``g``, while the other columns' best total
    ``light_max`` is below ``g``; None
    when the objective has no such split (non-integer or negative values, request columns,
    or light values adding up to ``g`` or more). The lowest such threshold is taken (the
    high tier as large as possible)."""
    p = model.p
    v = model.values
    n = model.alts.size
    if model.n_cols != n or n == 0 or np.any(v < 0) or np.any(v != np.round(v)):
        return None
    task = p.alt_task[model.alts]
    for theta in np.unique(v[v > 0])[1:]:
        high = v >= theta
        g = float(reduce(math.gcd, (int(x) for x in np.unique(v[high]))))
        light = np.zeros(p.n_tasks)
        np.maximum.at(light, task, np.where(high, 0.0, v))
        if light.sum() < g:
            return high, g, float(light.sum())
    return None


class TieredMip(_highs.MipModel):
    """The selection model of ``model`` in HiGHS with the tier cut as its last row (when
    the objective has tiers, see :func:`value_tiers`): every ``solve`` from a ``start``
    (a feasible point) sets the cut at the start's high value and reports a bound valid
    for all plans."""

    def __init__(self, model):
        A, rlb, rub = model.rows.matrix(model.n_cols)
        tiers = value_tiers(model)
        self.high, self.step, self.light_max = tiers if tiers else (None, math.inf, math.inf)
        if self.high is not None:
            A = vstack([A, csr_matrix(np.where(self.high, model.values, 0.0)[None, :])]).tocsr()
            rlb, rub = np.append(rlb, -math.inf), np.append(rub, math.inf)
        super().__init__(model.values, A, rlb, rub, model.lb, model.ub, model.integrality)
        self.cut_row = A.shape[0] - 1
        self.high_bound = math.inf  # a bound on every plan's high value, once known

    def high_value(self, x) -> float:
        return float(self.values[self.high] @ np.asarray(x)[self.high])

    def solve(self, time_limit_s, lb=None, ub=None, start=None, cutoff=None, mip_rel_gap=0.0):
        if self.high is None or start is None:
            return super().solve(time_limit_s, lb, ub, start, cutoff, mip_rel_gap)
        start = self._cut_at(start)
        res = super().solve(time_limit_s, lb, ub, start, cutoff, mip_rel_gap)
        if not res.infeasible:
            res.bound = min(max(res.bound, float(self.values @ start)), self.high_bound + self.light_max)
        return res

    def maximize_high(self, time_limit_s, start):
        """Stage one: the largest high value from ``start`` (a feasible point) within the
        time limit; returns the :class:`~groundseg.planning._highs.MilpResult` of the
        high objective (its ``bound`` bounds every plan's high value)."""
        start = self._cut_at(start)
        self.set_costs(np.where(self.high, self.values / self.step, 0.0))
        try:
            res = super().solve(time_limit_s, start=start)
        finally:
            self.set_costs(self.values)
        res.objective *= self.step
        res.bound *= self.step
        if math.isfinite(res.bound):  # plans' high values are multiples of step
            self.high_bound = min(self.high_bound, self.step * math.floor(res.bound / self.step + 1e-9))
        return res

    def _cut_at(self, start):
        start = np.asarray(start, float)
        self.set_row_bounds(self.cut_row, self.high_value(start) - 1e-6 * self.step,
                            self.high_bound + 1e-6 * self.step)
        return start
