"""Coverage: global 1-degree grid x 100 satellites x 24 h, one process vs a 2-worker dask
LocalCluster, and a skyfield loop on a sample of (cell, satellite) pairs.

    python benchmarks/bench_coverage.py [--constellation walker53|sso] [--resolution-deg 1]
        [--satellites 100] [--hours 24] [--workers 2] [--sample-pairs 60] [--skip-single]

The issue's goal: the whole job in under 30 s on 2 cores. Prints the wall time of the
single-process run and of the LocalCluster run (cluster start-up reported separately),
the speed-up, whether both agree bit for bit, and the skyfield reference: for a random
sample of (cell, satellite) pairs, ``EarthSatellite.find_events`` with the elevation that
corresponds to the off-nadir limit on a spherical Earth at the satellite's mean altitude
(elevation >= acos(r sin(eta) / R)), timed per pair and EXTRAPOLATED to all pairs -- a
lower bound for the loop a user would otherwise write (it has no Sun constraint and no
revisit statistics). Event counts on the sample are compared with ours (they differ only
by the spherical approximation and very short accesses).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg.orbits import Constellation  # noqa: E402
from groundseg.timegrid import TimeGrid, timescale  # noqa: E402
from sims.coverage import AccessConstraints, CoverageGrid, coverage  # noqa: E402

START = "2026-11-26T00:00:00Z"


def _constellation(kind: str, n: int) -> Constellation:
    planes = 10 if n % 10 == 0 else 1
    if kind == "walker53":
        return Constellation.walker(53.0, n, planes, 1, 550.0, START)
    if kind == "sso":
        return Constellation.sun_synchronous(n, 561.0, START, ltdn_h=10.5, planes=planes,
                                             plane_spacing_h=24.0 / planes)
    raise SystemExit(f"unknown constellation {kind!r}")


def _skyfield_sample(c, grid, end, cons, n_pairs, rng):
    """Seconds per (cell, satellite) pair with skyfield's find_events, and event counts."""
    from skyfield.api import EarthSatellite, wgs84
    ts = timescale()
    t0 = TimeGrid.from_utc(START).skyfield_time[0]
    t1 = TimeGrid.from_utc(end).skyfield_time[0]
    lat_all, lon_all = np.repeat(grid.latitude_deg, grid.shape[1]), np.tile(grid.longitude_deg,
                                                                            grid.shape[0])
    cells = rng.integers(0, lat_all.size, n_pairs)
    sats = rng.integers(0, len(c), n_pairs)
    eta = math.radians(cons.max_off_nadir_deg)
    counts, elapsed = [], 0.0
    for cell, s in zip(cells, sats):
        rec = c.records[s]
        r = 6378.137 + float(np.mean(_altitudes(c, s)))
        el = math.degrees(math.acos(min(1.0, r * math.sin(eta) / 6371.0)))
        sat = EarthSatellite(*rec.tle, rec.name, ts)
        site = wgs84.latlon(lat_all[cell], lon_all[cell])
        a = time.perf_counter()
        _, events = sat.find_events(site, t0, t1, altitude_degrees=el)
        elapsed += time.perf_counter() - a
        counts.append(int(np.sum(events == 0)) + int(events.size > 0 and events[0] != 0))
    ours = coverage(c, (lat_all[cells], lon_all[cells]), START, end,
                    AccessConstraints(cons.max_off_nadir_deg), keep_intervals=True).intervals
    mine = [int(np.sum((ours[0] == i) & (ours[1] == s))) for i, s in enumerate(sats)]
    return elapsed / n_pairs, counts, mine


