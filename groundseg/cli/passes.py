"""Subcommands ``passes``, ``track`` and ``contacts`` (pass prediction and contact plans)."""
from __future__ import annotations

from ..errors import GroundsegError
from . import options
from .output import emit_table, note, warn


def register(sub) -> None:
    """Add ``passes``, ``track`` and ``contacts`` to ``sub`` (an argparse subparsers object)."""
    p = options.command(sub, "passes", _passes, "every pass of every satellite over every station")
    _common(p)
    p.add_argument("--all-columns", action="store_true", help="also write orbit_number and status")
    options.add_output(p)

    p = options.command(sub, "track", _track,
                        "antenna pointing table for one satellite over one station")
    _common(p)
    p.add_argument("--satellite", required=True, metavar="NAME_OR_ID")
    p.add_argument("--station", required=True, metavar="NAME")
    options.add_step(p, 1.0, "table cadence (default 1)")
    p.add_argument("--frequency-hz", type=float, metavar="F",
                   help="downlink carrier for the Doppler columns")
    p.add_argument("--keyhole-elevation", type=float, default=85.0, metavar="DEG",
                   help="flag rows at or above this elevation (default 85)")
    options.add_output(p)

    p = options.command(sub, "contacts", _contacts,
                        "contact plan: which passes each station's antennas track")
    _common(p)
    p.add_argument("--priorities", metavar="FILE", help="CSV with header satellite,priority")
    p.add_argument("--priority", action="append", default=[], metavar="SAT=N",
                   help="priority of one satellite (repeatable; 1 is the most important)")
    p.add_argument("--min-duration", type=float, default=0.0, metavar="SECONDS",
                   help="drop passes shorter than this")
    p.add_argument("--satellite-exclusive", action="store_true",
                   help="a satellite talks to one station at a time")
    p.add_argument("--optimality", action="store_true",
                   help="also report, on stderr, the greedy plan's quality per priority against "
                        "the exact optimum (MILP, HiGHS; LP bound above 4000 passes)")
    options.add_output(p)


def _common(p) -> None:
    options.add_constellation(p)
    options.add_stations(p)
    options.add_window(p)
    p.add_argument("--min-elevation", type=float, metavar="DEG",
                   help="minimum elevation for every station, in [-5, 90] (masks still apply)")


def _predict(args, constellation=None, stations=None):
    from ..passes import predict_passes
    start, end = options.window(args)
    constellation = constellation or options.constellation(args, start)
    stations = stations or options.stations(args)
    passes = predict_passes(constellation, stations, start, end,
                            min_elevation_deg=args.min_elevation)
    for line in passes.problems:
        warn(line)
    return constellation, stations, passes


def _passes(args) -> int:
    """Predict every pass of every satellite over every station in the window (AOS, TCA, LOS
    to 1 ms; horizon masks from a TOML station file); rows ordered by AOS. CSV columns:
    satellite,norad_id,station,aos_utc,tca_utc,los_utc,duration_s,max_elevation_deg,
    aos_azimuth_deg,tca_azimuth_deg,los_azimuth_deg,sunlit_at_tca,
    truncated (none|start|end|both)."""
    from ..passes import PASS_COLUMNS, PASS_CSV_COLUMNS
    _, _, passes = _predict(args)
    emit_table(passes.table(PASS_COLUMNS if args.all_columns else PASS_CSV_COLUMNS), args)
    return 0


def _track(args) -> int:
    """Pointing table (azimuth, elevation, range, range rate, Doppler) every --step seconds
    through each pass of one satellite over one station in the window. Columns:
    pass,time_utc,azimuth_deg,azimuth_unwrapped_deg,elevation_deg,range_km,range_rate_km_s,
    azimuth_rate_deg_s,elevation_rate_deg_s,received_frequency_hz,doppler_shift_hz,keyhole."""
    import numpy as np

    from ..passes import POINTING_COLUMNS, pointing_table
    from ..table import Table
    from ..timegrid import MAX_INSTANTS
    step_s = options.step(args)
    start, end = options.window(args)
    if (end - start) / np.timedelta64(1, "s") / step_s > MAX_INSTANTS:
        raise GroundsegError(f"--step {step_s:g} gives more than {MAX_INSTANTS:,} rows in the window")
    constellation = options.constellation(args, start)
    index = constellation.index(args.satellite)
    stations = options.stations(args)
    names = [s.name for s in stations]
    if args.station not in names:
        raise GroundsegError(f"unknown station {args.station!r} (have: {', '.join(names)})")
    station = stations[names.index(args.station)]
    one = constellation.subset([index])
    _, _, passes = _predict(args, one, [station])
    parts = []
    for k in range(len(passes)):
        table = pointing_table(one, one.names[0], station, passes.aos_utc[k], passes.los_utc[k],
                               step_s=args.step, frequency_hz=args.frequency_hz,
                               keyhole_elevation_deg=args.keyhole_elevation)
        parts.append((k + 1, table))
    cols = {"pass": np.concatenate([np.full(len(t), k, dtype=np.int64) for k, t in parts])
            if parts else np.zeros(0, dtype=np.int64)}
    formats = {}
    for name in POINTING_COLUMNS:
        if parts:
            cols[name] = np.concatenate([t[name] for _, t in parts])
            formats = parts[0][1].formats
        else:
            cols[name] = np.zeros(0)
    if not parts:
        warn(f"no pass of {one.names[0]} over {station.name} in the window")
    emit_table(Table(cols, formats), args)
    return 0


def _contacts(args) -> int:
    """Predict passes, then choose what each station's antennas track by satellite priority
    (1 most important) and pass quality, with the station's set-up time between tracks.
    Columns: station,antenna,satellite,norad_id,priority,aos_utc,tca_utc,los_utc,duration_s,
    max_elevation_deg,quality,status (scheduled|dropped),
    reason (too_short|satellite_busy|below_priority|antenna_busy|setup_time),conflicts_with."""
    from ..contacts import load_priorities, plan_contacts
    priorities = load_priorities(args.priorities) if args.priorities else {}
    for item in args.priority:
        name, sep, value = item.rpartition("=")
        if not sep or not name.strip():
            raise GroundsegError(f"--priority {item!r}: expected SATELLITE=N")
        try:
            priorities[name.strip()] = int(value)
        except ValueError:
            raise GroundsegError(f"--priority {item!r}: {value!r} is not an integer") from None
    _, stations, passes = _predict(args)
    plan = plan_contacts(passes, stations, priorities=priorities,
                         min_duration_s=args.min_duration,
                         satellite_exclusive=args.satellite_exclusive)
    summary = plan.summary()
    why = ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("scheduled", "dropped") and v)
    note(f"contacts: {summary['scheduled']} scheduled, {summary['dropped']} dropped"
         + (f" ({why})" if why else ""))
    if args.optimality:
        opt = plan.optimality()
        for row in opt.records():
            note(f"contacts: priority {row['priority']}: greedy quality "
                 f"{row['greedy_quality']:.1f} of {row['method']} best {row['best_quality']:.1f} "
                 f"({100 * row['ratio']:.2f} %)")
    emit_table(plan.table(), args)
    return 0
