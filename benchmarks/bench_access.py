"""Imaging access: groundseg vs brahe's access search with an off-nadir constraint.

    python benchmarks/bench_access.py [--targets 10000] [--brahe-targets 1000] [--hours 24] [--repeat 3]
    python benchmarks/bench_access.py --large [--targets 1000000]   # scale: one run, peak memory

Inputs shared by both tools: the bundled FORMOSAT-8-like constellation (8 satellites, 561 km
SSO) written as TLE and read back by each tool, ``--targets`` random points uniform on the
globe (seeded), a 30 deg off-nadir limit, ``--hours`` from 2026-11-26T00:00Z. brahe gets
``OffNadirConstraint(max 30)`` AND ``ElevationConstraint(min 0)`` (its off-nadir constraint
alone also accepts targets behind the Earth), default search settings (60 s step, 1 ms
tolerance, parallel threads), Earth orientation from the same IERS file groundseg uses
(astropy-iers-data's finals2000A.all; nothing is downloaded). groundseg runs without the Sun
condition for the comparison, and once more with it (10 deg) for the record.

Printed: medians over ``--repeat`` runs in this process; brahe on the first
``--brahe-targets`` targets (it loops over pairs, so its time scales with them; the full-size
figure is extrapolated per (satellite, target) pair and labelled so); the ratio; and the
agreement of the two window sets on that subset, with skyfield deciding the windows only one
tool reports.

``--large``: only groundseg, once, on ``--targets`` (default 1,000,000) points with the Sun
condition, alone in this process: wall and CPU time, peak RSS of the process (targets, ephemeris,
search and the full opportunity table), load average. The search holds one chunk of aim points
at a time (:func:`groundseg.access_search.points_per_chunk`).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg import catalog  # noqa: E402
from groundseg.access import find_opportunities  # noqa: E402
from groundseg.orbits import Constellation  # noqa: E402
from groundseg.targets import Targets  # noqa: E402
from groundseg.timegrid import TimeGrid, timescale  # noqa: E402

START = "2026-11-26T00:00:00Z"
LIMIT_DEG = 30.0


def _median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _brahe_windows(tle_lines, lat, lon, hours):
    import astropy_iers_data
    import brahe as bh
    eop = bh.FileEOPProvider.from_standard_file(astropy_iers_data.IERS_A_FILE, True, "Hold")
    bh.set_global_eop_provider_from_file_provider(eop)
    props = [bh.SGPPropagator.from_tle(l1, l2, 60.0) for _, l1, l2 in tle_lines]
    locs = [bh.PointLocation(float(lo), float(la), 0.0).with_id(i) for i, (la, lo) in enumerate(zip(lat, lon))]
    t0 = bh.Epoch.from_datetime(2026, 11, 26, 0, 0, 0.0, 0.0, bh.TimeSystem.UTC)
    con = bh.ConstraintAll(constraints=[
        bh.OffNadirConstraint(min_off_nadir_deg=None, max_off_nadir_deg=LIMIT_DEG),
        bh.ElevationConstraint(min_elevation_deg=0.0, max_elevation_deg=None)])
    start = time.perf_counter()
    wins = bh.location_accesses(locs, props, t0, t0 + hours * 3600.0, con)
    elapsed = time.perf_counter() - start
    ids = {int(l1[2:7]): k for k, (_, l1, _) in enumerate(tle_lines)}
    rows = [(ids[int(w.satellite_id)], int(w.location_id), (w.window_open - t0), (w.window_close - t0))
            for w in wins]
    return elapsed, np.array(rows, dtype=float).reshape(-1, 4)


def _skyfield_off_nadir(constellation, sat, seconds, lat, lon):
    """Off-nadir (deg) and elevation (deg) by skyfield, for checking disputed windows."""
    from skyfield.api import EarthSatellite, wgs84
    ts = timescale()
    out = np.empty((len(sat), 2))
    for i, (s, t, la, lo) in enumerate(zip(sat, seconds, lat, lon)):
        tt = ts.utc(2026, 11, 26, 0, 0, float(t))
        es = EarthSatellite.from_satrec(constellation.satrecs[int(s)], ts)
        place = wgs84.latlon(float(la), float(lo))
        r = es.at(tt).position.km
        los = place.at(tt).position.km - r
        out[i, 0] = np.degrees(np.arccos(np.dot(-r, los) / np.linalg.norm(r) / np.linalg.norm(los)))
        out[i, 1] = (es - place).at(tt).altaz()[0].degrees
    return out


def _compare(ours, theirs):
    """Match windows per (sat, target) by overlap; returns matched deltas and the unmatched."""
    used = np.zeros(len(theirs), dtype=bool)
    deltas, only_ours = [], []
    key_t = theirs[:, 0] * 1_000_000 + theirs[:, 1]
    order = np.argsort(key_t, kind="stable")
    sorted_keys = key_t[order]
    for i, (s, p, a, b) in enumerate(ours):
        lo, hi = np.searchsorted(sorted_keys, s * 1_000_000 + p, "left"), np.searchsorted(sorted_keys, s * 1_000_000 + p, "right")
        cand = order[lo:hi]
        hit = cand[(theirs[cand, 2] <= b) & (theirs[cand, 3] >= a)]
        if hit.size:
            j = hit[0]
            used[j] = True
            deltas.append((theirs[j, 2] - a, theirs[j, 3] - b))
        else:
            only_ours.append(i)
    return np.array(deltas).reshape(-1, 2), np.array(only_ours, dtype=int), np.flatnonzero(~used)


def _large(args):
    """One groundseg run at scale: time, CPU, peak memory."""
    from groundseg.access_search import points_per_chunk
    from groundseg.imaging_geometry import ImagingGeometry
    n = args.targets or 1_000_000
    load0 = os.getloadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    c = Constellation.formosat8(START)
    rng = np.random.default_rng(2026)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    targets = Targets.from_points([f"T{i}" for i in range(n)], lat, lon, 0.0,
                                  max_off_nadir_deg=LIMIT_DEG, min_sun_elevation_deg=10.0)
    end = str(np.datetime64(START[:-1]) + np.timedelta64(int(args.hours * 3600), "s")) + "Z"
    geo = ImagingGeometry(c.propagate(TimeGrid.range(START, end, 60.0)))
    w1 = time.perf_counter()
    opp = find_opportunities(geo, targets)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chunk = points_per_chunk(geo)
    print(f"{len(c)} satellites x {n:,} point targets x {args.hours:g} h, {LIMIT_DEG:g} deg "
          f"off-nadir, Sun >= 10 deg; {os.cpu_count()} CPUs, load average "
          f"{load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  {len(opp):,} windows; {-(-n // chunk)} chunks of {chunk:,} points")
    print(f"  wall {wall:.1f} s (search and table {time.perf_counter() - w1:.1f} s), "
          f"CPU {cpu:.1f} s, peak RSS {rss_mb:,.0f} MB (goal < 4096 MB)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=None, help="default 10,000 (1,000,000 with --large)")
    ap.add_argument("--brahe-targets", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large", action="store_true", help="groundseg alone at scale, peak memory")
    args = ap.parse_args(argv)
    if args.large:
        _large(args)
        return
    args.targets = args.targets or 10000

    tle_text = Constellation.formosat8(START).to_tle()
    records = catalog.parse_catalog(tle_text).records
    c = Constellation(records)
    tle_lines = [(r.name, r.tle[0], r.tle[1]) if getattr(r, "tle", None) else None for r in records]
    if any(x is None for x in tle_lines):
        lines = [ln for ln in tle_text.splitlines() if ln.startswith(("1 ", "2 "))]
        tle_lines = [(c.names[k], lines[2 * k], lines[2 * k + 1]) for k in range(len(c))]
    rng = np.random.default_rng(2026)
    n = args.targets
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    ids = [f"T{i}" for i in range(n)]
    end = np.datetime64("2026-11-26T00:00:00") + np.timedelta64(int(args.hours * 3600), "s")
    end = str(end) + "Z"
    no_sun = Targets.from_points(ids, lat, lon, 0.0, max_off_nadir_deg=LIMIT_DEG, min_sun_elevation_deg=-90.0)
    with_sun = Targets.from_points(ids, lat, lon, 0.0, max_off_nadir_deg=LIMIT_DEG, min_sun_elevation_deg=10.0)

    n_time = len(TimeGrid.range(START, end, 60.0))
    print(f"{len(c)} satellites x {n:,} point targets x {args.hours:g} h "
          f"(grid {n_time} times at 60 s; limit {LIMIT_DEG:g} deg off-nadir)")
    t_ours, opp = _median_time(lambda: find_opportunities(c, no_sun, START, end), args.repeat)
    t_sun, opp_sun = _median_time(lambda: find_opportunities(c, with_sun, START, end), args.repeat)
    pairs = len(c) * n
    print(f"groundseg, off-nadir only:        {t_ours:7.3f} s  ({len(opp):,} windows; "
          f"{t_ours / pairs * 1e6:.1f} us per (satellite, target) pair)  goal < 3 s")
    print(f"groundseg, off-nadir + Sun >= 10: {t_sun:7.3f} s  ({len(opp_sun):,} windows)")
    floor = len(c) * n_time * 0.43e-6
    print(f"  propagation floor (SGP4 at 0.43 us per satellite-time): {floor * 1e3:.1f} ms")

    m = min(args.brahe_targets, n)
    sub = no_sun.take(np.arange(m))
    t_ours_sub, opp_sub = _median_time(lambda: find_opportunities(c, sub, START, end), args.repeat)
    t_brahe, theirs = _brahe_windows(tle_lines, lat[:m], lon[:m], args.hours)
    sub_pairs = len(c) * m
    print(f"\nsame inputs, first {m:,} targets ({sub_pairs:,} pairs):")
    print(f"  groundseg: {t_ours_sub:7.3f} s   brahe location_accesses: {t_brahe:7.3f} s   "
          f"ratio brahe / groundseg = {t_brahe / t_ours_sub:.1f}x")
    per_pair = t_brahe / sub_pairs
    print(f"  brahe per pair: {per_pair * 1e3:.3f} ms -> {per_pair * pairs:.1f} s extrapolated to "
          f"{pairs:,} pairs; ratio at full size (extrapolated) = {per_pair * pairs / t_ours:.0f}x")

    ours = np.stack([opp_sub["satellite_index"], opp_sub["target_index"],
                     opp_sub["start_s"], opp_sub["end_s"]], axis=1).astype(float)
    deltas, only_ours, only_theirs = _compare(ours, theirs)
    print(f"\nagreement on the subset: groundseg {len(ours)} windows, brahe {len(theirs)}, "
          f"matched {len(deltas)}")
    if len(deltas):
        d = np.abs(deltas)
        print(f"  matched window edges differ by median {np.median(d) * 1e3:.1f} ms, "
              f"max {d.max() * 1e3:.1f} ms")
    for label, rows, times in (("only groundseg", only_ours, None), ("only brahe", only_theirs, None)):
        if len(rows) == 0:
            print(f"  {label}: none")
            continue
        src = ours if label == "only groundseg" else theirs
        mid = 0.5 * (src[rows, 2] + src[rows, 3]) if label == "only brahe" else opp_sub["best_s"][rows]
        chk = _skyfield_off_nadir(c, src[rows, 0], mid, lat[src[rows, 1].astype(int)],
                                  lon[src[rows, 1].astype(int)])
        real = (chk[:, 0] <= LIMIT_DEG + 1e-4) & (chk[:, 1] > 0)
        dur = src[rows, 3] - src[rows, 2]
        print(f"  {label}: {len(rows)} windows (durations {dur.min():.1f}-{dur.max():.1f} s); "
              f"skyfield confirms {int(real.sum())} of them (off-nadir <= {LIMIT_DEG:g} deg, "
              f"target above the horizon at {'our best time' if label == 'only groundseg' else 'mid-window'})")


if __name__ == "__main__":
    main()
