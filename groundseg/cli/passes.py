"""Subcommands ``passes``, ``track`` and ``contacts`` (pass prediction and contact plans)."""
from __future__ import annotations

import contextlib

import numpy as np

from ..errors import GroundsegError
from ..passes import POINTING_COLUMNS
from ..table import Table
from . import options
from .output import emit_table, emit_tables, note, warn

#: Peak bytes per pointing-table row (states, look angles, text) while one pass is written.
_TRACK_ROW_BYTES = 2000
# Pass search costs (bytes), measured; see _check_pass_search.
_PASS_TIME_BYTES, _PASS_STATE_BYTES, _PASS_LOOK_BYTES = 300, 450, 40
_PASS_CHUNK_ELEMENTS = 2_000_000      # groundseg.pass_jobs: elements per chunk


# Above this many (satellite x station x day) the default backend is a LocalCluster.
_AUTO_CLUSTER_WORK = 1_000_000


def register(sub) -> None:
    """Add ``passes``, ``track`` and ``contacts`` to ``sub`` (an argparse subparsers object)."""
    p = options.command(sub, "passes", _passes, "every pass of every satellite over every station")
    _common(p)
    p.add_argument("--all-columns", action="store_true", help="also write orbit_number and status")
    options.add_cluster(p)
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
    options.add_progress(p)


def _predict(args, constellation=None, stations=None):
    from ..parallel import tune_malloc
    from ..passes import predict_passes
    # A command is a job in its own process: freed heap pages are kept for the search's many
    # short-lived arrays instead of page-faulting afresh (about 5 % of ``groundseg passes``).
    tune_malloc(force=True)
    start, end = options.window(args)
    constellation = constellation or options.constellation(args, start)
    stations = stations or options.stations(args)
    _check_pass_search(constellation, stations, start, end)
    work = len(constellation) * len(stations) * float((end - start) / np.timedelta64(1, "D"))
    with _where(args, work) as (client, _), options.progress(args, "passes") as bar:
        passes = predict_passes(constellation, stations, start, end,
                                min_elevation_deg=args.min_elevation, client=client,
                                progress=bar)
    for line in passes.problems:
        if line not in getattr(args, "warned", ()):     # element ages: said once
            warn(line)
    return constellation, stations, passes


def _check_pass_search(constellation, stations, start, end) -> None:
    """The pass search's peak memory against the budget, before it starts: per grid time
    (times, Earth orientation, Sun) plus, per grid time, the states (per satellite) and look
    angles (per satellite and station) of the satellites held at once: two chunks (chunks
    run two at a time), at least 8 satellites. Fitted to peak RSS over 1 and 3 years of 1 and
    8 satellites over 1 and 5 stations (within 10 %; one satellite over one station: 30 %
    low)."""
    from ..budget import require
    from ..passes import default_step_s
    n_sat, n_site = len(constellation), len(stations)
    n_time = (end - start) / np.timedelta64(1, "s") / default_step_s(constellation) + 2
    chunk = max(1.0, _PASS_CHUNK_ELEMENTS / (n_time * n_site))
    held = min(n_sat, max(8.0, 2.0 * chunk))
    need = n_time * (_PASS_TIME_BYTES + held * (_PASS_STATE_BYTES + _PASS_LOOK_BYTES * n_site))
    require(need, options.days(start, end),
            f"{n_sat} satellites x {n_site} stations x {n_time:.3g} grid times")


def _where(args, work: float):
    """Dask for ``passes`` (``--scheduler`` / ``--local-cluster``, by default for catalogue-
    sized jobs); in this process for ``track`` and ``contacts``."""
    if not hasattr(args, "local_cluster"):
        return contextlib.nullcontext((None, "single-process"))
    return options.cluster(args, work, _AUTO_CLUSTER_WORK)


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
    from ..budget import require
    from ..passes import pointing_table
    step_s = options.step(args)
    start, end = options.window(args)
    constellation = options.constellation(args, start)
    index = constellation.index(args.satellite)
    stations = options.stations(args)
    names = [s.name for s in stations]
    if args.station not in names:
        raise GroundsegError(f"unknown station {args.station!r} (have: {', '.join(names)})")
    station = stations[names.index(args.station)]
    one = constellation.subset([index])
    _, _, passes = _predict(args, one, [station])
    rows = float(np.sum(passes.duration_s)) / step_s + 2.0 * len(passes)
    # Each pass is a piece of its own; the longest one is held at a time.
    longest = float(np.max(passes.duration_s, initial=0.0)) / step_s + 2.0
    require(longest * _TRACK_ROW_BYTES, f"--step {step_s:g}",
            f"{len(passes)} passes x {longest:.3g} rows ({rows:.3g} in all)")

    def tables():
        for k in range(len(passes)):
            table = pointing_table(one, one.names[0], station, passes.aos_utc[k],
                                   passes.los_utc[k], step_s=step_s,
                                   frequency_hz=args.frequency_hz,
                                   keyhole_elevation_deg=args.keyhole_elevation)
            yield Table({"pass": np.full(len(table), k + 1, dtype=np.int64),
                         **{name: table[name] for name in POINTING_COLUMNS}}, table.formats)
        if not len(passes):
            warn(f"no pass of {one.names[0]} over {station.name} in the window")
            yield Table({"pass": np.zeros(0, dtype=np.int64),
                         **{name: np.zeros(0) for name in POINTING_COLUMNS}})

    emit_tables(tables(), args)
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
    constellation, stations, passes = _predict(args)
    priorities = _with_passes(priorities, constellation, passes)
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


def _with_passes(priorities: dict, constellation, passes) -> dict:
    """The priorities of satellites with passes in the window; a satellite of the
    constellation without passes (a short window) is a warning, an unknown name an error."""
    have = set(passes.satellite.tolist()) | {str(x) for x in passes.norad_id.tolist()}
    kept = {}
    for key, level in priorities.items():
        if key in have:
            kept[key] = level
            continue
        name = constellation.names[constellation.index(key)]    # unknown: GroundsegError
        warn(f"priority of {key}: {name} has no pass in the window")
    return kept
