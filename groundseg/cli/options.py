"""The option groups of the subcommands, each defined once, and the functions that read them.

``add_*`` put a group on a parser (or an argparse group); the readers turn parsed options into
core objects and raise :class:`~groundseg.errors.GroundsegError` naming the option on bad input.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import math
import os
import sys
import threading
import time

import numpy as np

from ..budget import BudgetError
from ..errors import GroundsegError
from ..timegrid import format_utc, parse_utc
from .output import warn

DEFAULT_STEP_S = 60.0
_MAX_AGE_WARNINGS = 10


def check_numbers(args) -> None:
    """Every number option finite (``--step inf``, ``--rate nan`` refused), else a
    GroundsegError naming the option: one check for every subcommand."""
    for dest, value in vars(args).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise GroundsegError(f"--{dest.replace('_', '-')} must be a finite number, got {value:g}")


def command(sub, name: str, func, help: str, description: str | None = None):
    """Subcommand ``name`` of ``sub`` that runs ``func(args)`` (None: it has subcommands);
    ``--help`` shows ``help`` in the list and ``description`` (default: ``func``'s docstring,
    line breaks kept) on its page."""
    p = sub.add_parser(name, help=help, description=description or inspect.cleandoc(func.__doc__),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    if func is not None:
        p.set_defaults(func=func)
        add_memory_budget(p, argparse.SUPPRESS)
    return p


def add_memory_budget(p, default=None) -> None:
    """``--memory-budget SIZE`` (on the command and on each subcommand)."""
    p.add_argument("--memory-budget", metavar="SIZE", default=default,
                   help="memory one job may use, e.g. 4GiB (default: $GROUNDSEG_MEMORY_BUDGET, "
                        "else half the machine's memory); larger jobs are refused before they "
                        "start")


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


def add_archive(p, what: str = "") -> None:
    """``--archive PATH_OR_URL``: the telemetry archive, an SQLite file or a PostgreSQL URL."""
    p.add_argument("--archive", required=True, metavar="PATH_OR_URL",
                   help="the telemetry archive: an SQLite file or postgresql://USER@HOST:PORT/DATABASE"
                        + (f" ({what})" if what else ""))


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


def asked(**options) -> "_Asked":
    """A context (reusable) that says a :class:`~groundseg.budget.BudgetError` raised inside in
    terms of the options that asked for the job: ``asked(step_s="--step 1e-09")`` turns the
    library's ``step_s 1e-09: ...`` into ``--step 1e-09: ...`` (keys: the first word of the
    error's subject)."""
    return _Asked(options)


class _Asked:
    def __init__(self, options: dict):
        self.options = options

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, BudgetError):
            key = exc.subject.split(" ", 1)[0]
            if key in self.options:
                raise exc.about(self.options[key]) from None
        return False


def days(start, end) -> str:
    """``'--start/--end (N days)'`` for messages about the length of the window."""
    return f"--start/--end ({(end - start) / np.timedelta64(1, 'D'):.4g} days)"


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
    from ..orbits import WARN_AGE_DAYS, Constellation
    if getattr(args, "tle", None):
        c = Constellation.from_file(args.tle)
        for err in c.catalog_errors:
            warn(f"skipped {err}")
        stale = c.stale_elements(epoch, WARN_AGE_DAYS)
        args.warned = set(stale)
        for line in stale[:_MAX_AGE_WARNINGS]:
            warn(line)
        if len(stale) > _MAX_AGE_WARNINGS:
            warn(f"... and {len(stale) - _MAX_AGE_WARNINGS} more satellites whose elements are "
                 f"more than {WARN_AGE_DAYS:g} days from the window start")
        return c
    return Constellation.formosat8(epoch)


def stations(args):
    """``--stations FILE`` (CSV or TOML) or the bundled network."""
    from ..stations import bundled_stations, load_stations
    path = getattr(args, "stations", None)
    return load_stations(path) if path else bundled_stations()


def scenario(path):
    """A scenario file, the bundled formosat8 for None or ``bundled``, or a bundled scenario
    by name (``formosat8``, ``formosat8_sar``)."""
    from sims.scenario import BUNDLED_SCENARIOS, bundled_scenario, load_scenario
    if path in (None, "bundled"):
        return bundled_scenario()
    return bundled_scenario(path) if path in BUNDLED_SCENARIOS else load_scenario(path)


def add_cluster(p) -> None:
    """``--scheduler ADDRESS`` / ``--local-cluster N``: where a large job's tasks run."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a running dask scheduler (e.g. tcp://host:8786)")
    where.add_argument("--local-cluster", type=int, metavar="N",
                       help="run on a dask LocalCluster of N single-threaded worker processes "
                            "(0: in this process). Default: a LocalCluster with one worker per "
                            "CPU for large jobs, in process otherwise")


def add_progress(p) -> None:
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar on standard error even when it is not a terminal")


@contextlib.contextmanager
def progress(args, label: str, unit: str = "task", scale: bool = False):
    """A ``progress(done, total)`` callback drawing a bar on standard error (None when
    stderr is not a terminal and ``--progress`` was not given)."""
    if not (getattr(args, "progress", False) or sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm
    bar = tqdm(desc=f"groundseg: {label}", file=sys.stderr, unit=unit, dynamic_ncols=True,
               unit_scale=scale)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


@contextlib.contextmanager
def time_limit_progress(args, label: str, limit_s: float):
    """A bar of the seconds spent against a solver's time limit, ticked from its own thread
    (a search has no count of work to report; its budget is the time)."""
    with progress(args, f"{label} (time limit {limit_s:g} s)", "s") as bar:
        if bar is None:
            yield
            return
        total, t0, stop = math.ceil(limit_s), time.monotonic(), threading.Event()

        def tick() -> None:
            while not stop.wait(0.25):
                bar(min(int(time.monotonic() - t0), total), total)
        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()


@contextlib.contextmanager
def cluster(args, work: float, auto_work: float):
    """``(client, label)`` for ``--scheduler`` / ``--local-cluster``; by default a
    LocalCluster with one worker per CPU when ``work >= auto_work`` (and dask is installed),
    else ``(None, "single-process")``. A cluster started here is closed on exit."""
    n = args.local_cluster
    if args.scheduler is None and n is None:
        n = (os.cpu_count() or 1) if work >= auto_work and _have_dask() else 0
    if n is not None and n < 0:
        raise GroundsegError(f"--local-cluster must be >= 0, got {n}")
    if args.scheduler is None and not n:
        yield None, "single-process"
        return
    if not _have_dask():
        raise GroundsegError("dask is not installed (pip install 'groundseg[dask]')")
    import logging

    from distributed import Client, LocalCluster
    started = None
    if args.scheduler is not None:
        try:
            client = Client(args.scheduler, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise GroundsegError(f"--scheduler {args.scheduler}: cannot connect ({exc})") from None
        label = f"dask scheduler {args.scheduler}"
    else:
        started = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client, label = Client(started), f"dask LocalCluster({n} workers)"
    try:
        yield client, label
    finally:
        client.close()
        if started is not None:
            started.close()


def _have_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True
