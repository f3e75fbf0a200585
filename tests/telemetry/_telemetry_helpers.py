import os
import socket
import subprocess
import sys
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