def _altitudes(c, s):
    eph = c.subset([s]).propagate(TimeGrid.range(START, "2026-11-26T02:00:00Z", 60.0))
    return np.linalg.norm(eph.position_km[0], axis=-1) - 6378.137


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--constellation", choices=("walker53", "sso"), default="walker53")
    ap.add_argument("--satellites", type=int, default=100)
    ap.add_argument("--resolution-deg", type=float, default=1.0)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--max-off-nadir", type=float, default=45.0)
    ap.add_argument("--min-sun-elevation", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample-pairs", type=int, default=60)
    ap.add_argument("--skip-single", action="store_true")
    args = ap.parse_args(argv)

    c = _constellation(args.constellation, args.satellites)
    grid = CoverageGrid.globe(args.resolution_deg)
    end = (np.datetime64(START.rstrip("Z")) + np.timedelta64(int(args.hours * 3600), "s"))
    end = str(end) + "Z"
    cons = AccessConstraints(args.max_off_nadir, args.min_sun_elevation)
    pairs = len(grid) * len(c)
    load = os.getloadavg()
    print(f"global {args.resolution_deg:g} deg grid ({len(grid)} cells) x {len(c)} satellites "
          f"({args.constellation}) x {args.hours:g} h; off-nadir <= {cons.max_off_nadir_deg:g} deg, "
          f"Sun >= {cons.min_sun_elevation_deg} deg")

    single = None
    if not args.skip_single:
        t, cpu = time.perf_counter(), time.process_time()
        single = coverage(c, grid, START, end, cons)
        t_single = time.perf_counter() - t
        cpu_single = time.process_time() - cpu
        s = single.summary()
        print(f"single process        : {t_single:7.2f} s  (CPU {cpu_single:.2f} s; {s['accesses']} accesses, "
              f"{t_single / max(s['accesses'], 1) * 1e6:.2f} us per access, "
              f"{t_single / pairs * 1e6:.2f} us per cell-satellite pair)")

    from distributed import Client, LocalCluster
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    t_up = time.perf_counter() - t
    cpu0 = client.run(time.process_time)
    t = time.perf_counter()
    par = coverage(c, grid, START, end, cons, client=client)
    t_par = time.perf_counter() - t
    cpu1 = client.run(time.process_time)
    client.close()
    cluster.close()
    worker_cpu = [cpu1[k] - cpu0[k] for k in cpu0]
    print(f"LocalCluster({args.workers} workers): {t_par:7.2f} s  (+ {t_up:.1f} s cluster start-up; "
          f"total {t_par + t_up:.2f} s; goal < 30 s)")
    print(f"  worker CPU seconds  : {', '.join(f'{x:.2f}' for x in worker_cpu)} -- each worker had "
          f"{min(worker_cpu) / t_par:.0%} of a core (load average before: "
          f"{load[0]:.2f}; other jobs on the machine take the rest)")
    if single is not None:
        same = single.cells_table().to_csv() == par.cells_table().to_csv()
        print(f"speed-up              : {t_single / t_par:7.2f}x over one process "
              f"({t_single / (t_par + t_up):.2f}x with start-up); results identical: {same}")

    rng = np.random.default_rng(1)
    per_pair, sky_counts, our_counts = _skyfield_sample(c, grid, end, cons, args.sample_pairs, rng)
    est = per_pair * pairs
    best = t_par if single is None else min(t_single, t_par)
    print(f"skyfield find_events  : {per_pair * 1e3:7.2f} ms per pair on {args.sample_pairs} sampled "
          f"pairs -> EXTRAPOLATED {est:,.0f} s for all {pairs:,} pairs "
          f"({est / best:,.0f}x our best run; elevation-equivalent, no Sun constraint)")
    agree = sum(a == b for a, b in zip(sky_counts, our_counts))
    print(f"sample access counts  : skyfield {sum(sky_counts)}, ours (no Sun) {sum(our_counts)}; "
          f"{agree}/{len(our_counts)} pairs equal")
    print(json.dumps({"single_s": None if single is None else round(t_single, 3),
                      "cluster_s": round(t_par, 3), "cluster_startup_s": round(t_up, 3),
                      "skyfield_extrapolated_s": round(est, 1)}))


if __name__ == "__main__":
    main()
