"""SPOT5 multi-orbit: an upper bound on the optimum with the capacity exactly as the file gives it.

    python benchmarks/spot5_exact_bound.py NAME [NAME ...] [--instances DIR] [--solutions DIR]
                                          [--time-limit S]

Written from the file format only (no planner code); every MILP is HiGHS's and must be proved
optimal within the time limit, else the script says which one was not and gives no bound.
The argument, for one instance:

1. **Units.** Every consumption is ``k * r`` with ``k = round(c / 451.1)`` in 1, 2 or 4 and
   ``r`` in ``[r_min, r_max]``. A plan's units ``sum k <= sum c / r_min <= C / r_min``, so at
   most ``U = floor(C / r_min)`` units (199 of 90000 on 1021); every bound below uses units.
2. **Tiers.** Photographs of weight 1000 or 2000 are heavy; the light ones weigh less than
   1000 together, so a plan with less heavy value than another scores less.
3. **Components** of the constraint graph; ``B`` holds the most heavy value. ``Hb`` is B's
   largest heavy value alone (no capacity), ``Hr`` the sum of the others' (each alone).
   Every plan has ``H <= Hb + Hr``; one below scores less than ``Hb + Hr``.
4. A plan with ``H = Hb + Hr`` has B at ``Hb``, where ``m = min(units_B - light_B)``: B's
   value is at most ``Hb + units_B - m``.
5. ``g(u)``: the most the other components score within ``u`` units (each component's value
   per number of units, combined by dynamic programming). The bound is
   ``Hb + max over u_B of (u_B - m + g(U - u_B))``.

The solution files of ``bench_spot5.py`` (``--solutions``), when present, start the MILPs of
steps 3 and 4 (HiGHS prunes with them; the bound does not depend on them).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import highspy
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.planning.spot5_check import spot5_dir  # noqa: E402

UNIT = 451.1
HEAVY = 1000


class NotProved(Exception):
    pass


def read(path):
    """Columns (one per photograph and value): weight, consumption, photograph index,
    (photograph id, value) key; forbidden tuples as column lists; the capacity."""
    with open(path) as f:
        rows = [ln.split() for ln in f if ln.strip()]
    n = int(rows[0][0])
    col, w, c, var, keys = {}, [], [], [], []
    for i, line in enumerate(rows[1:1 + n]):
        for j in range(int(line[2])):
            key = (int(line[0]), int(line[3 + 2 * j]))
            col[key] = len(w)
            keys.append(key)
            w.append(float(line[1]))
            c.append(float(line[4 + 2 * j]))
            var.append(i)
    m = int(rows[1 + n][0])
    cons = rows[2 + n:2 + n + m]
    cap = float(cons[-1][0]) if cons and len(cons[-1]) == 1 else None
    tuples = []
    for line in cons[:-1] if cap is not None else cons:
        a = int(line[0])
        ids = [int(x) for x in line[1:1 + a]]
        vals = [int(x) for x in line[1 + a:]]
        for q in range(0, len(vals), a):
            cols = [col.get(key) for key in zip(ids, vals[q:q + a])]
            if None not in cols:
                tuples.append(cols)
    return np.array(w), np.array(c), np.array(var), keys, tuples, cap


def solve(obj, var, tuples, extra, time_limit_s, start=None):
    """Proved ``max obj @ x`` over 0/1 columns: one value per photograph, no forbidden
    tuple, ``lo <= coef @ x <= hi`` for each ``(coef, lo, hi)`` in ``extra``."""
    n = obj.size
    r, cidx, val, lo, hi = [], [], [], [], []
    for k, i in enumerate(np.unique(var)):
        idx = np.flatnonzero(var == i)
        r += [k] * idx.size
        cidx += idx.tolist()
        val += [1.0] * idx.size
        lo.append(-math.inf)
        hi.append(1.0)
    for t in tuples:
        k = len(lo)
        r += [k] * len(t)
        cidx += list(t)
        val += [1.0] * len(t)
        lo.append(-math.inf)
        hi.append(len(t) - 1.0)
    for coef, a, b in extra:
        k = len(lo)
        idx = np.flatnonzero(coef)
        r += [k] * idx.size
        cidx += idx.tolist()
        val += coef[idx].tolist()
        lo.append(a)
        hi.append(b)
    A = csr_matrix((val, (r, cidx)), shape=(len(lo), n))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(lo)
    lp.col_cost_ = np.asarray(obj, float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.where(np.isfinite(lo), lo, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(hi), hi, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    lp.sense_ = highspy.ObjSense.kMaximize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.setOptionValue("time_limit", float(time_limit_s))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, float)
        h.setSolution(sol)
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return -math.inf
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise NotProved(f"not proved in {time_limit_s:g} s")
    return float(h.getInfo().objective_function_value)


def load_start(path, keys):
    """A solution file's point (n,), or None without one; one it cannot read is no start."""
    if not os.path.isfile(path):
        return None
    where = {k: i for i, k in enumerate(keys)}
    x = np.zeros(len(keys))
    with open(path) as f:
        for line in f:
            if line.strip():
                try:
                    a, b = map(int, line.split())
                    x[where[(a, b)]] = 1.0
                except (KeyError, ValueError):
                    return None
    return x


