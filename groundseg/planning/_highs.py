"""HiGHS (through ``highspy``'s public API) for maximisation MILPs and LPs.

:class:`MipModel` keeps one model loaded: re-solve with other column bounds, a starting
solution (HiGHS takes it as its first incumbent) or a cutoff. :func:`maximize` solves a
model once.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np

_INF = highspy.kHighsInf
_S = highspy.HighsModelStatus
_HAS_X = (_S.kOptimal, _S.kTimeLimit, _S.kIterationLimit, _S.kSolutionLimit, _S.kInterrupt)


@dataclass
class MilpResult:
    """``x`` (n,) or None; ``objective`` and ``bound`` are for the maximisation."""

    x: np.ndarray | None
    objective: float
    bound: float
    optimal: bool
    infeasible: bool
    status: int
    message: str


@contextlib.contextmanager
def _quiet_stdout():
    """Silence C-level writes to fd 1 (HiGHS prints its banner and some lines with printf)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class MipModel:
    """``max values @ x`` s.t. ``row_lb <= A x <= row_ub``, ``lb <= x <= ub``, ``x_j``
    integer where ``integrality[j]`` is 1; ``A`` a scipy sparse matrix (m, n)."""

    def __init__(self, values, A, row_lb, row_ub, lb, ub, integrality):
        self.values = np.asarray(values, dtype=float)
        self.n = self.values.size
        self.lb = np.asarray(lb, dtype=float)
        self.ub = np.asarray(ub, dtype=float)
        self.integer = bool(np.any(integrality))
        csc = A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = A.shape[0]
        lp.col_cost_ = -self.values
        lp.col_lower_ = self.lb
        lp.col_upper_ = self.ub
        row_lb, row_ub = np.asarray(row_lb, float), np.asarray(row_ub, float)
        lp.row_lower_ = np.where(np.isfinite(row_lb), row_lb, -_INF)
        lp.row_upper_ = np.where(np.isfinite(row_ub), row_ub, _INF)
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = A.shape[0]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        if self.integer:
            lp.integrality_ = [highspy.HighsVarType(int(i)) for i in np.asarray(integrality)]
        with _quiet_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self.h = h
        self._bounds_changed = False

    def set_costs(self, values) -> None:
        """Maximise ``values @ x`` (n,) from now on (the model's ``values`` are kept)."""
        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), -np.asarray(values, float))

    def set_col_bounds(self, lb, ub) -> None:
        """The model's column bounds (n,) from now on."""
        self.lb, self.ub = np.asarray(lb, float), np.asarray(ub, float)
        self.h.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), self.lb, self.ub)
        self._bounds_changed = False

    def set_row_bounds(self, row: int, lo: float, hi: float) -> None:
        self.h.changeRowBounds(int(row), lo if math.isfinite(lo) else -_INF, hi if math.isfinite(hi) else _INF)

    def row_prices(self) -> np.ndarray:
        """After an LP solve: each row's dual value for the maximisation (m,), the rise
        of the optimum per unit of the row's bound (>= 0 at an upper bound)."""
        return -np.asarray(self.h.getSolution().row_dual, dtype=float)

    def solve(self, time_limit_s: float, lb=None, ub=None, start=None, cutoff=None,
              mip_rel_gap: float = 0.0) -> MilpResult:
        """Solve within ``time_limit_s`` (with column bounds ``lb``, ``ub`` (n,) if given,
        else the model's). ``cutoff``: only solutions with objective >
        cutoff are of interest (HiGHS's objective bound; with none, the result is
        ``infeasible`` and ``bound`` is ``cutoff``)."""
        h = self.h
        if lb is not None or ub is not None or self._bounds_changed:
            # column bounds stay loaded in HiGHS: a solve without them restores the model's
            self._bounds_changed = lb is not None or ub is not None
            lb = self.lb if lb is None else np.asarray(lb, float)
            ub = self.ub if ub is None else np.asarray(ub, float)
            h.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), lb, ub)
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.setOptionValue("objective_bound", -float(cutoff) if cutoff is not None else _INF)
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=float)
            h.setSolution(sol)
        with _quiet_stdout():
            h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has_x = status in _HAS_X and abs(info.objective_function_value) < _INF
        x = np.array(h.getSolution().col_value) if has_x else None
        obj = -float(info.objective_function_value) if has_x else -math.inf
        optimal = status == _S.kOptimal and has_x
        infeasible = status == _S.kInfeasible
        if not self.integer:
            bound = obj if optimal else math.inf
        else:
            dual = info.mip_dual_bound
            bound = -float(dual) if np.isfinite(dual) and abs(dual) < _INF else math.inf
            if optimal:  # a dual bound above the optimum by round-off only is the optimum
                bound = obj if not math.isfinite(bound) or bound <= obj + 1e-9 * max(1.0, abs(obj)) else bound
        if infeasible and cutoff is not None:
            bound = float(cutoff)
        return MilpResult(x, obj, bound, optimal, infeasible, int(status),
                          h.modelStatusToString(status))


def maximize(values, A, row_lb, row_ub, lb, ub, integrality, time_limit_s: float,
             mip_rel_gap: float = 0.0, cutoff: float | None = None) -> MilpResult:
    """Solve ``MipModel(values, A, row_lb, row_ub, lb, ub, integrality)`` once."""
    return MipModel(values, A, row_lb, row_ub, lb, ub, integrality).solve(
        time_limit_s, cutoff=cutoff, mip_rel_gap=mip_rel_gap)
