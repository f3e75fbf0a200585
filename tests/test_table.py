"""The one column table: text output against an independent writer, the Arrow hand-offs
(pyarrow, pandas, polars, DuckDB, Parquet) and bad input."""
import csv
import io
import json
import math
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.passes import PASS_CSV_COLUMNS, PassTable, predict_passes
from groundseg.stations import bundled_stations
from groundseg.table import Table, TableError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# -- an independent writer: Python's format(), datetime and the RFC 4180 rule ---------------
def _ref_time(t, unit):
    if np.isnat(t):
        return ""
    ns = int(t.astype("datetime64[ns]").astype(np.int64))
    digits = {"s": 0, "ms": 3, "us": 6}[unit]
    step = 10 ** (9 - digits)
    whole = (ns + step // 2) // step                      # half up, as format_utc
    seconds, frac = divmod(whole, 10 ** digits)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{frac:0{digits}d}" if digits else "") + "Z"


def _ref_value(v, spec):
    if isinstance(v, np.datetime64):
        return _ref_time(v, spec or "ms")
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return format(float(v), spec)
    return str(v)


def _ref_field(text):
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def _ref_csv(columns, formats):
    lines = [",".join(_ref_field(k) for k in columns)]
    for row in zip(*columns.values()):
        lines.append(",".join(_ref_field(_ref_value(v, formats.get(k))) for k, v in zip(columns, row)))
    return "\n".join(lines) + "\n"


def _mixed(rng, n, strings):
    ns = rng.integers(1_700_000_000, 1_900_000_000, n) * 10**9 + rng.integers(0, 10**9, n)
    ns[::7] = ns[::7] // 10**6 * 10**6 + 500_000         # exact half milliseconds round up
    t = ns.astype("datetime64[ns]")
    t[3] = np.datetime64("NaT")
    x = rng.normal(0.0, 200.0, n)
    x[:6] = [np.nan, np.inf, -np.inf, -0.0, -1e-9, 0.00005]
    x[6:10] = np.round(rng.uniform(-9, 9, 4), 4) + 0.00005  # near ties
    return {"when": t, "when_us": t, "x": x, "y": rng.uniform(-1e3, 1e3, n) / 1024.0,
            "n": rng.integers(-10**12, 10**12, n), "ok": rng.random(n) < 0.5,
            "name": np.array([strings[i % len(strings)] for i in range(n)], dtype=object)}


_FORMATS = {"x": ".4f", "y": ".3f", "when_us": "us"}


@pytest.mark.parametrize("strings", [["FS8-1", "Svalbard", "a b"],              # Arrow's writer
                                     ["plain", "a,b", 'say "hi"', "two\nlines", "", None]])  # joined
def test_csv_and_json_match_an_independent_writer(rng, strings):
    cols = _mixed(rng, 300, strings)
    t = Table(cols, _FORMATS)
    text = t.to_csv()
    assert text == _ref_csv(cols, _FORMATS)
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        [_ref_value(v, _FORMATS.get(k)) for k, v in zip(cols, row)] for row in zip(*cols.values())]
    records = json.loads(t.to_json())
    assert records == t.records() and list(records[0]) == list(cols)
    for i, r in enumerate(records):
        assert r["when"] == (_ref_time(cols["when"][i], "ms") or None)
        x = cols["x"][i]
        assert r["x"] == (float(format(x, ".4f")) if math.isfinite(x) else None)
        assert r["n"] == int(cols["n"][i]) and r["ok"] is bool(cols["ok"][i])
        assert r["name"] == cols["name"][i]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40),
       st.integers(0, 9))
def test_fixed_decimals_are_pythons(values, decimals):
    spec = f".{decimals}f"
    t = Table({"v": np.array(values)}, {"v": spec})
    assert t.to_csv().splitlines()[1:] == [_ref_value(v, spec) for v in values]


def test_floats_without_format_read_back_exactly(rng):
    x = np.concatenate([rng.normal(0, 1, 50), [15.0, 1e-7, 1e21, 0.1 + 0.2, 123456789012.5, -0.0]])
    fields = Table({"x": x}).to_csv().splitlines()[1:]
    assert [float(f) for f in fields] == x.tolist()
    assert fields[-6:-3] == ["15", "1e-7", "1e+21"]


def test_columns_come_back_as_numpy(rng):
    cols = _mixed(rng, 50, ["a", None])
    t = Table(cols, _FORMATS)
    assert t.names == list(cols) and len(t) == 50 and "x" in t and "z" not in t
    assert t["when"].dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(t["when"], cols["when"])          # NaT included
    np.testing.assert_array_equal(t["x"], cols["x"])                # NaN included
    assert t["n"].dtype == np.int64 and t["ok"].dtype == bool and t["name"].dtype == object
    assert list(t["name"]) == list(cols["name"])
    assert not t["x"].flags.writeable
    # lists (the plan tables), empty lists, mixed objects
    u = Table({"a": [1, 2], "b": [None, 2.5], "d": np.array([1, "x"], dtype=object)})
    assert u["a"].dtype == np.int64 and np.isnan(u["b"][0]) and list(u["d"]) == ["1", "x"]
    assert u.to_csv() == "a,b,d\n1,,1\n2,2.5,x\n"
    empty = Table({"target": [], "reason": []})
    assert len(empty) == 0 and empty.to_csv() == "target,reason\n" and empty.records() == []


