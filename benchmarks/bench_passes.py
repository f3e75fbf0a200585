"""Pass prediction: groundseg vs skyfield find_events vs brahe location_accesses, and scale.

    python benchmarks/bench_passes.py                 # all three parts
    python benchmarks/bench_passes.py --part compare  # 100 sats x 10 stations x 7 days
    python benchmarks/bench_passes.py --part cli      # `groundseg passes` end to end, 3 days
    python benchmarks/bench_passes.py --part scale    # 5000 sats x 20 stations x 24 h

compare: random LEO satellites (300-1200 km, all inclinations, e <= 0.01, TLEs made with
sgp4's own initialiser) over 10 random stations (one polar), 5 deg mask, 7 days. Times, in
this process: groundseg ``predict_passes`` (median of ``--repeat`` runs after a warm-up),
skyfield ``find_events`` looped over every (satellite, station) pair, brahe
``location_accesses`` (one call with the lists of locations and propagators, its own batch
form; brahe's Earth orientation is its static zero EOP, as nothing may be downloaded).
Prints the three pass counts side by side, how many skyfield passes match ours within 1 s,
the ratios, and how far groundseg is above the SGP4 floor (SGP4 alone over the same grid).

cli: ``groundseg passes`` end to end (TLE and station files in, CSV file out) on 100
satellites x 10 stations x 3 days, run in this process through ``groundseg.cli.main`` after a
warm-up, so the interpreter's start-up (measured apart, in a subprocess) is left out; against
skyfield ``find_events`` over every pair on the same job (goal >= 50x). Also splits our time
into prediction and table + CSV.

scale: 5,000 satellites x 20 stations x 24 h in a fresh subprocess (so its peak RSS is its
own): wall and CPU time, peak memory, passes found, and the SGP4 floor.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = "2026-11-26T06:00:00Z"


def random_tles(rng, n, first_id=70000, epoch_jd=2461370.5, epoch_fr=0.25):
    """Random LEO TLEs built with sgp4's initialiser and exporter."""
    from sgp4.api import WGS72, Satrec
    from sgp4.exporter import export_tle
    out = []
    for i in range(n):
        a = 6378.137 + rng.uniform(300.0, 1200.0)
        s = Satrec()
        s.sgp4init(WGS72, "i", first_id + i, (epoch_jd - 2433281.5) + epoch_fr,
                   rng.uniform(0, 1e-4), 0.0, 0.0, rng.uniform(0, 0.01),
                   rng.uniform(0, 2 * np.pi), rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi),
                   np.sqrt(398600.4418 / a**3) * 60.0, rng.uniform(0, 2 * np.pi))
        l1, l2 = export_tle(s)
        out.append((f"SAT-{i}", l1, l2))
    return out


def random_stations(rng, n, min_el=5.0):
    from groundseg.stations import Station
    out = [Station("POLAR", 78.23, 15.39, 500.0, min_el)]
    for i in range(1, n):
        lat = float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
        out.append(Station(f"ST{i}", lat, float(rng.uniform(-180, 180)), 0.0, min_el))
    return out


def constellation(tles):
    from groundseg.catalog import parse_catalog
    from groundseg.orbits import Constellation
    return Constellation(parse_catalog("\n".join(f"{n}\n{a}\n{b}" for n, a, b in tles)).records)


def sgp4_floor(c, start, end):
    """Seconds SGP4 alone takes over the grid predict_passes uses (median of 3)."""
    from sgp4.api import SatrecArray

    from groundseg.passes import default_step_s
    from groundseg.timegrid import TimeGrid
    grid = TimeGrid.range(start, end, default_step_s(c))
    arr = SatrecArray(c.satrecs)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        arr.sgp4(grid.jd, grid.fr)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), len(c) * len(grid), default_step_s(c)


def skyfield_events(tles, stations, t_start, t_end):
    """skyfield ``find_events`` per (satellite, station) pair, satellites and observers built
    outside the timing: ({(i, j): (times, events)}, skyfield start Time, wall s, CPU s)."""
    from skyfield.api import EarthSatellite, wgs84

    from groundseg.timegrid import TimeGrid, timescale
    ts = timescale()
    sf_t0, sf_t1 = (TimeGrid.from_utc([t_start, t_end]).skyfield_time[i] for i in (0, 1))
    sats = [EarthSatellite(l1, l2, name, ts) for name, l1, l2 in tles]
    tops = [wgs84.latlon(s.latitude_deg, s.longitude_deg, s.altitude_m) for s in stations]
    out = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for i, sat in enumerate(sats):
        for j, top in enumerate(tops):
            out[i, j] = sat.find_events(top, sf_t0, sf_t1, altitude_degrees=5.0)
    return out, sf_t0, time.perf_counter() - t0, time.process_time() - c0


