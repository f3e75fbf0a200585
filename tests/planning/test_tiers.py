"""Lexicographic value tiers (SPOT5 weights 1000/2000 over 1/2/5) against brute force."""
import numpy as np
import pytest

from groundseg.planning import Alternative, Incompatibility, Problem, Resource, Task, milp
from groundseg.planning import _highs, _selection, _tiers

from ._brute import brute_optimum
from .test_selection import random_selection


def _with_weights(p_seed, weights):
    """``random_selection(p_seed)`` with the task weights replaced."""
    p = random_selection(p_seed)
    tasks = [Task(t, float(w), [Alternative(resource=0, data_gbit=float(p.alt_data_gbit[a]),
                                             label=p.alt_label[a]) for a in p.task_alts[t]],
                  group=int(p.task_group[t]) if p.task_group[t] >= 0 else None)
             for t, w in enumerate(weights)]
    inc = [Incompatibility(tuple((int(p.alt_task[a]), int(p.alt_local[a])) for a in members))
           for members in p.incompat]
    return Problem(tasks, resources=[Resource("SAT", memory_capacity_gbit=float(p.res_capacity_gbit[0]))],
                   incompatibilities=inc)


def test_tiers_found_only_when_the_light_values_add_up_to_less_than_the_step():
    heavy = _with_weights(1, [2000, 1000, 2, 1, 5, 2000, 1, 1])
    high, step, light = _tiers.value_tiers(_selection.build(heavy))
    m = _selection.build(heavy)
    assert step == 1000 and light == 10
    assert np.array_equal(high, m.values >= 1000)
    # light values adding up to the step, or a fractional weight: no tiers
    assert _tiers.value_tiers(_selection.build(_with_weights(1, [20, 10, 2, 1, 5, 20, 1, 1]))) is None
    assert _tiers.value_tiers(_selection.build(_with_weights(1, [2000, 1000, 2.5, 1, 5, 2000, 1, 1]))) is None


@pytest.mark.parametrize("seed", range(12))
def test_both_stages_and_the_cut_keep_the_optimum(seed):
    p = random_selection(seed)
    model = _selection.build(p)
    mip = _tiers.TieredMip(model)
    if mip.high is None:
        pytest.skip("no tiers")
    best = brute_optimum(p)
    threshold = model.values[mip.high].min()
    high_only = brute_optimum(_with_weights(seed, np.where(p.task_weight >= threshold, p.task_weight, 0)))
    empty = np.zeros(model.n_cols)
    first = mip.maximize_high(10, empty)
    assert first.optimal and first.objective == pytest.approx(high_only)
    assert mip.high_bound == pytest.approx(high_only)
    # from the stage-one point and from a poor one (the empty plan): the true optimum,
    # and a bound valid for every plan
    for start in (first.x, empty):
        res = mip.solve(10, start=start)
        assert res.optimal and res.objective == pytest.approx(best)
        assert res.bound >= best - 1e-9
        assert res.bound <= mip.high_bound + mip.light_max


@pytest.mark.parametrize("seed", range(6))
def test_components_polished_one_by_one_then_the_whole(seed):
    p = random_selection(seed)
    best = brute_optimum(p)
    model, mip = milp.selection_mip(p)
    x = milp.polish_components(p, model, mip, np.zeros(model.n_cols), deadline=float("inf"))
    if not np.isfinite(p.res_capacity_gbit[0]):
        # nothing links the components: each at its optimum is the optimum
        assert model.values @ x == pytest.approx(best)
    # the last sub-MILP's fixings must not stay loaded for a solve of the whole model
    res = mip.solve(10, start=x)
    assert res.optimal and res.objective == pytest.approx(best)


def test_a_solve_without_bounds_restores_the_model_bounds():
    values = np.array([3.0, 2.0])
    from scipy.sparse import csr_matrix
    mip = _highs.MipModel(values, csr_matrix(np.ones((1, 2))), [-np.inf], [2.0], np.zeros(2), np.ones(2), np.ones(2))
    assert mip.solve(5, lb=np.zeros(2), ub=np.array([0.0, 1.0])).objective == 2.0
    assert mip.solve(5).objective == 5.0
