"""Limit checks with persistence, frozen-value and rate checks, and the alarm transitions they cause.

Severity codes: 0 nominal, 1 watch, 2 warning, 3 distress, 4 critical (``SEVERITIES``).
For each (spacecraft, parameter) stream, taken in time order:

- limit severity of a sample = the highest level whose low / high bound the value crosses,
  raised to the severity of its enumeration state if it has one;
- persistence ``p``: the effective limit severity is the minimum over the last ``p`` samples
  (a level counts only once held ``p`` consecutive samples; a return to nominal is immediate);
- frozen: ``samples`` consecutive identical raw values -> ``severity`` (a stuck sensor);
- step: ``|v[i] - v[i-1]|`` above ``max`` -> ``severity`` (a jump, e.g. a battery cell drop);
- the sample's severity is the highest of the three; its reason one of ``REASONS``.

An alarm is *raised* when the severity leaves nominal, *escalated* / *downgraded* when it changes
while raised, *cleared* when it returns to nominal. State carries across batches and can be
saved / restored (``state()`` / ``restore()``) so that a restarted platform continues.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .dictionary import SEVERITIES, Parameter

__all__ = ["REASONS", "AlarmEvent", "LimitChecker", "SEVERITIES"]

REASONS = ("", "low", "high", "state", "frozen", "step")


@dataclass
class AlarmEvent:
    """One alarm transition: event in raised / escalated / downgraded / cleared."""

    spacecraft: str
    parameter: str
    event: str
    severity: int
    reason: str
    time_s: float
    value: float


class _Stream:
    __slots__ = ("history", "last_raw", "run", "last_value", "last_time", "severity")

    def __init__(self, persistence: int):
        self.history = np.zeros(persistence - 1, dtype=np.int8)
        self.last_raw = None
        self.run = 0
        self.last_value = np.nan
        self.last_time = -np.inf
        self.severity = 0


class LimitChecker:
    """Checks decoded parameter columns against the dictionary's limits, stream by stream."""

    def __init__(self):
        self._streams: dict[tuple[str, str], _Stream] = {}

    def last_time(self, spacecraft: str, parameter: str) -> float:
        """Time (Unix s) of the newest checked sample of the stream, -inf if none."""
        s = self._streams.get((spacecraft, parameter))
        return -np.inf if s is None else s.last_time

    def severity(self, spacecraft: str, parameter: str) -> int:
        s = self._streams.get((spacecraft, parameter))
        return 0 if s is None else s.severity

    def check(self, spacecraft: str, p: Parameter, raw: np.ndarray, value: np.ndarray,
              time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[AlarmEvent]]:
        """Check one stream's new samples (n,), sorted by time and newer than ``last_time``.

        Returns (severity (n,) int8, reason (n,) int8 index into REASONS, alarm events).
        """
        key = (spacecraft, p.name)
        st = self._streams.get(key)
        if st is None:
            st = self._streams[key] = _Stream(p.persistence)
        n = raw.size
        x = np.asarray(value, dtype=np.float64)
        sev = np.zeros(n, dtype=np.int8)
        why = np.zeros(n, dtype=np.int8)
        for k in range(4):
            if np.isfinite(p.low[k]):
                m = x < p.low[k]
                sev[m], why[m] = k + 1, 1
            if np.isfinite(p.high[k]):
                m = x > p.high[k]
                sev[m], why[m] = k + 1, 2
        for raw_value, s in p.state_severity.items():
            m = (raw == raw_value) & (sev < s)
            sev[m], why[m] = s, 3
        if p.persistence > 1:
            ext = np.concatenate([st.history, sev])
            eff = sliding_window_view(ext, p.persistence).min(axis=1).astype(np.int8)
            st.history = ext[-(p.persistence - 1):].copy()
            why[eff == 0] = 0
            sev = eff
        if p.frozen_samples:
            same = np.empty(n, dtype=bool)
            same[1:] = raw[1:] == raw[:-1]
            if n:
                same[0] = st.last_raw is not None and raw[0] == st.last_raw
            idx = np.arange(n)
            last_change = np.maximum.accumulate(np.where(~same, idx, -1))
            run = np.where(last_change < 0, st.run + idx + 1, idx - last_change + 1)
            m = (run >= p.frozen_samples) & (sev < p.frozen_severity)
            sev[m], why[m] = p.frozen_severity, 4
            if n:
                st.run = int(run[-1])
        if np.isfinite(p.step_max) and n:
            prev_v = np.concatenate([[st.last_value], x[:-1]])
            with np.errstate(invalid="ignore"):
                m = (np.abs(x - prev_v) > p.step_max) & (sev < p.step_severity)
            sev[m], why[m] = p.step_severity, 5
        events: list[AlarmEvent] = []
        if n:
            prev = np.concatenate([[st.severity], sev[:-1]])
            for i in np.flatnonzero(sev != prev):
                old, new = int(prev[i]), int(sev[i])
                event = "raised" if old == 0 else "cleared" if new == 0 else \
                    "escalated" if new > old else "downgraded"
                events.append(AlarmEvent(spacecraft, p.name, event, new, REASONS[why[i]] if new else "",
                                         float(time_s[i]), float(x[i])))
            st.severity = int(sev[-1])
            st.last_raw = raw[-1].item()
            st.last_value = float(x[-1])
            st.last_time = float(time_s[-1])
        return sev, why, events

    def state(self) -> dict:
        """JSON-able state of every stream."""
        return {f"{sc}\x1f{name}": {"history": s.history.tolist(), "last_raw": s.last_raw, "run": s.run,
                                     "last_value": None if np.isnan(s.last_value) else s.last_value,
                                     "last_time": None if np.isinf(s.last_time) else s.last_time,
                                     "severity": s.severity}
                for (sc, name), s in self._streams.items()}

    def restore(self, state: dict) -> None:
        """Load a state written by :meth:`state`."""
        for key, v in state.items():
            sc, name = key.split("\x1f", 1)
            s = _Stream(len(v["history"]) + 1)
            s.history = np.asarray(v["history"], dtype=np.int8)
            s.last_raw, s.run, s.severity = v["last_raw"], int(v["run"]), int(v["severity"])
            s.last_value = np.nan if v["last_value"] is None else float(v["last_value"])
            s.last_time = -np.inf if v["last_time"] is None else float(v["last_time"])
            self._streams[(sc, name)] = s
