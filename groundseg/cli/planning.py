"""Subcommands ``access`` (imaging opportunities) and ``plan`` (the imaging plan).

``plan`` hands its inputs to :func:`groundseg.mission_plan.plan_mission`, the pipeline the
simulation runs too; with ``--scenario`` the inputs come from ``sims.planning_inputs`` and the
other options override the scenario's.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import GroundsegError
from . import options
from .output import emit_table, warn

_MAX_WARNINGS = 20
_MAX_PLAN_STEP_S = 240.0
#: Peak bytes per (satellite, grid time) of an access search: the ephemeris, its imaging
#: geometry and the Sun (about 380 measured over 1 to 4 weeks of 8 satellites), rounded up.
_ACCESS_STATE_BYTES = 512


def register(sub) -> None:
    """Add ``access`` and ``plan`` to ``sub`` (an argparse subparsers object)."""
    p = options.command(sub, "access", _access, "imaging opportunities of satellites over targets")
    _imaging_options(p)
    _sar_options(p)
    p.add_argument("--unscheduled", metavar="PATH",
                   help="write targets without opportunity (target,reason,detail) as CSV here")
    options.add_output(p)
    options.add_progress(p)

    p = options.command(sub, "plan", _plan, "plan imaging and downlinks for the constellation")
    p.add_argument("--scenario", metavar="FILE",
                   help="scenario TOML (constellation, stations, targets, spacecraft, window); "
                        "the other options override it")
    _imaging_options(p, window_required=False)
    options.add_stations(p)
    options.add_planner(p, time_limit_s=20.0)
    p.add_argument("--method", choices=("auto", "greedy", "lns", "milp"), default="auto",
                   help="solver (default auto: heuristic + large-neighbourhood search, or an "
                        "exact MILP for small problems)")
    p.add_argument("--output", required=True, metavar="DIR",
                   help="directory for plan.json and the timeline table")
    options.add_progress(p)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="format of the timeline table: DIR/timeline.csv or DIR/timeline.parquet")


def _imaging_options(p, window_required: bool = True) -> None:
    """Options shared by ``access`` and ``plan``: constellation, targets, window, limits, sensor."""
    options.add_constellation(p)
    options.add_targets(p)
    options.add_window(p, required=window_required)
    options.add_imaging_limits(p, "for targets that do not give their own; default 30",
                               "for targets that do not give their own; default 10")
    options.add_satellites(p)
    options.add_step(p, None, "propagation grid step (default 60: states between samples are "
                              "Hermite-interpolated to under a metre; coarser grids lose accuracy)")
    options.add_sensor(p)


def _sar_options(p) -> None:
    """``--sar MODE`` (the satellites carry the bundled radar), ``--look-side``,
    ``--orbit-direction``."""
    from ..sar import LOOK_SIDES, ORBIT_DIRECTIONS, SAR_MODES
    p.add_argument("--sar", choices=[m.name for m in SAR_MODES], metavar="MODE",
                   help="the satellites carry a SAR (groundseg.sar) imaging in MODE: spotlight, "
                        "stripmap or scansar; adds the columns incidence_deg,look_side")
    p.add_argument("--look-side", choices=LOOK_SIDES, default="both", help="SAR look side")
    p.add_argument("--orbit-direction", choices=ORBIT_DIRECTIONS, default="both",
                   help="SAR passes to use")


def _imaging_inputs(args, stations=None):
    """:class:`~groundseg.mission_plan.MissionInputs` from the options alone (the planner's
    default spacecraft)."""
    from ..access import Sensor
    from ..mission_plan import MissionInputs
    from ..targets import TargetDefaults, bundled_targets, load_targets
    start, end = options.window(args)
    limits = {"min_sun_elevation_deg": args.min_sun_elevation, "max_off_nadir_deg": args.max_off_nadir}
    defaults = TargetDefaults(**{k: v for k, v in limits.items() if v is not None})
    targets = load_targets(args.targets, defaults) if args.targets else bundled_targets(defaults)
    constellation = _satellites(args, options.constellation(args, start))
    sensor = Sensor(gsd_nadir_m=args.gsd_nadir_m, swath_km=args.swath_km,
                    scene_duration_s=args.scene_duration)
    return MissionInputs(constellation, targets, stations, sensor, None, start, end)


def _scenario_inputs(args):
    """The ``--scenario`` file's inputs with the options overriding them."""
    from sims.planning_inputs import plan_inputs

    from ..stations import load_stations
    scenario = options.scenario(args.scenario)
    start, end = options.window_or(args, lambda: (scenario.window.start, scenario.window.end))
    constellation = options.constellation(args, start) if args.tle else scenario.constellation
    return plan_inputs(scenario, start=start, end=end, constellation=_satellites(args, constellation),
                       stations=load_stations(args.stations) if args.stations else None,
                       targets_path=args.targets, max_off_nadir_deg=args.max_off_nadir,
                       min_sun_elevation_deg=args.min_sun_elevation)


