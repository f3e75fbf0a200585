"""Writing a pass table: groundseg's Arrow-backed Table against a plain Python CSV loop.

    python benchmarks/bench_table.py [--rows 691000] [--repeat 3]

A pass-table-like table (the 13 ``groundseg passes`` columns: two strings, an int, three
``datetime64[ns]`` times, five floats with their documented decimals, a bool and a status
string) with ``--rows`` random rows. Times, in this process (medians of ``--repeat``):

- reference: the way the CSV used to be written, a plain Python loop (``format()`` per float,
  ISO strings per time, ``csv.writer`` over the rows);
- groundseg: ``Table(columns, formats).to_csv()`` (vectorised formatting, then Arrow's CSV
  writer), and building the Table apart;
- pyarrow alone: ``pyarrow.csv.write_csv`` of the same columns unformatted (full-precision
  floats, Arrow's own time format), the floor for any Arrow-based writer.

Checks that the reference and groundseg write the same bytes, then prints the ratios.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg.passes import PASS_CSV_COLUMNS  # noqa: E402
from groundseg.table import Table  # noqa: E402
from groundseg.timegrid import format_utc  # noqa: E402

FORMATS = {"duration_s": ".3f", "max_elevation_deg": ".4f", "aos_azimuth_deg": ".4f",
           "tca_azimuth_deg": ".4f", "los_azimuth_deg": ".4f"}


def pass_like(n: int, seed: int = 1) -> dict:
    """Random columns shaped like a PassTable's CSV columns, ``(n,)`` each."""
    rng = np.random.default_rng(seed)
    aos = np.datetime64("2026-11-26T00:00:00", "ns") + np.sort(
        rng.integers(0, 3 * 86400 * 10**9, n)).astype("timedelta64[ns]")
    duration_s = rng.uniform(30.0, 700.0, n)
    half = (duration_s * 5e8).astype("timedelta64[ns]")
    return {
        "satellite": np.array([f"SAT-{i % 100}" for i in range(n)], dtype=object),
        "norad_id": rng.integers(10000, 60000, n),
        "station": np.array([f"ST{i % 10}" for i in range(n)], dtype=object),
        "aos_utc": aos, "tca_utc": aos + half, "los_utc": aos + 2 * half,
        "duration_s": duration_s, "max_elevation_deg": rng.uniform(5.0, 90.0, n),
        "aos_azimuth_deg": rng.uniform(0.0, 360.0, n), "tca_azimuth_deg": rng.uniform(0.0, 360.0, n),
        "los_azimuth_deg": rng.uniform(0.0, 360.0, n),
        "sunlit_at_tca": rng.random(n) < 0.5,
        "truncated": rng.choice(np.array(["none", "start", "end"], dtype=object), n),
    }


def reference_csv(cols: dict) -> str:
    """The plain Python writer: one text list per column, then ``csv.writer`` over the rows."""
    text = []
    for name, v in cols.items():
        if v.dtype.kind == "M":
            text.append(format_utc(v))
        elif v.dtype.kind == "f":
            spec = FORMATS[name]
            text.append(["" if not np.isfinite(x) else format(x, spec) for x in v.tolist()])
        elif v.dtype.kind == "b":
            text.append(["true" if x else "false" for x in v.tolist()])
        else:
            text.append([str(x) for x in v.tolist()])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows(zip(*text))
    return buf.getvalue()


def timed(fn, repeat):
    """(median wall s, median CPU s, last result) of ``repeat`` calls."""
    runs, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(runs), statistics.median(cpus), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=691_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    cols = pass_like(args.rows)
    assert tuple(cols) == PASS_CSV_COLUMNS
    print(f"table: {args.rows:,} rows x {len(cols)} columns (pass table), medians of {args.repeat}")
    t_ref, c_ref, ref = timed(lambda: reference_csv(cols), max(1, args.repeat // 2))
    t_build, c_build, table = timed(lambda: Table(cols, FORMATS), args.repeat)
    t_ours, c_ours, ours = timed(table.to_csv, args.repeat)
    arrow = pa.table({k: (v.astype("datetime64[ns]") if v.dtype.kind == "M" else v) for k, v in cols.items()})

    def plain():
        sink = io.BytesIO()
        pa_csv.write_csv(arrow, sink)
        return sink.getvalue()
    t_plain, c_plain, _ = timed(plain, args.repeat)
    print(f"  same bytes as the reference: {ours == ref} ({len(ours) / 1e6:.1f} MB)")
    print(f"  reference, plain Python csv loop     wall {t_ref:6.3f} s  CPU {c_ref:6.3f} s")
    print(f"  groundseg Table.to_csv               wall {t_ours:6.3f} s  CPU {c_ours:6.3f} s  -> "
          f"{t_ref / t_ours:.1f}x faster wall, {c_ref / c_ours:.1f}x CPU")
    print(f"    building the Table from NumPy      wall {t_build:6.3f} s  CPU {c_build:6.3f} s more")
    print(f"  pyarrow write_csv alone, unformatted wall {t_plain:6.3f} s  CPU {c_plain:6.3f} s  "
          f"(the floor; groundseg is {c_ours / c_plain:.1f}x it in CPU)")
    print(f"  load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
