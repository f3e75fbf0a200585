"""The telemetry archive on SQLite against PostgreSQL, measured in one run (Python's own timers).

1. Ingest: the platform pipeline without sockets (split, CRC, duplicates, decode, limits, tiles,
   commit; ``Platform.ingest_chunks``, 20,000 packets a transaction) of ``--packets`` HK packets
   into a new archive on each back end: packets/s and the ratio PostgreSQL / SQLite.
2. With ``--stream``: end to end over ZeroMQ into PostgreSQL, ``--rate`` packets/s for
   ``--duration`` s (default 100,000/s for 30 s): archived, lost, sustained rate, latency
   (``bench_telemetry.bench_stream``).
3. Bucket query: one parameter with ``--samples`` values (default 10,000,000 at 1 Hz, 116 days)
   written through the archive's write path (segments of 100,000 values and their tiles) on each
   back end, then ``Archive.samples`` with 1,000 buckets over the whole span and 1,440 over one
   day: the first call and the median of 5, checked against NumPy brute force over the values.

PostgreSQL: a throw-away server of Debian's ``postgresql`` (tests/_postgres.py) with fsync on
(durable, as in operation), on the same machine as the benchmark.

    python benchmarks/bench_archive.py [--packets 1000000] [--samples 10000000] [--stream]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from _postgres import PostgresServer  # noqa: E402
from bench_telemetry import bench_capacity, bench_stream  # noqa: E402
from telemetry.archive import Archive  # noqa: E402

PARAMETER, SEGMENT = "battery_voltage", 100_000
T0 = 1.8e9


def _fill(target: str, n: int) -> tuple[float, np.ndarray, np.ndarray]:
    """``n`` values of PARAMETER at 1 Hz from T0 (a random walk around 28 V) written in segments;
    (seconds, time_s (n,), value (n,))."""
    rng = np.random.default_rng(3)
    t = T0 + np.arange(n, dtype=np.float64)
    v = 28.0 + np.cumsum(rng.normal(0, 0.01, n))
    a = Archive(target)
    start = time.perf_counter()
    with a.write():
        sc = a.name_id("spacecraft", "FS8-1")
    for i in range(0, n, SEGMENT):
        with a.write():
            seg = a.add_segment(sc, "HK", t[i:i + SEGMENT], 0.0)
            a.add_values(sc, seg, t[i:i + SEGMENT], {PARAMETER: v[i:i + SEGMENT]}, {PARAMETER: None})
    took = time.perf_counter() - start
    a.close()
    return took, t, v


def _brute(t, v, width: int, start_s: float, end_s: float) -> np.ndarray:
    """(b, min, max, mean, count) rows of the buckets of ``width`` covering [start_s, end_s)."""
    first, stop = np.floor(start_s / width), np.ceil(end_s / width)
    keep = (t >= first * width) & (t < stop * width)
    b = np.floor(t[keep] / width)
    cut = np.flatnonzero(np.diff(b)) + 1
    starts = np.concatenate([[0], cut])
    x = v[keep]
    return np.column_stack([b[starts], np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts),
                            np.add.reduceat(x, starts) / np.diff(np.append(starts, x.size)),
                            np.diff(np.append(starts, x.size))])


def bench_buckets(target: str, n: int) -> dict:
    from telemetry.samples import bucket_width_s
    from groundseg.table import Table
    from telemetry.archive import utc_us
    # the first time column of a process imports pyarrow's pandas shim (~0.5 s): not a query's time
    Table({"t": utc_us(np.zeros(1))}, {"t": "us"})
    fill_s, t, v = _fill(target, n)
    a = Archive(target, readonly=True)
    out = {"samples": n, "fill_s": fill_s}
    try:
        for name, lo, hi, buckets in (("whole", t[0], t[-1] + 1, 1000), ("day", t[n // 2], t[n // 2] + 86400, 1440)):
            times = []
            for _ in range(6):
                start = time.perf_counter()
                got = a.samples("FS8-1", PARAMETER, lo, hi, buckets)
                times.append(time.perf_counter() - start)
            width = bucket_width_s(lo, hi, buckets)
            ref = _brute(t, v, width, lo, hi)
            b = got["time_utc"].astype("datetime64[s]").astype(np.int64) // width
            assert np.array_equal(b, ref[:, 0]) and np.array_equal(np.asarray(got["count"]), ref[:, 4])
            assert np.array_equal(np.asarray(got["min"]), ref[:, 1]) and np.array_equal(np.asarray(got["max"]), ref[:, 2])
            assert np.allclose(np.asarray(got["mean"]), ref[:, 3], rtol=1e-12, atol=0)
            out[name] = {"buckets": len(got), "width_s": width, "first_ms": times[0] * 1e3,
                         "median_ms": statistics.median(times[1:]) * 1e3}
    finally:
        a.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="packets for the ingest comparison")
    ap.add_argument("--samples", type=int, default=10_000_000, help="values for the bucket query")
    ap.add_argument("--stream", action="store_true", help="also end to end over ZeroMQ into PostgreSQL")
    ap.add_argument("--skip-ingest", action="store_true", help="only the bucket query")
    ap.add_argument("--rate", type=float, default=100_000.0, help="offered packets/s end to end")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of streaming")
    args = ap.parse_args(argv)
    server = PostgresServer(durable=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
            lite = None if args.skip_ingest else bench_capacity(args.packets, str(Path(tmp) / "ingest.sqlite"))
            pg = None if args.skip_ingest else bench_capacity(args.packets, server.fresh_url())
            if lite is not None:
                print(f"ingest (platform pipeline, 20,000 packets a commit), {args.packets:,} HK packets:"
                      f" SQLite {lite['rate_pps']:,.0f} pkt/s ({lite['seconds']:.2f} s)  PostgreSQL"
                      f" {pg['rate_pps']:,.0f} pkt/s ({pg['seconds']:.2f} s)  PostgreSQL/SQLite"
                      f" {pg['rate_pps'] / lite['rate_pps']:.2f}")
                print(json.dumps({"ingest": {"sqlite": lite, "postgresql": pg}}))
            if args.stream:
                r = bench_stream(args.rate, args.duration, server.fresh_url())
                print(f"end to end into PostgreSQL: offered {r['offered_rate_pps']:,.0f} pkt/s for {args.duration:g} s;"
                      f" sent {r['packets_sent']:,} archived {r['packets_archived']:,} lost {r['lost']} (archive"
                      f" sequence gaps {r['missing_packets_in_archive']}); sustained {r['sustained_rate_pps']:,.0f}"
                      f" pkt/s; latency send->archive p50 {r['latency_p50_ms']:.1f} ms p99 {r['latency_p99_ms']:.1f} ms")
                print(json.dumps({"stream_postgresql": r}))
            for name, target in (("SQLite", str(Path(tmp) / "buckets.sqlite")), ("PostgreSQL", server.fresh_url())):
                r = bench_buckets(target, args.samples)
                print(f"bucket query, {name}, {r['samples']:,} samples (written in {r['fill_s']:.1f} s): " +
                      "  ".join(f"{k} {r[k]['buckets']} buckets of {r[k]['width_s']} s: first {r[k]['first_ms']:.1f} ms,"
                                f" median {r[k]['median_ms']:.1f} ms" for k in ("whole", "day")) +
                      " (equal to brute force)")
                print(json.dumps({"buckets": {name: r}}))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
