"""Where the subcommands write: tables and text to a file or standard output, notes and
warnings (``groundseg: ...``) to standard error."""
from __future__ import annotations

import io
import itertools
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


def _destination(args):
    """``(format, path or None)`` of ``--format`` / ``--output``, checked before writing."""
    fmt = getattr(args, "format", "csv")
    output = getattr(args, "output", None)
    if output:
        path = Path(output)
        if path.parent and not path.parent.exists():
            raise GroundsegError(f"{output}: directory {path.parent} does not exist")
        return fmt, path
    if fmt == "parquet" and sys.stdout.isatty():
        raise GroundsegError("--format parquet is binary: give --output PATH or redirect standard output")
    return fmt, None


def emit_table(table, args) -> None:
    """A table as ``--format`` (csv, json or parquet) to ``--output`` or standard output."""
    fmt, path = _destination(args)
    if path is not None:
        table.write(path, fmt)
        return
    sys.stdout.flush()
    table.write(sys.stdout.buffer, fmt)
    if fmt == "json":
        sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def emit_tables(tables, args) -> None:
    """Tables of the same columns made one at a time (``tables``: an iterable), written as
    one table, as :func:`emit_table` writes it: a job too big to hold streams through here
    in pieces."""
    tables = iter(tables)
    first = next(tables)
    second = next(tables, None)
    if second is None:
        return emit_table(first, args)
    fmt, path = _destination(args)
    sys.stdout.flush()
    sink = open(path, "wb") if path is not None else sys.stdout.buffer
    try:
        _write_pieces(itertools.chain([first, second], tables), fmt, sink)
        if fmt == "json" and path is None:
            sink.write(b"\n")
    finally:
        if path is not None:
            sink.close()
        else:
            sink.flush()


def _write_pieces(pieces, fmt: str, sink) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq
        first = next(pieces)
        head = io.BytesIO()
        first.write(head, "parquet")               # the schema with the columns' formats
        schema = pq.read_schema(io.BytesIO(head.getvalue()))
        with pq.ParquetWriter(sink, schema) as writer:
            for piece in itertools.chain([first], pieces):
                writer.write_table(piece.to_arrow().cast(schema))
        return
    sink.write(b"[" if fmt == "json" else b"")
    for k, piece in enumerate(pieces):
        if fmt == "json":
            body = piece.to_json()[1:-1].encode("utf-8")
            sink.write((b", " if k and body else b"") + body)
            continue
        text = io.BytesIO()
        piece.write(text, "csv")
        data = text.getvalue()
        sink.write(data if k == 0 else data[data.index(b"\n") + 1:])
    sink.write(b"]" if fmt == "json" else b"")
