"""Power and memory models: exact bookkeeping over a simulated week against a plain loop."""
import numpy as np
import pytest

from groundseg.orbits import Constellation
from groundseg.sun import sun_position_km, sunlit_fraction
from groundseg.timegrid import TimeGrid
from sims.errors import SimulationError
from groundseg.planning.agility import RateAccelerationAgility
from sims.schedule import slew_profile
from sims.spacecraft import (DOWNLINK, IDLE, IMAGING, MODES, SLEW, Fleet, MemoryModel,
                             PowerModel, SpacecraftModel)

STEP_S = 60.0
WEEK_STEPS = 7 * 1440


def _model(**kw):
    base = dict(swath_km=10, field_of_regard_deg=45, memory_capacity_gbit=60.0,
                image_data_rate_gbit_s=0.6123, downlink_rate_mbps=310.5, solar_array_power_w=260.0,
                battery_capacity_wh=180.0, loads_w={"idle": 90.0, "imaging": 230.0,
                                                    "downlink": 185.0, "slew": 150.0},
                initial_charge_fraction=0.5, initial_memory_gbit=7.25, charge_efficiency=0.9)
    base.update(kw)
    return SpacecraftModel(**base)


def _random_schedule(rng, n_step, n_sat):
    """Mode runs of random length, biased to imaging and downlink so memory fills and empties."""
    modes = np.empty((n_step, n_sat), dtype=np.int64)
    for s in range(n_sat):
        k = 0
        while k < n_step:
            run = int(rng.integers(1, 40))
            modes[k:k + run, s] = rng.choice([IDLE, IMAGING, DOWNLINK, SLEW], p=[0.3, 0.3, 0.3, 0.1])
            k += run
    return modes


def _reference(model, modes, sun, rates_mbps, dt):
    """A plain per-satellite loop written from the model's definition (scalars, no numpy)."""
    n_step, n_sat = modes.shape
    loads = [model.loads_w[m] for m in MODES]
    cap_j = model.battery_capacity_wh * 3600.0
    cap_bit = int(round(model.memory_capacity_gbit * 1e9))
    eta = model.charge_efficiency
    out = []
    for s in range(n_sat):
        q = model.initial_charge_fraction * cap_j
        stored = int(round(model.initial_memory_gbit * 1e9))
        led = dict(gen=0.0, dem=0.0, loss=0.0, spill=0.0, unserved=0.0, acc=0, rej=0, drained=0)
        carry_img = carry_dl = 0.0
        charge, memory = [q], [stored]
        for k in range(n_step):
            mode = int(modes[k, s])
            gen = model.solar_array_power_w * float(sun[k, s]) * dt
            dem = loads[mode] * dt
            led["gen"] += gen
            led["dem"] += dem
            if gen >= dem:
                into = min((gen - dem) * eta, cap_j - q)
                led["loss"] += into / eta - into
                led["spill"] += (gen - dem) - into / eta
                q += into
            else:
                need = dem - gen
                give = need if need <= q else q
                led["unserved"] += need - give
                q -= give
            fill = drain = 0
            if mode == IMAGING:
                x = model.image_data_rate_gbit_s * 1e9 * dt + carry_img
                fill = int(np.floor(x))
                carry_img = x - fill
            if mode == DOWNLINK:
                x = float(rates_mbps[k, s]) * 1e6 * dt + carry_dl
                drain = int(np.floor(x))
                carry_dl = x - drain
            d = min(stored, drain)
            stored -= d
            a = min(fill, cap_bit - stored)
            stored += a
            led["acc"] += a
            led["rej"] += fill - a
            led["drained"] += d
            charge.append(q)
            memory.append(stored)
        out.append((np.array(charge), np.array(memory, dtype=np.int64), led))
    return out


@pytest.fixture(scope="module")
def week():
    """Modes, real sunlit fractions (SGP4 + Sun + conical shadow) and contact rates for a week."""
    rng = np.random.default_rng(7)
    c = Constellation.sun_synchronous(4, 561.0, "2026-11-26T00:00:00Z", ltdn_h=10.5)
    grid = TimeGrid.from_seconds("2026-11-26T00:00:00Z", np.arange(WEEK_STEPS) * STEP_S)
    eph = c.propagate(grid)
    sun = sunlit_fraction(eph.position_km, sun_position_km(grid, "teme")).T    # (n_step, n_sat)
    modes = _random_schedule(rng, WEEK_STEPS, 4)
    rates = np.where(rng.random((WEEK_STEPS, 4)) < 0.5, 310.5, 150.25)
    return modes, sun, rates


