"""SPOT5 loader and solutions, checked by a parser written here that rereads the file."""
import os

import pytest

from groundseg.planning import PlanningError, read_spot5, solve, spot5_solution, verify_plan, write_spot5_solution

from .spot5_check import check_solution

# Bensana et al. (1999), Table 1 (as listed in the benchmark README); all proved optimal
KNOWN_OPTIMA = {"8": 10, "54": 70, "29": 12032, "404": 49, "503": 9096, "42": 108067,
                "505": 13100, "412": 16102, "1502": 61158}



@pytest.mark.parametrize("name", sorted(KNOWN_OPTIMA, key=int))
def test_fast_instances_reach_the_proved_optimum(name, tmp_path, spot5_dir):
    inst = read_spot5(os.path.join(spot5_dir, f"{name}.spot"))
    plan = solve(inst.problem, time_limit_s=30)
    assert plan.status == "optimal"
    assert plan.objective == KNOWN_OPTIMA[name] == plan.upper_bound
    assert verify_plan(inst.problem, plan) == []
    out = tmp_path / f"{name}.sol"
    write_spot5_solution(out, spot5_solution(inst, plan))
    lines = out.read_text().splitlines()
    assert len(lines) == len(plan.acquisitions)
    assert check_solution(inst.path, lines) == KNOWN_OPTIMA[name]


def test_loader_maps_values_consumptions_and_capacity(spot5_dir):
    inst = read_spot5(os.path.join(spot5_dir, "1502.spot"))
    p = inst.problem
    assert inst.capacity == 90000.0 and p.res_capacity_gbit[0] == 90000.0
    assert p.is_selection and p.n_tasks == 209
    with open(inst.path) as f:
        first = f.readlines()[1].split()
    t = p.task_index[int(first[0])]
    assert p.task_weight[t] == float(first[1])
    alts = p.task_alts[t]
    assert [p.alt_label[a] for a in alts] == first[3:3 + 2 * int(first[2]):2]
    assert [p.alt_data_gbit[a] for a in alts] == [float(x) for x in first[4:4 + 2 * int(first[2]):2]]
    single = read_spot5(os.path.join(spot5_dir, "54.spot"))
    assert single.capacity is None and single.problem.res_capacity_gbit[0] == float("inf")


def test_a_checker_that_can_fail(tmp_path):
    f = tmp_path / "tiny.spot"
    f.write_text("3\n0 5 2 1 1.0 2 1.0\n1 3 1 2 2.0\n2 1 1 13 4.0\n2\n2 0 1 2 2\n5\n")
    inst = read_spot5(f)
    plan = solve(inst.problem)
    lines = [f"{i} {v}" for i, v in spot5_solution(inst, plan)]
    assert check_solution(f, lines) == plan.objective == 8  # 0=1 and 1=2 (3 + 5), 2 does not fit
    with pytest.raises(AssertionError, match="violated"):
        check_solution(f, ["0 2", "1 2"])
    with pytest.raises(AssertionError, match="capacity"):
        check_solution(f, ["0 1", "1 2", "2 13"])


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("2\n0 1 1 1 0\n", r"bad.spot:2: file ends early"),
    ("1\n0 1 2 1 0\n0\n", r"bad.spot:2: variable 0: 2 values need 4 numbers"),
    ("1\n0 1 1 1 x\n0\n", r"bad.spot:2: variable 0: consumption 'x'"),
    ("1\n0 1 1 1 0\n1\n2 0 7 1 1\n", r"bad.spot:4: unknown variable 7"),
    ("1\n0 1 1 1 0\n1\n2 0 0 1 1\n", r"bad.spot:4: a variable appears twice"),
    ("1\n0 1 1 1 0\n1\n2 0\n", r"bad.spot:4: arity 2 does not match"),
    ("1\n0 1 1 1 0\n0\n7\n", r"bad.spot:4: unexpected data"),
    ("0\n0\n", r"bad.spot:1: 0 variables"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, message):
    f = tmp_path / "bad.spot"
    f.write_text(text)
    with pytest.raises(PlanningError, match=message):
        read_spot5(f)
