"""The operations console measured (Python's own timers, one run).

1. Live latency: a console with its platform on loopback, ``--spacecraft`` sources (default 8)
   publishing one HK packet a second each over ZeroMQ, ``--clients`` websocket clients (default
   20) logged in to ``/api/live``: from the packet's send time (its time stamp, wall clock) to
   its values arriving at each client, p50 / p99 / max over every (packet, client); and whether
   every client got every packet (nothing dropped).
2. Samples through the API: one parameter with ``--samples`` values (default 10,000,000 at 1 Hz,
   116 days) written through the archive's write path, then ``GET .../samples`` with 500
   buckets over the whole span over HTTP: first call and median of 5 (the archive's own query
   is ``benchmarks/bench_archive.py``), checked against NumPy brute force over the values.

    python benchmarks/bench_console.py [--duration 30] [--spacecraft 8] [--clients 20] [--samples 10000000]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from telemetry.console import Console, Users, add_user
from telemetry.dictionary import Dictionary
from telemetry.publisher import housekeeping_values
from telemetry.stream import Source

PASSWORD = "benchmark-password"


def _login(url: str) -> str:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", "/api/login", body=json.dumps({"user": "bench", "password": PASSWORD}),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    cookie = next(v for k, v in r.getheaders() if k.lower() == "set-cookie").split(";", 1)[0]
    conn.close()
    return cookie


def _get(url: str, path: str, cookie: str):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    conn.request("GET", path, headers={"Cookie": cookie})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, body[:200]
    return json.loads(body), dict(r.getheaders())


def _send(endpoint: str, names: list[str], duration_s: float, sent: dict, stop: threading.Event) -> None:
    """One packet a second from each of ``names``, staggered over the second; ``sent``: (sc, seq) -> time_s."""
    d = Dictionary.bundled()
    apid = d.packet("HK").apid
    sources = [Source(endpoint, spacecraft=n, linger_s=5.0) for n in names]
    t0 = time.monotonic()
    k = 0
    try:
        while time.monotonic() - t0 < duration_s and not stop.is_set():
            for i, src in enumerate(sources):
                due = t0 + k + i / len(sources)
                while time.monotonic() < due:
                    for s in sources:
                        s.poll(0)
                    time.sleep(min(0.005, max(0.0, due - time.monotonic())))
                stamp = np.floor(time.time() * 1024) / 1024      # exact in CUC ticks: the key comes back unchanged
                row = d.encode("HK", housekeeping_values(np.array([k]), seed=i), time_s=np.array([stamp]), seq_start=k % 16384)
                sent[(names[i], round(float(stamp), 6))] = time.time()
                src.send(row.tobytes(), apid, 1)
            k += 1
    finally:
        for src in sources:
            src.close(5.0)


async def _client(ws_url: str, origin: str, cookie: str, got: list, ready: asyncio.Event, done: asyncio.Event,
                   count: list) -> None:
    from websockets.asyncio.client import connect
    async with connect(ws_url, additional_headers={"Cookie": cookie, "Origin": origin}, max_size=None) as ws:
        count[0] += 1
        if count[0] == count[1]:
            ready.set()
        while not done.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            at = time.time()
            m = json.loads(text)
            if m.get("type") == "parameter":
                got.append((m["spacecraft"], round(m["time_s"], 6), at))


def bench_live(url: str, endpoint: str, n_sc: int, n_clients: int, duration_s: float) -> dict:
    ws_url = url.replace("http://", "ws://") + "/api/live"
    cookies = [_login(url) for _ in range(n_clients)]
    per_client = [[] for _ in range(n_clients)]
    sent: dict = {}
    stop = threading.Event()

    async def run():
        ready, done, count = asyncio.Event(), asyncio.Event(), [0, n_clients]
        tasks = [asyncio.create_task(_client(ws_url, url, c, g, ready, done, count)) for c, g in zip(cookies, per_client)]
        await asyncio.wait_for(ready.wait(), 60)
        sender = threading.Thread(target=_send, args=(endpoint, [f"FS8-{i + 1}" for i in range(n_sc)], duration_s, sent, stop))
        sender.start()
        while sender.is_alive():
            await asyncio.sleep(0.2)
        deadline = time.monotonic() + 10                   # the last packets' way through
        while time.monotonic() < deadline and any(len({(s, t) for s, t, _ in g} & sent.keys()) < len(sent) for g in per_client):
            await asyncio.sleep(0.1)
        done.set()
        await asyncio.gather(*tasks)
    asyncio.run(run())
    lat, missing = [], 0
    for g in per_client:
        seen = {}
        for s, t, at in g:
            seen.setdefault((s, t), at)
        missing += sum(1 for key in sent if key not in seen)
        lat.extend((seen[key] - sent[key]) * 1e3 for key in sent if key in seen)
    lat = np.sort(np.array(lat))
    return {"spacecraft": n_sc, "clients": n_clients, "packets_sent": len(sent), "deliveries": int(lat.size),
            "missing_deliveries": missing, "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
            "max_ms": float(lat[-1])}


def bench_samples(tmp: Path, n: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_archive import PARAMETER, _brute, _fill
    from telemetry.samples import bucket_width_s
    target = str(tmp / "samples.sqlite")
    fill_s, t, v = _fill(target, n)
    users = tmp / "users-samples.json"
    add_user(users, "bench", "viewer", PASSWORD)
    c = Console(target, users=Users(users))
    url = c.serve_in_thread("127.0.0.1", 0)
    try:
        cookie = _login(url)
        lo, hi = float(t[0]), float(t[-1] + 1)
        iso = [np.datetime_as_string(np.datetime64(int(x), "s")) + "Z" for x in (lo, hi)]
        path = f"/api/parameters/FS8-1/{PARAMETER}/samples?start={iso[0]}&end={iso[1]}&buckets=500"
        times = []
        for _ in range(6):
            start = time.perf_counter()
            rows, headers = _get(url, path, cookie)
            times.append(time.perf_counter() - start)
        width = bucket_width_s(lo, hi, 500)
        ref = _brute(t, v, width, lo, hi)
        assert [r["count"] for r in rows] == ref[:, 4].tolist() and float(headers["x-bucket-width-s"]) == width
        assert np.allclose([r["mean"] for r in rows], ref[:, 3], rtol=1e-9)
    finally:
        c.close()
    return {"samples": n, "fill_s": fill_s, "buckets": len(rows), "width_s": width, "first_ms": times[0] * 1e3,
            "median_ms": statistics.median(times[1:]) * 1e3}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of live telemetry")
    ap.add_argument("--spacecraft", type=int, default=8)
    ap.add_argument("--clients", type=int, default=20, help="websocket clients")
    ap.add_argument("--samples", type=int, default=10_000_000, help="values for the samples query (0: skip)")
    args = ap.parse_args(argv)
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        users = Path(tmp) / "users.json"
        add_user(users, "bench", "viewer", PASSWORD)
        c = Console(Path(tmp) / "live.sqlite", listen="tcp://127.0.0.1:*", users=Users(users))
        url = c.serve_in_thread("127.0.0.1", 0)
        try:
            out["live"] = bench_live(url, c.platform_endpoint, args.spacecraft, args.clients, args.duration)
        finally:
            c.close()
        print(json.dumps(out, indent=1), flush=True)
        if args.samples:
            out["samples"] = bench_samples(Path(tmp), args.samples)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
