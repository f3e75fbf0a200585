"""Column tables: what every result (ephemerides, passes, opportunities, plans) is made of.

A :class:`Table` is an ordered mapping of column name -> 1-D array of one length. CSV has
a header row in column order; JSON is a list of row objects with keys in column order.
Floats are written with the per-column format given at construction (default ``.10g``);
NaN becomes an empty CSV field and ``null`` in JSON.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

__all__ = ["Table"]


class Table:
    """Ordered columns of equal length. ``formats`` maps column -> format spec for floats."""

    def __init__(self, columns: dict, formats: dict | None = None):
        self.columns = {k: np.asarray(v) for k, v in columns.items()}
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: { {k: len(v) for k, v in self.columns.items()} }")
        self.formats = dict(formats or {})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.columns)})"

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def take(self, index) -> "Table":
        """Rows selected by an index array or boolean mask."""
        return Table({k: v[index] for k, v in self.columns.items()}, self.formats)

    def _text_column(self, name: str) -> list[str]:
        v = self.columns[name]
        if v.dtype.kind == "f":
            spec = self.formats.get(name, ".10g")
            return ["" if not np.isfinite(x) else format(x, spec) for x in v.tolist()]
        if v.dtype.kind == "b":
            return ["true" if x else "false" for x in v.tolist()]
        return [str(x) for x in v.tolist()]

    def to_csv(self, path=None) -> str:
        """CSV text (header + rows); also written to ``path`` when given."""
        cols = [self._text_column(k) for k in self.columns]
        buf = io.StringIO()
        buf.write(",".join(self.columns) + "\n")
        for row in zip(*cols):
            buf.write(",".join(_csv_field(x) for x in row) + "\n")
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def records(self) -> list[dict]:
        """Rows as dicts (JSON-ready Python scalars; NaN -> None)."""
        cols = {}
        for k, v in self.columns.items():
            if v.dtype.kind == "f":
                spec = self.formats.get(k)
                vals = v.tolist()
                if spec:
                    vals = [float(format(x, spec)) if np.isfinite(x) else None for x in vals]
                else:
                    vals = [x if np.isfinite(x) else None for x in vals]
                cols[k] = vals
            else:
                cols[k] = v.tolist()
        names = list(cols)
        return [dict(zip(names, row)) for row in zip(*cols.values())]

    def to_json(self, path=None, indent: int | None = None) -> str:
        """JSON list of row objects; also written to ``path`` when given."""
        text = json.dumps(self.records(), indent=indent)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
