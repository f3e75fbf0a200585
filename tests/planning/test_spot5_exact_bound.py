"""benchmarks/spot5_exact_bound.py against brute force: on small multi-orbit instances in the
SPOT5 format (consumptions k * ~451, a capacity, heavy and light photographs), its bound is
never below the best plan, found by enumerating every plan."""
import importlib.util
import itertools
import os

import numpy as np
import pytest

from .spot5_check import check_solution

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "spot5_exact_bound.py")
_spec = importlib.util.spec_from_file_location("spot5_exact_bound", _PATH)
exact_bound = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exact_bound)


def _instance(seed, path):
    """Seven photographs (two joined into the heavy component by forbidden pairs), their
    domains among 1, 2, 3, 13; forbidden pairs and triples; the capacity."""
    rng = np.random.default_rng(seed)
    n = 7
    lines, domains = [], []
    for i in range(n):
        vals = sorted(rng.choice([1, 2, 3, 13], size=int(rng.integers(1, 3)), replace=False).tolist())
        weight = int(rng.choice([1, 2, 1000, 2000]))
        pairs = " ".join(f"{v} {int(rng.choice([1, 2, 4])) * rng.uniform(450.95, 451.2):.2f}" for v in vals)
        lines.append(f"{i} {weight} {len(vals)} {pairs}")
        domains.append(vals)
    cons = []
    for _ in range(int(rng.integers(3, 8))):
        arity = 2 if rng.random() < 0.7 else 3
        ids = sorted(rng.choice(n, size=arity, replace=False).tolist())
        tuples = [v for i in ids for v in [int(rng.choice(domains[i]))]]
        cons.append(f"{arity} {' '.join(map(str, ids))} {' '.join(map(str, tuples))}")
    capacity = float(rng.uniform(1000, 3000))
    with open(path, "w") as f:
        f.write(f"{n}\n" + "\n".join(lines) + f"\n{len(cons) + 1}\n" + "\n".join(cons) + f"\n{capacity:.0f}\n")
    return domains


def _brute(path, domains):
    best = 0
    for choice in itertools.product(*[[0] + d for d in domains]):
        plan = [(i, v) for i, v in enumerate(choice) if v]
        try:
            best = max(best, check_solution(path, plan))
        except AssertionError:
            pass
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_bound_is_never_below_the_best_plan(seed, tmp_path):
    path = tmp_path / f"{seed}.spot"
    domains = _instance(seed, path)
    try:
        value = exact_bound.bound(str(path), str(tmp_path / "none.sol"), 30, lambda s: None)
    except exact_bound.NotProved as exc:
        assert "no tiers" in str(exc)  # a random instance may have no heavy photograph
        return
    assert value >= _brute(path, domains)