def bound(path, start_path, time_limit_s, say):
    w, c, var, keys, tuples, cap = read(path)
    if cap is None:
        raise NotProved("no capacity: not a multi-orbit instance")
    k = np.where(c > 0, np.maximum(np.round(c / UNIT), 1.0), 0.0)
    ratio = c[c > 0] / k[c > 0]
    units = int(math.floor(cap / ratio.min()))
    heavy = w >= HEAVY
    light_by_var = np.zeros(var.max() + 1)
    np.maximum.at(light_by_var, var, np.where(heavy, 0.0, w))
    light_max = float(light_by_var.sum())
    if np.any(w[heavy] % HEAVY) or light_max >= HEAVY:
        raise NotProved("no tiers: heavy weights not multiples of 1000, or light ones 1000 or more together")
    say(f"  units: every consumption is k * r, k in {', '.join(str(int(v)) for v in np.unique(k[c > 0]))}, r in "
        f"[{ratio.min():.2f}, {ratio.max():.2f}]: "
        f"at most {units} units in {cap:g}")
    a, b = [], []
    for t in tuples:
        vs = var[t]
        a += [vs[0]] * (len(vs) - 1)
        b += vs[1:].tolist()
    nv = var.max() + 1
    comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(nv, nv)), directed=False)[1]
    col_comp = comp[var]
    x0 = load_start(start_path, keys)
    by_comp: dict[int, list] = {}
    for t in tuples:
        by_comp.setdefault(int(col_comp[t[0]]), []).append(t)

    def part(cc):
        cols = np.flatnonzero(col_comp == cc)
        where = {g: i for i, g in enumerate(cols)}
        return cols, [[where[q] for q in t] for t in by_comp.get(int(cc), [])]

    heavy_max = {}
    for cc in np.unique(col_comp[heavy]):
        cols, sub = part(cc)
        hv = np.where(heavy[cols], w[cols] / HEAVY, 0.0)
        t0 = time.perf_counter()
        heavy_max[cc] = HEAVY * round(solve(hv, var[cols], sub, [], time_limit_s,
                                            None if x0 is None else x0[cols]))
        if cols.size > 100:
            say(f"  component of {cols.size} columns: heavy value at most {heavy_max[cc]:.0f} "
                f"(proved in {time.perf_counter() - t0:.1f} s)")
    big = max(heavy_max, key=heavy_max.get)
    hb, hr = heavy_max[big], sum(v for cc, v in heavy_max.items() if cc != big)
    say(f"  heavy value at most {hb:.0f} + {hr:.0f} = {hb + hr:.0f}")
    cols, sub = part(big)
    t0 = time.perf_counter()
    m = -round(solve(np.where(heavy[cols], 0.0, w[cols]) - k[cols], var[cols], sub,  # integral
                     [(np.where(heavy[cols], w[cols], 0.0), hb - 0.5, math.inf)], time_limit_s,
                     None if x0 is None else x0[cols]))
    say(f"  with {hb:.0f} of heavy value, the big component's units minus its light value: at "
        f"least {m:.0f} (proved in {time.perf_counter() - t0:.1f} s)")
    g = np.zeros(units + 1)  # the other components' best value within u units
    t0 = time.perf_counter()
    for cc in np.unique(col_comp):
        if cc == big:
            continue
        cols, sub = part(cc)
        top = solve(w[cols], var[cols], sub, [], time_limit_s)
        if not np.any(k[cols] > 0):
            g += top
            continue
        f = np.empty(units + 1)
        for u in range(units + 1):
            f[u] = solve(w[cols], var[cols], sub, [(k[cols], -math.inf, u)], time_limit_s)
            if f[u] >= top - 1e-6:
                f[u:] = f[u]
                break
        g = np.array([np.max(g[:u + 1][::-1] + f[:u + 1]) for u in range(units + 1)])
    say(f"  the other components within u units, each proved ({time.perf_counter() - t0:.1f} s): "
        f"g({units}) = {g[units]:.0f}")
    # B's units are at least m (its light value is not negative)
    best = max((hb + u - m + g[units - u] for u in range(max(m, 0), units + 1)), default=-math.inf)
    return max(best, hb + hr - HEAVY + light_max)  # the second: plans with less heavy value


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="+", help="multi-orbit instance names, e.g. 1021 1405")
    ap.add_argument("--instances", default=spot5_dir(), help="folder of *.spot files")
    ap.add_argument("--solutions", default="spot5_solutions", help="bench_spot5.py's solution files (starts)")
    ap.add_argument("--time-limit", type=float, default=1200.0, help="seconds per MILP (default 1200)")
    args = ap.parse_args(argv)
    status = 0
    for name in args.names:
        path = os.path.join(args.instances, f"{name}.spot")
        if not os.path.isfile(path):
            print(f"spot5_exact_bound: no file {path}", file=sys.stderr)
            return 2
        print(f"{name}:", flush=True)
        t0 = time.perf_counter()
        try:
            value = bound(path, os.path.join(args.solutions, f"{name}.sol"), args.time_limit,
                          lambda s: print(s, flush=True))
        except NotProved as exc:
            print(f"  no bound: {exc}")
            status = 1
            continue
        except (ValueError, IndexError) as exc:
            print(f"spot5_exact_bound: {path} is not a SPOT5 instance ({exc})", file=sys.stderr)
            return 2
        print(f"  every plan of {name} scores at most {value:.0f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
