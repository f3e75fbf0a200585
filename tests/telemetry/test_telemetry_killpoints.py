"""The platform killed at chosen points of its pipeline, then restarted from its archive: every
packet the source sent is archived exactly once and the source is acknowledged; on both back ends
(an SQLite file, a PostgreSQL schema: ``archive_target``). Deterministic:
the fault hook fires at the n-th time the loop reaches a point; the test steps the server and
polls the source itself, with iteration budgets and no sleeps."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from telemetry.archive import Archive
from telemetry.server import FAULT_POINTS, PlatformServer
from telemetry.stream import Source
from _telemetry_helpers import ROOT, hk_rows

N_MESSAGES, PER = 30, 5
BEFORE = 10                       # sent before the platform exists: a gap of 10, one replay each


class _Crash(BaseException):
    """What the hook raises: the platform dies here (nothing after it runs, nothing is closed)."""


def _hook(point: str, nth: int):
    seen = [0]

    def hook(p: str) -> None:
        if p == point:
            seen[0] += 1
            if seen[0] == nth:
                raise _Crash(p)
    return hook


def _begin(hk_dict, tmp_path, path):
    """Endpoint, archive, packets, a source, and the messages it sent before any platform runs."""
    ep = f"ipc://{tmp_path}/p.sock"
    rows = hk_rows(hk_dict, N_MESSAGES * PER)
    src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.01, reconnect_ms=10, linger_s=0)
    for sent in range(BEFORE):
        src.send(rows[sent * PER:(sent + 1) * PER].tobytes(), 0x64, PER)
    return ep, path, rows, src, BEFORE


def _check(path, rows):
    a = Archive(path, readonly=True)
    s = a.stats()
    raw = a.packets(apid=0x64)["raw_hex"]
    a.close()
    assert s["packets_archived"] == rows.shape[0] == len(raw) == s["archived_rows"]
    assert sorted(raw) == sorted(r.tobytes().hex() for r in rows)          # each once
    assert s["missing_messages"] == 0 and s["missing_packets"] == 0


def _recover(ep, path, src, rows, sent):
    """A platform restarted on the same archive: the source finishes and is acknowledged."""
    server = PlatformServer(ep, path, batch_s=0.0, replay_timeout_s=0.5)
    try:
        for _ in range(20_000):
            if sent < N_MESSAGES:
                src.send(rows[sent * PER:(sent + 1) * PER].tobytes(), 0x64, PER)
                sent += 1
            server.step(1)
            src.poll(0)
            if sent == N_MESSAGES and src.all_acked and not server.busy:
                break
        assert src.all_acked and not server.busy
    finally:
        server.close()
        server.platform.close()


# every kill point on both back ends; the n-th passage (the pipeline's state) varied fully on one
@pytest.mark.parametrize("archive_target, point, nth", [(k, p, n) for p in FAULT_POINTS for n in (1, 2, 3, 5, 8)
                                                        for k in ("sqlite", "postgresql")
                                                        if k == "sqlite" or n in (1, 3, 8)], indirect=["archive_target"])
def test_killed_at_any_point_loses_nothing(hk_dict, tmp_path, archive_target, point, nth):
    ep, path, rows, src, sent = _begin(hk_dict, tmp_path, archive_target)
    server = PlatformServer(ep, path, batch_s=0.01, ack_s=0.0, replay_chunk=1, replay_timeout_s=0.5,
                            _fault_hook=_hook(point, nth))      # acks re-sent at every step, batches pending
    crashed = False
    try:
        for _ in range(20_000):
            if sent < N_MESSAGES and src.source_id in server.trackers:
                src.send(rows[sent * PER:(sent + 1) * PER].tobytes(), 0x64, PER)
                sent += 1
            server.step(1)
            src.poll(0)
    except _Crash:
        crashed = True
    finally:
        server.close()
        server.platform.close()
    assert crashed, f"the loop never reached {point} {nth} times"
    _recover(ep, path, src, rows, sent)
    src.close(0)
    _check(path, rows)


_KILLED_PLATFORM = textwrap.dedent("""
    import os, sys
    from telemetry.server import PlatformServer
    point, nth = sys.argv[3], int(sys.argv[4])
    seen = [0]
    def hook(p):
        if p == point:
            seen[0] += 1
            if seen[0] == nth:
                os._exit(9)
    server = PlatformServer(sys.argv[1], sys.argv[2], batch_s=0.0, replay_chunk=1, _fault_hook=hook)
    print("listening", flush=True)
    server.run(duration_s=120)
""")


@pytest.mark.parametrize("point", ["in_transaction", "after_commit", "replay_data"])
def test_process_exit_at_a_point_loses_nothing(hk_dict, tmp_path, archive_target, point):
    """The same with a real process death (os._exit in the hook: no rollback, no close)."""
    ep, path, rows, src, sent = _begin(hk_dict, tmp_path, archive_target)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_PLATFORM, ep, str(path), point, "3"], cwd=str(ROOT),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "listening"
    for _ in range(20_000):
        if proc.poll() is not None:
            break
        if sent < N_MESSAGES:
            src.send(rows[sent * PER:(sent + 1) * PER].tobytes(), 0x64, PER)
            sent += 1
        src.poll(0.001)
    assert proc.wait(60) == 9
    _recover(ep, path, src, rows, sent)
    src.close(0)
    _check(path, rows)


def test_every_fault_point_is_reached_in_a_normal_run(hk_dict, tmp_path, archive_target):
    """The hook names match the code: a run with a gap to replay reaches each point."""
    reached = set()
    ep, path = f"ipc://{tmp_path}/p.sock", archive_target
    rows = hk_rows(hk_dict, N_MESSAGES * PER)
    src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.01, linger_s=0)
    for sent in range(BEFORE):
        src.send(rows[sent * PER:(sent + 1) * PER].tobytes(), 0x64, PER)
    server = PlatformServer(ep, path, batch_s=0.0, replay_chunk=1, _fault_hook=reached.add)
    for _ in range(20_000):
        server.step(1)
        src.poll(0)
        if src.all_acked and not server.busy:
            break
    server.close()
    src.close(0)
    assert reached == set(FAULT_POINTS) and np.all(src.all_acked)
