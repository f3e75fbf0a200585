"""The insertion state: transitions through a removed acquisition, groups, time-varying
attitudes (start times found by the fixed-point search) checked by the verifier."""
import numpy as np
import pytest

from groundseg.planning import Alternative, Problem, Task, verify_plan
from groundseg.planning._search_state import State
from groundseg.planning.solve import build_plan


def _alt(e, l, d, start, end=None):
    return Alternative(earliest_start_s=e, latest_end_s=l, duration_s=d,
                       start_attitude_deg=start, end_attitude_deg=end)


@pytest.mark.parametrize("c_latest_end, c_kept", [(100.0, True), (35.0, False)])
def test_removal_pushes_or_drops_when_the_direct_transition_is_longer(c_latest_end, c_kept):
    # B turns 60 deg of roll while imaging: A -> B -> C needs 11.66 s twice, A -> C 40 s
    p = Problem([Task("A", 1.0, [_alt(0, 1, 1, (0, 0))]),
                 Task("B", 1.0, [_alt(0, 100, 1, (0, 0), (60, 0))]),
                 Task("C", 1.0, [_alt(20, c_latest_end, 1, (60, 0))], group="g"),
                 Task("D", 1.0, [_alt(500, 600, 1, (0, 0))], group="g")])
    st = State(p)
    for t in range(4):
        assert st.insert_task(t)
    assert st.start[2] == pytest.approx(25.32)
    st.remove_task(1)
    if c_kept:
        assert st.start[2] == pytest.approx(41.0)  # 1 + (10 + 60 / 2)
        assert st.chosen[3] >= 0
    else:
        assert st.chosen[2] == -1 and st.chosen[3] == -1  # C could not move: its group goes too
    plan = build_plan(p, st, 10.0, "feasible", "test", 0.0)
    assert verify_plan(p, plan) == []


def test_time_varying_attitudes_yield_feasible_earliest_starts():
    rng = np.random.default_rng(3)
    tasks = []
    for t in range(40):
        e = float(rng.uniform(0, 600))
        sweep = float(rng.uniform(0.2, 1.2))  # deg/s of pitch while the target passes
        w = 90.0
        d = float(rng.uniform(5, 12))
        roll = float(rng.uniform(-40, 40))
        p0 = 30.0
        p1 = p0 - sweep * (w - d)
        tasks.append(Task(f"T{t}", 1.0, [Alternative(
            earliest_start_s=e, latest_end_s=e + w, duration_s=d,
            start_attitude_deg=[(roll, p0), (roll, p1)],
            end_attitude_deg=[(roll, p0 - sweep * d), (roll, p1 - sweep * d)])]))
    p = Problem(tasks)
    st = State(p)
    for t in range(p.n_tasks):
        st.insert_task(t)
    n = sum(a >= 0 for a in st.chosen)
    assert 5 < n < 40
    plan = build_plan(p, st, float(p.n_tasks), "feasible", "test", 0.0)
    assert verify_plan(p, plan) == []
    # once compacted, each start is the earliest: a little earlier breaks the transition
    st.compact()
    assert verify_plan(p, build_plan(p, st, float(p.n_tasks), "feasible", "test", 0.0)) == []
    seq, starts = st.seq[0], st.seq_start[0]
    assert sum(a >= 0 for a in st.chosen) == n
    for j in range(1, len(seq)):
        a, b = seq[j - 1], seq[j]
        s = starts[j] - 1e-3
        if s >= p.alt_earliest_s[b]:
            assert s < starts[j - 1] + p.alt_duration_s[a] + p.transition_s(a, starts[j - 1], b, s)


def test_state_attitudes_equal_the_problems_interpolation():
    """The State's plain-Python lookup of sampled attitudes against Problem.attitude_deg."""
    rng = np.random.default_rng(3)
    tasks = []
    for t in range(6):
        k = int(rng.integers(2, 10))
        e = float(rng.uniform(0, 100))
        start = [(float(r), float(q)) for r, q in rng.uniform(-40, 40, (k, 2))]
        end = [(float(r), float(q)) for r, q in rng.uniform(-40, 40, (k, 2))]
        times = np.sort(rng.uniform(e, e + 110, k)).tolist()
        tasks.append(Task(t, 1.0, [Alternative(earliest_start_s=e, latest_end_s=e + 120, duration_s=10,
                                               start_attitude_deg=start, end_attitude_deg=end,
                                               attitude_times_s=times)]))
    p = Problem(tasks)
    st = State(p)
    for a in range(p.n_alts):
        for x in rng.uniform(p.alt_earliest_s[a] - 20, p.alt_latest_end_s[a] + 20, 50):
            assert st.start_att(a, x) == pytest.approx(p.attitude_deg(a, x), abs=1e-9)
            assert st.end_att(a, x) == pytest.approx(p.attitude_deg(a, x, end=True), abs=1e-9)
