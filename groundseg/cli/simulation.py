"""Subcommands of the simulation package: ``coverage``, ``scenario``, ``sim run``, ``demo``.

Bad input raises :class:`~sims.errors.SimulationError` (a
:class:`~groundseg.errors.GroundsegError`).
"""
from __future__ import annotations

import json

import numpy as np
from sims.errors import SimulationError

from . import commanding, console, options
from .output import note

# Above this many (cell x satellite x day) the default backend is a LocalCluster.
_AUTO_CLUSTER_WORK = 2_000_000


def register(sub) -> None:
    """Add ``coverage``, ``scenario``, ``sim`` and ``demo`` to ``sub`` (argparse subparsers)."""
    p = options.command(sub, "coverage", _coverage, "coverage and revisit over a grid of ground cells")
    src = p.add_mutually_exclusive_group()
    options.add_constellation(src)
    src.add_argument("--scenario", metavar="FILE",
                     help="a scenario (its satellites, and defaults for window, region, "
                          "resolution, off-nadir and Sun limits); 'bundled' for formosat8")
    p.add_argument("--region", metavar="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX",
                   help="region in degrees, or 'globe'")
    p.add_argument("--resolution-deg", type=float, metavar="R", help="cell size in degrees")
    options.add_window(p, required=False)
    options.add_imaging_limits(p, "default: the scenario's field of regard, else 45",
                               "at the cell; default: the scenario's, else none")
    options.add_cluster(p)
    options.add_progress(p)
    options.add_step(p, None, "propagation grid of the search (default: the scenario's, else 60)")
    p.add_argument("--output", required=True, metavar="DIR", help="output directory")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="format of the cells table: DIR/cells.csv or DIR/cells.parquet")

    p = options.command(sub, "scenario", _scenario, "validate a scenario and show what it resolves to")
    p.add_argument("file", nargs="?", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = options.command(sub, "demo", _demo,
                        "the bundled scenario end to end: passes, plan, simulation, telemetry, pictures")
    p.add_argument("--output", default="groundseg-demo", metavar="DIR",
                   help="output directory (default ./groundseg-demo)")
    p.add_argument("--hours", type=float, default=None, metavar="H",
                   help="simulate only the first H hours (default: the scenario's 24)")
    _run_options(p, time_limit=10.0)
    p.add_argument("--console", action="store_true",
                   help="serve the operations console on the demo's telemetry, streamed at --realtime "
                        "(default 60) times real time, and keep serving until Ctrl-C")
    console.add_http(p)
    p.add_argument("--users", metavar="FILE",
                   help="with --console: the console's users file (default: a new 'operator' login, printed)")

    sim = options.command(sub, "sim", None, "simulation runs", "Simulation runs of a scenario.")
    simsub = sim.add_subparsers(dest="sim_command", metavar="COMMAND")
    simsub.required = True
    p = options.command(simsub, "run", _sim_run, "run a scenario end to end")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file ('bundled' for formosat8)")
    p.add_argument("--output", default=None, metavar="DIR",
                   help="output directory (default ./groundseg-sim-<scenario name>)")
    _run_options(p, time_limit=10.0)
    commanding.register_sim_spacecraft(simsub)


def _run_options(p, time_limit: float) -> None:
    p.add_argument("--realtime", type=float, default=None, metavar="FACTOR",
                   help="send telemetry at FACTOR times real time, 0 < FACTOR <= 1e6 "
                        "(default: as fast as possible)")
    p.add_argument("--publish", default=None, metavar="ENDPOINT",
                   help="send telemetry to a platform listening at ENDPOINT (e.g. "
                        "tcp://127.0.0.1:5555, see 'groundseg telemetry platform') instead of "
                        "the in-process one; that platform keeps the archive. Exit status 1 when "
                        "it did not acknowledge every packet")
    p.add_argument("--keys", default=None, metavar="DIR",
                   help="with --publish: CurveZMQ key directory holding one source key per "
                        "satellite, named after it (groundseg telemetry keys --dir DIR --source NAME)")
    p.add_argument("--linger", type=float, default=30.0, metavar="S",
                   help="with --publish: seconds to wait for the platform's acknowledgements "
                        "(default 30)")
    options.add_planner(p, time_limit)
    p.add_argument("--no-telemetry", action="store_true", help="skip the telemetry stream")
    p.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")


def _demo(args) -> int:
    """Runs the bundled FORMOSAT-8-like scenario for 24 h end to end: passes, contact plan,
    imaging plan, the plan as PUS 11 commands uplinked in the contacts to simulated spacecraft
    and verified, simulation of what they executed (power, memory, attitude), housekeeping
    telemetry (with injected faults) streamed over ZeroMQ to an in-process operations platform
    and its archive, coverage over Taiwan and pictures, then prints a summary. DIR holds
    passes.csv, contacts.csv, plan.json, timeline.csv, load.json, events.csv, telemetry.sqlite
    (with the command history), summary.json, coverage_cells.csv and ground_tracks.png,
    pass_gantt.png, plan_timeline.png, memory_battery.png, revisit_map.png."""
    scenario = options.scenario(None)
    if args.hours is not None:
        import dataclasses
        if not 0 < args.hours <= scenario.window.duration_s / 3600.0:
            raise SimulationError(f"--hours must be in (0, {scenario.window.duration_s / 3600:g}], "
                                  f"got {args.hours:g}")
        end = scenario.window.start + np.timedelta64(int(round(args.hours * 3600e9)), "ns")
        scenario = dataclasses.replace(scenario, window=dataclasses.replace(scenario.window, end=end))
    if args.console:
        if args.publish is not None or args.no_telemetry:
            raise SimulationError("--console runs its own platform and shows the telemetry: drop --publish "
                                  "and --no-telemetry")

        def run(publish, realtime):
            args.publish, args.realtime = publish, realtime
            return _execute(scenario, args.output, args)
        return console.serve_demo(scenario, args.output, args, run)
    return _execute(scenario, args.output, args)


def _sim_run(args) -> int:
    """Like 'groundseg demo' for any scenario: passes, contacts, imaging plan, simulation,
    housekeeping telemetry to an in-process platform (or to --publish ENDPOINT), pictures; a
    coverage run only if the scenario has a [coverage] region. Writes the files of 'demo'
    into DIR."""
    scenario = options.scenario(args.scenario)
    out = args.output or f"groundseg-sim-{_slug(scenario.name)}"
    return _execute(scenario, out, args)


def _slug(name: str) -> str:
    import re
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "scenario"


def _execute(scenario, output, args) -> int:
    from sims.link import MAX_REALTIME_FACTOR
    from sims.pipeline import human_summary, run_scenario
    if args.realtime is not None and not 0 < args.realtime <= MAX_REALTIME_FACTOR:
        raise SimulationError(f"--realtime must be in (0, {MAX_REALTIME_FACTOR:g}], got {args.realtime:g}")
    options.positive("--time-limit", args.time_limit)
    if args.publish is not None and not (args.publish.startswith(("tcp://", "ipc://"))
                                         and len(args.publish) > 6):
        raise SimulationError(f"--publish {args.publish!r}: expected tcp://HOST:PORT or ipc://PATH")
    if args.realtime is not None and args.no_telemetry:
        raise SimulationError("--realtime paces the telemetry stream: drop --no-telemetry")
    if args.publish is not None and args.no_telemetry:
        raise SimulationError("--publish sends the telemetry stream: drop --no-telemetry")
    if args.keys is not None and args.publish is None:
        raise SimulationError("--keys authenticates to the platform at --publish: give --publish")
    if not args.linger >= 0:
        raise SimulationError(f"--linger must be 0 or more, got {args.linger:g}")
    run = run_scenario(scenario, output, time_limit_s=args.time_limit, seed=args.seed,
                       telemetry=not args.no_telemetry, publish=args.publish, keys=args.keys,
                       linger_s=args.linger,
                       realtime=args.realtime, plots=not args.no_pictures, log=note)
    print(human_summary(run))
    print(f"output in {output}")
    if run.telemetry is not None and not run.telemetry["acknowledged"]:
        where = f"at {args.publish}" if args.publish else "in process"
        note(f"not delivered: the platform {where} did not acknowledge every packet")
        return 1
    return 0


def _coverage(args) -> int:
    """Access intervals of every grid cell and satellite under off-nadir and Sun constraints
    (a complete search: no access longer than 0.1 s is missed), then per-cell revisit
    statistics. Writes DIR/cells.csv (or .parquet; latitude_deg,longitude_deg,accesses,mean_revisit_h,
    max_revisit_h,p95_revisit_h,first_access_utc) and DIR/summary.json. Give negative region
    values with '=': --region=-90,90,-180,180."""
    from groundseg.timegrid import format_utc
    from sims.coverage import AccessConstraints, CoverageGrid, coverage

    scenario = options.scenario(args.scenario) if args.scenario else None
    start, end = options.window_or(args, scenario.coverage_window if scenario else _no_window)
    region, resolution, off_nadir, sun = (args.region, args.resolution_deg, args.max_off_nadir,
                                          args.min_sun_elevation)
    step_s = options.DEFAULT_STEP_S
    if scenario is not None:
        cov, model = scenario.coverage, scenario.spacecraft
        if region is None and cov.region_deg is not None:
            region = ",".join(f"{x:g}" for x in cov.region_deg)
        resolution = resolution if resolution is not None else cov.resolution_deg
        step_s = cov.step_s or step_s
        off_nadir = model.field_of_regard_deg if off_nadir is None else off_nadir
        sun = model.min_sun_elevation_deg if sun is None else sun
    if region is None:
        raise SimulationError("--region is required (LAT_MIN,LAT_MAX,LON_MIN,LON_MAX or 'globe')")
    if resolution is None:
        raise SimulationError("--resolution-deg is required")
    step_s = options.step(args, step_s)
    asked = options.asked(resolution_deg=f"--resolution-deg {resolution:g}",
                          step_s=f"--step {step_s:g}",
                          propagate=f"{options.days(start, end)} every --step {step_s:g} s")
    with asked:
        grid = CoverageGrid.globe(resolution) if region.strip().lower() in ("globe", "global") \
            else CoverageGrid.parse(region, resolution)
    constellation = (options.constellation(args, start) if args.tle or scenario is None
                     else scenario.constellation)
    constraints = AccessConstraints(45.0 if off_nadir is None else off_nadir, sun)
    days = float((end - start) / np.timedelta64(1, "D"))
    work = len(grid) * len(constellation) * max(days, 1e-3)
    with asked, options.cluster(args, work, _AUTO_CLUSTER_WORK) as (client, label), \
            options.progress(args, "coverage") as bar:
        result = coverage(constellation, grid, start, end, constraints, step_s=step_s,
                          client=client, progress=bar, backend_label=label)
    cells, summary = result.write(args.output, args.format)
    s = result.summary()
    mean = s["mean_revisit_h_over_cells"]
    worst = s["max_revisit_h_over_cells"]
    print(f"coverage: {s['cells']} cells x {len(constellation)} satellites, "
          f"{format_utc(start)[0]} .. {format_utc(end)[0]}, {s['accesses']} accesses; "
          f"{s['cells_accessed']} cells accessed; mean revisit (median over cells) "
          f"{'-' if mean is None else format(mean['median'], '.2f')} h, worst gap "
          f"{'-' if worst is None else format(worst['max'], '.2f')} h; {label}, "
          f"{s['elapsed_s']:.1f} s")
    print(f"wrote {cells} and {summary}")
    return 0


def _no_window():
    raise SimulationError("--start and --end are required (or a --scenario with a window)")


def _scenario(args) -> int:
    """Load and validate a scenario file (default: the bundled formosat8) and print its
    satellites, stations and spacecraft model."""
    scenario = options.scenario(args.file)
    d = scenario.to_dict()
    if args.format == "json":
        print(json.dumps(d, indent=1))
        return 0
    w = d["window"]
    sc = d["spacecraft"]
    lines = [
        f"scenario {d['name']} ({d['source']})",
        f"  {d['description']}" if d["description"] else None,
        f"window   {w['start_utc']} .. {w['end_utc']} ({w['duration_h']:g} h), step {w['step_s']:g} s",
        f"satellites {len(d['satellites'])}: " + ", ".join(s["name"] for s in d["satellites"][:12])
        + (" ..." if len(d["satellites"]) > 12 else ""),
        f"stations {len(d['stations'])}: " + ", ".join(
            f"{s['name']} ({s['latitude_deg']:.2f}, {s['longitude_deg']:.2f}, "
            f"{s['downlink_rate_mbps']:g} Mbit/s)" for s in d["stations"]),
        f"targets  {d['targets']}",
        f"imaging  swath {sc['swath_km']:g} km, field of regard {sc['field_of_regard_deg']:g} deg, "
        f"min Sun {sc['min_sun_elevation_deg']} deg, {sc['image_data_rate_gbit_s']:g} Gbit/s",
        f"memory   {sc['memory_capacity_gbit']:g} Gbit; downlink {sc['downlink_rate_mbps']:g} Mbit/s",
        f"power    array {sc['solar_array_power_w']:g} W, battery {sc['battery_capacity_wh']:g} Wh, "
        "loads " + ", ".join(f"{k} {v:g} W" for k, v in sc["loads_w"].items()),
        "agility  " + ", ".join(f"{k} {v}" for k, v in sc["agility"].items()),
        f"faults   {len(d['faults'])}: " + ", ".join(
            f"{f['kind']} on {f['satellite']} ({f['parameter']})" for f in d["faults"])
        if d["faults"] else None,
    ]
    print("\n".join(line for line in lines if line is not None))
    return 0
