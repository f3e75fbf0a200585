"""Propagation throughput: groundseg vs raw sgp4 SatrecArray vs a skyfield loop.

    python benchmarks/bench_propagation.py [--satellites 1000] [--times 1440] [--repeat 5]

Prints medians over ``--repeat`` runs measured in this process, and the ratios the
foundation issue sets as goals: TEME output at >= 0.9x the throughput of SatrecArray.sgp4,
ITRS + geodetic adding <= 50 % on top of raw SGP4, and >= 10x a skyfield loop over
EarthSatellite.at(t) producing the same ITRS positions.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg import catalog  # noqa: E402
from groundseg.orbits import Constellation  # noqa: E402
from groundseg.timegrid import TimeGrid, timescale  # noqa: E402


def _median_time(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--satellites", type=int, default=1000)
    ap.add_argument("--times", type=int, default=1440, help="grid times (60 s apart)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skyfield-satellites", type=int, default=None,
                    help="satellites in the skyfield loop (default: all)")
    args = ap.parse_args(argv)

    start = "2026-11-26T00:00:00Z"
    n_planes = max(1, args.satellites // 25)
    walker = Constellation.walker(70.0, n_planes * 25, n_planes, 1, 700.0, start)
    records = walker.records[: args.satellites]
    c = Constellation(records)
    grid = TimeGrid.from_seconds(start, np.arange(args.times) * 60.0)
    _ = grid.gmst_rad  # Earth orientation for the grid, computed once like any caller would
    from sgp4.api import SatrecArray
    raw_array = SatrecArray([r.satrec for r in records])
    jd, fr = grid.jd, grid.fr
    n = len(records) * args.times

    t_raw, _ = _median_time(lambda: raw_array.sgp4(jd, fr), args.repeat)
    t_teme, eph = _median_time(lambda: c.propagate(grid), args.repeat)

    def frames():
        e = c.propagate(grid)
        e.itrs()
        e.geodetic()
        return e
    t_frames, eph = _median_time(frames, args.repeat)

    n_sf = args.skyfield_satellites or len(records)
    from skyfield.api import EarthSatellite
    from skyfield.framelib import itrs
    ts = timescale()
    t_sf_time = grid.skyfield_time
    sf_sats = [EarthSatellite(*r.tle, r.name, ts) for r in records[:n_sf]]

    def skyfield_loop():
        out = []
        for s in sf_sats:
            out.append(s.at(t_sf_time).frame_xyz(itrs).km)
        return out
    t_sf, sf_out = _median_time(skyfield_loop, max(1, min(args.repeat, 3)))
    t_sf_scaled = t_sf * len(records) / n_sf
    worst = max(np.abs(sf_out[i].T - eph.itrs()[0][i]).max() for i in range(n_sf)) * 1000

    print(f"{len(records)} satellites x {args.times} times = {n:,} SGP4 evaluations")
    print(f"  sgp4 SatrecArray.sgp4 (raw)       {t_raw:8.3f} s   {t_raw / n * 1e9:6.0f} ns per (sat, time)")
    print(f"  groundseg propagate (TEME)        {t_teme:8.3f} s   throughput {t_raw / t_teme:5.2f}x raw   (goal >= 0.9x)")
    print(f"  groundseg TEME + ITRS + geodetic  {t_frames:8.3f} s   adds {100 * (t_frames / t_raw - 1):5.1f} % over raw   (goal <= 50 %)")
    label = "" if n_sf == len(records) else f" (measured on {n_sf}, scaled)"
    print(f"  skyfield EarthSatellite.at + ITRS {t_sf_scaled:8.3f} s{label}")
    print(f"  speed-up over skyfield (ITRS)     {t_sf_scaled / t_frames:8.1f}x   (goal >= 10x); "
          f"max ITRS difference {worst:.2e} m")
    print(f"  ceiling: raw SGP4 alone is {100 * t_raw / t_sf_scaled:.0f} % of skyfield's time, so any tool on sgp4's "
          f"kernel is at most {t_sf_scaled / t_raw:.1f}x skyfield's vectorised-time loop")

    # The loop most scripts write: one Time and one at() per (satellite, time), on a sample.
    k_sat, k_time = min(5, len(records)), min(args.times, 288)
    one_times = [t_sf_time[j] for j in range(k_time)]

    def scalar_loop():
        return [s.at(t).frame_xyz(itrs).km for s in sf_sats[:k_sat] for t in one_times]
    t_scalar, _ = _median_time(scalar_loop, 1)
    t_scalar_scaled = t_scalar * n / (k_sat * k_time)
    print(f"  skyfield at() per (satellite, time) {t_scalar_scaled:8.1f} s (measured on {k_sat} x {k_time}, scaled)"
          f"   speed-up {t_scalar_scaled / t_frames:8.0f}x")


if __name__ == "__main__":
    main()
