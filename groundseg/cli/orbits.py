"""Subcommands ``ephemeris`` and ``constellation`` (orbit core)."""
from __future__ import annotations

from ..timegrid import TimeGrid
from . import options
from .output import emit_tables, emit_text, warn

_CATALOG_FORMATS = ("tle", "omm-json", "omm-csv", "omm-xml")
#: Peak bytes per ephemeris row while a piece is propagated, rotated and written as text.
_ROW_BYTES = 1500


def register(sub) -> None:
    """Add the orbit-core subcommands to ``sub`` (an argparse subparsers object)."""
    p = options.command(sub, "ephemeris", _ephemeris, "propagate satellites over a time grid")
    options.add_constellation(p)
    options.add_window(p)
    options.add_step(p, options.DEFAULT_STEP_S, "grid step (default 60)")
    p.add_argument("--frame", choices=("teme", "itrs", "geodetic"), default="teme")
    options.add_satellites(p)
    options.add_output(p)
    options.add_progress(p)

    p = options.command(sub, "constellation", None, "write a synthetic constellation as TLE / OMM",
                        "Generate a synthetic constellation from elements and write it as TLE or OMM.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    w = kinds.add_parser("walker", help="Walker delta i:T/P/F")
    w.add_argument("--inclination", type=float, required=True, metavar="DEG")
    w.add_argument("--total", type=int, required=True, metavar="T", help="number of satellites")
    w.add_argument("--planes", type=int, required=True, metavar="P")
    w.add_argument("--phasing", type=int, default=0, metavar="F")
    w.add_argument("--raan0", type=float, default=0.0, metavar="DEG", help="RAAN of the first plane")
    s = kinds.add_parser("sso", help="sun-synchronous satellites by local time of node")
    s.add_argument("--count", type=int, required=True, metavar="N")
    node = s.add_mutually_exclusive_group(required=True)
    node.add_argument("--ltan", type=float, metavar="HOURS", help="local time of ascending node")
    node.add_argument("--ltdn", type=float, metavar="HOURS", help="local time of descending node")
    s.add_argument("--planes", type=int, default=1, metavar="P")
    b = kinds.add_parser("formosat8", help="the bundled FORMOSAT-8-like constellation")
    for q in (w, s, b):
        if q is not b:
            q.add_argument("--altitude-km", type=float, required=True, metavar="KM")
            q.add_argument("--first-id", type=int, default=90001, metavar="NORAD_ID")
            q.add_argument("--name-prefix", default="WALKER" if q is w else "SSO")
        q.add_argument("--epoch", required=True, metavar="ISO", help="element epoch, ISO 8601 UTC")
        options.add_output(q, _CATALOG_FORMATS)
        q.set_defaults(func=_constellation)


def _ephemeris(args) -> int:
    """Propagate every satellite (SGP4) over a time grid and write TEME, ITRS or geodetic
    states."""
    start, end = options.window(args)
    step_s = options.step(args)
    constellation = options.constellation(args, start)
    if args.satellite:
        constellation = constellation.subset(args.satellite)

    def tables(bar):
        total, done = len(constellation) * TimeGrid.range_size(start, end, step_s), 0
        for eph in constellation.propagate_pieces(start, end, step_s, _ROW_BYTES):
            for line in eph.errors():
                warn(line)
            yield eph.table(args.frame)
            done += eph.shape[0] * eph.shape[1]
            if bar is not None:
                bar(done, total)

    with options.asked(step_s=f"--step {step_s:g}"), options.progress(args, "ephemeris", "state", scale=True) as bar:
        emit_tables(tables(bar), args)
    return 0


def _constellation(args) -> int:
    from ..orbits import Constellation
    if args.kind == "walker":
        c = Constellation.walker(args.inclination, args.total, args.planes, args.phasing,
                                 args.altitude_km, args.epoch, raan0_deg=args.raan0,
                                 first_norad_id=args.first_id, name_prefix=args.name_prefix)
    elif args.kind == "sso":
        c = Constellation.sun_synchronous(args.count, args.altitude_km, args.epoch,
                                          ltan_h=args.ltan, ltdn_h=args.ltdn, planes=args.planes,
                                          first_norad_id=args.first_id, name_prefix=args.name_prefix)
    else:
        c = Constellation.formosat8(args.epoch)
    text = c.to_tle() if args.format == "tle" else c.to_omm(args.format.split("-", 1)[1])
    emit_text(text, args.output)
    return 0
