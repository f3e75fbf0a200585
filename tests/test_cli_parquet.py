"""``--format parquet`` on every command that writes a table: the same rows and values as the
command's CSV, read back independently by pyarrow's CSV reader."""
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from groundseg.cli import main

START, END = "2026-11-26T00:00:00Z", "2026-11-26T06:00:00Z"
WINDOW = ["--start", START, "--end", END]


def _same_values(csv_table: pa.Table, parquet_table: pa.Table) -> None:
    assert parquet_table.column_names == csv_table.column_names
    assert parquet_table.num_rows == csv_table.num_rows > 0
    for name in csv_table.column_names:
        a, b = csv_table.column(name).to_pylist(), parquet_table.column(name)
        if pa.types.is_timestamp(b.type):
            # CSV times are rounded to the millisecond
            ns = b.cast(pa.int64()).to_numpy(zero_copy_only=False)
            text = np.array([v.rstrip("Z") for v in a], dtype="datetime64[ns]").astype(np.int64)
            assert np.all(np.abs(ns - text) <= 500_000), name
        elif pa.types.is_floating(b.type):
            x = np.array([np.nan if v is None else v for v in b.to_pylist()], float)
            y = np.array([np.nan if v in (None, "") else float(v) for v in a], float)
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-3, equal_nan=True, err_msg=name)
        else:
            assert [str(v).lower() for v in b.to_pylist()] == [str(v).lower() for v in a], name


def _csv(path) -> pa.Table:
    # every column as text, so the comparison does not depend on the reader's type inference
    with open(path, "rb") as f:
        header = f.readline().decode().strip().split(",")
    opts = pacsv.ConvertOptions(column_types={n: pa.string() for n in header},
                                strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=opts)


@pytest.mark.parametrize("argv", [
    ["ephemeris", *WINDOW, "--step", "600", "--frame", "geodetic"],
    ["passes", *WINDOW],
    ["contacts", *WINDOW],
    ["track", *WINDOW, "--satellite", "FS8-1", "--station", "Svalbard", "--step", "30"],
    ["access", "--start", START, "--end", "2026-11-27T00:00:00Z"],
], ids=lambda a: a[0])
def test_table_commands_write_parquet(argv, tmp_path):
    assert main([*argv, "--output", str(tmp_path / "t.csv")]) == 0
    assert main([*argv, "--format", "parquet", "--output", str(tmp_path / "t.parquet")]) == 0
    _same_values(_csv(tmp_path / "t.csv"), pq.read_table(tmp_path / "t.parquet"))


def test_parquet_to_standard_output_is_the_file(tmp_path, capsysbinary):
    assert main(["passes", *WINDOW, "--format", "parquet"]) == 0
    data = capsysbinary.readouterr().out
    assert data[:4] == b"PAR1"
    assert main(["passes", *WINDOW, "--format", "parquet", "--output", str(tmp_path / "p.parquet")]) == 0
    assert pq.read_table(io.BytesIO(data)).equals(pq.read_table(tmp_path / "p.parquet"))


def test_plan_and_coverage_tables_as_parquet(tmp_path):
    plan = ["plan", "--start", START, "--end", "2026-11-26T12:00:00Z", "--time-limit", "1",
            "--method", "greedy"]
    assert main([*plan, "--output", str(tmp_path / "a")]) == 0
    assert main([*plan, "--output", str(tmp_path / "b"), "--format", "parquet"]) == 0
    _same_values(_csv(tmp_path / "a" / "timeline.csv"), pq.read_table(tmp_path / "b" / "timeline.parquet"))

    cov = ["coverage", "--region", "22,25,120,122", "--resolution-deg", "1", "--start", START,
           "--end", "2026-11-27T00:00:00Z"]
    assert main([*cov, "--output", str(tmp_path / "c")]) == 0
    assert main([*cov, "--output", str(tmp_path / "d"), "--format", "parquet"]) == 0
    _same_values(_csv(tmp_path / "c" / "cells.csv"), pq.read_table(tmp_path / "d" / "cells.parquet"))