def compare(args):
    from groundseg.passes import predict_passes
    from groundseg.timegrid import parse_utc
    rng = np.random.default_rng(args.seed)
    tles = random_tles(rng, args.satellites)
    stations = random_stations(rng, args.stations)
    c = constellation(tles)
    t_start = parse_utc(START)[0]
    t_end = t_start + np.timedelta64(int(args.days * 86400), "s")
    print(f"compare: {len(c)} satellites x {len(stations)} stations x {args.days:g} days, "
          f"5 deg mask", flush=True)

    predict_passes(c, stations, t_start, t_start + np.timedelta64(3600, "s"))      # warm-up
    runs, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        ours = predict_passes(c, stations, t_start, t_end)
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    t_ours, c_ours = statistics.median(runs), statistics.median(cpus)
    floor, n_eval, step = sgp4_floor(c, t_start, t_end)

    sky_passes, sf_t0, t_sky, c_sky = skyfield_events(tles, stations, t_start, t_end)
    n_sky = 0
    matched = 0
    aos_s = (ours.aos_utc - t_start) / np.timedelta64(1, "ns") / 1e9
    los_s = (ours.los_utc - t_start) / np.timedelta64(1, "ns") / 1e9
    for (i, j), (times, events) in sky_passes.items():
        sel = np.flatnonzero((ours.satellite_index == i) & (ours.station_index == j))
        sec = (times.tt - sf_t0.tt) * 86400.0
        rise = None
        for s, e in zip(sec, events):
            if e == 0:
                rise = s
            elif e == 2:
                n_sky += 1
                if rise is None:
                    matched += bool(np.any(np.abs(los_s[sel] - s) <= 1.0))
                else:
                    matched += bool(np.any((np.abs(aos_s[sel] - rise) <= 1.0)
                                           & (np.abs(los_s[sel] - s) <= 1.0)))
                rise = None
        if rise is not None:
            n_sky += 1
            matched += bool(np.any(np.abs(aos_s[sel] - rise) <= 1.0))

    # brahe: its batch call over all locations and propagators.
    t_brahe, c_brahe, n_brahe, brahe_note = None, None, None, ""
    try:
        import brahe as bh
        bh.set_global_eop_provider_from_static_provider(bh.StaticEOPProvider.from_zero())
        props = [bh.SGPPropagator.from_tle(l1, l2, 60.0) for _, l1, l2 in tles]
        locs = [bh.PointLocation(s.longitude_deg, s.latitude_deg, s.altitude_m) for s in stations]
        e0 = bh.Epoch.from_datetime(2026, 11, 26, 6, 0, 0.0, 0.0, bh.TimeSystem.UTC)
        e1 = e0 + args.days * 86400.0
        constraint = bh.ElevationConstraint(min_elevation_deg=5.0)
        t0, c0 = time.perf_counter(), time.process_time()
        windows = bh.location_accesses(locs, props, e0, e1, constraint)
        t_brahe, c_brahe = time.perf_counter() - t0, time.process_time() - c0
        n_brahe = len(windows)
    except Exception as exc:  # brahe is a bench-only extra
        brahe_note = f"brahe unavailable: {exc}"

    print(f"  passes found      groundseg {len(ours):7d}   skyfield {n_sky:7d}   "
          f"brahe {n_brahe if n_brahe is not None else '-':>7}")
    print(f"  skyfield passes matched by groundseg within 1 s: {matched} of {n_sky}")
    print(f"  load average (1 min) after the timings: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          f"(wall-clock ratios suffer when other jobs share the CPUs; CPU-time ratios less)")
    print(f"  groundseg predict_passes   wall {t_ours:7.3f} s  CPU {c_ours:7.3f} s  (medians of "
          f"{args.repeat}; wall runs {', '.join(f'{x:.3f}' for x in runs)})")
    print(f"  skyfield find_events loop  wall {t_sky:7.3f} s  CPU {c_sky:7.3f} s  -> groundseg "
          f"{t_sky / t_ours:5.1f}x faster wall, {c_sky / c_ours:5.1f}x CPU (goal >= 30x)")
    if t_brahe is not None:
        print(f"  brahe location_accesses    wall {t_brahe:7.3f} s  CPU {c_brahe:7.3f} s  -> groundseg "
              f"{t_brahe / t_ours:5.1f}x faster wall, {c_brahe / c_ours:5.1f}x CPU (goal >= 15x)")
    else:
        print(f"  {brahe_note}")
    print(f"  SGP4 floor: {n_eval:,} evaluations at the {step:g} s grid = {floor:.3f} s; "
          f"groundseg is {t_ours / floor:.1f}x the floor")
    print(f"  stats: {ours.stats}")


def cli(args):
    """``groundseg passes`` end to end in this process against skyfield on the same job."""
    import tempfile

    from groundseg.cli import main as groundseg_main
    from groundseg.passes import predict_passes
    from groundseg.timegrid import format_utc, parse_utc
    rng = np.random.default_rng(args.seed)
    tles = random_tles(rng, args.satellites)
    stations = random_stations(rng, args.stations)
    t_start = parse_utc(START)[0]
    t_end = t_start + np.timedelta64(int(args.cli_days * 86400), "s")
    tmp = Path(tempfile.mkdtemp(prefix="bench_passes_"))
    (tmp / "c.tle").write_text("".join(f"{n}\n{a}\n{b}\n" for n, a, b in tles))
    (tmp / "st.csv").write_text("name,latitude_deg,longitude_deg,altitude_m,min_elevation_deg\n" + "".join(
        f"{s.name},{s.latitude_deg!r},{s.longitude_deg!r},{s.altitude_m!r},5\n" for s in stations))
    argv = ["passes", "--tle", str(tmp / "c.tle"), "--stations", str(tmp / "st.csv"),
            "--start", START, "--output", str(tmp / "passes.csv")]
    print(f"cli: groundseg passes, {args.satellites} satellites x {args.stations} stations x "
          f"{args.cli_days:g} days, 5 deg mask, CSV to a file", flush=True)
    startup = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import groundseg.cli"], check=True, cwd=ROOT)
        startup.append(time.perf_counter() - t0)
    groundseg_main(argv + ["--end", format_utc(t_start + np.timedelta64(3600, "s"))[0]])  # warm-up
    runs, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        assert groundseg_main(argv + ["--end", format_utc(t_end)[0]]) == 0
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    t_cli, c_cli = statistics.median(runs), statistics.median(cpus)
    rows = sum(1 for _ in open(tmp / "passes.csv")) - 1
    predict, write = [], []
    for _ in range(args.repeat):
        c0 = time.process_time()
        passes = predict_passes(constellation(tles), stations, t_start, t_end)
        predict.append(time.process_time() - c0)
        c0 = time.process_time()
        passes.to_csv(tmp / "again.csv")
        write.append(time.process_time() - c0)
    _, _, t_sky, c_sky = skyfield_events(tles, stations, t_start, t_end)
    print(f"  groundseg passes (in process)  wall {t_cli:7.3f} s  CPU {c_cli:7.3f} s  (medians of "
          f"{args.repeat}; {rows:,} rows; wall runs {', '.join(f'{x:.3f}' for x in runs)})")
    print(f"    of which (CPU) predict_passes {statistics.median(predict):.3f} s, table + CSV "
          f"{statistics.median(write):.3f} s; interpreter start-up (import groundseg.cli, wall, left "
          f"out) {statistics.median(startup):.3f} s")
    print(f"  skyfield find_events loop      wall {t_sky:7.3f} s  CPU {c_sky:7.3f} s  -> groundseg passes "
          f"{t_sky / t_cli:5.1f}x faster wall, {c_sky / c_cli:5.1f}x CPU (goal >= 50x)")
    print(f"  load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def scale_child(args):
    """Runs in a fresh process: prints one JSON line."""
    from groundseg.passes import predict_passes
    from groundseg.timegrid import parse_utc
    rng = np.random.default_rng(args.seed + 1)
    c = constellation(random_tles(rng, args.scale_satellites))
    stations = random_stations(rng, args.scale_stations)
    t_start = parse_utc(START)[0]
    t_end = t_start + np.timedelta64(int(args.scale_hours * 3600), "s")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    w0, c0 = time.perf_counter(), time.process_time()
    p = predict_passes(c, stations, t_start, t_end, workers=args.workers)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    floor, n_eval, step = sgp4_floor(c, t_start, t_end)
    print(json.dumps(dict(wall=wall, cpu=cpu, rss_mb=rss / 1024, rss_before_mb=rss0 / 1024,
                          passes=len(p), floor=floor, n_eval=n_eval, step=step, stats=p.stats,
                          problems=len(p.problems))))


def scale(args):
    cmd = [sys.executable, __file__, "--part", "scale-child", "--seed", str(args.seed),
           "--scale-satellites", str(args.scale_satellites), "--scale-stations",
           str(args.scale_stations), "--scale-hours", str(args.scale_hours)]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"scale: {args.scale_satellites} satellites x {args.scale_stations} stations x "
          f"{args.scale_hours:g} h, 5 deg mask, {os.cpu_count()} CPUs")
    print(f"  wall {r['wall']:.2f} s (goal < 10 s), CPU {r['cpu']:.2f} s, "
          f"peak RSS {r['rss_mb']:.0f} MB (goal < 4096 MB; {r['rss_before_mb']:.0f} MB before the run)")
    print(f"  passes {r['passes']:,}; SGP4 floor {r['n_eval']:,} evaluations at {r['step']:g} s "
          f"= {r['floor']:.2f} s; wall is {r['wall'] / r['floor']:.1f}x the floor")
    print(f"  stats: {r['stats']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("all", "compare", "cli", "scale", "scale-child"), default="all")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--satellites", type=int, default=100)
    ap.add_argument("--stations", type=int, default=10)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--cli-days", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale-satellites", type=int, default=5000)
    ap.add_argument("--scale-stations", type=int, default=20)
    ap.add_argument("--scale-hours", type=float, default=24.0)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    if args.part == "scale-child":
        scale_child(args)
        return
    if args.part in ("all", "compare"):
        compare(args)
    if args.part in ("all", "cli"):
        cli(args)
    if args.part in ("all", "scale"):
        scale(args)


if __name__ == "__main__":
    main()
