"""Thin wrapper around ``scipy.optimize.milp`` (HiGHS) for maximisation problems."""
from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


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
    """Silence C-level writes to fd 1 (HiGHS prints some debug lines with printf)."""
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


def maximize(values, A, row_lb, row_ub, lb, ub, integrality, time_limit_s: float,
             mip_rel_gap: float = 0.0, cutoff: float | None = None) -> MilpResult:
    """Maximise ``values @ x`` subject to ``row_lb <= A x <= row_ub``, ``lb <= x <= ub``.

    ``integrality`` (n,) 0/1. ``cutoff``: only solutions with objective > cutoff are of
    interest (passed to HiGHS as its objective bound; with no such solution the result is
    ``infeasible`` and ``bound`` is ``cutoff``).
    """
    c = -np.asarray(values, dtype=float)
    options = {"time_limit": max(float(time_limit_s), 0.01), "mip_rel_gap": mip_rel_gap,
               "presolve": True, "disp": False}
    if cutoff is not None:
        options["objective_bound"] = -float(cutoff)
    constraints = []
    if A is not None and A.shape[0] > 0:
        constraints.append(LinearConstraint(A, row_lb, row_ub))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with _quiet_stdout():
            res = milp(c, integrality=integrality, bounds=Bounds(lb, ub),
                       constraints=constraints, options=options)
    x = None if res.x is None else np.asarray(res.x)
    obj = -float(res.fun) if res.fun is not None and x is not None else -math.inf
    dual = getattr(res, "mip_dual_bound", None)
    if res.status == 0 and x is not None:
        bound = obj if dual is None or not np.isfinite(dual) else max(obj, -float(dual))
    elif dual is not None and np.isfinite(dual):
        bound = -float(dual)
    else:
        bound = math.inf
    infeasible = res.status == 2
    if infeasible and cutoff is not None:
        bound = float(cutoff)
    if not np.any(integrality) and res.status == 0:
        bound = obj
    return MilpResult(x, obj, bound, res.status == 0 and x is not None, infeasible,
                      int(res.status), str(res.message))


try:  # the HiGHS binding that scipy ships (used by scipy.optimize.milp itself)
    from scipy.optimize._highspy import _core as _hcore
    _hcore._Highs().setSolution
except (ImportError, AttributeError):  # pragma: no cover - older or different scipy
    _hcore = None


class MipModel:
    """A maximisation MILP kept loaded in HiGHS: re-solve with other column bounds and a
    starting solution (HiGHS takes it as its first incumbent).

    Uses the HiGHS binding inside scipy (``scipy.optimize._highspy``) when it offers
    ``setSolution``; otherwise every solve goes through ``scipy.optimize.milp`` without the
    start (``warm_start`` tells which).
    """

    def __init__(self, values, A, row_lb, row_ub, lb, ub, integrality):
        self.values = np.asarray(values, dtype=float)
        self.n = self.values.size
        self.A, self.row_lb, self.row_ub = A, np.asarray(row_lb, float), np.asarray(row_ub, float)
        self.lb = np.asarray(lb, dtype=float)
        self.ub = np.asarray(ub, dtype=float)
        self.integrality = np.asarray(integrality, dtype=float)
        self.warm_start = _hcore is not None
        if self.warm_start:
            self._load()

    def _load(self):
        csc = self.A.tocsc()
        lp = _hcore.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = self.A.shape[0]
        lp.col_cost_ = -self.values
        lp.col_lower_ = self.lb
        lp.col_upper_ = self.ub
        inf = _hcore.kHighsInf
        lp.row_lower_ = np.where(np.isfinite(self.row_lb), self.row_lb, -inf)
        lp.row_upper_ = np.where(np.isfinite(self.row_ub), self.row_ub, inf)
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = self.A.shape[0]
        lp.a_matrix_.format_ = _hcore.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        if np.any(self.integrality):
            lp.integrality_ = [_hcore.HighsVarType(int(i)) for i in self.integrality]
        h = _hcore._Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self.h = h

    def solve(self, time_limit_s: float, lb=None, ub=None, start=None, cutoff=None,
              mip_rel_gap: float = 0.0) -> MilpResult:
        lb = self.lb if lb is None else np.asarray(lb, float)
        ub = self.ub if ub is None else np.asarray(ub, float)
        if not self.warm_start:
            return maximize(self.values, self.A, self.row_lb, self.row_ub, lb, ub,
                            self.integrality, time_limit_s, mip_rel_gap, cutoff)
        h = self.h
        idx = np.arange(self.n, dtype=np.int32)
        h.changeColsBounds(self.n, idx, lb, ub)
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.setOptionValue("objective_bound", -float(cutoff) if cutoff is not None else _hcore.kHighsInf)
        if start is not None:
            sol = _hcore.HighsSolution()
            sol.col_value = np.asarray(start, dtype=float)
            h.setSolution(sol)
        with _quiet_stdout():
            h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        S = _hcore.HighsModelStatus
        has_x = info.objective_function_value != _hcore.kHighsInf and status in (
            S.kOptimal, S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt)
        x = np.array(h.getSolution().col_value) if has_x else None
        obj = -float(info.objective_function_value) if has_x else -math.inf
        optimal = status == S.kOptimal and has_x
        infeasible = status == S.kInfeasible
        if not np.any(self.integrality):
            bound = obj if optimal else math.inf
        else:
            dual = info.mip_dual_bound
            bound = -float(dual) if np.isfinite(dual) and abs(dual) < _hcore.kHighsInf else math.inf
            if optimal:
                bound = max(obj, bound) if math.isfinite(bound) else obj
            if infeasible and cutoff is not None:
                bound = float(cutoff)
        return MilpResult(x, obj, bound, optimal, infeasible, int(status),
                          h.modelStatusToString(status))
