"""The ``groundseg`` command: the application layer.

This is the only module in ``groundseg`` that may import ``sims`` and ``telemetry``.
Every subcommand prints errors as one line on stderr and exits with status 2 on bad
input; no traceback reaches the user.
"""
from __future__ import annotations

import argparse
import sys

from .errors import GroundsegError

EXIT_BAD_INPUT = 2


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exception classes that mean "bad input" (exit 2, one line on stderr)."""
    errors: list[type[BaseException]] = [GroundsegError, OSError]
    try:
        from telemetry.errors import TelemetryError
        errors.append(TelemetryError)
    except ImportError:
        pass
    try:
        from sims.errors import SimulationError
        errors.append(SimulationError)
    except ImportError:
        pass
    return tuple(errors)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundseg",
        description="Ground segment for an optical Earth-observation constellation.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in _registrations():
        register(sub)
    return parser


def _registrations():
    """Functions that each add their subcommands to the parser."""
    from . import _cli_orbits, _cli_passes, _cli_planning
    import telemetry.cli  # telemetry subcommands
    from sims.cli import register as _sims  # coverage, scenario, sim, demo (simulation: sims/)
    from sims.planning_inputs import plan_inputs_from_args  # groundseg plan --scenario FILE
    from . import _cli_common
    _cli_common.scenario_loader = plan_inputs_from_args
    return [_cli_orbits.register, _cli_planning.register, telemetry.cli.register,
            _cli_passes.register, _sims]  # passes, track, contacts


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except _input_errors() as exc:
        message = str(exc) or exc.__class__.__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"groundseg: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("groundseg: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
