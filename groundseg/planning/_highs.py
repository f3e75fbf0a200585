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
