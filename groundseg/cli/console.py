"""Subcommands ``console`` and ``console adduser``; ``demo --console`` (:func:`serve_demo`).

``groundseg console`` prints one line when it serves (``console: URL ...``) and runs until
Ctrl-C / SIGTERM (or ``--duration``); exit status 0, or 2 with one line for bad input (an
archive, users file, scenario or address that cannot be used).
"""
from __future__ import annotations

import getpass
import logging
import secrets
import signal
import sys
import threading
from pathlib import Path

from ..errors import GroundsegError
from . import options
from .output import note, warn

__all__ = ["register", "serve_demo", "DEFAULT_HTTP", "DEMO_REALTIME"]

DEFAULT_HTTP = "127.0.0.1:8765"
#: Real-time factor of ``demo --console`` when ``--realtime`` is not given: a day in 24 minutes.
DEMO_REALTIME = 60.0
_DEMO_USER = "operator"


def register(sub) -> None:
    """Add ``console`` (and ``console adduser``) to ``sub`` (argparse subparsers)."""
    p = options.command(sub, "console", _console, "the operations console in the browser")
    p.add_argument("--archive", metavar="PATH", help="telemetry archive (created with --listen if missing)")
    p.add_argument("--listen", metavar="ENDPOINT",
                   help="also run the platform here, e.g. tcp://127.0.0.1:5555 (as 'telemetry platform')")
    p.add_argument("--keys", metavar="DIR", help="with --listen: key directory (CurveZMQ, allow-listed sources)")
    p.add_argument("--scenario", metavar="FILE",
                   help="scenario whose satellites and stations the passes, map and plan show "
                        "(default: the bundled formosat8)")
    add_http(p)
    p.add_argument("--users", metavar="FILE", help="users file (groundseg console adduser); required unless --public-read")
    p.add_argument("--public-read", action="store_true",
                   help="anyone who can reach the console may read it without logging in (changes still need an operator)")
    p.add_argument("--plan", metavar="TIMELINE_CSV", help="plan timeline to draw (timeline.csv of plan / demo; read when it changes)")
    p.add_argument("--contacts", metavar="CONTACTS_CSV",
                   help="contact plan whose antennas the passes show (contacts.csv; default: planned by the console)")
    p.add_argument("--dictionary", metavar="FILE", help="parameter dictionary TOML (default: the archive's)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after this many seconds")
    sub2 = p.add_subparsers(dest="console_command", metavar="SUBCOMMAND")
    a = options.command(sub2, "adduser", _adduser, "add or replace a user of the console")
    a.add_argument("--users", required=True, metavar="FILE", help="users file (created 0600 if missing)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, choices=("viewer", "operator", "supervisor"))
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")


def add_http(p) -> None:
    p.add_argument("--http", default=DEFAULT_HTTP, metavar="HOST:PORT",
                   help=f"address of the web console (default {DEFAULT_HTTP}: this machine only)")


def _http(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise GroundsegError(f"--http {text!r}: expected HOST:PORT, e.g. {DEFAULT_HTTP}")
    return host, int(port)


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("groundseg console: %(message)s"))
    for name in ("telemetry", "telemetry.console"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def _wait(duration_s: float | None) -> None:
    """Until Ctrl-C, SIGTERM or ``duration_s``."""
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait(duration_s)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _warn_exposed(host: str) -> None:
    if host.strip("[]") not in ("127.0.0.1", "localhost", "::1"):
        warn(f"serving on {host}, beyond this machine, without TLS: put it behind a TLS reverse proxy")


def _console(args) -> int:
    """Runs the operations console: the web UI and JSON API over an archive (and, with
    --listen, the platform that writes it). Views: passes, map, telemetry, alarms, plan,
    links. Reading needs a login (users from 'groundseg console adduser') unless
    --public-read; acknowledging and shelving need an operator."""
    from telemetry.console import Console, Users
    if args.archive is None:
        raise GroundsegError("console: give --archive PATH (or 'groundseg console adduser' to add a user)")
    host, port = _http(args.http)
    if args.users is None and not args.public_read:
        raise GroundsegError("console: give --users FILE (make one with 'groundseg console adduser') or --public-read")
    if args.keys is not None and args.listen is None:
        raise GroundsegError("--keys is for the platform: give --listen too")
    if args.duration is not None:
        options.positive("--duration", args.duration)
    users = Users(args.users) if args.users else None
    dictionary = None
    if args.dictionary:
        from telemetry.dictionary import Dictionary
        dictionary = Dictionary.load(args.dictionary)
    scenario = options.scenario(args.scenario)
    _log_to_stderr()
    console = Console(args.archive, listen=args.listen, keys=args.keys, dictionary=dictionary,
                      constellation=scenario.constellation, stations=scenario.stations, plan=args.plan,
                      contacts=args.contacts, users=users, public_read=args.public_read)
    try:
        url = console.serve_in_thread(host, port)
        _warn_exposed(host)
        parts = [f"archive {args.archive}", f"scenario {scenario.name}"]
        if console.platform_endpoint:
            parts.append(f"telemetry on {console.platform_endpoint}")
        parts.append("public read" if args.public_read else f"{len(users.users)} users")
        print(f"console: {url} ({', '.join(parts)})", flush=True)
        _wait(args.duration)
    finally:
        console.close()
    return 0


def _adduser(args) -> int:
    """Adds a user to the console's users file (or replaces their role and password); the
    file is created readable by its owner only. Passwords are stored as scrypt hashes."""
    from telemetry.console import add_user
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise GroundsegError("adduser: no terminal to ask for the password: use --password-stdin")
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise GroundsegError("adduser: the two passwords differ")
    new = add_user(args.users, args.name, args.role, password)
    print(f"{'added' if new else 'updated'} {args.name} ({args.role}) in {args.users}")
    return 0


def serve_demo(scenario, output, args, run) -> int:
    """``demo --console``: serve the console on the demo's archive while ``run(publish=ENDPOINT,
    realtime=FACTOR)`` streams the scenario's telemetry to it at ``FACTOR`` times real time on a
    replay clock; keep serving after the run until Ctrl-C."""
    import numpy as np

    from telemetry.console import Console, ReplayClock, Users, add_user
    host, port = _http(args.http)
    factor = DEMO_REALTIME if args.realtime is None else args.realtime
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    archive, commands = out / "telemetry.sqlite", out / "commands.sqlite"     # the run writes its command history there
    for suffix in ("", "-wal", "-shm"):
        Path(str(archive) + suffix).unlink(missing_ok=True)
        Path(str(commands) + suffix).unlink(missing_ok=True)
    password = None
    if args.users:
        users = Users(args.users)
    else:
        password = secrets.token_urlsafe(12)
        path = out / "console-users.json"
        path.unlink(missing_ok=True)
        add_user(path, _DEMO_USER, "operator", password)
        users = Users(path)
    epoch_s = float((scenario.window.start - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "ns") / 1e9)
    _log_to_stderr()
    console = Console(archive, listen="tcp://127.0.0.1:*", constellation=scenario.constellation,
                      stations=scenario.stations, plan=out / "timeline.csv", contacts=out / "contacts.csv",
                      users=users, clock=ReplayClock(epoch_s, factor), commands=commands)
    try:
        url = console.serve_in_thread(host, port)
        _warn_exposed(host)
        login = f"log in as {_DEMO_USER} / {password}" if password else f"users from {args.users}"
        print(f"console: {url} ({login}; telemetry at {factor:g}x real time)", flush=True)
        status = run(publish=console.platform_endpoint, realtime=factor)
        note(f"telemetry done; the console keeps serving at {url} (Ctrl-C to stop)")
        _wait(None)
    finally:
        console.close()
    return status
