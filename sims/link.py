"""Stream simulated housekeeping packets over ZeroMQ to an operations platform.

One :class:`telemetry.Source` per satellite publishes that satellite's packets, up to
``batch`` packets a message, satellites interleaved so the platform receives them in time
order. Two destinations:

- in process (the default): a :class:`telemetry.PlatformServer` on an ``inproc://``
  endpoint sharing the sources' ZeroMQ context, running in a thread, writing ``archive``
  (an SQLite file): the same validation, limit checks, alarms and archive as a networked
  platform, without sockets;
- ``publish=ENDPOINT`` (e.g. ``tcp://127.0.0.1:5555``): a platform already listening there
  (``groundseg telemetry platform --listen ...``), which archives and raises the alarms.

Pacing: ``realtime=None`` sends as fast as the platform commits; ``realtime=F`` sends each
packet ``F`` times faster than real time (packet ``i`` of a satellite leaves
``i * hk_period_s / F`` seconds after the start), ``0 < F <= 1e6``. Sources then wait
(``linger_s``) until the platform acknowledges everything (it recovers anything lost to
ZeroMQ's slow-joiner through the sources' replay buffers).
"""
from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import numpy as np

from .errors import SimulationError

__all__ = ["stream_packets", "MAX_REALTIME_FACTOR"]

MAX_REALTIME_FACTOR = 1e6


def stream_packets(rows: list[np.ndarray], names: list[str], *, apid: int, hk_period_s: float,
                   archive=None, dictionary=None, publish: str | None = None,
                   realtime: float | None = None, batch: int = 100, linger_s: float = 30.0,
                   keys=None, log=None, fresh: bool = True) -> dict:
    """Send ``rows[i]`` (``(n, length)`` uint8 packets of one APID, in time order) as
    satellite ``names[i]``. Returns ``sent_packets``, ``acknowledged`` (every source fully
    acknowledged: False means not delivered), ``duration_s``, ``destination`` and, in process,
    the platform's ``platform`` summary (archive counters, alarms raised). ``keys`` (with
    ``publish``): a key directory holding one source key per satellite, named after it
    (``groundseg telemetry keys --dir DIR --source NAME``). ``fresh``: start ``archive`` anew
    (False: add to it, e.g. after the command history)."""
    import zmq

    from telemetry import PlatformServer, Source

    if realtime is not None and not 0 < realtime <= MAX_REALTIME_FACTOR:
        raise SimulationError(f"--realtime must be in (0, {MAX_REALTIME_FACTOR:g}], got {realtime:g}")
    if len(rows) != len(names):
        raise SimulationError("one packet array per satellite")
    if (archive is None) == (publish is None):
        raise SimulationError("give an archive (in-process platform) or a publish endpoint")
    if keys is not None and publish is None:
        raise SimulationError("keys are for a platform at a publish endpoint")
    ctx = zmq.Context()
    server = thread = None
    result: dict = {}
    stop = threading.Event()
    tag = uuid.uuid4().hex[:10]
    sources: list = []
    closed: list = []
    try:
        if publish is None:
            path = Path(archive)
            for suffix in ("", "-wal", "-shm") if fresh else ():
                Path(str(path) + suffix).unlink(missing_ok=True)
            endpoint = f"inproc://groundseg-sim-{tag}"
            server = PlatformServer(endpoint, str(path), dictionary, context=ctx)

            def serve():
                result["platform"] = server.run(stop=stop)
            thread = threading.Thread(target=serve, name="groundseg-sim-platform", daemon=True)
            thread.start()
            server.ready.wait(5.0)
            replay = [f"inproc://groundseg-sim-{tag}-replay-{i}" for i in range(len(rows))]
        else:
            endpoint = publish
            replay = ["tcp://127.0.0.1:*"] * len(rows)
        for name, rep in zip(names, replay):
            sources.append(Source(endpoint, spacecraft=name, replay=rep, linger_s=linger_s, keys=keys,
                                  context=None if keys is not None else ctx))   # one ZAP handler a context
        n_total = sum(r.shape[0] for r in rows)
        if log is not None and realtime is not None:
            span = max(r.shape[0] for r in rows) * hk_period_s / realtime
            log(f"streaming {n_total} packets at {realtime:g}x real time (about {span:.0f} s)")
        t0 = time.monotonic()
        sent = [0] * len(rows)
        counts = [r.shape[0] for r in rows]
        while any(s < c for s, c in zip(sent, counts)):
            if realtime is None:
                due = max(counts)
            else:
                due = int((time.monotonic() - t0) * realtime / hk_period_s) + 1
            progress = False
            for i, src in enumerate(sources):
                limit = min(due, counts[i])
                while sent[i] < limit:
                    k = min(batch, limit - sent[i])
                    src.send(rows[i][sent[i]:sent[i] + k].tobytes(), apid, k)
                    sent[i] += k
                    progress = True
                    if realtime is None:
                        break           # one message per satellite per round: time order
            if realtime is not None and not progress:
                wait = t0 + due * hk_period_s / realtime - time.monotonic()
                for src in sources:
                    src.poll(0.0)
                time.sleep(min(0.05, max(0.0, wait)))
        for src in sources:
            closed.append(src.close(linger_s))
        duration = time.monotonic() - t0
    finally:
        for src in sources[len(closed):]:
            src.close(0.0)
        stop.set()
        if thread is not None:
            thread.join(30.0)
        if server is not None:
            server.close()
        ctx.destroy(linger=0)
    out = {"sent_packets": int(sum(c["sent_packets"] for c in closed)),
           "acknowledged": all(c["all_acked"] for c in closed),
           "duration_s": duration, "destination": str(archive) if publish is None else publish}
    if "platform" in result:
        out["platform"] = result["platform"]
    return out
