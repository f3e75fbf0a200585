"""Where the subcommands write: tables and text to a file or standard output, notes and
warnings (``groundseg: ...``) to standard error."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import GroundsegError


def note(line: str) -> None:
    """``groundseg: line`` on standard error (progress, summaries)."""
    print(f"groundseg: {line}", file=sys.stderr, flush=True)


def warn(line: str) -> None:
    """``groundseg: warning: line`` on standard error."""
    note(f"warning: {line}")


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
    """A table as ``--format`` (csv, json or parquet) to ``--output`` or standard output."""
    fmt = getattr(args, "format", "csv")
    output = getattr(args, "output", None)
    if output:
        path = Path(output)
        if path.parent and not path.parent.exists():
            raise GroundsegError(f"{output}: directory {path.parent} does not exist")
        table.write(path, fmt)
        return
    if fmt == "parquet" and sys.stdout.isatty():
        raise GroundsegError("--format parquet is binary: give --output PATH or redirect standard output")
    sys.stdout.flush()
    table.write(sys.stdout.buffer, fmt)
    if fmt == "json":
        sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()
