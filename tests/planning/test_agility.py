import math

import numpy as np
import pytest

from groundseg.planning import (PiecewiseAgility, PlanningError, RateAccelerationAgility,
                                agility_from_dict)
from groundseg.planning.agility import scalar_transition

from ._brute import piecewise_s


# Liu et al. (2017): g = |droll| + |dpitch|; values written out by hand from the formula
@pytest.mark.parametrize("g, expected", [
    (0.0, 11.66), (5.0, 11.66), (10.0, 11.66),
    (20.0, 5 + 20 / 1.5), (30.0, 25.0),
    (45.0, 32.5), (60.0, 40.0),
    (75.0, 46.0), (90.0, 52.0),
    (120.0, 62.0), (180.0, 82.0),
])
def test_piecewise_published_values(g, expected):
    m = PiecewiseAgility()
    # split g over roll and pitch with mixed signs: only |droll| + |dpitch| matters
    got = m.transition_time_s([0.3 * g, -10.0], [-0.7 * g + 0.0, -10.0 + 0.0])
    assert float(got) == pytest.approx(expected, abs=1e-12) or g == 0
    assert float(m.transition_time_s([0, 0], [g / 2, -g / 2])) == pytest.approx(expected, abs=1e-12)
    assert scalar_transition(m)(0.0, 0.0, g / 2, -g / 2, 0.0, 0.0) == pytest.approx(expected, abs=1e-12)
    assert piecewise_s(g / 2, -g / 2) == pytest.approx(expected, abs=1e-12)


def test_piecewise_continuous_nondecreasing_and_vectorised():
    m = PiecewiseAgility()
    g = np.linspace(0, 200, 20001)
    t = m.time_of_angle_s(g)
    assert np.all(np.diff(t) >= -1e-12)
    for b in (30.0, 60.0, 90.0):  # continuity at the breakpoints
        assert m.time_of_angle_s(b - 1e-9) == pytest.approx(m.time_of_angle_s(b + 1e-9), abs=1e-6)
    # the published 11.66 s is 5 + 10 / 1.5 rounded down: a 6.7 ms step at g = 10
    assert m.time_of_angle_s(10 + 1e-9) - m.time_of_angle_s(10.0) == pytest.approx(1 / 150, abs=1e-6)
    rng = np.random.default_rng(0)
    a = rng.uniform(-60, 60, size=(50, 2))
    b = rng.uniform(-60, 60, size=(50, 2))
    vec = m.transition_time_s(a, b)
    assert vec.shape == (50,)
    one = scalar_transition(m)
    for i in range(50):
        assert vec[i] == pytest.approx(piecewise_s(*(b[i] - a[i])), abs=1e-12)
        assert one(*a[i], *b[i], 0.0, 0.0) == pytest.approx(vec[i], abs=1e-12)


def _reachable_deg(t, rate, accel):
    """Largest angle a rest-to-rest slew covers in time t with rate and acceleration limits."""
    if t <= 2 * rate / accel:
        return accel * t * t / 4
    return rate * t - rate * rate / accel


def _min_time(theta, rate, accel):
    lo, hi = 0.0, 1e4
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _reachable_deg(mid, rate, accel) >= theta:
            hi = mid
        else:
            lo = mid
    return hi


@pytest.mark.parametrize("rate, accel, settle", [(3.0, 1.0, 3.0), (1.5, 0.2, 0.0), (5.0, 2.5, 10.0)])
def test_rate_acceleration_against_inverse_of_reachable_angle(rate, accel, settle):
    m = RateAccelerationAgility(rate, accel, settle)
    rng = np.random.default_rng(1)
    for _ in range(40):
        dr, dp = rng.uniform(-90, 90, size=2)
        want = max(_min_time(abs(dr), rate, accel), _min_time(abs(dp), rate, accel)) + settle
        assert scalar_transition(m)(0.0, 0.0, dr, dp, 0.0, 0.0) == pytest.approx(want, abs=1e-6)
        assert float(m.transition_time_s([0, 0], [dr, dp])) == pytest.approx(want, abs=1e-6)
    assert m.min_transition_s == settle


def test_agility_from_dict_and_errors():
    assert isinstance(agility_from_dict(None), PiecewiseAgility)
    assert isinstance(agility_from_dict({"model": "piecewise"}), PiecewiseAgility)
    m = agility_from_dict({"model": "rate_acceleration", "rate_deg_s": 2, "accel_deg_s2": 0.5})
    assert m.to_dict() == {"model": "rate_acceleration", "rate_deg_s": 2.0, "accel_deg_s2": 0.5,
                           "settle_s": 3.0}
    with pytest.raises(PlanningError, match="plan.agility.model: unknown agility model 'fast'"):
        agility_from_dict({"model": "fast"}, where="plan.agility")
    with pytest.raises(PlanningError, match="agility: rate_deg_s must be a positive number"):
        agility_from_dict({"model": "rate_acceleration", "rate_deg_s": -1})
    with pytest.raises(PlanningError, match="unknown keys"):
        agility_from_dict({"model": "piecewise", "rate_deg_s": 1})
    assert math.isclose(PiecewiseAgility().min_transition_s, 11.66)
