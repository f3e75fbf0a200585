"""Forbidden triples grown into "at most two" sets (``_selection._triple_cover``): every
feasible choice, enumerated from the problem's definition, satisfies every row, and the sets
do grow past three columns and tighten the LP."""
import itertools

import numpy as np
import pytest
from scipy.sparse import csr_matrix, vstack

from groundseg.planning import (Alternative, Incompatibility, Problem, Resource, Task, _highs, _selection,
                                milp)

from ._brute import brute_optimum


def crowded_triples(seed, n=9):
    """Untimed tasks (1-2 alternatives), dense forbidden triples among the first columns,
    some pairs: the kind of structure SPOT5's data-rate constraints give."""
    rng = np.random.default_rng(seed)
    tasks = [Task(t, float(rng.integers(1, 10)),
                  [Alternative(resource=0, data_gbit=1.0, label=str(v))
                   for v in range(int(rng.integers(1, 3)))])
             for t in range(n)]
    keys = [(t, v) for t in range(n) for v in range(len(tasks[t].alternatives))]
    dense = [keys[i] for i in rng.choice(len(keys), size=min(7, len(keys)), replace=False)]
    inc = set()
    for tri in itertools.combinations(dense, 3):
        if len({k[0] for k in tri}) == 3 and rng.random() < 0.85:
            inc.add(tri)
    for _ in range(6):
        a, b = rng.choice(len(keys), size=2, replace=False)
        if keys[a][0] != keys[b][0]:
            inc.add((keys[a], keys[b]))
    for _ in range(4):
        tri = tuple(keys[i] for i in rng.choice(len(keys), size=3, replace=False))
        if len({k[0] for k in tri}) == 3:
            inc.add(tri)
    return Problem(tasks, resources=[Resource("SAT")],
                   incompatibilities=[Incompatibility(m) for m in sorted(inc)]), keys, sorted(inc)


def feasible_choices(tasks_alts, keys, inc):
    """Every set of (task, alternative) keys with one alternative per task at most and no
    forbidden tuple inside, straight from the definition."""
    forbidden = [set(m) for m in inc]
    for choice in itertools.product(*[[None] + list(range(k)) for k in tasks_alts]):
        chosen = {(t, v) for t, v in enumerate(choice) if v is not None}
        if not any(f <= chosen for f in forbidden):
            yield chosen


@pytest.mark.parametrize("seed", range(12))
def test_every_feasible_choice_satisfies_the_sets(seed):
    p, keys, inc = crowded_triples(seed)
    m = _selection.build(p)
    A, lb, ub = m.rows.matrix(m.n_cols)
    col = {k: int(m.col_of[p.task_alts[k[0]][k[1]]]) for k in keys}
    n_alts = [int(len(p.task_alts[t])) for t in range(p.n_tasks)]
    count = 0
    for chosen in feasible_choices(n_alts, keys, inc):
        x = np.zeros(m.n_cols)
        x[[col[k] for k in chosen]] = 1.0
        assert np.all(A @ x <= ub + 1e-9) and np.all(A @ x >= lb - 1e-9), (seed, sorted(chosen))
        count += 1
    assert count > 1


def test_sets_grow_and_tighten_the_lp():
    grown, tighter = 0, 0
    for seed in range(12):
        p, _, _ = crowded_triples(seed)
        m = _selection.build(p)
        A, lb, ub = m.rows.matrix(m.n_cols)
        sets = ub == 2.0
        grown += int(np.any(np.diff(A.indptr)[sets] > 3))
        bound = milp.relaxation_bound(p, m)
        assert bound >= brute_optimum(p) - 1e-9
        # the same rows with each triple as its own row instead of the sets
        tri = np.array([[m.col_of[a] for a in members] for members in p.incompat if len(members) == 3])
        T = csr_matrix((np.ones(tri.size), tri.ravel(), np.arange(0, tri.size + 1, 3)),
                       shape=(len(tri), m.n_cols))
        plain = _highs.maximize(m.values, vstack([A[~sets], T]).tocsr(),
                                np.concatenate([lb[~sets], np.full(len(tri), -np.inf)]),
                                np.concatenate([ub[~sets], np.full(len(tri), 2.0)]),
                                m.lb, m.ub, np.zeros(m.n_cols), 10.0)
        assert plain.bound >= bound - 1e-9
        tighter += int(plain.bound > bound + 1e-6)
    assert grown >= 8 and tighter >= 4
