import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from _ports import free_endpoint  # noqa: F401 (the tests' one home for free ports)

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, **kw) -> subprocess.Popen:
    """Start ``groundseg`` in a subprocess (module form, worktree on PYTHONPATH)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "groundseg.cli", *map(str, args)], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def hk_rows(d, n, *, t0=1.8e9, seq0=0, **overrides):
    """n nominal HK packets at 1 Hz with overrides {name: (n,) array}."""
    from telemetry.publisher import housekeeping_values
    values = housekeeping_values(np.arange(n), seed=1)
    values.update(overrides)
    return d.encode("HK", values, time_s=t0 + np.arange(n), seq_start=seq0)


def read_lines(stream):
    """(lines, event): the lines of ``stream`` (a subprocess's stderr), read by a thread; the event
    is set at each new line."""
    lines: list[str] = []
    seen = threading.Event()

    def read():
        for line in stream:
            lines.append(line)
            seen.set()
    threading.Thread(target=read, daemon=True).start()
    return lines, seen


def wait_line(lines, seen, text, budget=600):
    """Whether a line holding ``text`` came within ``budget`` waits of at most 0.1 s each."""
    for _ in range(budget):
        if any(text in x for x in lines):
            return True
        seen.wait(0.1)
        seen.clear()
    return False


def stall_then_resume(src, rows, sent, lines, seen, resume, stop_at=None):
    """Send ``rows`` from ``sent`` (100 a message) until the platform (its stderr: ``lines``,
    ``seen``) says its archive cannot be written, or ``stop_at`` rows; check that nothing more is
    acknowledged meanwhile; ``resume()``; once it is writable again, send the rest and wait until
    the source is fully acknowledged."""
    stop_at = rows.shape[0] if stop_at is None else stop_at
    while sent < stop_at and not any("cannot be written" in x for x in lines):
        src.send(rows[sent:sent + 100].tobytes(), 0x64, 100)
        sent += 100
        src.poll(0.002)
    assert wait_line(lines, seen, "cannot be written"), lines
    acked = src.acked
    for _ in range(40):
        src.poll(0.05)
    assert src.acked == acked < src.seq                     # nothing acknowledged meanwhile
    resume()
    assert wait_line(lines, seen, "writable again"), lines
    while sent < rows.shape[0]:
        src.send(rows[sent:sent + 100].tobytes(), 0x64, 100)
        sent += 100
    for _ in range(3000):
        src.poll(0.01)
        if src.all_acked:
            break
    assert src.all_acked
    src.close(0)


@contextlib.contextmanager
def platform_thread(endpoint, archive, **kw):
    """A PlatformServer on ``endpoint`` run by a thread for the block; stopped and closed after it."""
    from telemetry.server import PlatformServer
    server = PlatformServer(endpoint, archive, **kw)
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop}, daemon=True)
    th.start()
    try:
        yield server
    finally:
        stop.set()
        th.join(30)
        server.close()


def assert_archived_once(archive, n):
    """The archive holds ``n`` packets of APID 0x64, none missing, none twice."""
    from telemetry.archive import Archive
    a = Archive(archive, readonly=True)
    s = a.stats()
    seq = a.packets(apid=0x64)["seq_count"]
    a.close()
    assert s["packets_archived"] == n == len(seq) and s["missing_packets"] == 0 and s["duplicates"] == 0
