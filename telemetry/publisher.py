"""A housekeeping telemetry source: plausible values, paced publishing, optional corruption.

Packet ``i`` (0-based) has time ``start_s + i / rate_hz`` and sequence count ``i mod 16384``;
values are a deterministic function of (seed, i), so a restarted source with the same arguments
sends the very same packets (the platform drops the ones it already has).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .dictionary import Dictionary
from .errors import StreamError
from .stream import Source

__all__ = ["housekeeping_values", "publish_housekeeping"]

_BLOCK = 10_000


def housekeeping_values(index: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Nominal engineering values of the bundled HK packet for packet indices (n,) at 1 Hz."""
    i = np.asarray(index, dtype=np.float64)
    rng = np.random.default_rng([seed, int(index[0]) if len(index) else 0])
    n = i.size
    orbit = 2 * np.pi * i / 5760.0
    eclipse = (np.sin(orbit) < -0.55)
    q = np.stack([np.sin(orbit / 2) * 0.1, np.cos(orbit / 2) * 0.1, np.zeros(n) + 0.05, np.ones(n)])
    q /= np.linalg.norm(q, axis=0)
    return {
        "battery_voltage": 31.0 + 0.8 * np.sin(orbit) + rng.normal(0, 0.01, n),
        "battery_soc": 85.0 + 8.0 * np.sin(orbit) + rng.normal(0, 0.05, n),
        "bus_current": 4.0 + 1.5 * (np.sin(3 * orbit) > 0) + rng.normal(0, 0.02, n),
        "battery_temp": 18.0 + 2.0 * np.sin(orbit) + rng.normal(0, 0.05, n),
        "obc_temp": 25.0 + 3.0 * np.sin(orbit + 0.5) + rng.normal(0, 0.05, n),
        "payload_temp": 18.0 + 1.0 * np.sin(orbit + 1.0) + rng.normal(0, 0.05, n),
        "rw1_speed": 2000 + 300 * np.sin(orbit) + rng.normal(0, 5, n),
        "rw2_speed": -1500 + 200 * np.cos(orbit) + rng.normal(0, 5, n),
        "rw3_speed": 1000 + 100 * np.sin(2 * orbit) + rng.normal(0, 5, n),
        "rw4_speed": -800 + 50 * np.cos(2 * orbit) + rng.normal(0, 5, n),
        "q1": q[0], "q2": q[1], "q3": q[2], "q4": q[3],
        "attitude_mode": np.full(n, 2),
        "downlink_state": np.where(np.sin(orbit / 3) > 0.9, 2, 0),
        "memory_used": 40.0 + 20.0 * (0.5 + 0.5 * np.sin(orbit / 4)),
        "eclipse": eclipse.astype(np.int64),
        "heaters_on": np.where(eclipse, 3, 0),
        "uptime": i.astype(np.int64),
    }


def _block(d: Dictionary, b: int, count: int, rate_hz: float, start_s: float, seed: int,
           corrupt: float) -> tuple[np.ndarray, int]:
    idx = np.arange(b * _BLOCK, min(count, (b + 1) * _BLOCK))
    rows = d.encode("HK", housekeeping_values(idx, seed), time_s=start_s + idx / rate_hz, seq_count=idx % 16384)
    n_bad = 0
    if corrupt > 0:
        rng = np.random.default_rng([seed, b, 1])
        bad = np.flatnonzero(rng.random(idx.size) < corrupt)
        bits = rng.integers(0, rows.shape[1] * 8, bad.size)
        rows[bad, bits // 8] ^= (1 << (7 - bits % 8)).astype(np.uint8)
        n_bad = int(bad.size)
    return rows, n_bad


def publish_housekeeping(connect: str, count: int, rate_hz: float, *, spacecraft: str = "FS8-1", keys=None,
                         key_name: str | None = None, corrupt: float = 0.0, seed: int = 0, replay: str = "tcp://127.0.0.1:*",
                         start_s: float | None = None, batch: int = 100, max_delay_s: float = 0.005, linger_s: float = 30.0,
                         dictionary: Dictionary | None = None, stop=None) -> dict:
    """Publish ``count`` HK packets at ``rate_hz``, up to ``batch`` per message (a message waits at
    most ``max_delay_s`` to fill); then wait for acknowledgement of everything (``linger_s``).

    ``corrupt`` flips one random bit in that fraction of packets; ``keys``: a key directory with
    ``key_name``'s secret key (default: the spacecraft's name). Returns the source counters
    plus ``corrupted`` and ``duration_s``; ``all_acked`` says whether everything was delivered.
    """
    if not (count >= 0 and math.isfinite(rate_hz) and rate_hz > 0 and 0 <= corrupt <= 1 and batch >= 1
            and math.isfinite(linger_s) and linger_s >= 0):
        raise StreamError("need count >= 0, a finite rate > 0, 0 <= corrupt <= 1, batch >= 1, a finite linger >= 0")
    d = dictionary or Dictionary.bundled()
    pt = d.packet("HK")
    start_s = float(np.floor(time.time())) if start_s is None else float(start_s)
    src = Source(connect, spacecraft=spacecraft, replay=replay, keys=keys, key_name=key_name, linger_s=linger_s)
    corrupted = 0
    t0 = time.monotonic()
    sent = 0
    rows = None
    block = -1
    try:
        while sent < count and not (stop is not None and stop.is_set()):
            elapsed = time.monotonic() - t0
            due = min(count, int(elapsed * rate_hz) + 1)
            # a message leaves when it is full, when its oldest packet has waited max_delay_s,
            # or at the end
            oldest_wait = elapsed - sent / rate_hz
            if sent >= due or (due - sent < batch and due < count and oldest_wait < max_delay_s):
                wait = min(0.05, max(0.0, (sent + min(batch, count - sent)) / rate_hz - elapsed),
                           max(0.0, max_delay_s - oldest_wait) if sent < due else 0.05)
                src.poll(wait)
                continue
            while sent < due:
                b = sent // _BLOCK
                if b != block:
                    rows, n_bad = _block(d, b, count, rate_hz, start_s, seed, corrupt)
                    corrupted += n_bad
                    block = b
                k = min(batch, due - sent, (b + 1) * _BLOCK - sent)
                lo = sent - b * _BLOCK
                src.send(rows[lo:lo + k].tobytes(), pt.apid, k)
                sent += k
    finally:
        out = src.close(linger_s)
    out.update(corrupted=corrupted, duration_s=time.monotonic() - t0)
    return out
