"""Planning subcommands: ``access`` (imaging opportunities).

``plan`` (the planning engine) registers here too; it builds on :func:`scenario_from_args`
and :func:`opportunities_from_args`, which turn the shared options (constellation, targets,
window, limits, sensor) into :class:`~groundseg.access.Opportunities`.
"""
from __future__ import annotations

import sys

from ._cli_common import (add_constellation_argument, add_output_arguments,
                          add_window_arguments, constellation_from_args, emit_table, window)
from .errors import GroundsegError

_MAX_WARNINGS = 20


def register(sub) -> None:
    """Add the planning subcommands to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "access", help="imaging opportunities of satellites over targets",
        description="Every window in which a satellite can image a target: off-nadir angle "
                    "within the target's limit and the Sun high enough above it. Polygons are "
                    "cut into strips one swath wide along the ground track. CSV columns: "
                    "satellite,norad_id,target,start_utc,end_utc,best_utc,min_off_nadir_deg,"
                    "sun_elevation_deg,gsd_m. Targets without an opportunity are reported on "
                    "standard error (and with --unscheduled in a file).")
    add_scenario_arguments(p)
    p.add_argument("--unscheduled", metavar="PATH",
                   help="write targets without opportunity (target,reason,detail) as CSV here")
    add_output_arguments(p)
    p.set_defaults(func=_access)

    p = sub.add_parser(
        "plan", help="plan imaging and downlinks for the constellation",
        description="Imaging opportunities, passes and a contact plan, then an agile-satellite "
                    "schedule (slew times, memory, downlinks) with its objective, an upper "
                    "bound and the gap. Writes DIR/plan.json and DIR/timeline.csv.")
    p.add_argument("--scenario", metavar="FILE",
                   help="scenario TOML (constellation, stations, targets, spacecraft, window); "
                        "the other options override it")
    add_scenario_arguments(p, window_required=False)
    p.add_argument("--stations", metavar="FILE",
                   help="ground stations, CSV or TOML (default: the bundled network)")
    p.add_argument("--time-limit", type=float, default=20.0, metavar="S",
                   help="solver time budget in seconds (default 20)")
    p.add_argument("--method", choices=("auto", "greedy", "lns", "milp"), default="auto",
                   help="solver (default auto: heuristic + large-neighbourhood search, or an "
                        "exact MILP for small problems)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search")
    p.add_argument("--output", required=True, metavar="DIR", help="directory for plan.json and timeline.csv")
    p.set_defaults(func=_plan)


def add_scenario_arguments(p, window_required: bool = True) -> None:
    """Options shared by ``access`` and ``plan``: constellation, targets, window, limits, sensor."""
    add_constellation_argument(p)
    p.add_argument("--targets", metavar="FILE",
                   help="targets as CSV (id,latitude_deg,longitude_deg,altitude_m[,priority,"
                        "min_sun_elevation_deg,max_off_nadir_deg,mode]) or GeoJSON (Points and "
                        "Polygons with those properties); default: the bundled Taiwan set")
    add_window_arguments(p, required=window_required)
    p.add_argument("--max-off-nadir", type=float, metavar="DEG",
                   help="off-nadir limit for targets that do not give their own (default 30)")
    p.add_argument("--min-sun-elevation", type=float, metavar="DEG",
                   help="minimum solar elevation for targets that do not give their own "
                        "(default 10)")
    p.add_argument("--satellite", action="append", metavar="NAME_OR_ID",
                   help="only this satellite (repeatable)")
    p.add_argument("--step", type=float, default=None, metavar="SECONDS",
                   help="propagation grid step (default 60: states between samples are "
                        "Hermite-interpolated to under a metre; coarser grids lose accuracy)")
    p.add_argument("--swath-km", type=float, default=10.0, metavar="KM",
                   help="swath width at nadir, the width of polygon strips (default 10)")
    p.add_argument("--gsd-nadir-m", type=float, default=1.0, metavar="M",
                   help="ground sample distance at nadir from 561 km (default 1)")
    p.add_argument("--scene-duration", type=float, default=10.0, metavar="SECONDS",
                   help="duration of a point-target acquisition (default 10)")


def scenario_from_args(args):
    """``(constellation, targets, sensor, start, end)`` from :func:`add_scenario_arguments`."""
    from .access import Sensor
    from .targets import TargetDefaults, bundled_targets, load_targets
    start, end = window(args)
    base = TargetDefaults()
    defaults = TargetDefaults(
        priority=base.priority,
        min_sun_elevation_deg=(base.min_sun_elevation_deg if args.min_sun_elevation is None
                               else args.min_sun_elevation),
        max_off_nadir_deg=base.max_off_nadir_deg if args.max_off_nadir is None else args.max_off_nadir,
        mode=base.mode)
    targets = load_targets(args.targets, defaults) if args.targets else bundled_targets(defaults)
    constellation = constellation_from_args(args, start)
    if args.satellite:
        constellation = constellation.subset(args.satellite)
    sensor = Sensor(gsd_nadir_m=args.gsd_nadir_m, swath_km=args.swath_km,
                    scene_duration_s=args.scene_duration)
    if args.step is None:
        args.step = 60.0
    if not args.step > 0:
        raise GroundsegError(f"--step must be positive, got {args.step}")
    return constellation, targets, sensor, start, end


def opportunities_from_args(args):
    """Propagate once and find every opportunity; warnings go to standard error."""
    from .access import find_opportunities
    from .timegrid import TimeGrid
    constellation, targets, sensor, start, end = scenario_from_args(args)
    eph = constellation.propagate(TimeGrid.range(start, end, args.step))
    for line in eph.errors():
        print(f"groundseg: warning: {line}", file=sys.stderr)
    return find_opportunities(eph, targets, sensor=sensor)


def _access(args) -> int:
    from .access import ACCESS_COLUMNS
    opp = opportunities_from_args(args)
    uns = opp.unscheduled
    for i, row in enumerate(uns.records()):
        if i == _MAX_WARNINGS:
            more = len(uns) - _MAX_WARNINGS
            hint = "" if args.unscheduled else " (--unscheduled PATH writes them all)"
            print(f"groundseg: warning: ... and {more} more targets without opportunity{hint}",
                  file=sys.stderr)
            break
        print(f"groundseg: warning: {row['target']}: {row['reason']}: {row['detail']}",
              file=sys.stderr)
    if args.unscheduled:
        uns.to_csv(args.unscheduled)
    emit_table(opp.table(ACCESS_COLUMNS), args)
    return 0


def _plan(args) -> int:
    import json
    from pathlib import Path

    from ._cli_common import scenario_plan_inputs, stations_from_args
    from .access import find_opportunities
    from .contacts import plan_contacts
    from .passes import passes_from_ephemeris
    from .planning.imaging import ImagingSpacecraft, plan_imaging
    from .timegrid import TimeGrid

    if not args.time_limit > 0:
        raise GroundsegError(f"--time-limit must be positive, got {args.time_limit}")
    if args.scenario:
        inputs = scenario_plan_inputs(args)
        constellation, targets, sensor = inputs["constellation"], inputs["targets"], inputs["sensor"]
        stations, spacecraft = inputs["stations"], inputs["spacecraft"]
        start, end = inputs["start"], inputs["end"]
    else:
        if not (args.start and args.end):
            raise GroundsegError("give --start and --end (or a --scenario with a window)")
        constellation, targets, sensor, start, end = scenario_from_args(args)
        stations = stations_from_args(args)
        spacecraft = ImagingSpacecraft()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    eph = constellation.propagate(TimeGrid.range(start, end, min(args.step, 240.0)))
    for line in eph.errors():
        print(f"groundseg: warning: {line}", file=sys.stderr)
    opp = find_opportunities(eph, targets, sensor=sensor)
    contacts = plan_contacts(passes_from_ephemeris(eph, stations), stations, satellite_exclusive=True)
    result = plan_imaging(opp, contacts, spacecraft=spacecraft, time_limit_s=args.time_limit,
                          method=args.method, seed=args.seed)
    result.to_json(out / "plan.json")
    result.timeline_csv(out / "timeline.csv")
    d = result.to_dict()
    print(json.dumps({"objective": d["objective"], "upper_bound": d["upper_bound"], "gap": d["gap"],
                      "acquisitions": len(d["acquisitions"]), "downlinks": len(d["downlinks"]),
                      "unscheduled": len(d["unscheduled"]), "plan": str(out / "plan.json"),
                      "timeline": str(out / "timeline.csv")}))
    return 0
