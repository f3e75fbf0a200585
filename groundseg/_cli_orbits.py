"""Subcommands ``ephemeris`` and ``constellation`` (orbit core)."""
from __future__ import annotations


def register(sub) -> None:
    """Add the orbit-core subcommands to ``sub`` (an argparse subparsers object)."""
