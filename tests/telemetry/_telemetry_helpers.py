import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def free_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


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
