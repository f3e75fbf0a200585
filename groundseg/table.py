"""The one column table every result is made of (passes, contacts, ephemerides, opportunities,
plans, coverage cells, archive queries), backed by Apache Arrow.

A :class:`Table` is named columns of one length in a fixed order, held as a ``pyarrow.Table``:

- ``datetime64`` columns are ``timestamp[ns, tz=UTC]``; ``table[name]`` gives them back as
  ``datetime64[ns]`` (NaT where missing);
- float columns are ``float64`` with NaN held as null (``table[name]`` gives NaN back);
- ``str`` / ``object`` columns are Arrow strings (``table[name]``: object array, None where missing);
- ints and booleans keep their type.

``formats`` maps a column to how it is written as text: ``".Nf"`` for a float column (N decimals),
``"s"`` / ``"ms"`` / ``"us"`` / ``"ns"`` for a time column (default ``"ms"``).

Text (CSV, JSON and :meth:`Table.records`), one rule for every table:

- times: ISO 8601 UTC with a ``Z``, rounded half up to the column's unit
  (``2026-11-26T00:04:19.353Z``);
- floats with a ``.Nf`` format: exactly Python's ``format(x, ".Nf")``; floats without one: the
  shortest decimal that reads back as the same double, in Arrow's notation (``15`` for 15.0,
  ``1e-7``, ``1.234567890125e+11``). This is the one difference from the earlier writers
  (``.10g`` in CSV, ``repr`` in the plan and archive tables): the same value, fewer or more
  digits; JSON gets the float itself;
- NaN, infinities and nulls: an empty CSV field, ``null`` in JSON;
- booleans ``true`` / ``false``; ints in decimal; strings as they are, quoted (RFC 4180) only
  when they hold a comma, a quote or a line break.

CSV is a header row in column order then one line per row (``\\n``), written by Arrow's CSV
writer; the few columns that need it are formatted first with vectorised Arrow / NumPy code.
JSON is a list of row objects with keys in column order. Parquet stores the Arrow table itself
(timestamps, nulls) with the formats in its metadata, so :meth:`Table.from_arrow` restores them.
"""
from __future__ import annotations

import importlib
import io
import json
import re
from pathlib import Path

import numpy as np

from .errors import GroundsegError

__all__ = ["Table", "Tabular", "TableError", "FORMATS"]


