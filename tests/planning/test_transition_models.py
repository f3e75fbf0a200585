"""User-defined transition models (a per-pair matrix, a plain callable, a time-dependent
function): honoured by every solver and by verify_plan, with no subclassing."""
import numpy as np
import pytest

from groundseg.planning import (Alternative, PlanningError, Problem, Task, TransitionFunction,
                                TransitionMatrix, TransitionModel, solve, verify_plan)

from ._brute import brute_optimum

METHODS = (("greedy", {}), ("lns", {"iterations": 300}), ("milp", {}), ("auto", {"iterations": 300}))


def matrix_problem(seed, n=6):
    """Constant attitudes ``(i, 0)`` (one per task) and an asymmetric table far from any
    built-in model: 5 s one way, 40 s the other."""
    rng = np.random.default_rng(seed)
    table = np.where(rng.random((n, n)) < 0.5, 5.0, 40.0)
    tasks = []
    for t in range(n):
        d = float(rng.uniform(5, 12))
        e = float(rng.uniform(0, 80))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 6)), [Alternative(
            earliest_start_s=e, latest_end_s=e + float(rng.uniform(d, 60)), duration_s=d,
            start_attitude_deg=(float(t), 0.0))]))
    model = TransitionMatrix(table, [(float(i), 0.0) for i in range(n)])
    return Problem(tasks, agility=model), table


@pytest.mark.parametrize("seed", range(4))
def test_matrix_model_in_every_solver_and_the_verifier(seed):
    p, table = matrix_problem(seed)
    best = brute_optimum(p, pair_transition=lambda a, b: table[int(a[0]), int(b[0])])
    for method, kw in METHODS:
        plan = solve(p, method=method, time_limit_s=30, **kw)
        assert verify_plan(p, plan) == [], method
        assert plan.objective <= best + 1e-9, method
        if method == "milp":
            assert plan.objective == pytest.approx(best)
        # every consecutive pair leaves the table's time (read here, not through the model)
        s = np.asarray(plan.acquisitions["start_s"])
        e = np.asarray(plan.acquisitions["end_s"])
        i = np.array([int(x[1:]) for x in plan.acquisitions["target"]])
        o = np.argsort(s)
        assert np.all(s[o][1:] - e[o][:-1] >= table[i[o][:-1], i[o][1:]] - 1e-6), method


def test_callable_and_time_dependent_models():
    calls = []

    def slow_then_fast(a, b, t0, t1):
        calls.append(1)
        g = np.abs(np.asarray(a)[..., 0] - np.asarray(b)[..., 0])
        return np.where(np.asarray(t0) < 100.0, 30.0, 2.0) + 0.1 * g

    model = TransitionFunction(slow_then_fast, min_transition_s=2.0, time_dependent=True)
    assert isinstance(model, TransitionModel)
    tasks = [Task(f"T{t}", 1.0, [Alternative(earliest_start_s=10.0 * t, latest_end_s=10.0 * t + 400.0,
                                             duration_s=8.0, start_attitude_deg=(5.0 * t, 0.0))])
             for t in range(5)]
    p = Problem(tasks, agility=model)
    for method, kw in METHODS:
        plan = solve(p, method=method, time_limit_s=30, **kw)
        assert verify_plan(p, plan) == [], method
        assert plan.objective == 5.0, method
        s = np.sort(np.asarray(plan.acquisitions["start_s"]))
        gaps = s[1:] - s[:-1] - 8.0
        ends = s[:-1] + 8.0
        need = np.where(ends < 100.0, 30.0, 2.0)
        assert np.all(gaps >= need - 1e-6), method
    # a bare callable is a model with minimum 0
    p2 = Problem(tasks, agility=lambda a, b: np.full(np.broadcast_shapes(np.shape(a)[:-1], np.shape(b)[:-1]), 50.0))
    plan = solve(p2, method="lns", iterations=100)
    assert verify_plan(p2, plan) == [] and len(plan.acquisitions) <= 5
    assert p2.agility.min_transition_s == 0.0


def test_verifier_uses_the_problem_model():
    """A plan made under a fast model breaks a slow one: the verifier reads the problem's."""
    fast, slow = (TransitionFunction(lambda a, b, v=v: np.full(np.broadcast_shapes(np.shape(a)[:-1], np.shape(b)[:-1]), v),
                                     min_transition_s=v) for v in (1.0, 60.0))
    tasks = [Task(f"T{t}", 1.0, [Alternative(earliest_start_s=0.0, latest_end_s=100.0, duration_s=10.0)])
             for t in range(3)]
    plan = solve(Problem(tasks, agility=fast), method="greedy")
    assert len(plan.acquisitions) == 3
    bad = verify_plan(Problem(tasks, agility=slow), plan)
    assert any("plus the transition" in b for b in bad)


def test_bad_models_are_refused():
    tasks = [Task("a", 1.0, [Alternative(earliest_start_s=0.0, latest_end_s=50.0, duration_s=5.0,
                                         start_attitude_deg=(3.0, 0.0))]),
             Task("b", 1.0, [Alternative(earliest_start_s=0.0, latest_end_s=50.0, duration_s=5.0)])]
    with pytest.raises(PlanningError, match="not a transition model"):
        Problem(tasks, agility=object())
    with pytest.raises(PlanningError, match="below the model's min_transition_s"):
        Problem(tasks, agility=TransitionFunction(lambda a, b: np.zeros(np.broadcast_shapes(np.shape(a)[:-1], np.shape(b)[:-1])),
                                                  min_transition_s=5.0))
    with pytest.raises(PlanningError, match="finite"):
        Problem(tasks, agility=TransitionMatrix([[1.0]], [(0.0, 0.0)]))  # (3, 0) is not in the table
    with pytest.raises(PlanningError, match="attitudes repeat"):
        TransitionMatrix(np.ones((2, 2)), [(0.0, 0.0), (0.0, 0.0)])