def _satellites(args, constellation):
    """``constellation`` cut to the ``--satellite`` options, if any."""
    return constellation.subset(args.satellite) if args.satellite else constellation


def _asked(args, inputs, step_s: float):
    """The access search's memory checked before its grid is made; budget errors inside said
    in terms of the options (:func:`options.asked`)."""
    from ..timegrid import TimeGrid
    asked = options.asked(step_s=f"--step {step_s:g}",
                          propagate=f"{options.days(inputs.start, inputs.end)} every --step {step_s:g} s",
                          **({} if getattr(args, "scenario", None) else
                             {"swath_km": f"--swath-km {args.swath_km:g}"}))
    with asked:
        inputs.constellation.require_memory(
            TimeGrid.range_size(inputs.start, inputs.end, step_s), _ACCESS_STATE_BYTES)
    return asked


def _access(args) -> int:
    """Every window in which a satellite can image a target: off-nadir angle within the
    target's limit and the Sun high enough above it. Polygons are cut into strips one swath
    wide along the ground track. CSV columns: satellite,norad_id,target,start_utc,end_utc,
    best_utc,min_off_nadir_deg,sun_elevation_deg,gsd_m. Targets without an opportunity are
    reported on standard error (and with --unscheduled in a file). With --sar MODE the
    satellites carry a radar instead: incidence band, look side and squint of the mode, no
    Sun condition, two more columns incidence_deg,look_side (gsd_m: the mode's resolution)."""
    from ..access import ACCESS_COLUMNS, find_opportunities
    from ..sar_access import SAR_ACCESS_COLUMNS, find_sar_opportunities
    from ..timegrid import TimeGrid
    inputs = _imaging_inputs(args)
    step_s = options.step(args)
    with _asked(args, inputs, step_s):
        grid = TimeGrid.range(inputs.start, inputs.end, step_s)
        eph = inputs.constellation.propagate(grid, bytes_per_state=_ACCESS_STATE_BYTES)
        for line in eph.errors():
            warn(line)
        if args.sar:
            opp = find_sar_opportunities(eph, inputs.targets, mode=args.sar,
                                         look_side=args.look_side,
                                         orbit_direction=args.orbit_direction)
        else:
            with options.progress(args, "access") as bar:
                opp = find_opportunities(eph, inputs.targets, sensor=inputs.sensor,
                                         progress=bar)
    uns = opp.unscheduled
    for i, row in enumerate(uns.records()):
        if i == _MAX_WARNINGS:
            more = len(uns) - _MAX_WARNINGS
            hint = "" if args.unscheduled else " (--unscheduled PATH writes them all)"
            warn(f"... and {more} more targets without opportunity{hint}")
            break
        warn(f"{row['target']}: {row['reason']}: {row['detail']}")
    if args.unscheduled:
        uns.to_csv(args.unscheduled)
    emit_table(opp.table(SAR_ACCESS_COLUMNS if args.sar else ACCESS_COLUMNS), args)
    return 0


def _plan(args) -> int:
    """Imaging opportunities, passes and a contact plan, then an agile-satellite schedule
    (slew times, memory, downlinks) with its objective, an upper bound and the gap. Writes
    DIR/plan.json and DIR/timeline.csv (or .parquet with --format parquet)."""
    from ..mission_plan import plan_mission

    options.positive("--time-limit", args.time_limit)
    if args.scenario:
        inputs = _scenario_inputs(args)
    elif args.start is None or args.end is None:
        raise GroundsegError("give --start and --end (or a --scenario with a window)")
    else:
        inputs = _imaging_inputs(args, options.stations(args))
    step_s = min(options.step(args), _MAX_PLAN_STEP_S)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    def warn_propagation(mission):
        for line in mission.ephemeris.errors():
            warn(line)
    with _asked(args, inputs, step_s), options.time_limit_progress(args, "plan", args.time_limit):
        result = plan_mission(inputs, step_s=step_s, time_limit_s=args.time_limit,
                              method=args.method, seed=args.seed,
                              on_geometry=warn_propagation).plan
    result.to_json(out / "plan.json")
    timeline = out / f"timeline.{args.format}"
    result.timeline_table().write(timeline, args.format)
    d = result.to_dict()
    print(json.dumps({"objective": d["objective"], "upper_bound": d["upper_bound"], "gap": d["gap"],
                      "acquisitions": len(d["acquisitions"]), "downlinks": len(d["downlinks"]),
                      "unscheduled": len(d["unscheduled"]), "plan": str(out / "plan.json"),
                      "timeline": str(timeline)}))
    return 0
