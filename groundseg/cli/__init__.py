"""The ``groundseg`` command: the application layer above the three libraries.

The only code that imports ``groundseg``, ``telemetry`` and ``sims`` together; none of them
imports it. One module per group of subcommands: :mod:`.orbits` (ephemeris, constellation),
:mod:`.planning` (access, plan), :mod:`.passes` (passes, track, contacts), :mod:`.simulation`
(coverage, scenario, demo, sim run), :mod:`.response` (respond), :mod:`.commanding`
(command ...), :mod:`.console` (console) and :mod:`.telemetry` (telemetry ...); the options they share
are defined once in :mod:`.options`, the writers in :mod:`.output`.

Bad input raises :class:`~groundseg.errors.GroundsegError` (every package's errors derive from
it) or ``OSError``: one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..budget import set_memory_budget
from ..errors import GroundsegError
from . import options

__all__ = ["main", "build_parser", "EXIT_BAD_INPUT"]

EXIT_BAD_INPUT = 2
# The module registering each command (tests check it against the full parser): a command
# line naming one first builds only that module's parsers (argparse's set-up of all 35
# parsers costs more than some commands' work).
_MODULE_OF = {
    "ephemeris": "orbits", "constellation": "orbits", "access": "planning", "plan": "planning",
    "telemetry": "telemetry", "passes": "passes", "track": "passes", "contacts": "passes",
    "coverage": "simulation", "scenario": "simulation", "demo": "simulation",
    "sim": "simulation", "respond": "response", "command": "commanding", "console": "console",
}
_MODULES = ("orbits", "planning", "telemetry", "passes", "simulation", "response", "commanding",
            "console")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (``command`` known) of the module registering it."""
    import importlib
    parser = argparse.ArgumentParser(
        prog="groundseg",
        description="Ground segment for an optical Earth-observation constellation.",
    )
    options.add_memory_budget(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in (_MODULE_OF[command],) if command in _MODULE_OF else _MODULES:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    encoding = str(getattr(sys.stdout, "encoding", None) or "utf-8")
    if encoding.lower().replace("-", "") != "utf8" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # tables are UTF-8 whatever the locale says
    try:
        options.check_numbers(args)
        set_memory_budget(args.memory_budget)
        status = args.func(args)
    except BrokenPipeError:  # the reader (``| head``) has what it wanted
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except (GroundsegError, OSError) as exc:
        message = str(exc) or exc.__class__.__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"groundseg: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("groundseg: interrupted", file=sys.stderr)
        return 130
    finally:
        set_memory_budget(None)
    return int(status or 0)