def test_week_matches_reference_and_balances_exactly(week):
    modes, sun, rates = week
    assert 0.2 < np.mean(sun < 1) < 0.5 and np.any((sun > 0) & (sun < 1))   # eclipses, penumbra
    model = _model()
    fleet = Fleet(model, 4)
    hist = fleet.run(STEP_S, modes, sun, rates)
    ref = _reference(model, modes, sun, rates, STEP_S)
    p, m = fleet.power, fleet.memory
    for s, (charge_j, memory_bit, led) in enumerate(ref):
        assert np.max(np.abs(hist.charge_wh[:, s] * 3600.0 - charge_j)) < 1e-6      # joules
        assert np.array_equal(np.round(hist.memory_gbit[:, s] * 1e9).astype(np.int64), memory_bit)
        assert m.accepted_bit[s] == led["acc"] and m.rejected_bit[s] == led["rej"]
        assert m.drained_bit[s] == led["drained"]
        for ours, theirs in ((p.generated_j, "gen"), (p.demand_j, "dem"), (p.losses_j, "loss"),
                             (p.spilled_j, "spill"), (p.unserved_j, "unserved")):
            assert ours[s] == pytest.approx(led[theirs], rel=1e-12, abs=1e-6)
    # Every clipping path was exercised: full battery, empty battery, full and empty memory.
    assert np.all(p.spilled_j > 0) and np.all(p.unserved_j > 0)
    assert np.all(m.rejected_bit > 0) and np.any(hist.memory_gbit == 0, axis=0).all()
    # The ledgers balance: to the bit exactly, to the joule with margins of 1000.
    assert np.all(m.balance_error_bit() == 0)
    assert np.all(m.offered_bit == m.accepted_bit + m.rejected_bit)
    assert np.max(np.abs(p.balance_error_j())) < 1e-3
    assert np.all(p.charge_j >= 0) and np.all(p.charge_j <= p.capacity_j)
    # Per-step outputs add up to the ledger.
    assert np.allclose(hist.unserved_wh.sum(axis=0) * 3600, p.unserved_j, rtol=1e-12, atol=1e-6)
    assert np.array_equal(np.round(hist.drained_gbit.sum(axis=0) * 1e9).astype(np.int64), m.drained_bit)


def test_fractional_rates_lose_no_bit():
    """0.6123 Gbit/s for 1.7 s steps: the carried fraction keeps the total within one bit."""
    model = _model(memory_capacity_gbit=1e4, initial_memory_gbit=0.0)
    fleet = Fleet(model, 1)
    n = 5000
    for _ in range(n):
        fleet.step(1.7, [IMAGING], [1.0])
    exact = 0.6123e9 * 1.7 * n
    assert exact - 1 <= fleet.memory.stored_bit[0] <= exact


def test_power_edge_cases():
    p = PowerModel(2, 100.0, 0.0, [10.0, 20.0], initial_wh=[0.0, 100.0])
    unserved = p.step(3600.0, np.array([0, 1]), [0.0, 0.0])
    assert unserved[0] == 10.0 * 3600 and unserved[1] == 0.0
    assert p.charge_wh[1] == pytest.approx(80.0)
    with pytest.raises(SimulationError, match="mode codes"):
        p.step(1.0, np.array([0, 7]), [1.0, 1.0])
    with pytest.raises(SimulationError, match="sunlit fraction"):
        p.step(1.0, np.array([0, 0]), [1.5, 0.0])
    with pytest.raises(SimulationError, match="time step"):
        p.step(0.0, np.array([0, 0]), [1.0, 1.0])
    m = MemoryModel(1, 1.0)
    with pytest.raises(SimulationError, match="negative"):
        m.step([-1], [0])


@pytest.mark.parametrize("bad,match", [
    (dict(battery_capacity_wh=-5), "battery_capacity_wh"),
    (dict(memory_capacity_gbit=0), "memory_capacity_gbit"),
    (dict(initial_memory_gbit=100.0), "initial_memory_gbit"),
    (dict(loads_w={"idle": 1, "imaging": 1, "downlink": 1}), "loads_w.slew"),
    (dict(charge_efficiency=1.5), "charge_efficiency"),
    (dict(field_of_regard_deg=90), "field_of_regard_deg"),
])
def test_model_validation(bad, match):
    with pytest.raises(SimulationError, match=match):
        _model(**bad)


def _reference_slew_time(angle, rate, accel):
    """Reference: the shortest T whose farthest reachable angle (accelerate for T/2 then
    brake, capped at ``rate``; by direct time-stepping of the profile) is ``angle``."""
    def reach(T, n=20000):
        t = np.linspace(0.0, T, n + 1)
        v = np.minimum(np.minimum(accel * t, accel * (T - t)), rate)
        return float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(t)))
    lo, hi = 0.0, 1.0
    while reach(hi) < angle:
        hi *= 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if reach(mid) < angle else (lo, mid)
    return hi


