"""Random geometry-free instances shaped like agile imaging (benchmarks, tests).

Not physics: a stand-in with the structure that makes imaging plans hard. Targets sit in
regions; each satellite flies over each region at random times (about ``visits_per_day``
per region per day) with a random cross-track roll. Every target of a region gets one
window per visit, centred on the visit time plus the target's along-track offset, with a
roll near the visit's and a pitch that sweeps from +``pitch_deg`` to -``pitch_deg`` over the
window (so the attitude depends on the start time), a duration, a data volume and a
quality factor ``1 - |roll| / 90``. Each satellite has a memory and a few downlinks a day.
"""
from __future__ import annotations

import numpy as np

from .model import Downlink, Problem, Resource

__all__ = ["synthetic_problem"]


def synthetic_problem(n_resources: int = 8, n_targets: int = 2000, horizon_s: float = 86400.0,
                      seed: int = 0, n_regions: int | None = None, visits_per_day: float = 1.0,
                      window_s: float = 90.0, region_span_s: float = 150.0,
                      pitch_deg: float = 30.0, duration_s=(6.0, 14.0), rate_gbit_s: float = 0.8,
                      memory_capacity_gbit: float = 400.0, downlinks_per_day: float = 8.0,
                      downlink_s=(300.0, 600.0), downlink_rate_gbit_s: float = 0.5,
                      constant_attitude: bool = False, agility=None) -> Problem:
    """A random :class:`Problem` (see the module docstring). Same seed, same problem."""
    rng = np.random.default_rng(seed)
    if n_regions is None:
        n_regions = max(1, n_targets // 80)
    region = rng.integers(n_regions, size=n_targets)
    along = rng.uniform(-region_span_s / 2, region_span_s / 2, size=n_targets)
    cross = rng.uniform(-4.0, 4.0, size=n_targets)
    weight = rng.integers(1, 11, size=n_targets).astype(float)
    dur = rng.uniform(duration_s[0], duration_s[1], size=n_targets)
    days = horizon_s / 86400.0
    alt_task, alt_res, e_list, l_list, d_list, att_s, att_e, data, vf, labels = ([] for _ in range(10))
    members = [np.flatnonzero(region == g) for g in range(n_regions)]
    for r in range(n_resources):
        for g in range(n_regions):
            n_vis = rng.poisson(visits_per_day * days)
            for v in range(n_vis):
                t_vis = rng.uniform(region_span_s, horizon_s - region_span_s - window_s)
                roll = rng.uniform(-40.0, 40.0)
                for t in members[g]:
                    centre = t_vis + along[t]
                    e = centre - window_s / 2
                    l = centre + window_s / 2
                    if e < 0 or l > horizon_s:
                        continue
                    rr = float(np.clip(roll + cross[t], -45.0, 45.0))
                    alt_task.append(int(t))
                    alt_res.append(r)
                    e_list.append(e)
                    l_list.append(l)
                    d_list.append(dur[t])
                    if constant_attitude:
                        att_s.append([[rr, 0.0], [rr, 0.0]])
                        att_e.append([[rr, 0.0], [rr, 0.0]])
                    else:
                        # the pitch sweeps while the target passes; the end attitude is
                        # that of the pointing ``duration`` later
                        span = window_s - dur[t]
                        sweep = 2 * pitch_deg / window_s
                        p0, p1 = pitch_deg, pitch_deg - sweep * span
                        att_s.append([[rr, p0], [rr, p1]])
                        att_e.append([[rr, p0 - sweep * dur[t]], [rr, p1 - sweep * dur[t]]])
                    data.append(dur[t] * rate_gbit_s)
                    vf.append(1.0 - abs(rr) / 90.0)
                    labels.append(f"R{r}V{g}.{v}")
    downlinks = []
    for r in range(n_resources):
        n_dl = max(1, rng.poisson(downlinks_per_day * days))
        starts = np.sort(rng.uniform(0, horizon_s - downlink_s[1], size=n_dl))
        end_prev = -np.inf
        for s in starts:
            if s < end_prev:
                continue
            d = rng.uniform(*downlink_s)
            downlinks.append(Downlink(r, float(s), float(s + d), downlink_rate_gbit_s, f"ST{rng.integers(3)}"))
            end_prev = s + d
    resources = [Resource(f"SAT{r + 1}", memory_capacity_gbit=memory_capacity_gbit)
                 for r in range(n_resources)]
    return Problem.from_columns(
        task_ids=[f"T{t:05d}" for t in range(n_targets)], task_weights=weight,
        alt_task=np.asarray(alt_task, dtype=np.int64), alt_resource=np.asarray(alt_res, dtype=np.int64),
        alt_earliest_start_s=e_list, alt_latest_end_s=l_list, alt_duration_s=d_list,
        alt_start_attitude_deg=np.asarray(att_s).reshape(-1, 2, 2),
        alt_end_attitude_deg=np.asarray(att_e).reshape(-1, 2, 2),
        alt_data_gbit=data, alt_value_factor=vf, alt_label=labels,
        resources=resources, downlinks=downlinks, agility=agility)
