"""The option groups of the subcommands, each defined once, and the functions that read them.

``add_*`` put a group on a parser (or an argparse group); the readers turn parsed options into
core objects and raise :class:`~groundseg.errors.GroundsegError` naming the option on bad input.
"""
from __future__ import annotations

import argparse
import inspect
import math

from ..errors import GroundsegError
from ..timegrid import format_utc, parse_utc
from .output import warn

DEFAULT_STEP_S = 60.0


def command(sub, name: str, func, help: str, description: str | None = None):
    """Subcommand ``name`` of ``sub`` that runs ``func(args)`` (None: it has subcommands);
    ``--help`` shows ``help`` in the list and ``description`` (default: ``func``'s docstring,
    line breaks kept) on its page."""
    p = sub.add_parser(name, help=help, description=description or inspect.cleandoc(func.__doc__),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    if func is not None:
        p.set_defaults(func=func)
    return p


def add_window(p, required: bool = True) -> None:
    p.add_argument("--start", required=required, metavar="ISO",
                   help="window start, ISO 8601 UTC (e.g. 2026-11-26T00:00:00Z)")
    p.add_argument("--end", required=required, metavar="ISO", help="window end, ISO 8601 UTC")


def add_constellation(p) -> None:
    """``--tle FILE`` (``p``: a parser or a mutually exclusive group)."""
    p.add_argument("--tle", metavar="FILE",
                   help="TLE or OMM (JSON/CSV/XML) file; default: the bundled FORMOSAT-8-like "
                        "constellation generated at the window start")


def add_stations(p) -> None:
    p.add_argument("--stations", metavar="FILE",
                   help="stations CSV (name,latitude_deg,longitude_deg,altitude_m"
                        "[,min_elevation_deg]) or TOML (also masks, antennas); default: bundled")


def add_satellites(p) -> None:
    p.add_argument("--satellite", action="append", metavar="NAME_OR_ID",
                   help="only this satellite (repeatable)")


def add_targets(p) -> None:
    p.add_argument("--targets", metavar="FILE",
                   help="targets as CSV (id,latitude_deg,longitude_deg,altitude_m[,priority,"
                        "min_sun_elevation_deg,max_off_nadir_deg,mode]) or GeoJSON (Points and "
                        "Polygons with those properties); default: the bundled Taiwan set")


def add_imaging_limits(p, off_nadir_default: str, sun_default: str) -> None:
    """``--max-off-nadir`` and ``--min-sun-elevation``; the defaults are the commands' words."""
    p.add_argument("--max-off-nadir", type=float, metavar="DEG",
                   help=f"off-nadir limit ({off_nadir_default})")
    p.add_argument("--min-sun-elevation", type=float, metavar="DEG",
                   help=f"minimum solar elevation ({sun_default})")


def add_sensor(p) -> None:
    p.add_argument("--swath-km", type=float, default=10.0, metavar="KM",
                   help="swath width at nadir, the width of polygon strips (default 10)")
    p.add_argument("--gsd-nadir-m", type=float, default=1.0, metavar="M",
                   help="ground sample distance at nadir from 561 km (default 1)")
    p.add_argument("--scene-duration", type=float, default=10.0, metavar="SECONDS",
                   help="duration of a point-target acquisition (default 10)")


def add_step(p, default, help: str) -> None:
    p.add_argument("--step", type=float, default=default, metavar="SECONDS", help=help)


def add_output(p, formats=("csv", "json", "parquet")) -> None:
    """``--format`` and ``--output PATH`` (standard output by default)."""
    p.add_argument("--format", choices=formats, default=formats[0], help="output format")
    p.add_argument("--output", metavar="PATH", help="write here instead of standard output")


def add_planner(p, time_limit_s: float) -> None:
    """``--time-limit`` and ``--seed`` of the imaging planner."""
    p.add_argument("--time-limit", type=float, default=time_limit_s, metavar="S",
                   help=f"planner time budget in seconds (default {time_limit_s:g})")
    p.add_argument("--seed", type=int, default=0, help="random seed of the planner's search")


def positive(option: str, value: float) -> float:
    """``value`` if it is > 0, else a GroundsegError naming ``option``."""
    if not value > 0:
        raise GroundsegError(f"{option} must be positive, got {value:g}")
    return value


def step(args, default: float = DEFAULT_STEP_S) -> float:
    """``--step`` (``default`` when not given), positive and finite."""
    value = positive("--step", default if args.step is None else args.step)
    if not math.isfinite(value):
        raise GroundsegError(f"--step must be finite, got {value:g}")
    return value


def window(args) -> tuple:
    """(start, end) as datetime64[ns] from ``--start`` / ``--end``; end must follow start."""
    try:
        start = parse_utc(args.start)[0]
        end = parse_utc(args.end)[0]
    except GroundsegError as exc:
        raise GroundsegError(f"--start/--end: {exc}") from None
    if end <= start:
        raise GroundsegError(f"--end {format_utc(end)[0]} must be after --start {format_utc(start)[0]}")
    return start, end


def window_or(args, fallback) -> tuple:
    """:func:`window`, or ``fallback()`` (a scenario's window) when neither option is given."""
    if (args.start is None) != (args.end is None):
        raise GroundsegError("give both --start and --end, or neither "
                             "(with --scenario: the scenario's window)")
    return window(args) if args.start is not None else fallback()


def constellation(args, epoch):
    """``--tle FILE`` or the bundled constellation at ``epoch``; rejected records go to stderr."""
    from ..orbits import Constellation
    if getattr(args, "tle", None):
        c = Constellation.from_file(args.tle)
        for err in c.catalog_errors:
            warn(f"skipped {err}")
        return c
    return Constellation.formosat8(epoch)


def stations(args):
    """``--stations FILE`` (CSV or TOML) or the bundled network."""
    from ..stations import bundled_stations, load_stations
    path = getattr(args, "stations", None)
    return load_stations(path) if path else bundled_stations()


def scenario(path):
    """A scenario file, or the bundled one for None, ``bundled`` or ``formosat8``."""
    from sims.scenario import bundled_scenario, load_scenario
    return bundled_scenario() if path in (None, "bundled", "formosat8") else load_scenario(path)
