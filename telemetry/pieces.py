"""Reading an archive in time-ordered pieces: rows of time-sorted blocks (packet blocks,
value segments) merged in time order, about ``PIECE_ROWS`` rows at a time, so that an export's
memory is a piece and the blocks open at its time, however big the archive.
"""
from __future__ import annotations

import numpy as np

from groundseg.table import Table

__all__ = ["PIECE_ROWS", "merge_by_time", "gather", "tables", "concat"]

#: A piece of an export: about this many packets or values.
PIECE_ROWS = 100_000


def merge_by_time(blocks, times):
    """Rows of time-sorted blocks in time order: lists of (block, row indices), each list's rows
    earlier than the next list's (``times(block)``: its rows' times, sorted; ``blocks`` in order of
    their first time). Memory: the blocks open at the current time, not all of them."""
    open_: list[list] = []
    nxt = next(blocks, None)
    while open_ or nxt is not None:
        cut = times(nxt)[0] if nxt is not None else None
        piece = []
        for entry in open_:
            t = times(entry[0])
            j = t.size if cut is None else int(np.searchsorted(t, cut, side="left"))
            if j > entry[1]:
                piece.append((entry[0], np.arange(entry[1], j)))
                entry[1] = j
        open_ = [e for e in open_ if e[1] < times(e[0]).size]
        if piece:
            yield piece
        elif nxt is not None:             # every open row is at or after the next block's start
            open_.append([nxt, 0])
            nxt = next(blocks, None)


def gather(pieces):
    """Consecutive pieces of :func:`merge_by_time` joined to about ``PIECE_ROWS`` rows each."""
    held, n = [], 0
    for piece in pieces:
        held += piece
        n += sum(i.size for _, i in piece)
        if n >= PIECE_ROWS:
            yield held
            held, n = [], 0
    if held:
        yield held


def tables(pieces, make):
    """Tables of the gathered pieces; one empty table when there are none."""
    made = False
    for piece in gather(pieces):
        made = True
        yield make(piece)
    if not made:
        yield make([])


def concat(parts: list[Table]) -> Table:
    if len(parts) == 1:
        return parts[0]
    import pyarrow as pa
    return Table.from_arrow(pa.concat_tables([t.to_arrow() for t in parts]), parts[0].formats)
