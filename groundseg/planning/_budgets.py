"""Budgets: additive quantities a resource may spend over a span of time (a SAR satellite's
radar-on seconds and radar energy per orbit, or anything else an alternative uses).

A :class:`Budget` ``(resource, start_s, end_s, quantity, limit)`` caps the sum, over the chosen
alternatives of ``resource`` whose **window** overlaps ``[start_s, end_s)``, of what each uses of
``quantity`` (:attr:`~groundseg.planning.Alternative.uses`, a ``{quantity: amount}`` mapping).
Membership follows the window, not the start the search picks, so a budget is one static
knapsack row: the same for the heuristics, the MILP and the verifier, and an alternative whose
window straddles two budgets' spans counts in both (conservative by at most one acquisition at
a span's edge). An alternative that alone uses more than a budget's limit is unusable.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import PlanningError

__all__ = ["Budget", "attach_budgets", "check_uses"]


@dataclass(frozen=True)
class Budget:
    """At most ``limit`` of ``quantity`` on ``resource`` for the alternatives whose window
    overlaps ``[start_s, end_s)``."""

    resource: int
    start_s: float
    end_s: float
    quantity: str
    limit: float
    name: str = ""


def _finite(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) \
        and math.isfinite(float(x))


def check_uses(uses, where: str) -> dict:
    """``{quantity: amount}`` checked (str keys, finite amounts >= 0); None -> {}."""
    if uses is None:
        return {}
    if not isinstance(uses, dict):
        raise PlanningError(f"{where}.uses: expected a mapping of quantity -> amount, got {uses!r}"[:200])
    for q, v in uses.items():
        if not isinstance(q, str) or not q or not _finite(v) or v < 0:
            raise PlanningError(f"{where}.uses: {q!r}: expected a name and a finite amount >= 0, "
                                f"got {v!r}"[:200])
    return {q: float(v) for q, v in uses.items()}


def attach_budgets(p, budgets, alt_uses) -> None:
    """Set the budget columns of problem ``p``: ``budget_resource``, ``budget_start_s``,
    ``budget_end_s``, ``budget_quantity``, ``budget_limit``, ``budget_name`` ``(n_budgets,)``
    and, per alternative, ``alt_budgets``: the list of ``(budget, amount)`` it spends
    (untimed alternatives: the budgets whose span contains the epoch, 0). An alternative
    that alone exceeds a limit becomes unusable (``alt_valid``, ``alt_issue``)."""
    cols = _columns(budgets, p.n_resources, p.alt_resource, p.alt_earliest_s, p.alt_latest_end_s,
                    alt_uses)
    p.__dict__.update(cols)
    p.alt_uses = list(alt_uses)
    for a, spent in enumerate(p.alt_budgets):
        for k, amount in spent:
            if p.alt_valid[a] and amount > p.budget_limit[k] + 1e-9:
                p.alt_valid[a] = False
                p.alt_issue[a] = (f"uses {amount:g} {p.budget_quantity[k]}, more than budget "
                                  f"{p.budget_name[k]} allows ({p.budget_limit[k]:g})")


def _columns(budgets, n_resources: int, alt_resource, alt_earliest_s, alt_latest_end_s,
             alt_uses) -> dict:
    res, t0, t1, qty, limit, names = [], [], [], [], [], []
    for k, b in enumerate(budgets):
        where = f"budgets[{k}]"
        if not isinstance(b, Budget):
            raise PlanningError(f"{where}: expected a Budget, got {type(b).__name__}")
        if not isinstance(b.resource, (int, np.integer)) or not 0 <= b.resource < n_resources:
            raise PlanningError(f"{where}.resource: {b.resource!r} is not a resource index "
                                f"0..{n_resources - 1}")
        if not (_finite(b.start_s) and _finite(b.end_s)) or not b.end_s > b.start_s:
            raise PlanningError(f"{where}: [{b.start_s!r}, {b.end_s!r}] is not a finite interval")
        if not isinstance(b.quantity, str) or not b.quantity:
            raise PlanningError(f"{where}.quantity: expected a name, got {b.quantity!r}")
        if not _finite(b.limit) or b.limit < 0:
            raise PlanningError(f"{where}.limit: expected a finite number >= 0, got {b.limit!r}")
        res.append(int(b.resource)), t0.append(float(b.start_s)), t1.append(float(b.end_s))
        qty.append(b.quantity), limit.append(float(b.limit)), names.append(b.name or f"B{k}")
    res, t0, t1 = np.asarray(res, np.int64), np.asarray(t0, float), np.asarray(t1, float)
    per_alt = []
    for a, uses in enumerate(alt_uses):
        if not uses:
            per_alt.append([])
            continue
        lo = alt_earliest_s[a] if math.isfinite(alt_earliest_s[a]) else 0.0
        hi = alt_latest_end_s[a] if math.isfinite(alt_latest_end_s[a]) else 0.0
        hit = np.flatnonzero((res == alt_resource[a]) & (t0 <= hi) & (t1 > lo))
        per_alt.append([(int(k), uses[qty[k]]) for k in hit if qty[k] in uses and uses[qty[k]] > 0])
    return {"budget_resource": res, "budget_start_s": t0, "budget_end_s": t1,
            "budget_quantity": qty, "budget_limit": np.asarray(limit, float),
            "budget_name": names, "alt_budgets": per_alt}
