"""Independent SPOT5 solution checker: rereads the instance file (shared by the tests and
benchmarks/bench_spot5.py; nothing from groundseg), and where the instance files are."""
import os


def spot5_dir() -> str:
    """The SPOT5 folder: ``$GROUNDSEG_SPOT5_DIR``, else ``shared/benchmarks/spot5`` beside the
    checkout (as CI lays it), else the workplace's ``/work/shared/benchmarks/spot5``."""
    env = os.environ.get("GROUNDSEG_SPOT5_DIR")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    beside = os.path.join(os.path.dirname(repo), "shared", "benchmarks", "spot5")
    return beside if os.path.isdir(beside) else "/work/shared/benchmarks/spot5"


def check_solution(spot_path, lines):
    """Weight of the ``id value`` lines (strings or (id, value) pairs); AssertionError on any
    violation of the instance as the file gives it (domains, constraints, capacity)."""
    with open(spot_path) as f:
        rows = [ln.split() for ln in f if ln.strip()]
    n = int(rows[0][0])
    weight, domain = {}, {}
    for r in rows[1:1 + n]:
        k = int(r[2])
        weight[int(r[0])] = int(r[1])
        domain[int(r[0])] = {int(r[3 + 2 * j]): float(r[4 + 2 * j]) for j in range(k)}
    m = int(rows[1 + n][0])
    cons = rows[2 + n:2 + n + m]
    capacity = None
    if cons and len(cons[-1]) == 1:
        capacity = float(cons[-1][0])
        cons = cons[:-1]
    sol = {}
    for ln in lines:
        vid, val = (int(x) for x in (ln.split() if isinstance(ln, str) else ln))
        assert vid in domain and val in domain[vid], f"bad pair {vid} {val}"
        assert vid not in sol, f"{vid} twice"
        sol[vid] = val
    for c in cons:
        a = int(c[0])
        vs = [int(x) for x in c[1:1 + a]]
        ts = [int(x) for x in c[1 + a:]]
        for q in range(0, len(ts), a):
            if all(sol.get(v) == t for v, t in zip(vs, ts[q:q + a])):
                raise AssertionError(f"constraint {c[:1 + a]} violated by {ts[q:q + a]}")
    if capacity is not None:
        used = sum(domain[v][x] for v, x in sol.items())
        assert used <= capacity, f"capacity {used} > {capacity}"
    return sum(weight[v] for v in sol)
