"""Catalogue scale: every pass of a 30,000-object catalogue over 100 stations in 24 h.

    python benchmarks/bench_catalogue.py                       # 30,000 x 100 x 24 h, 2 workers
    python benchmarks/bench_catalogue.py --objects 3000 --workers 0   # smaller, in process

The catalogue is :meth:`groundseg.orbits.Constellation.synthetic_catalogue` (80 % LEO, 4 %
GNSS-like MEO, 8 % GEO, 8 % HEO: GTO, Molniya, Tundra; SDP4 for the deep-space ones); the
stations are 100 random sites (one polar), 5 deg mask. The run happens in a fresh
subprocess (its peak RSS is its own, the Dask workers' included): ``predict_passes`` in that
process (``--workers 0``) or on a LocalCluster of ``--workers`` processes. Printed: wall and
CPU time (this process and its children), peak memory, passes per class, and skyfield's
``find_events`` timed on a sample of (object, station) pairs and extrapolated to the whole
job (labelled as such).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

START = "2026-11-26T00:00:00Z"


def _setup(args):
    from bench_passes import random_stations

    from groundseg.orbits import Constellation
    c = Constellation.synthetic_catalogue(args.objects, START, seed=args.seed)
    stations = random_stations(np.random.default_rng(args.seed), args.stations)
    return c, stations


def child(args):
    """In a fresh process: one JSON line."""
    from groundseg.parallel import tune_malloc
    from groundseg.passes import predict_passes
    from groundseg.timegrid import parse_utc
    c, stations = _setup(args)
    t0 = parse_utc(START)[0]
    t1 = t0 + np.timedelta64(int(args.hours * 3600), "s")
    client = cluster = None
    if args.workers:
        import logging

        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        tune_malloc(force=True)
    w0, c0 = time.perf_counter(), time.process_time()
    p = predict_passes(c, stations, t0, t1, client=client, workers=1)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    workers_cpu = 0.0
    if client is not None:
        workers_cpu = sum(client.run(lambda: time.process_time()).values())
        client.close()
        cluster.close()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cls = np.array([n.split("-")[0] for n in c.names])[p.satellite_index]
    print(json.dumps(dict(
        wall=wall, cpu=cpu, workers_cpu=workers_cpu, passes=len(p),
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        rss_children_mb=kids.ru_maxrss / 1024,
        per_class={k: int((cls == k).sum()) for k in ("LEO", "MEO", "GEO", "HEO")},
        stats=p.stats, problems=len(p.problems))))


def skyfield_sample(args, pairs=60):
    """Seconds of skyfield find_events per (object, station) pair, on a sample per class."""
    from skyfield.api import EarthSatellite, wgs84

    from groundseg.timegrid import TimeGrid, timescale
    c, stations = _setup(args)
    ts = timescale()
    end = np.datetime64(START[:-1]) + np.timedelta64(int(args.hours * 3600), "s")
    t0, t1 = (TimeGrid.from_utc([np.datetime64(START[:-1]), end]).skyfield_time[i]
              for i in (0, 1))
    rng = np.random.default_rng(1)
    cls = np.array([n.split("-")[0] for n in c.names])
    share = {"LEO": 0.80, "MEO": 0.04, "GEO": 0.08, "HEO": 0.08}
    per_pair = 0.0
    for name, w in share.items():
        idx = rng.choice(np.flatnonzero(cls == name), pairs // 4)
        took = 0.0
        for i in idx:
            line1, line2 = c.records[i].tle
            sat = EarthSatellite(line1, line2, "x", ts)
            st = stations[rng.integers(len(stations))]
            top = wgs84.latlon(st.latitude_deg, st.longitude_deg, st.altitude_m)
            w0 = time.process_time()
            sat.find_events(top, t0, t1, altitude_degrees=5.0)
            took += time.process_time() - w0
        per_pair += w * took / len(idx)
    return per_pair


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=30000)
    ap.add_argument("--stations", type=int, default=100)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers (0: in process)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-skyfield", action="store_true")
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return
    cmd = [sys.executable, __file__, "--child", "--objects", str(args.objects), "--stations",
           str(args.stations), "--hours", str(args.hours), "--workers", str(args.workers),
           "--seed", str(args.seed)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    where = f"LocalCluster of {args.workers} workers" if args.workers else "one process"
    print(f"catalogue: {args.objects:,} objects x {args.stations} stations x {args.hours:g} h, "
          f"5 deg mask, {where}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"  wall {r['wall']:.1f} s (goal < 90 s); CPU {r['cpu'] + r['workers_cpu']:.1f} s "
          f"(driver {r['cpu']:.1f} s + workers {r['workers_cpu']:.1f} s)")
    print(f"  peak RSS: driver {r['rss_mb']:.0f} MB, largest worker {r['rss_children_mb']:.0f} MB "
          f"(goal < 4096 MB)")
    print(f"  passes {r['passes']:,} ({', '.join(f'{k} {v:,}' for k, v in r['per_class'].items())}); "
          f"problems {r['problems']}")
    print(f"  stats: {r['stats']}")
    if not args.no_skyfield:
        per_pair = skyfield_sample(args)
        total = per_pair * args.objects * args.stations
        print(f"  skyfield find_events: {per_pair * 1e3:.2f} ms CPU per (object, station) pair "
              f"on a sample of 60 pairs weighted by class; EXTRAPOLATED to the whole job: "
              f"{total / 3600:.1f} h CPU, {total / (r['cpu'] + r['workers_cpu']):.0f}x groundseg's CPU")


if __name__ == "__main__":
    main()
