"""Imaging plan at scale: 8 satellites x 2,000 point targets x 24 h, geometry included.

    python benchmarks/bench_plan.py [--targets 2000] [--time-limit 25] [--seed 1]

Times the whole chain (propagation, opportunities, passes, contact plan, planning) for the
heuristic alone and for heuristic + large-neighbourhood search, and prints each plan's
objective, upper bound and gap. Goals: the full plan under 30 s, the heuristic under 3 s.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg import Constellation, bundled_stations  # noqa: E402
from groundseg.access import find_opportunities  # noqa: E402
from groundseg.contacts import plan_contacts  # noqa: E402
from groundseg.passes import passes_from_ephemeris  # noqa: E402
from groundseg.planning import verify_plan  # noqa: E402
from groundseg.planning.imaging import plan_imaging  # noqa: E402
from groundseg.targets import Targets  # noqa: E402
from groundseg.timegrid import TimeGrid  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n = args.targets
    # Uniform on the sphere between 60 S and 60 N; priorities 1..10; 10 % stereo.
    lat = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-60)), np.sin(np.radians(60)), n)))
    lon = rng.uniform(-180, 180, n)
    targets = Targets.from_points([f"T{i}" for i in range(n)], lat, lon,
                                  priority=rng.integers(1, 11, n).astype(float),
                                  mode=np.where(rng.random(n) < 0.1, "stereo", "mono"))
    start, end = "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"
    stations = bundled_stations()

    t0 = time.perf_counter()
    c = Constellation.formosat8(start)
    eph = c.propagate(TimeGrid.range(start, end, 60.0))
    opp = find_opportunities(eph, targets)
    contacts = plan_contacts(passes_from_ephemeris(eph, stations), stations, satellite_exclusive=True)
    t_geo = time.perf_counter() - t0
    print(f"{len(c)} satellites x {n} targets x 24 h: {len(opp)} opportunities, "
          f"{int(contacts.scheduled.sum())} downlink passes; geometry {t_geo:.2f} s")
    for method, limit in (("greedy", 1.0), ("lns", args.time_limit)):
        t1 = time.perf_counter()
        result = plan_imaging(opp, contacts, time_limit_s=limit, method=method)
        t_plan = time.perf_counter() - t1
        p = result.plan
        ok = verify_plan(result.problem, p) == []
        print(f"  {method:6s} plan {t_plan:6.2f} s  (total with geometry {t_geo + t_plan:6.2f} s)  "
              f"objective {p.objective:9.1f}  upper bound {p.upper_bound:9.1f}  gap {100 * p.gap:5.1f} %  "
              f"{len(p.acquisitions)} acquisitions  verified {ok}")


if __name__ == "__main__":
    main()
