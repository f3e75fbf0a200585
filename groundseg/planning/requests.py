"""Requests valued by the fraction covered: area requests with piecewise-linear value curves.

A :class:`Request` gathers tasks (the strips of a polygon, the two views of a stereo pair)
and is worth ``value(f)`` where ``f`` is the covered fraction: the sum of the ``shares`` of
its scheduled tasks (each task's fraction of the request; they sum to at most 1, less
when part of the area has no task). ``value`` is a
:class:`PiecewiseLinear` curve on ``[0, 1]`` with ``value(0) = 0``, nondecreasing: convex
(little for a sliver, most for a nearly complete area), concave (saturation) or neither.
A task belongs to at most one request; its own ``weight * value_factor`` is still earned
(give request tasks weight 0 to value them only through the curve).

How the engines use it: the search state keeps every request's covered fraction and adds
``value(f_new) - value(f_old)`` on each change, so the heuristics compare exact objectives.
The selection model (MILP and LP bound) models each curve exactly: a concave curve as the
minimum of its segment lines (``v <= c_k + s_k f``, exact as an LP), any other curve with the
incremental formulation (segment fills ``delta_k``, binaries ``y_k``: ``delta_k >= L_k y_k``,
``delta_{k+1} <= L_{k+1} y_k``), exact with integrality; its LP relaxation is a valid bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import PlanningError

__all__ = ["PiecewiseLinear", "Request"]

_TOL = 1e-9


class PiecewiseLinear:
    """``value(f)`` linear between breakpoints ``fractions`` (increasing, from 0 to 1) and
    ``values`` (nondecreasing, ``values[0] == 0``)."""

    def __init__(self, fractions: Sequence[float], values: Sequence[float]):
        try:
            f = np.asarray(fractions, dtype=float).reshape(-1)
            v = np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise PlanningError("value curve: fractions and values must be numbers") from None
        if f.size < 2 or f.size != v.size:
            raise PlanningError(f"value curve: need >= 2 breakpoints and as many values, got {f.size} and {v.size}")
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(v))):
            raise PlanningError("value curve: fractions and values must be finite")
        if f[0] != 0.0 or f[-1] != 1.0 or np.any(np.diff(f) <= 0):
            raise PlanningError(f"value curve: fractions must increase from 0 to 1, got {f.tolist()}")
        if v[0] != 0.0 or np.any(np.diff(v) < 0):
            raise PlanningError(f"value curve: values must start at 0 and not decrease, got {v.tolist()}")
        self.fractions, self.values = f, v
        self.lengths = np.diff(f)
        self.slopes = np.diff(v) / self.lengths
        self.concave = bool(np.all(np.diff(self.slopes) <= _TOL * max(1.0, float(np.max(np.abs(self.slopes))))))
        self.convex = bool(np.all(np.diff(self.slopes) >= -_TOL * max(1.0, float(np.max(np.abs(self.slopes))))))
        self._f, self._v = f.tolist(), v.tolist()

    @classmethod
    def linear(cls, total: float = 1.0) -> "PiecewiseLinear":
        """``value(f) = total * f``."""
        return cls([0.0, 1.0], [0.0, float(total)])

    @property
    def total(self) -> float:
        """The value of a complete request."""
        return float(self.values[-1])

    def __call__(self, fraction: float) -> float:
        """The value at ``fraction`` (clipped to [0, 1]); a plain-Python scalar path."""
        x = min(max(float(fraction), 0.0), 1.0)
        f, v = self._f, self._v
        for k in range(1, len(f)):
            if x <= f[k]:
                return v[k - 1] + (v[k] - v[k - 1]) * (x - f[k - 1]) / (f[k] - f[k - 1])
        return v[-1]

    def scaled(self, factor: float) -> "PiecewiseLinear":
        return PiecewiseLinear(self.fractions, self.values * float(factor))

    def to_dict(self) -> dict:
        return {"fractions": self.fractions.tolist(), "values": self.values.tolist()}

    def __repr__(self) -> str:
        kind = "linear" if self.convex and self.concave else "convex" if self.convex else \
            "concave" if self.concave else "general"
        return f"PiecewiseLinear({kind}, {self.fractions.size} breakpoints, total {self.total:g})"


@dataclass(frozen=True, eq=False)
class Request:
    """Tasks ``tasks`` (ids) valued together by ``value`` of their covered fraction;
    ``shares``: each task's fraction of the request (default ``1 / len(tasks)``), summing to
    at most 1."""

    id: str | int
    tasks: Sequence
    value: PiecewiseLinear
    shares: Sequence[float] | None = None


def request_columns(requests, task_index: dict, n_tasks: int):
    """``(ids, curves, members, task_request (n_tasks,), task_share (n_tasks,))`` from
    :class:`Request` objects; raises :class:`PlanningError` naming the bad entry."""
    ids, curves, members = [], [], []
    task_request = np.full(n_tasks, -1, dtype=np.int64)
    task_share = np.zeros(n_tasks)
    seen = set()
    for k, req in enumerate(requests):
        where = f"requests[{k}]"
        if not isinstance(req, Request):
            raise PlanningError(f"{where}: expected a Request, got {type(req).__name__}")
        if req.id in seen:
            raise PlanningError(f"{where}: duplicate request id {req.id!r}")
        seen.add(req.id)
        if not isinstance(req.value, PiecewiseLinear):
            raise PlanningError(f"{where} {req.id!r}.value: expected a PiecewiseLinear, got {type(req.value).__name__}")
        tasks = list(req.tasks)
        if not tasks:
            raise PlanningError(f"{where} {req.id!r}: no tasks")
        idx = []
        for tid in tasks:
            if tid not in task_index:
                raise PlanningError(f"{where} {req.id!r}: unknown task id {tid!r}")
            t = task_index[tid]
            if task_request[t] >= 0 or t in idx:
                raise PlanningError(f"{where} {req.id!r}: task {tid!r} is already in a request")
            idx.append(t)
        shares = np.full(len(idx), 1.0 / len(idx)) if req.shares is None else \
            np.asarray(req.shares, dtype=float).reshape(-1)
        if shares.size != len(idx) or not np.all(np.isfinite(shares)) or np.any(shares <= 0) \
                or shares.sum() > 1.0 + 1e-9:
            raise PlanningError(f"{where} {req.id!r}.shares: expected {len(idx)} finite numbers > 0 "
                                "summing to at most 1")
        idx_arr = np.asarray(idx, dtype=np.int64)
        task_request[idx_arr] = len(ids)
        task_share[idx_arr] = shares
        ids.append(req.id)
        curves.append(req.value)
        members.append(idx_arr)
    return ids, curves, members, task_request, task_share


def covered_fractions(p, scheduled_tasks) -> np.ndarray:
    """Covered fraction of every request (n_requests,) for a set of scheduled task indices."""
    f = np.zeros(len(p.request_id))
    for t in scheduled_tasks:
        q = int(p.task_request[t])
        if q >= 0:
            f[q] += float(p.task_share[t])
    return np.minimum(f, 1.0)


def requests_value(p, scheduled_tasks) -> float:
    """Sum over requests of the value of their covered fraction."""
    f = covered_fractions(p, scheduled_tasks)
    return float(sum(curve(x) for curve, x in zip(p.request_curve, f)))


def same_alternative_pairs(p, groups) -> list[tuple[int, int]]:
    """Incompatible pairs making the members of each group in ``groups`` (group indices)
    take the same alternative index: alternatives ``i`` of one member and ``j != i`` of
    another."""
    pairs = []
    for g in groups:
        members = p.groups[g]
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                for a in p.task_alts[members[x]]:
                    for b in p.task_alts[members[y]]:
                        if p.alt_local[a] != p.alt_local[b]:
                            pairs.append((int(a), int(b)))
    return pairs


def task_nominal_value(p) -> np.ndarray:
    """Per task (n_tasks,): its request's total times its share (0 outside requests), the
    value the heuristics rank a request task by."""
    out = np.zeros(p.n_tasks)
    has = p.task_request >= 0
    totals = np.array([c.total for c in p.request_curve] + [0.0])
    out[has] = totals[p.task_request[has]] * p.task_share[has]
    return out