class _OnFirstUse:
    """A module imported when first used: pyarrow costs a tenth of a second of start-up
    that commands writing no table (the telemetry platform) need not pay."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


pa = _OnFirstUse("pyarrow")
pc = _OnFirstUse("pyarrow.compute")
FORMATS = ("csv", "json", "parquet")
_TIME_UNITS = {"s": 9, "ms": 6, "us": 3, "ns": 0}      # unit -> decimal digits below it in ns
_FIXED = re.compile(r"\.(\d{1,2})f")
_METADATA_KEY = b"groundseg.formats"
_NEEDS_QUOTES = r'[,"\r\n]'
_STRUCTURAL = np.isin(np.arange(256), np.frombuffer(b',"\r\n', np.uint8))    # byte -> needs quotes


class TableError(GroundsegError):
    """A table that cannot be built, indexed or written as asked."""


class Table:
    """Named columns of one length (see the module docstring for types and text formats).

    ``columns``: name -> 1-D array-like (NumPy array, list, or Arrow array); ``formats``:
    name -> ``".Nf"`` for floats or a time unit for ``datetime64`` columns.
    """

    def __init__(self, columns: dict, formats: dict | None = None):
        arrays = {str(k): _arrow_column(str(k), v) for k, v in columns.items()}
        lengths = {k: len(v) for k, v in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise TableError(f"columns of unequal length: {lengths}")
        self._arrow = pa.table(arrays) if arrays else pa.table({})
        self.formats = dict(formats or {})
        for name, spec in self.formats.items():
            if name in arrays:
                _check_format(name, arrays[name].type, spec)
        self._numpy: dict[str, np.ndarray] = {}

    @classmethod
    def from_arrow(cls, data, formats: dict | None = None) -> "Table":
        """A Table from a ``pyarrow.Table`` / ``RecordBatch`` or anything with
        ``__arrow_c_stream__`` (polars, DuckDB, pandas >= 3); timestamps become ``ns`` UTC
        (naive ones are taken as UTC). ``formats`` default: those stored by :meth:`to_parquet`."""
        try:
            table = data if isinstance(data, pa.Table) else pa.table(data)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise TableError(f"not an Arrow table: {exc}") from None
        if formats is None:
            formats = _stored_formats(table.schema.metadata or {})
        return cls({name: table.column(name) for name in table.column_names}, formats)

    # -- columns -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._arrow.num_rows

    def __contains__(self, name: str) -> bool:
        return name in self._arrow.column_names

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.names)})"

    @property
    def names(self) -> list[str]:
        return list(self._arrow.column_names)

    def __getitem__(self, name: str) -> np.ndarray:
        """Column ``name`` as a read-only NumPy array ``(n,)``."""
        if name not in self._numpy:
            if name not in self:
                raise TableError(f"no column {name!r} (have: {', '.join(self.names)})")
            self._numpy[name] = _numpy_column(self._arrow.column(name))
        return self._numpy[name]

    def take(self, index) -> "Table":
        """Rows selected by an index array, a boolean mask or a slice."""
        try:
            rows = np.arange(len(self))[index]
        except IndexError as exc:
            raise TableError(f"bad row index: {exc}") from None
        return Table.from_arrow(self._arrow.take(pa.array(np.atleast_1d(rows))), self.formats)

    # -- Arrow and friends -------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        """The ``pyarrow.Table`` itself (timestamps ``ns`` UTC, nulls for NaN)."""
        return self._arrow

    def __arrow_c_stream__(self, requested_schema=None):
        """The Arrow PyCapsule stream: ``pa.table(t)``, ``pl.DataFrame(t)``,
        ``pd.DataFrame.from_arrow(t)`` and DuckDB's ``select * from t`` take it directly."""
        return self._arrow.__arrow_c_stream__(requested_schema)

    def to_pandas(self):
        """A ``pandas.DataFrame`` (times ``datetime64[ns, UTC]``); needs pandas installed."""
        try:
            import pandas  # noqa: F401  (pyarrow imports it; fail here with a plain message)
        except ImportError:
            raise TableError("to_pandas needs pandas: pip install pandas") from None
        return self._arrow.to_pandas()

    # -- files -------------------------------------------------------------------------------
    def to_csv(self, path=None) -> str:
        """CSV text (module docstring); also written to ``path`` when given."""
        data = self._csv_bytes()
        if path is not None:
            Path(path).write_bytes(data)
        return data.decode("utf-8")

    def records(self) -> list[dict]:
        """Rows as dicts of JSON-ready Python values (times ISO strings, floats rounded at
        their format, NaN / inf -> None), keys in column order."""
        cols = [self._json_column(name).to_pylist() for name in self.names]
        names = self.names
        return [dict(zip(names, row)) for row in zip(*cols)]

    def to_json(self, path=None, indent: int | None = None) -> str:
        """JSON list of row objects (:meth:`records`); also written to ``path`` when given."""
        text = json.dumps(self.records(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_parquet(self, path) -> None:
        """Parquet (the Arrow table, formats in the metadata) to a path or binary file object."""
        import pyarrow.parquet as pq
        meta = dict(self._arrow.schema.metadata or {})
        meta[_METADATA_KEY] = json.dumps(self.formats).encode()
        pq.write_table(self._arrow.replace_schema_metadata(meta), path)

    def write(self, dest, format: str = "csv") -> None:
        """Write as ``format`` (one of :data:`FORMATS`) to a path or a binary file object
        (``sys.stdout.buffer``): the one output function of every command."""
        if format == "parquet":
            return self.to_parquet(dest)
        if format == "csv":
            data = self._csv_bytes()
        elif format == "json":
            data = self.to_json().encode("utf-8")
        else:
            raise TableError(f"unknown format {format!r}: use {', '.join(FORMATS)}")
        if hasattr(dest, "write"):
            dest.write(data)
        else:
            Path(dest).write_bytes(data)

    # -- text --------------------------------------------------------------------------------
    def _text_column(self, name: str) -> pa.Array:
        """Column ``name`` as the CSV writer takes it: times and fixed-format floats as
        strings, non-finite floats as nulls, anything else as it is."""
        col = self._arrow.column(name).combine_chunks()
        spec = self.formats.get(name)
        if _is_time(col.type):
            return _iso_utc(col, spec or "ms")
        if pa.types.is_floating(col.type):
            x = _float_numpy(col)
            if spec is not None:
                return _fixed(x, int(_FIXED.fullmatch(spec).group(1)))
            return pa.array(x, mask=~np.isfinite(x))
        return col

    def _json_column(self, name: str) -> pa.Array:
        col = self._text_column(name)
        if name in self.formats and pa.types.is_floating(self._arrow.column(name).type):
            return col.cast(pa.float64())
        return col

    def _csv_bytes(self) -> bytes:
        names = self.names
        header = ",".join(_quote(name) for name in names) + "\n"
        if not names:
            return header.encode("utf-8")
        text = {name: self._text_column(name) for name in names}
        quoted = [n for n in names if _is_text(self._arrow.column(n).type) and _has_structural(text[n])]
        if not quoted:
            import pyarrow.csv as pa_csv     # here: it is a tenth of a second of start-up
            sink = io.BytesIO()
            sink.write(header.encode("utf-8"))
            pa_csv.write_csv(pa.table(text), sink, pa_csv.WriteOptions(
                include_header=False, quoting_style="none", batch_size=65536))
            return sink.getvalue()
        # Arrow's writer quotes every string or refuses to write commas: join the rows here.
        return header.encode("utf-8") + _joined_rows(text, quoted)


class Tabular:
    """Mixin for a result that is one :class:`Table` (its ``table()``): the Arrow stream,
    pandas and Parquet come from it, so ``pa.table(passes)`` or ``pl.DataFrame(passes)`` work."""

    def table(self) -> Table:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def to_arrow(self) -> pa.Table:
        return self.table().to_arrow()

    def to_pandas(self):
        return self.table().to_pandas()

    def to_parquet(self, path) -> None:
        self.table().to_parquet(path)

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table().__arrow_c_stream__(requested_schema)


# -- building columns ----------------------------------------------------------------------
def _arrow_column(name: str, value) -> pa.Array | pa.ChunkedArray:
    """One column in its Arrow type (module docstring); TableError naming it if impossible."""
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return _normalise(name, value)
    if not isinstance(value, np.ndarray):
        value = list(value)
        try:
            return _normalise(name, pa.array(value, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            value = np.array(value, dtype=object)
    if value.ndim != 1:
        raise TableError(f"column {name!r} has shape {value.shape}, expected (n,)")
    kind = value.dtype.kind
    if kind == "M":
        return pa.array(value.astype("datetime64[ns]"), from_pandas=True).cast(_time())
    if kind == "f":
        return pa.array(value.astype(np.float64, copy=False), from_pandas=True)
    try:
        return _normalise(name, pa.array(value, from_pandas=True))
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        if kind != "O":
            raise TableError(f"column {name!r}: cannot hold NumPy dtype {value.dtype}") from None
    # Mixed Python objects: their text, as the CSV always showed them.
    return pa.array([None if v is None else str(v) for v in value.tolist()], pa.string())


def _normalise(name: str, arr):
    """Timestamps to ``ns`` UTC, floats to float64 with NaN as null, string views and
    dictionaries (polars, pandas categoricals) to plain strings."""
    t = arr.type
    try:
        if pa.types.is_dictionary(t):
            return _normalise(name, arr.cast(t.value_type))
        if pa.types.is_string_view(t):
            return arr.cast(pa.large_string())
        if pa.types.is_timestamp(t) and not _is_time(t):
            if t.tz is None:
                arr = arr.cast(pa.timestamp(t.unit, tz="UTC"))
            return arr.cast(_time())
        if pa.types.is_date(t):
            return arr.cast(pa.timestamp("ns")).cast(_time())
    except pa.ArrowException as exc:
        raise TableError(f"column {name!r}: {exc}") from None
    if pa.types.is_floating(t):
        arr = arr.cast(pa.float64())
        nan = pc.is_nan(arr)
        if pc.any(nan).as_py():
            arr = pc.if_else(nan, pa.scalar(None, pa.float64()), arr)
    return arr


def _stored_formats(metadata: dict) -> dict | None:
    """The formats :meth:`Table.to_parquet` stored (a file is untrusted: a JSON object of
    strings or TableError)."""
    stored = metadata.get(_METADATA_KEY)
    if stored is None:
        return None
    try:
        formats = json.loads(stored)
    except ValueError:
        formats = None
    if not isinstance(formats, dict) or not all(isinstance(v, str) for v in formats.values()):
        raise TableError(f"metadata {_METADATA_KEY.decode()} is not a JSON object of formats")
    return formats


def _time():
    return pa.timestamp("ns", tz="UTC")


def _is_time(t) -> bool:
    return t == _time()


def _check_format(name: str, arrow_type, spec) -> None:
    if _is_time(arrow_type):
        if spec not in _TIME_UNITS:
            raise TableError(f"column {name!r}: time format {spec!r} is not one of "
                             f"{', '.join(_TIME_UNITS)}")
    elif pa.types.is_floating(arrow_type) or pa.types.is_null(arrow_type):
        if not isinstance(spec, str) or not _FIXED.fullmatch(spec):
            raise TableError(f"column {name!r}: float format {spec!r} is not '.Nf'")
    else:
        raise TableError(f"column {name!r}: a format applies to float and time columns, "
                         f"not {arrow_type}")


def _numpy_column(col: pa.ChunkedArray) -> np.ndarray:
    if _is_time(col.type):
        ns = pc.fill_null(col.cast(pa.int64()), np.iinfo(np.int64).min)
        out = ns.to_numpy().view("datetime64[ns]")
    elif pa.types.is_floating(col.type):
        out = _float_numpy(col)
    else:
        out = col.to_numpy()
    if out.flags.writeable:
        out.flags.writeable = False
    return out


def _float_numpy(col) -> np.ndarray:
    return pc.fill_null(col, np.nan).to_numpy(zero_copy_only=False)


# -- text ------------------------------------------------------------------------------------
def _is_text(t) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _has_structural(col: pa.Array) -> bool:
    """Whether any string of ``col`` holds a comma, a quote or a line break (one pass over
    its bytes)."""
    if col.type != pa.string() and col.type != pa.large_string():
        col = col.cast(pa.large_string())
    if len(col) == 0:
        return False
    wide = col.type == pa.large_string()
    offsets = np.frombuffer(col.buffers()[1], np.int64 if wide else np.int32, len(col) + 1,
                            col.offset * (8 if wide else 4))
    data = np.frombuffer(col.buffers()[2] or b"", np.uint8)[offsets[0]:offsets[-1]]
    return bool(_STRUCTURAL[data].any())


def _quote(text: str) -> str:
    if re.search(_NEEDS_QUOTES, text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _iso_utc(col: pa.Array, unit: str) -> pa.Array:
    """``timestamp[ns, UTC]`` ``(n,)`` -> ISO 8601 strings with ``Z``, rounded half up to
    ``unit``. Arrow writes a naive timestamp as ``YYYY-MM-DD HH:MM:SS[.f]``, of one width
    for every instant a ``datetime64[ns]`` can hold (years 1678-2261); the space becomes
    ``T`` and a ``Z`` is appended in place, as bytes."""
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    ns = pc.fill_null(col.cast(pa.int64()), 0).to_numpy()
    step = 10 ** _TIME_UNITS[unit]
    rounded = (ns + step // 2) // step
    text = pa.array(rounded, pa.timestamp(unit)).cast(pa.string())
    n = len(text)
    digits = 9 - _TIME_UNITS[unit]
    width = 19 + (digits + 1 if digits else 0)
    if n == 0:
        return pa.array([], pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], np.int32, n + 1, text.offset * 4)
    if (offsets[0] != 0 or offsets[-1] != n * width):
        raise TableError(f"time out of range for ISO formatting (unit {unit})")
    raw = np.frombuffer(text.buffers()[2], np.uint8, n * width).reshape(n, width)
    out = np.empty((n, width + 1), np.uint8)
    out[:, :width] = raw
    out[:, 10] = ord("T")
    out[:, width] = ord("Z")
    return _strings_from_bytes(out.reshape(-1), np.full(n, width + 1), valid)


def _strings_from_bytes(data: np.ndarray, length: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Arrow strings from their bytes back to back (``data``) and byte ``length`` ``(n,)``,
    null where not ``valid``."""
    n = length.size
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    bitmap = None if valid.all() else pa.array(valid, pa.bool_()).buffers()[1]
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data),
                                            bitmap, int(n - np.count_nonzero(valid)))


def _fixed(x: np.ndarray, decimals: int) -> pa.Array:
    """float64 ``(n,)`` -> the strings of ``format(v, ".{decimals}f")``, null if not finite.

    ``|x| * 10**decimals`` is rounded half-even in floating point; Python rounds the exact
    product. The two differ only if a half-integer lies between the exact and the computed
    product, i.e. within one spacing of the computed one: those few values (and every value
    of 2**52 or more) are formatted by Python itself. The digits are written right-aligned
    into a byte matrix, then each value's used tail is kept.
    """
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(np.where(finite, x, 0.0)) * 10.0 ** decimals
        doubt = finite & ((scaled >= 2.0 ** 52)
                          | (np.abs(scaled - np.floor(scaled) - 0.5) <= np.spacing(scaled)))
    units = np.where(doubt, 0.0, np.rint(scaled)).astype(np.int64)
    if units.max(initial=0) < 2 ** 32:
        units = units.astype(np.uint32)     # a third of the time for the divisions below
    neg = np.signbit(x) & finite & ~doubt
    n_digits = np.maximum(np.searchsorted(10 ** np.arange(1, 19), units, side="right") + 1,
                          decimals + 1)
    point = 1 if decimals else 0
    width = int(n_digits.max(initial=decimals + 1)) + point + 1
    columns = np.empty((width, x.size), np.uint8)      # one row per character position
    column = width - 1
    for k in range(width - 1 - point):
        if k == decimals and point:
            columns[column] = ord(".")
            column -= 1
        units, digit = np.divmod(units, units.dtype.type(10))
        np.add(digit, ord("0"), out=columns[column], casting="unsafe")
        column -= 1
    length = n_digits + point + neg
    columns[width - length[neg], np.flatnonzero(neg)] = ord("-")
    # Each value's last ``length`` characters: a mask per length, picked per row.
    tails = np.arange(width) >= width - np.arange(width + 1)[:, None]        # (width + 1, width)
    keep = np.take(tails, length, axis=0).reshape(-1)
    text = _strings_from_bytes(np.compress(keep, columns.T.reshape(-1)), length, finite)
    if doubt.any():
        exact = [format(v, f".{decimals}f") for v in x[doubt].tolist()]
        text = pc.replace_with_mask(text, pa.array(doubt), pa.array(exact, pa.large_string()))
    return text


def _joined_rows(text: dict, quoted: list) -> bytes:
    """CSV lines of string-cast columns joined in Arrow, quoting only the values that need it."""
    def lit(v):
        return pa.scalar(v, pa.large_string())
    cols = []
    for name, col in text.items():
        s = col.cast(pa.large_string())
        if name in quoted:
            escaped = pc.binary_join_element_wise(lit('"'), pc.replace_substring(s, '"', '""'), lit('"'), lit(""))
            s = pc.if_else(pc.match_substring_regex(s, _NEEDS_QUOTES), escaped, s)
        cols.append(s)
    lines = pc.binary_join_element_wise(*cols, lit(","), null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, lit(""), lit("\n"))
    offsets = np.frombuffer(lines.buffers()[1], np.int64, len(lines) + 1, lines.offset * 8)
    return lines.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]
