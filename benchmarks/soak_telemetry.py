"""Soak: honest sources at --rate packets/s in total plus a hostile client, the platform killed
with -9 every --kill-every seconds and restarted, for --minutes. Ends with every honest packet
archived exactly once (checked from the archive's keys per spacecraft) and reports the platform's
peak RSS (sampled from /proc every 0.2 s over all its lives) against --rss-limit-mb.

The hostile client holds its own key (with --keys, the default): random frames, valid envelopes
with junk bodies, 2 MiB frames (refused by ZMQ_MAXMSGSIZE), the honest sources' ids (read from
the archive, as an insider could) with their spacecraft and next or absurd sequence numbers,
lying sequences and heartbeats on its own id with a replay port that answers nonsense, bad
heartbeat JSON, and forged ACKs sent to the honest sources' replay ports.

    python benchmarks/soak_telemetry.py [--minutes 10] [--rate 10000] [--sources 4] [--kill-every 30]
                                        [--no-keys] [--rss-limit-mb 1024]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import zmq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telemetry.archive import Archive  # noqa: E402
from telemetry.keys import SourceKeys, generate_keys  # noqa: E402
from telemetry.stream import KIND_DATA, KIND_HEARTBEAT, encode_message  # noqa: E402

START_S = 1.9e9
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _free_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def _cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "groundseg.cli", *map(str, args)], env=ENV, cwd=str(ROOT), **kw)


class _Platform:
    """The platform subprocess across its lives, with an RSS sampler."""

    def __init__(self, args, log: Path):
        self.args, self.log = args, log
        self.proc: subprocess.Popen | None = None
        self.peak_rss_kb = 0
        self.lives = 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def start(self) -> None:
        with open(self.log, "a") as err:
            self.proc = _cli("telemetry", "platform", *self.args, stdout=subprocess.DEVNULL, stderr=err)
        self.lives += 1

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def _sample(self) -> None:
        while not self._stop.is_set():
            p = self.proc
            if p is not None and p.poll() is None:
                try:
                    for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
                except OSError:
                    pass
            self._stop.wait(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)
        self._stop.set()


def _hostile(ep: str, keys: str | None, archive: Path, tmp: Path, stop: threading.Event, sent: Counter) -> None:
    """The hostile client (see the module docstring), about 200 messages a second."""
    ctx = zmq.Context()
    k = SourceKeys(keys, "EVIL") if keys else None

    def sock(kind, server=False, serverkey=None):
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 1000)
        if k is not None:
            s.curve_secretkey, s.curve_publickey = k.secret, k.public
            if server:
                s.curve_server = True
            else:
                s.curve_serverkey = serverkey or k.peer_public
        return s
    pub = sock(zmq.PUB)
    pub.connect(ep)
    router = sock(zmq.ROUTER, server=True)
    router.bind(f"ipc://{tmp}/evil-replay.sock")
    rng = np.random.default_rng(7)
    honest: list[tuple[str, str, str]] = []          # (source id, spacecraft, replay endpoint)
    next_look = 0.0
    own = "EVIL-" + "e" * 24
    seq = 0
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_look:                     # what an insider reading the archive knows
                try:
                    a = Archive(archive, readonly=True)
                    rows = a.db.execute("SELECT source_id, state FROM sources").fetchall()
                    a.close()
                    honest = [(sid, json.loads(st).get("spacecraft", ""), json.loads(st).get("replay") or "")
                              for sid, st in rows if not sid.startswith("EVIL")]
                except Exception:
                    pass
                next_look = now + 5.0
            while router.poll(0):                    # the replay port answers nonsense
                req = router.recv_multipart()
                if len(req) >= 4:
                    router.send_multipart([req[0], b"DONE", req[2], req[3] if len(req[3]) == 16 else bytes(16),
                                           (2**64 - 1).to_bytes(8, "big"), b"[[1, 1e400]]"])
                    sent["replay_nonsense"] += 1
            what = int(rng.integers(0, 9))
            if what == 0:
                pub.send_multipart([b"tm/" + rng.bytes(int(rng.integers(0, 30)))] +
                                   [rng.bytes(int(rng.integers(0, 200))) for _ in range(int(rng.integers(0, 5)))])
                sent["random_frames"] += 1
            elif what == 1:
                seq += 1
                pub.send_multipart(encode_message("tm/EVIL/064", KIND_DATA, seq, own,
                                                  rng.bytes(int(rng.integers(1, 2000))), 10))
                sent["junk_bodies"] += 1
            elif what == 2 and rng.random() < 0.02:
                pub.send_multipart(encode_message("tm/EVIL/064", KIND_DATA, seq + 1, own, rng.bytes(2 << 20), 1))
                sent["frames_2MiB"] += 1
            elif what == 3 and honest:
                sid, sc, _ = honest[int(rng.integers(0, len(honest)))]
                s = int(rng.choice([1, 2**31, 2**63 - 1, int(rng.integers(1, 10**6))]))
                pub.send_multipart(encode_message(f"tm/{sc or 'FS8-1'}/064", KIND_DATA, s, sid, rng.bytes(300), 3))
                sent["forged_ids"] += 1
            elif what == 4:
                jump = int(rng.choice([2**63 - 1, 2**40, seq + 10**6, seq + 5000]))
                pub.send_multipart(encode_message("tm/EVIL/064", KIND_DATA, jump, own, rng.bytes(100), 1))
                sent["lying_sequences"] += 1
            elif what == 5:
                body = json.dumps({"replay": f"ipc://{tmp}/evil-replay.sock", "spacecraft": "EVIL", "token": "ab" * 16,
                                   "sent_packets": int(rng.integers(0, 10**6))}).encode()
                pub.send_multipart(encode_message(f"hb/EVIL/{own}", KIND_HEARTBEAT,
                                                  int(rng.choice([seq + 10**5, 2**63 - 1, seq])), own, body, 0))
                sent["lying_heartbeats"] += 1
            elif what == 6:
                pub.send_multipart(encode_message(f"hb/EVIL/{own}", KIND_HEARTBEAT, 0, own,
                                                  rng.choice([b'{"sent_packets": 1e400}', b"[" * 3000, b"\xff"]), 0))
                sent["bad_heartbeats"] += 1
            elif what == 7 and honest:
                sid, _, replay = honest[int(rng.integers(0, len(honest)))]
                if replay.startswith("tcp://127.0.0.1:"):
                    serverkey = None
                    if k is not None:
                        name = sid.rsplit("-", 1)[0]
                        try:
                            serverkey = SourceKeys(keys, name).public
                        except Exception:
                            serverkey = None
                    d = sock(zmq.DEALER, serverkey=serverkey)
                    d.connect(replay)
                    try:
                        d.send_multipart([b"ACK", sid.encode(), (2**64 - 1).to_bytes(8, "big"), b"ab" * 16], zmq.NOBLOCK)
                        d.send_multipart([b"ACK", sid.encode(), (2**64 - 1).to_bytes(8, "big")], zmq.NOBLOCK)
                    except zmq.Again:
                        pass
                    d.close(0)
                    sent["forged_acks"] += 1
            stop.wait(0.005)
    finally:
        ctx.destroy(linger=0)


def _verify(archive: Path, expected: dict[str, int]) -> dict:
    """Per honest spacecraft: packets archived, distinct (time, count) keys, expected."""
    a = Archive(archive, readonly=True)
    try:
        out = {}
        for sc, n in expected.items():
            row = a.db.execute("SELECT id FROM names WHERE kind='spacecraft' AND name=?", (sc,)).fetchone()
            t, s = a.keys(row[0], 0x64) if row else (np.zeros(0), np.zeros(0))
            distinct = np.unique(np.stack([t, s])).size if t.size else 0
            distinct = len(set(zip(t.tolist(), s.tolist())))
            out[sc] = {"expected": n, "archived": int(t.size), "distinct": distinct}
        stats = a.stats()
    finally:
        a.close()
    return {"per_spacecraft": out, "stats": stats}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=10_000.0, help="honest packets/s, all sources together")
    ap.add_argument("--sources", type=int, default=4)
    ap.add_argument("--kill-every", type=float, default=30.0, help="seconds between kill -9 of the platform")
    ap.add_argument("--no-keys", action="store_true", help="plain TCP (the hostile client forges acks with tokens)")
    ap.add_argument("--rss-limit-mb", type=float, default=1024.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-telemetry-") as tmp_name:
        tmp = Path(tmp_name)
        archive = tmp / "ops.sqlite"
        ep = _free_endpoint()
        keys = None if args.no_keys else str(tmp / "keys")
        names = [f"FS8-{i + 1}" for i in range(args.sources)]
        if keys:
            for n in names:
                generate_keys(keys, n)
            generate_keys(keys, "EVIL", spacecraft=["EVIL", *names])
        platform = _Platform(["--listen", ep, "--archive", archive] + (["--keys", keys] if keys else []),
                             tmp / "platform.log")
        platform.start()
        per_source = args.rate / args.sources
        count = int(per_source * args.minutes * 60)
        pubs = [_cli("telemetry", "publish", "--connect", ep, "--count", count, "--rate", per_source,
                     "--spacecraft", n, "--seed", i, "--start", "2030-03-01T00:00:00Z", "--linger", 300,
                     *(["--keys", keys] if keys else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i, n in enumerate(names)]
        stop = threading.Event()
        hostile_sent: Counter = Counter()
        hostile = threading.Thread(target=_hostile, args=(ep, keys, archive, tmp, stop, hostile_sent), daemon=True)
        hostile.start()
        t0 = time.monotonic()
        kills = 0
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(min(args.kill_every, max(0.0, args.minutes * 60 - (time.monotonic() - t0))))
            if time.monotonic() - t0 < args.minutes * 60 - 1:
                platform.kill()
                kills += 1
                platform.start()
                print(f"{time.monotonic() - t0:6.0f} s  kill -9 #{kills}, restarted; peak RSS so far"
                      f" {platform.peak_rss_kb / 1024:.0f} MB", flush=True)
        stop.set()
        hostile.join(30)
        results = []
        for p in pubs:
            out, err = p.communicate(timeout=900)
            results.append((p.returncode, json.loads(out) if out.strip() else {"error": err[-300:]}))
        wall = time.monotonic() - t0
        platform.stop()
        check = _verify(archive, {n: count for n in names})
        log_lines = (tmp / "platform.log").read_text().splitlines()
    s = check["stats"]
    ok = all(rc == 0 and r.get("all_acked") for rc, r in results) and all(
        v["archived"] == v["distinct"] == v["expected"] for v in check["per_spacecraft"].values())
    rejected = {k: v for k, v in s.items() if k.startswith("rejected")}
    print(f"soak {args.minutes:g} min ({wall:.0f} s wall), {args.sources} honest sources at {args.rate:,.0f} packets/s"
          f" in total, {'CurveZMQ keys' if keys else 'no keys'}, platform killed -9 {kills} times ({platform.lives} lives)")
    for n, (rc, r) in zip(names, results):
        v = check["per_spacecraft"][n]
        print(f"  {n}: sent {r.get('sent_packets')}, archived {v['archived']} ({v['distinct']} distinct) of"
              f" {v['expected']}; publisher exit {rc}, all acknowledged {r.get('all_acked')},"
              f" replayed {r.get('replayed_messages')} messages, forged requests refused {r.get('rejected_requests')}")
    print(f"  hostile client: {dict(hostile_sent)}")
    print(f"  platform: rejected {rejected}")
    print(f"  platform: gaps {s['gaps']}, recovered packets {s['recovered_packets']}, duplicates {s['duplicates']},"
          f" messages lost {s['missing_messages']}, skipped {s['skipped_messages']} (the hostile client's"
          f" sequence jumps), quarantined {s['quarantined']}")
    print(f"  platform peak RSS {platform.peak_rss_kb / 1024:.0f} MB (limit {args.rss_limit_mb:.0f} MB);"
          f" log lines {len(log_lines)}")
    ok = ok and platform.peak_rss_kb / 1024 < args.rss_limit_mb
    print("RESULT", "every honest packet archived exactly once, RSS within the limit" if ok else "FAILED")
    print(json.dumps({"soak": {"minutes": args.minutes, "rate": args.rate, "kills": kills, "peak_rss_mb":
                               platform.peak_rss_kb / 1024, "per_spacecraft": check["per_spacecraft"],
                               "hostile": dict(hostile_sent), "rejected": rejected, "ok": ok}}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