def test_take(rng):
    cols = _mixed(rng, 40, ["a", "b,c"])
    t = Table(cols, _FORMATS)
    for index in (np.array([5, 0, -1]), cols["ok"], slice(3, 9), np.zeros(0, dtype=int)):
        sub = t.take(index)
        expect = {k: v[index] for k, v in cols.items()}
        assert sub.formats == t.formats and sub.to_csv() == _ref_csv(expect, _FORMATS)
    with pytest.raises(TableError):
        t.take([40])


def test_arrow_pandas_polars_duckdb_parquet(rng, tmp_path):
    cols = _mixed(rng, 30, ["a", None])
    result = Table(cols, _FORMATS)
    schema = pa.table(result).schema
    assert schema.field("when").type == pa.timestamp("ns", tz="UTC")
    assert pa.table(result).equals(result.to_arrow())
    assert result.to_arrow().column("x").null_count == 1           # NaN held as null
    df = result.to_pandas()
    assert str(df["when"].dtype) == "datetime64[ns, UTC]"
    assert df["when"].iloc[0] == pd.Timestamp(cols["when"][0], tz="UTC")
    assert df.equals(pd.DataFrame.from_arrow(result))
    frame = pl.DataFrame(result)
    assert frame.columns == result.names and frame["n"].to_list() == cols["n"].tolist()
    assert frame["when"].dtype == pl.Datetime("ns", "UTC")
    assert pl.from_arrow(result.to_arrow()).equals(frame)
    (count, total), = duckdb.sql("select count(*), sum(n) from result").fetchall()
    assert count == 30 and total == int(cols["n"].sum())
    # Parquet keeps types and formats; from_arrow takes pyarrow, polars and pandas results.
    path = tmp_path / "t.parquet"
    result.to_parquet(path)
    back = Table.from_arrow(pq.read_table(path))
    assert back.formats == _FORMATS and back.to_csv() == result.to_csv()
    assert Table.from_arrow(frame, _FORMATS).to_csv() == result.to_csv()
    assert Table.from_arrow(df, _FORMATS).to_csv() == result.to_csv()
    naive = Table.from_arrow(pa.table({"t": pa.array([0], pa.timestamp("s"))}))
    assert naive.to_csv() == "t\n1970-01-01T00:00:00.000Z\n"


def test_write_dispatches_on_format(tmp_path):
    t = Table({"a": [1.25, np.nan], "s": ["x", "y"]}, {"a": ".1f"})
    buf = io.BytesIO()
    t.write(buf, "csv")
    assert buf.getvalue() == b"a,s\n1.2,x\n,y\n"
    t.write(tmp_path / "t.json", "json")
    assert json.loads((tmp_path / "t.json").read_text()) == [{"a": 1.2, "s": "x"}, {"a": None, "s": "y"}]
    t.write(tmp_path / "t.parquet", "parquet")
    assert pq.read_table(tmp_path / "t.parquet").column("s").to_pylist() == ["x", "y"]
    with pytest.raises(TableError, match="unknown format"):
        t.write(buf, "xlsx")


def test_bad_input_raises_table_error():
    cases = [lambda: Table({"a": [1, 2], "b": [1]}),
             lambda: Table({"a": np.zeros((2, 2))}),
             lambda: Table({"a": [1.0]}, {"a": ".3g"}),
             lambda: Table({"t": np.zeros(1, "datetime64[ns]")}, {"t": "minutes"}),
             lambda: Table({"s": ["x"]}, {"s": ".3f"}),
             lambda: Table({"a": [1]})["b"],
             lambda: Table.from_arrow(42),
             lambda: Table.from_arrow(pa.table({"a": [1.0]}).replace_schema_metadata(
                 {"groundseg.formats": "[1, 2]"}))]
    for case in cases:
        with pytest.raises(TableError) as info:
            case()
        assert isinstance(info.value, GroundsegError)


@pytest.fixture(scope="module")
def passes():
    start, end = "2026-11-26T00:00:00Z", "2026-11-26T12:00:00Z"
    return predict_passes(Constellation.formosat8(start).subset([0, 1]), bundled_stations(), start, end)


def test_pass_table_on_the_arrow_stream(passes: PassTable):
    assert len(passes) > 5
    frame = pa.table(passes)
    assert frame.column_names == list(PASS_CSV_COLUMNS)
    for name in ("aos_utc", "tca_utc", "los_utc"):
        assert frame.schema.field(name).type == pa.timestamp("ns", tz="UTC")
        np.testing.assert_array_equal(passes.table()[name], getattr(passes, name))
    assert passes.to_pandas()["aos_utc"].iloc[0] == pd.Timestamp(passes.aos_utc[0], tz="UTC")
    assert pl.DataFrame(passes)["station"].to_list() == passes.station.tolist()
    # The wire format, byte for byte, from the PassTable's arrays and the documented formats.
    fmt = {"duration_s": ".3f", "max_elevation_deg": ".4f", "aos_azimuth_deg": ".4f",
           "tca_azimuth_deg": ".4f", "los_azimuth_deg": ".4f"}
    cols = {name: getattr(passes, name) for name in PASS_CSV_COLUMNS}
    assert passes.to_csv() == _ref_csv(cols, fmt)