def test_rate_acceleration_agility_and_slew_profile_against_kinematics():
    """The planner's bang-coast-bang model (the one a scenario's rate_acceleration maps to)
    and the runner's per-axis attitude profile agree with direct time-stepping."""
    a = RateAccelerationAgility(rate_deg_s=1.5, accel_deg_s2=0.3, settle_s=8.0)
    for angle in (0.5, 3.0, 7.5, 20.0, 45.0):   # triangular below 7.5 deg, trapezoidal above
        ref = _reference_slew_time(angle, 1.5, 0.3)
        T = float(a.transition_time_s([0.0, 0.0], [angle, 0.0]))
        assert T - 8.0 == pytest.approx(ref, abs=1e-4)
        # the profile: reaches the angle at the axis time, rate <= 1.5, |accel| <= 0.3
        tau = np.linspace(0.0, T, 20001)
        r, p, rr, pr = slew_profile(a, angle, -0.4 * angle, T, tau)
        assert r[-1] == pytest.approx(angle, abs=1e-9) and p[-1] == pytest.approx(-0.4 * angle, abs=1e-9)
        i_done = np.searchsorted(tau, ref + 1e-9)
        assert np.all(r[i_done:] == pytest.approx(angle, abs=1e-9))    # still while it settles
        assert np.max(np.abs(rr)) <= 1.5 + 1e-12
        acc = np.diff(rr) / np.diff(tau)
        assert np.max(np.abs(acc)) <= 0.3 * (1 + 1e-6) + 1e-9
        # the integral of the rate is the angle (trapezoid rule on a fine grid)
        assert np.sum(0.5 * (rr[1:] + rr[:-1]) * np.diff(tau)) == pytest.approx(angle, rel=1e-6)
    assert float(a.transition_time_s([3.0, 4.0], [3.0, 4.0])) == 8.0


def test_transmitter_share_and_pending_images():
    """A satellite downlinking while it images pays both shares; an image in progress is not
    drained before it is complete."""
    model = _model(initial_memory_gbit=1.0, initial_charge_fraction=0.5, charge_efficiency=1.0)
    fleet = Fleet(model, 2)
    fleet.step(10.0, [IMAGING, IMAGING], [0.0, 0.0], [310.5, 310.5],
               transmitting=[True, False], image_end=[False, False])
    L = model.loads_w
    drawn = fleet.power.demand_j / 10.0
    assert drawn[0] == pytest.approx(L["imaging"] + L["downlink"] - L["idle"])
    assert drawn[1] == pytest.approx(L["imaging"])
    # satellite 0 drained the 1 Gbit on board, not the image being recorded
    assert fleet.memory.drained_bit[0] == 1_000_000_000
    assert fleet.memory.pending_bit[0] == round(0.6123e9 * 10)
    fleet.step(10.0, [IDLE, IDLE], [0.0, 0.0], [310.5, 310.5], transmitting=[True, False])
    assert fleet.memory.drained_bit[0] == 1_000_000_000 + 3_105_000_000    # now drainable, at 310.5 Mbit/s
    with pytest.raises(SimulationError, match="below loads_w.idle"):
        _model(loads_w={"idle": 90.0, "imaging": 230.0, "downlink": 85.0, "slew": 150.0})


def test_run_steps_equals_step_by_step(week):
    """The runner's batch stepping gives the very bits and (to rounding) joules of step()."""
    modes, sun, rates = week
    rng = np.random.default_rng(3)
    n = 3000
    dt = rng.uniform(0.2, 90.0, n)
    tx = (modes[:n] == DOWNLINK) | (rng.random((n, 4)) < 0.2)
    end = rng.random((n, 4)) < 0.3
    model = _model(memory_capacity_gbit=25.0)
    a, b = Fleet(model, 4), Fleet(model, 4)
    record = rng.random(n) < 0.5
    out = a.run_steps(dt, modes[:n], sun[:n], rates[:n], tx, end, record=record)
    charge, memory, drained = [], [], []
    for j in range(n):
        _, d, _ = b.step(dt[j], modes[j], sun[j], rates[j], transmitting=tx[j], image_end=end[j])
        drained.append(d)
        if record[j]:
            charge.append(b.charge_wh.copy())
            memory.append(b.memory_gbit.copy())
    assert np.array_equal(out["drained_bit"], np.array(drained))
    assert np.array_equal(out["memory_gbit"], np.array(memory))
    assert np.allclose(out["charge_wh"], np.array(charge), rtol=0, atol=1e-9)
    for name in ("offered_bit", "accepted_bit", "rejected_bit", "drained_bit", "stored_bit"):
        assert np.array_equal(getattr(a.memory, name), getattr(b.memory, name)), name
    assert np.all(a.memory.rejected_bit > 0) and np.any(a.power.spilled_j > 1.0)
    for name in ("generated_j", "demand_j", "losses_j", "spilled_j", "unserved_j", "charge_j"):
        assert np.allclose(getattr(a.power, name), getattr(b.power, name), rtol=1e-12, atol=1e-6), name
    assert np.all(a.memory.balance_error_bit() == 0) and np.max(np.abs(a.power.balance_error_j())) < 1e-3
    with pytest.raises(SimulationError, match="sunlit fraction"):
        a.run_steps(dt[:2], modes[:2], np.full((2, 4), 2.0), rates[:2], tx[:2], end[:2])
