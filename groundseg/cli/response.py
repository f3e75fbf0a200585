"""Subcommand ``respond``: disaster response over a scenario's optical and SAR satellites.

The options of every satellite and mode (:mod:`groundseg.response`) go to ``DIR/options.csv``
and a summary to standard output.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import GroundsegError
from ..sar import ORBIT_DIRECTIONS
from ..timegrid import parse_utc
from . import options

_MAX_PLAN_BYTES = 64 << 20
_DEFAULT_SCENARIO = "formosat8_sar"


def register(sub) -> None:
    """Add ``respond`` to ``sub`` (an argparse subparsers object)."""
    p = options.command(sub, "respond", _respond,
                        "disaster response: how soon each satellite can image an area")
    p.add_argument("--aoi", required=True, metavar="FILE",
                   help="the area of interest: GeoJSON with one Point or Polygon, or a targets "
                        "CSV with one row")
    p.add_argument("--at", required=True, metavar="ISO",
                   help="when the request arrives, ISO 8601 UTC (e.g. 2026-11-26T02:00:00Z)")
    p.add_argument("--scenario", metavar="FILE",
                   help=f"scenario TOML (satellites, sensors, stations); default: the bundled "
                        f"{_DEFAULT_SCENARIO} (8 optical + 4 SAR satellites)")
    p.add_argument("--plan", metavar="PLAN_JSON",
                   help="the current plan (plan.json of groundseg plan / demo on this "
                        "scenario's satellites and targets): the data it keeps on board go down "
                        "before the new image, and the request is put into it: DIR/plan.json "
                        "and DIR/changes.csv")
    p.add_argument("--cloud", type=float, default=0.0, metavar="FRACTION",
                   help="forecast cloud cover over the area, 0..1 (default 0): optical coverage "
                        "is scaled by the clear fraction")
    p.add_argument("--max-cloud", type=float, default=0.7, metavar="FRACTION",
                   help="above this cloud cover optical options are left out (default 0.7)")
    p.add_argument("--horizon-h", type=float, default=72.0, metavar="H",
                   help="how far ahead to look (default 72)")
    p.add_argument("--processing-h", type=float, default=1.0, metavar="H",
                   help="ground processing from the end of the downlink to delivery (default 1)")
    p.add_argument("--order-lead-min", type=float, default=30.0, metavar="MIN",
                   help="from the request to a command load ready to uplink (default 30)")
    p.add_argument("--orbit-direction", choices=ORBIT_DIRECTIONS, default="both",
                   help="SAR passes to use (default both)")
    p.add_argument("--output", required=True, metavar="DIR", help="directory for options.csv")


def _scenario(path):
    return options.scenario(path or _DEFAULT_SCENARIO)


def _aoi(path, scenario):
    from sims.planning_inputs import target_defaults

    from ..targets import load_targets
    aoi = load_targets(path, target_defaults(scenario.spacecraft))
    if len(aoi) != 1:
        raise GroundsegError(f"{path}: the area of interest must be one Point or Polygon, "
                             f"got {len(aoi)} targets")
    return aoi


def _read_plan(path) -> dict:
    from ..documents import parse_document
    from ..response import ResponseError
    p = Path(path)
    if p.stat().st_size > _MAX_PLAN_BYTES:
        raise ResponseError(f"{path}: larger than {_MAX_PLAN_BYTES >> 20} MiB, not a plan")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResponseError(f"{path}: not a text file") from None
    return parse_document(text, str(path), ResponseError, "JSON")


def _respond(args) -> int:
    """For every satellite and sensor mode that can image the area within the horizon, its
    fastest option: the acquisition (after the first command uplink the satellite can get),
    the first downlink with room for the image behind what is already on board, and the
    delivery (that downlink's end plus processing). Optical options need daylight and are
    scaled by the clear-sky fraction. Writes DIR/options.csv (sorted by delivery):
    satellite,sensor,mode,start_utc,end_utc,off_nadir_deg,incidence_deg,look_side,
    sun_elevation_deg,coverage_fraction,first_downlink_station,delivery_utc,hours_to_image,
    hours_to_delivery; prints the fastest option, optical against SAR. With --plan the
    request is put into the current plan with the least change (insert; insert shifting
    later acquisitions; remove the least valuable acquisitions in the way and offer them
    again), the earliest delivery first; acquisitions already commanded stay. Writes
    DIR/plan.json (the new plan) and DIR/changes.csv: task,action,old_start_utc,
    new_start_utc,reason with action kept, moved, dropped or added."""
    from sims.planning_inputs import fleet as scenario_fleet

    from ..response import ResponseSettings, onboard_from_plan, response_options
    settings = ResponseSettings(horizon_h=args.horizon_h, processing_h=args.processing_h,
                                order_lead_min=args.order_lead_min, cloud_fraction=args.cloud,
                                max_cloud_fraction=args.max_cloud,
                                orbit_direction=args.orbit_direction)
    scenario = _scenario(args.scenario)
    fleet = scenario_fleet(scenario)
    aoi = _aoi(args.aoi, scenario)
    plan = onboard = window = None
    if args.plan:
        plan = _read_plan(args.plan)
        window = _plan_window(plan, scenario, args.plan)
        initial = [fleet.payload_of(s).spacecraft.initial_memory_gbit for s in range(len(fleet))]
        onboard = onboard_from_plan(plan, args.at, fleet.constellation.names, initial,
                                    source=str(args.plan))
    result = response_options(fleet, list(scenario.stations), aoi, args.at, settings, onboard)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "options.csv")
    for line in result.summary_lines():
        print(line)
    print(f"options: {len(result)} -> {out / 'options.csv'}")
    if plan is not None:
        _replan(args, scenario, fleet, aoi, plan, window, onboard, settings, out)
    return 0


def _plan_window(plan, scenario, path) -> tuple:
    """The current plan's window: from its ``epoch_utc`` (else the scenario's start), as long
    as the scenario's."""
    epoch = plan.get("epoch_utc") if isinstance(plan, dict) else None
    try:
        start = parse_utc(scenario.window.start if epoch is None else epoch)[0]
    except GroundsegError as exc:
        raise GroundsegError(f"{path}: epoch_utc: {exc}") from None
    return start, start + (scenario.window.end - scenario.window.start)


def _replan(args, scenario, fleet, aoi, plan, window, onboard, settings, out) -> None:
    """Put the request into the current plan; write plan.json and changes.csv."""
    from ..response_plan import replan_request
    from ..timegrid import format_utc
    if not window[0] <= parse_utc(args.at)[0] < window[1]:
        print(f"re-plan: none, the request is outside the current plan's window "
              f"{format_utc(window[0])[0]} .. {format_utc(window[1])[0]}")
        return
    new = replan_request(fleet, list(scenario.stations), scenario.load_targets(), window, plan,
                         aoi, args.at, settings, onboard, source=str(args.plan))
    new.plan.to_json(out / "plan.json")
    new.changes.to_csv(out / "changes.csv")
    for line in new.summary_lines():
        print(line)
    print(f"new plan -> {out / 'plan.json'}, changes -> {out / 'changes.csv'} "
          f"(geometry {new.geometry_s:.1f} s)")
