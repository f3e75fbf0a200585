"""The console's "now": the wall clock, or the time of a simulation replayed at a real-time factor.

Countdowns, the map's current positions, the plan's "now" line and pass events all read one
clock. Live operations use :class:`WallClock`. A simulation streamed at ``factor`` times real
time (``groundseg demo --console``) uses :class:`ReplayClock`: its time is set by the telemetry
itself. A packet stamped ``t`` that is committed at wall time ``w`` says the simulation started
no later than ``w - (t - epoch) / factor`` (it cannot arrive before it was sent); the clock keeps
the earliest such start, so it runs ``factor`` times faster than the wall clock and trails the
stream by at most the smallest delivery delay seen (milliseconds on one machine). Before the
first packet it stands at ``epoch``.
"""
from __future__ import annotations

import math
import threading
import time

__all__ = ["WallClock", "ReplayClock"]


class WallClock:
    """Unix seconds now (UTC), at rate 1."""

    rate = 1.0

    def now_s(self) -> float:
        return time.time()

    def observe(self, packet_time_s: float, wall_s: float) -> None:
        """Telemetry does not move the wall clock."""

    def to_dict(self) -> dict:
        return {"kind": "wall", "rate": 1.0, "running": True}


class ReplayClock:
    """Simulation time from ``epoch_s`` (Unix seconds) at ``factor`` times real time."""

    def __init__(self, epoch_s: float, factor: float, *, wall=time.time):
        if not (math.isfinite(epoch_s) and math.isfinite(factor) and factor > 0):
            raise ValueError(f"replay clock: epoch {epoch_s!r}, factor {factor!r}")
        self.epoch_s, self.rate = float(epoch_s), float(factor)
        self._wall = wall
        self._start_wall: float | None = None
        self._lock = threading.Lock()

    def observe(self, packet_time_s: float, wall_s: float) -> None:
        """A packet stamped ``packet_time_s`` was committed at ``wall_s``."""
        if not math.isfinite(packet_time_s) or packet_time_s < self.epoch_s:
            return
        start = wall_s - (packet_time_s - self.epoch_s) / self.rate
        with self._lock:
            if self._start_wall is None or start < self._start_wall:
                self._start_wall = start

    def now_s(self) -> float:
        start = self._start_wall
        if start is None:
            return self.epoch_s
        return self.epoch_s + (self._wall() - start) * self.rate

    def to_dict(self) -> dict:
        return {"kind": "replay", "rate": self.rate, "running": self._start_wall is not None}
