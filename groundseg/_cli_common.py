"""Pieces every ``groundseg`` subcommand shares: times, the constellation, stations, output."""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import GroundsegError
from .timegrid import format_utc, parse_utc

__all__ = ["add_output_arguments", "add_constellation_argument", "add_window_arguments",
           "window", "constellation_from_args", "stations_from_args", "emit_table", "emit_text",
           "scenario_plan_inputs"]

#: Set by :mod:`groundseg.cli` (the only module that may import ``sims``): a function
#: ``args -> dict`` that reads ``args.scenario`` and returns the planning inputs
#: (constellation, targets, sensor, stations, spacecraft, start, end), the command-line
#: options overriding the scenario.
scenario_loader = None


def scenario_plan_inputs(args) -> dict:
    """Planning inputs from ``--scenario`` through :data:`scenario_loader`."""
    if scenario_loader is None:
        raise GroundsegError("--scenario needs the sims package, which is not installed")
    return scenario_loader(args)


def add_window_arguments(parser, required: bool = True) -> None:
    parser.add_argument("--start", required=required, metavar="ISO",
                        help="window start, ISO 8601 UTC (e.g. 2026-11-26T00:00:00Z)")
    parser.add_argument("--end", required=required, metavar="ISO", help="window end, ISO 8601 UTC")


def add_constellation_argument(parser) -> None:
    parser.add_argument("--tle", metavar="FILE",
                        help="TLE or OMM (JSON/CSV/XML) file; default: the bundled FORMOSAT-8-like "
                             "constellation generated at the window start")


def add_output_arguments(parser, formats=("csv", "json")) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0], help="output format")
    parser.add_argument("--output", metavar="PATH", help="write here instead of standard output")


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


def constellation_from_args(args, epoch):
    """``--tle FILE`` or the bundled constellation at ``epoch``; rejected records go to stderr."""
    from .orbits import Constellation
    if getattr(args, "tle", None):
        c = Constellation.from_file(args.tle)
        for err in c.catalog_errors:
            print(f"groundseg: warning: skipped {err}", file=sys.stderr)
        return c
    return Constellation.formosat8(epoch)


def stations_from_args(args):
    """``--stations FILE`` (CSV or TOML) or the bundled network."""
    from .stations import bundled_stations, load_stations
    path = getattr(args, "stations", None)
    return load_stations(path) if path else bundled_stations()


def emit_text(text: str, output) -> None:
    """Write ``text`` to ``output`` (a path) or standard output."""
    if output:
        path = Path(output)
        if path.parent and not path.parent.exists():
            raise GroundsegError(f"{output}: directory {path.parent} does not exist")
        path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")


def emit_table(table, args) -> None:
    """A Table as ``--format`` csv/json to ``--output`` or standard output."""
    text = table.to_json() if getattr(args, "format", "csv") == "json" else table.to_csv()
    emit_text(text, getattr(args, "output", None))
