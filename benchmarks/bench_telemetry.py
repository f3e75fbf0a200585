"""Telemetry benchmarks, both measured in one run (Python's own timers).

1. Batch decode of N fixed-length housekeeping packets (default 1,000,000): ours
   (``Dictionary.decode_stream``: split, length/version/CRC check of every packet, header decode,
   parameter decode, calibration) against ccsdspy ``FixedLength.load`` of the same bytes (raw
   values, no CRC check). Best of ``--repeat`` runs each; the ratio is ccsdspy / ours. Ours runs
   the CRC and the decode on two threads (ccsdspy uses one); also reported: ours on one thread,
   and ours without the CRC pass (decode + calibration only), to show what the CRC costs.
2. Resynchronisation (hostile input): random frames of 1 and 8 MiB, and a frame whose every other
   offset claims an 8 kB packet, through ``split_packets``: seconds and ns per byte (the cost
   must be linear in bytes; the previous walk took 3 s for 1 MB and 47 s for 8 MB).
3. End to end over ZeroMQ into the archive: a ``groundseg telemetry publish`` subprocess sends
   ``--rate`` packets/s for ``--duration`` s (default 100,000/s for 30 s) over loopback TCP to a
   PlatformServer in this process, which archives to SQLite (WAL). Reports the sustained rate
   (archived packets / time from first to last commit), loss (sent - archived, and the per-APID
   sequence-count gaps in the archive) and p50 / p99 latency from send time to commit.

    python benchmarks/bench_telemetry.py [--packets 1000000] [--rate 100000] [--duration 30] [--skip-resync]
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import telemetry.packets as packets_module  # noqa: E402
from telemetry.dictionary import Dictionary  # noqa: E402
from telemetry.publisher import _block  # noqa: E402
from telemetry.server import PlatformServer  # noqa: E402


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_decode(n: int, repeat: int) -> dict:
    import ccsdspy
    logging.getLogger("ccsdspy").setLevel(logging.WARNING)
    d = Dictionary.bundled()
    hk = d.packet("HK")
    n_blocks = (n + 9999) // 10000
    rows = np.concatenate([_block(d, b, n, 1.0, 1.8e9, 0, 0.0)[0] for b in range(n_blocks)])
    data = rows.tobytes()
    fields = [ccsdspy.PacketField(name="pus", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="service", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="subtype", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="counter", data_type="uint", bit_length=16),
              ccsdspy.PacketField(name="dest", data_type="uint", bit_length=16),
              ccsdspy.PacketField(name="coarse", data_type="uint", bit_length=32),
              ccsdspy.PacketField(name="fine", data_type="uint", bit_length=24)]
    fields += [ccsdspy.PacketField(name=p.name, data_type=p.type, bit_length=p.bits) for p in hk.parameters]
    fields.append(ccsdspy.PacketField(name="crc", data_type="uint", bit_length=16))
    pkt = ccsdspy.FixedLength(fields)
    t_ref, ref = _best(lambda: pkt.load(io.BytesIO(data)), repeat)
    t_ours, (split, cols) = _best(lambda: d.decode_stream(data), repeat)
    t_nocrc, _ = _best(lambda: hk.decode(rows), repeat)
    threshold, packets_module.PARALLEL_ROWS = packets_module.PARALLEL_ROWS, 1 << 62
    try:
        t_one, _ = _best(lambda: d.decode_stream(data), repeat)
    finally:
        packets_module.PARALLEL_ROWS = threshold
    assert split.counts()["ok"] == n and cols["HK"]["battery_voltage"].size == n
    raw = hk.decode_raw(rows[:1000])
    for p in hk.parameters:
        assert np.array_equal(raw[p.name], ref[p.name][:1000]), p.name
    return {"packets": n, "packet_bytes": hk.length, "ccsdspy_s": t_ref, "ours_s": t_ours,
            "ccsdspy_ns_per_packet": t_ref / n * 1e9, "ours_ns_per_packet": t_ours / n * 1e9,
            "speedup": t_ref / t_ours, "ours_one_thread_s": t_one, "speedup_one_thread": t_ref / t_one,
            "ours_without_crc_s": t_nocrc, "speedup_without_crc": t_ref / t_nocrc}


def bench_resync() -> list[dict]:
    rng = np.random.default_rng(0)
    frames = [("random 1 MiB", rng.bytes(1 << 20)), ("random 8 MiB", rng.bytes(8 << 20)),
              ("crafted 1 MiB", bytes([0x00, 0x00, 0xC0, 0xC0, 0x1F, 0x1F] * ((1 << 20) // 6)))]
    out = []
    for name, data in frames:
        t, sp = _best(lambda: packets_module.split_packets(data), 1)
        out.append({"frame": name, "bytes": len(data), "seconds": t, "ns_per_byte": t / len(data) * 1e9,
                    "units": int(sp.status.size)})
    return out


def bench_capacity(n: int, archive: str | None = None) -> dict:
    """Pipeline rate without sockets: Platform.ingest_chunks of 100-packet messages, 20,000 a commit,
    into ``archive`` (a new, empty archive: an SQLite path or a PostgreSQL URL; default a
    temporary SQLite file)."""
    from telemetry.platform import Chunk, Platform
    d = Dictionary.bundled()
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        p = Platform(archive or Path(tmp) / "archive.sqlite", d)
        blocks = [_block(d, b, n, 100_000.0, 1.8e9, 0, 0.0)[0] for b in range((n + 9999) // 10000)]
        rows = np.concatenate(blocks)
        t = time.perf_counter()
        for s in range(0, n, 20_000):
            batch = rows[s:s + 20_000]
            p.ingest_chunks([Chunk(batch[i:i + 100].tobytes(), "FS8-1", "bench") for i in range(0, batch.shape[0], 100)])
        dt = time.perf_counter() - t
        assert p.stats()["packets_archived"] == n
        p.close()
    return {"packets": n, "seconds": dt, "rate_pps": n / dt}


def _free_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def bench_stream(rate: float, duration_s: float, archive: str | None = None) -> dict:
    """End to end over ZeroMQ into ``archive`` (as in :func:`bench_capacity`)."""
    count = int(rate * duration_s)
    ep = _free_endpoint()
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        server = PlatformServer(ep, archive or Path(tmp) / "archive.sqlite")
        commits: list[tuple[float, int]] = []
        archived = [0]
        stop = threading.Event()

        def on_commit(srv):
            archived[0] = srv.platform.archive.counters()["packets_archived"]
            commits.append((time.monotonic(), archived[0]))
            if archived[0] >= count:
                stop.set()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        t0 = time.monotonic()
        pub = subprocess.Popen([sys.executable, "-m", "groundseg.cli", "telemetry", "publish", "--connect", ep,
                                "--count", str(count), "--rate", str(rate), "--linger", "30"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(duration_s + 90, stop.set)
        timer.start()
        summary = server.run(stop=stop, on_commit=on_commit)
        timer.cancel()
        server.run(idle_exit_s=1.0, duration_s=5.0)         # let the last acks go out
        out, err = pub.communicate(timeout=60)
        server.close()
        source = json.loads(out) if pub.returncode == 0 else {"error": err}
        summary = server.summary()
    first = next(t for t, a in commits if a > 0)
    last = commits[-1][0]
    return {"packets_sent": source.get("sent_packets"), "packets_archived": summary["packets_archived"],
            "lost": (source.get("sent_packets") or count) - summary["packets_archived"],
            "missing_packets_in_archive": summary["missing_packets"], "gaps": summary["gaps"],
            "recovered_packets": summary["recovered_packets"], "source_all_acked": source.get("all_acked"),
            "offered_rate_pps": rate, "sustained_rate_pps": (summary["packets_archived"] - commits[0][1]) / (last - first)
            if last > first else None, "wall_s": last - t0,
            "latency_p50_ms": summary["latency_p50_ms"], "latency_p99_ms": summary["latency_p99_ms"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="packets for the decode benchmark")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rate", type=float, default=100_000.0, help="offered packets/s end to end")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of streaming (default 30)")
    ap.add_argument("--skip-decode", action="store_true")
    ap.add_argument("--skip-stream", action="store_true")
    ap.add_argument("--skip-resync", action="store_true")
    args = ap.parse_args(argv)
    if not args.skip_decode:
        r = bench_decode(args.packets, args.repeat)
        print(f"decode {r['packets']:,} HK packets ({r['packet_bytes']} B): ccsdspy FixedLength {r['ccsdspy_s']:.3f} s"
              f" ({r['ccsdspy_ns_per_packet']:.0f} ns/pkt, no CRC)  ours {r['ours_s']:.3f} s"
              f" ({r['ours_ns_per_packet']:.0f} ns/pkt, CRC + calibration)  speedup {r['speedup']:.2f}x")
        print(f"  on one thread: ours {r['ours_one_thread_s']:.3f} s  speedup {r['speedup_one_thread']:.2f}x")
        print(f"  without the CRC pass (structured view + calibration): ours {r['ours_without_crc_s']:.3f} s"
              f"  speedup {r['speedup_without_crc']:.2f}x")
        print(json.dumps({"decode": r}))
    if not args.skip_resync:
        rows = bench_resync()
        for r in rows:
            print(f"resynchronisation, {r['frame']}: {r['seconds']:.3f} s ({r['ns_per_byte']:.0f} ns/byte, {r['units']} units)")
        print(json.dumps({"resync": rows}))
    if not args.skip_stream:
        r = bench_capacity(min(args.packets, 1_000_000))
        print(f"platform pipeline without sockets (split, CRC, dedup, decode, limits, SQLite commit):"
              f" {r['packets']:,} packets in {r['seconds']:.2f} s = {r['rate_pps']:,.0f} pkt/s")
        print(json.dumps({"capacity": r}))
        r = bench_stream(args.rate, args.duration)
        print(f"end to end: offered {r['offered_rate_pps']:,.0f} pkt/s for {args.duration:g} s; sent {r['packets_sent']:,}"
              f" archived {r['packets_archived']:,} lost {r['lost']} (archive sequence gaps"
              f" {r['missing_packets_in_archive']}); sustained {r['sustained_rate_pps']:,.0f} pkt/s;"
              f" latency send->archive p50 {r['latency_p50_ms']:.1f} ms p99 {r['latency_p99_ms']:.1f} ms")
        print(json.dumps({"stream": r}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
