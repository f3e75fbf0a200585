"""The plans the console draws: activities per satellite from a plan's command timeline, and
the contact plan's decision on each pass.

The timeline is the ``timeline.csv`` of ``groundseg plan`` / ``groundseg demo`` (columns
``time_utc,resource,resource_name,time_s,event,target,station,roll_deg,pitch_deg,data_gbit``,
see :mod:`groundseg.planning.plan`). Events pair into activities per satellite:
``slew_start`` -> the next ``imaging_on`` is a slew, ``imaging_on`` -> ``imaging_off`` an
acquisition, ``downlink_start`` -> ``downlink_stop`` a downlink. The file is read again when it
changes (a new plan shows without restarting), and may appear after the console starts (the demo
writes it while the console runs). A file that is not a timeline is reported, not served. The
contact plan is the ``contacts.csv`` of ``groundseg contacts`` (read the same way).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .errors import ConsoleError

__all__ = ["PlanFile", "ContactsFile", "activities_from_timeline", "ACTIVITY_KINDS"]

ACTIVITY_KINDS = ("acquisition", "slew", "downlink")
_PAIRS = {"slew_start": ("imaging_on", "slew"), "imaging_on": ("imaging_off", "acquisition"),
          "downlink_start": ("downlink_stop", "downlink")}
_MAX_BYTES = 64 << 20
_COLUMNS = ("time_utc", "resource_name", "event", "target", "station")


def activities_from_timeline(table) -> list[dict]:
    """Activities (``satellite``, ``kind``, ``start_s``, ``end_s``, ``label``) in start order from
    a timeline ``pyarrow.Table``."""
    missing = [c for c in _COLUMNS if c not in table.column_names]
    if missing:
        raise ConsoleError(f"no column {', '.join(missing)}")
    import pyarrow as pa
    t = table.column("time_utc").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    sec = t / 1e9
    sat = table.column("resource_name").to_pylist()
    event = table.column("event").to_pylist()
    target = table.column("target").to_pylist()
    station = table.column("station").to_pylist()
    order = np.lexsort((np.arange(len(sec)), sec))
    open_: dict[tuple[str, str], tuple[float, str]] = {}
    out = []
    for i in order.tolist():
        s, e = str(sat[i]), event[i]
        label = str(station[i] or "") if e.startswith("downlink") else str(target[i] or "")
        for start_event, (end_event, kind) in _PAIRS.items():
            if e == end_event and (s, start_event) in open_:
                t0, lab = open_.pop((s, start_event))
                out.append({"satellite": s, "kind": kind, "start_s": t0, "end_s": float(sec[i]), "label": lab or label})
        if e in _PAIRS:
            open_[(s, e)] = (float(sec[i]), label)
    out.sort(key=lambda a: (a["start_s"], a["satellite"]))
    return out


class _WatchedFile:
    """A file read again when its size or modification time changes (absent: nothing yet)."""

    what = "file"

    def __init__(self, path):
        self.path = Path(path)
        self._stamp = None
        self.data = self.empty()
        self.error: str | None = None
        self._lock = threading.Lock()

    def empty(self):
        return []

    def parse(self, table):
        raise NotImplementedError

    def refresh(self) -> bool:
        """Read the file if it changed; True if the data changed."""
        try:
            st = os.stat(self.path)
        except OSError:
            changed = self._stamp is not None
            self._stamp, self.data, self.error = None, self.empty(), None
            return changed
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        if st.st_size > _MAX_BYTES:
            self.data, self.error = self.empty(), f"{self.path}: larger than {_MAX_BYTES >> 20} MiB"
            return True
        import pyarrow as pa
        import pyarrow.csv as pacsv
        try:
            table = pacsv.read_csv(self.path, convert_options=pacsv.ConvertOptions(
                column_types={"time_utc": pa.timestamp("ns", tz="UTC"), "aos_utc": pa.timestamp("ns", tz="UTC"),
                              "target": pa.string(), "station": pa.string(), "reason": pa.string()},
                strings_can_be_null=True))
            self.data, self.error = self.parse(table), None
        except (ConsoleError, OSError, ValueError, TypeError) as exc:
            self.data, self.error = self.empty(), f"{self.path}: not a {self.what}: {str(exc).splitlines()[0]}"
        return True

    @property
    def loaded(self) -> bool:
        return self._stamp is not None and self.error is None


class PlanFile(_WatchedFile):
    """A plan timeline; :meth:`activities` in a time window."""

    what = "plan timeline"

    def parse(self, table):
        return activities_from_timeline(table)

    def activities(self, start_s: float, end_s: float) -> dict:
        with self._lock:
            self.refresh()
            acts = [a for a in self.data if a["end_s"] >= start_s and a["start_s"] <= end_s]
            return {"source": str(self.path), "loaded": self.loaded, "error": self.error, "activities": acts}


class ContactsFile(_WatchedFile):
    """A contact plan (``contacts.csv`` of ``groundseg contacts`` / ``demo``): per pass
    ``satellite``, ``station``, ``aos_s``, ``antenna``, ``status``, ``reason``."""

    what = "contact plan"

    def empty(self):
        return {}

    def parse(self, table):
        missing = [c for c in ("satellite", "station", "aos_utc", "antenna", "status") if c not in table.column_names]
        if missing:
            raise ConsoleError(f"no column {', '.join(missing)}")
        import pyarrow as pa
        aos = table.column("aos_utc").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False) / 1e9
        reason = table.column("reason").to_pylist() if "reason" in table.column_names else [""] * len(aos)
        out: dict[tuple[str, str], list] = {}
        for sat, st, t, ant, status, why in zip(table.column("satellite").to_pylist(), table.column("station").to_pylist(),
                                                aos.tolist(), table.column("antenna").to_pylist(),
                                                table.column("status").to_pylist(), reason):
            out.setdefault((str(sat), str(st)), []).append((t, {"antenna": int(ant or 0), "status": str(status),
                                                                "reason": str(why or "")}))
        return out

    def decisions(self):
        """(changed since the last call, {(satellite, station): [(aos_s, decision)]})."""
        with self._lock:
            return self.refresh(), self.data
