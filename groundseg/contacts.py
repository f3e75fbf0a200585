"""Contact plans: which passes each station's antennas track when they cannot track them all.

A station has ``antennas`` antennas; one antenna tracks one satellite at a time and needs
``setup_time_s`` between the LOS of one track and the AOS of the next (re-pointing, link
set-up). So each pass occupies an antenna over ``[AOS, LOS + setup)``, and a set of passes
fits on a station iff no instant is covered by more than ``antennas`` of those intervals
(intervals form a perfect graph: then assigning antennas in AOS order always works).
Optionally (``satellite_exclusive``) a satellite talks to one station at a time (one
downlink chain), so its passes over different stations must not overlap.

Choice. Passes are ranked by satellite priority (1 is the most important; satellites not
listed get ``default_priority``, by default one below the lowest listed) and then by
quality = ``duration_s * (0.5 + 0.5 sin(max elevation))`` (contact seconds, discounted up
to half for low passes, whose links are weaker). The greedy planner walks that ranking and
keeps every pass that still fits. :meth:`ContactPlan.optimality` measures how good that is:
per priority level, the scheduled quality against the lexicographic optimum (priority level
by level, each an exact MILP solved by scipy's HiGHS) or, for large plans, against the LP
relaxation's upper bound.

Wire format (``to_csv`` / ``to_json``, the ``groundseg contacts`` contract), one row per pass,
ordered by AOS then station:
``station,antenna,satellite,norad_id,priority,aos_utc,tca_utc,los_utc,duration_s,
max_elevation_deg,quality,status,reason,conflicts_with`` where ``antenna`` is 1..antennas
(0 when dropped), ``status`` is ``scheduled`` or ``dropped``, ``reason`` (empty when
scheduled) is one of ``too_short`` (shorter than ``min_duration_s``), ``satellite_busy``
(the satellite is already in contact with another station), ``below_priority`` (every
antenna is taken by higher-priority satellites), ``antenna_busy`` (taken by tracks of the
same priority and better quality), ``setup_time`` (it would fit but for the set-up gap),
and ``conflicts_with`` lists the blocking satellites separated by ``;``.
"""
from __future__ import annotations

import bisect
import csv
import io
import numbers
from pathlib import Path

import numpy as np

from .errors import GroundsegError
from .passes import PassTable
from .stations import Station
from .table import Table, Tabular

__all__ = ["ContactPlan", "plan_contacts", "load_priorities", "parse_priorities", "quality_of",
           "CONTACT_COLUMNS", "DROP_REASONS"]

CONTACT_COLUMNS = ("station", "antenna", "satellite", "norad_id", "priority", "aos_utc",
                   "tca_utc", "los_utc", "duration_s", "max_elevation_deg", "quality", "status",
                   "reason", "conflicts_with")
DROP_REASONS = ("too_short", "satellite_busy", "below_priority", "antenna_busy", "setup_time")
_FORMATS = {"duration_s": ".3f", "max_elevation_deg": ".4f", "quality": ".3f"}


class ContactPlan(Tabular):
    """The passes with the planner's decision, column arrays ordered by AOS.

    ``passes`` (the input :class:`~groundseg.passes.PassTable`, reordered), ``priority``
    (int64), ``quality`` (float64), ``scheduled`` (bool), ``antenna`` (int64, 0 if dropped),
    ``reason`` and ``conflicts_with`` (str), all ``(n,)``; ``stations`` as given.
    """

    def __init__(self, passes: PassTable, stations, priority, quality, scheduled, antenna,
                 reason, conflicts, setup_s, satellite_exclusive):
        self.passes = passes
        self.stations = list(stations)
        self.priority = np.asarray(priority, dtype=np.int64)
        self.quality = np.asarray(quality, dtype=float)
        self.scheduled = np.asarray(scheduled, dtype=bool)
        self.antenna = np.asarray(antenna, dtype=np.int64)
        self.reason = np.asarray(reason, dtype=object)
        self.conflicts_with = np.asarray(conflicts, dtype=object)
        self._setup = np.asarray(setup_s, dtype=float)
        self._exclusive = satellite_exclusive

    def __len__(self) -> int:
        return len(self.passes)

    def __repr__(self) -> str:
        return f"ContactPlan({int(self.scheduled.sum())} scheduled, {int((~self.scheduled).sum())} dropped)"

    def summary(self) -> dict:
        """Counts: scheduled, dropped, and dropped per reason."""
        out = {"scheduled": int(self.scheduled.sum()), "dropped": int((~self.scheduled).sum())}
        for why in DROP_REASONS:
            out[why] = int(np.count_nonzero(self.reason == why))
        return out

    def table(self) -> Table:
        p = self.passes
        cols = {
            "station": p.station, "antenna": self.antenna, "satellite": p.satellite,
            "norad_id": p.norad_id, "priority": self.priority, "aos_utc": p.aos_utc,
            "tca_utc": p.tca_utc, "los_utc": p.los_utc, "duration_s": p.duration_s,
            "max_elevation_deg": p.max_elevation_deg, "quality": self.quality,
            "status": np.where(self.scheduled, "scheduled", "dropped").astype(object),
            "reason": self.reason, "conflicts_with": self.conflicts_with,
        }
        return Table(cols, _FORMATS)

    def to_csv(self, path=None) -> str:
        return self.table().to_csv(path)

    def to_json(self, path=None, indent=None) -> str:
        return self.table().to_json(path, indent=indent)

    # -- how good is the greedy plan ---------------------------------------------------
    def optimality(self, method: str = "auto", max_milp_passes: int = 4000,
                   time_limit_s: float = 60.0) -> Table:
        """Scheduled quality per priority level against the best possible.

        ``method``: ``milp`` (lexicographic optimum: level by level an exact MILP, higher
        levels held at their optimum), ``lp`` (LP relaxation of the same, an upper bound),
        ``auto`` (``milp`` up to ``max_milp_passes`` passes). Columns ``priority``,
        ``passes``, ``greedy_quality``, ``best_quality``, ``ratio`` (greedy / best) and
        ``method``.
        """
        if method == "auto":
            method = "milp" if len(self) <= max_milp_passes else "lp"
        if method not in ("milp", "lp"):
            raise GroundsegError(f"optimality method must be milp, lp or auto, got {method!r}")
        A, cap = self._constraints()
        levels = np.unique(self.priority)
        q = self.quality
        fixed_rows, fixed_lb = [], []
        rows = []
        for level in levels:
            sel = self.priority == level
            best = _solve(q * sel, A, cap, fixed_rows, fixed_lb, integral=(method == "milp"),
                          time_limit_s=time_limit_s)
            greedy = float(q[sel & self.scheduled].sum())
            rows.append((int(level), int(sel.sum()), greedy, best))
            # Hold this level at its optimum (less a hair for the solver's tolerance).
            fixed_rows.append(q * sel)
            fixed_lb.append(best - 1e-6 * max(1.0, abs(best)))
        prio, n, g, b = (np.array(x) for x in zip(*rows)) if rows else (np.zeros(0),) * 4
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(b > 0, g / b, 1.0)
        return Table({"priority": prio.astype(np.int64), "passes": n.astype(np.int64),
                      "greedy_quality": g.astype(float), "best_quality": b.astype(float),
                      "ratio": ratio, "method": np.full(len(rows), method, dtype=object)},
                     {"greedy_quality": ".3f", "best_quality": ".3f", "ratio": ".6f"})

    def _constraints(self):
        """Sparse rows: at every AOS, the passes covering it at one station <= antennas (and,
        with satellite exclusivity, of one satellite <= 1)."""
        from scipy.sparse import csr_matrix
        p = self.passes
        start = _seconds(p.aos_utc)
        end = _seconds(p.los_utc)
        rows, cols, cap = [], [], []
        antennas = {s.name: s.antennas for s in self.stations}

        def cliques(groups, stop, limit):
            for key, idx in groups.items():
                order = idx[np.argsort(start[idx], kind="stable")]
                s_sorted = start[order]
                longest = float(np.max(stop[order] - s_sorted)) if order.size else 0.0
                for i in order:
                    t = start[i]
                    lo = np.searchsorted(s_sorted, t - longest, side="left")
                    hi = np.searchsorted(s_sorted, t, side="right")
                    near = order[lo:hi]
                    cover = near[stop[near] > t]
                    if cover.size > limit(key):
                        rows.append(cover)
                        cap.append(limit(key))

        by_station = {}
        for i, name in enumerate(p.station):
            by_station.setdefault(name, []).append(i)
        cliques({k: np.array(v) for k, v in by_station.items()}, end + self._setup,
                lambda k: antennas[k])
        if self._exclusive:
            by_sat = {}
            for i, name in enumerate(p.satellite):
                by_sat.setdefault(name, []).append(i)
            cliques({k: np.array(v) for k, v in by_sat.items()}, end, lambda k: 1)
        cols = rows
        if not rows:
            return csr_matrix((0, len(p))), np.zeros(0)
        indptr = np.concatenate([[0], np.cumsum([c.size for c in cols])])
        A = csr_matrix((np.ones(indptr[-1]), np.concatenate(cols), indptr), shape=(len(rows), len(p)))
        return A, np.array(cap, dtype=float)


def _solve(c, A, cap, fixed_rows, fixed_lb, integral, time_limit_s):
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix
    n = c.size
    if n == 0:
        return 0.0
    constraints = []
    if A.shape[0]:
        constraints.append(LinearConstraint(A, -np.inf, cap))
    if fixed_rows:
        constraints.append(LinearConstraint(csr_matrix(np.array(fixed_rows)), np.array(fixed_lb),
                                            np.inf))
    res = milp(-c, constraints=constraints or None, bounds=Bounds(0, 1),
               integrality=np.ones(n) if integral else np.zeros(n),
               options={"time_limit": time_limit_s})
    if res.x is None:
        raise GroundsegError(f"contact optimum not found: {res.message}")
    return float(c @ res.x)


def _seconds(t) -> np.ndarray:
    return t.astype("datetime64[ns]").astype(np.int64) / 1e9


def quality_of(passes: PassTable) -> np.ndarray:
    """``duration_s * (0.5 + 0.5 sin(max elevation))`` per pass, ``(n,)``."""
    return passes.duration_s * (0.5 + 0.5 * np.sin(np.radians(np.clip(passes.max_elevation_deg,
                                                                       -90, 90))))


def plan_contacts(passes: PassTable, stations, *, priorities=None, default_priority=None,
                  min_duration_s: float = 0.0, satellite_exclusive: bool = False) -> ContactPlan:
    """Greedy contact plan (see the module docstring) for the passes of a :class:`PassTable`.

    ``stations``: the :class:`~groundseg.stations.Station` objects (their ``antennas`` and
    ``setup_time_s``); every station named in ``passes`` must be there. ``priorities``:
    ``{satellite name or NORAD id: priority}`` (1 is the most important). Returns a
    :class:`ContactPlan`.
    """
    if not isinstance(passes, PassTable):
        raise GroundsegError(f"expected a PassTable, got {type(passes).__name__}")
    by_name = {}
    for s in stations:
        if not isinstance(s, Station):
            raise GroundsegError(f"expected Station objects, got {type(s).__name__}")
        by_name[s.name] = s
    missing = sorted(set(passes.station.tolist()) - set(by_name))
    if missing:
        raise GroundsegError(f"passes name stations that are not given: {', '.join(missing)}")
    if not (isinstance(min_duration_s, numbers.Real) and min_duration_s >= 0):
        raise GroundsegError(f"minimum duration must be >= 0 s, got {min_duration_s}")
    prio = _priorities(passes, priorities or {}, default_priority)
    quality = quality_of(passes)
    order = np.lexsort((_seconds(passes.aos_utc), -quality, prio))
    n = len(passes)
    start, end = _seconds(passes.aos_utc), _seconds(passes.los_utc)
    setup = np.array([by_name[name].setup_time_s for name in passes.station], dtype=float)
    scheduled = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    conflicts = np.full(n, "", dtype=object)
    tracks = {}     # station -> _Intervals of [aos, los + setup)
    contacts = {}   # satellite -> _Intervals of [aos, los)
    for i in order:
        name = passes.station[i]
        if passes.duration_s[i] < min_duration_s:
            reason[i] = "too_short"
            continue
        sat = passes.satellite[i]
        if satellite_exclusive:
            busy = contacts.setdefault(sat, _Intervals()).overlapping(start[i], end[i])
            if busy:
                reason[i] = "satellite_busy"
                conflicts[i] = ";".join(sorted({passes.station[k] for k in busy}))
                continue
        st = tracks.setdefault(name, _Intervals())
        k = by_name[name].antennas
        if st.max_load(start[i], end[i] + setup[i], stop_of=None) < k:
            scheduled[i] = True
            st.add(start[i], end[i] + setup[i], i)
            if satellite_exclusive:
                contacts[sat].add(start[i], end[i], i)
            continue
        # Why not: even without the set-up gaps, or only because of them?
        if st.max_load(start[i], end[i], stop_of=lambda j: end[j]) >= k:
            blockers = st.overlapping(start[i], end[i], stop_of=lambda j: end[j])
            higher = all(prio[j] < prio[i] for j in blockers)
            reason[i] = "below_priority" if higher else "antenna_busy"
        else:
            blockers = st.overlapping(start[i], end[i] + setup[i])
            reason[i] = "setup_time"
        conflicts[i] = ";".join(sorted({passes.satellite[j] for j in blockers}))
    antenna = _assign_antennas(passes, scheduled, start, end + setup, by_name)
    out_order = np.lexsort((passes.station.astype(str), _seconds(passes.aos_utc)))
    plan = ContactPlan(passes.take(out_order), stations, prio[out_order], quality[out_order],
                       scheduled[out_order], antenna[out_order], reason[out_order],
                       conflicts[out_order], setup[out_order], satellite_exclusive)
    return plan


class _Intervals:
    """Accepted intervals of one station (or satellite), sorted by start."""

    def __init__(self):
        self.starts, self.stops, self.ids = [], [], []
        self.longest = 0.0

    def add(self, start, stop, ident):
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.stops.insert(i, stop)
        self.ids.insert(i, ident)
        self.longest = max(self.longest, stop - start)

    def _near(self, start, stop):
        hi = bisect.bisect_left(self.starts, stop)
        lo = bisect.bisect_left(self.starts, start - self.longest)
        return range(lo, hi)

    def overlapping(self, start, stop, stop_of=None):
        out = []
        for i in self._near(start, stop):
            s = self.stops[i] if stop_of is None else stop_of(self.ids[i])
            if s > start and self.starts[i] < stop:
                out.append(self.ids[i])
        return out

    def max_load(self, start, stop, stop_of=None) -> int:
        """Most intervals covering one instant of [start, stop)."""
        events = []
        for i in self._near(start, stop):
            s = self.stops[i] if stop_of is None else stop_of(self.ids[i])
            if s > start and self.starts[i] < stop:
                events.append((max(self.starts[i], start), 1))
                events.append((s, -1))
        load = best = 0
        for _, d in sorted(events, key=lambda e: (e[0], e[1])):
            load += d
            best = max(best, load)
        return best


def _assign_antennas(passes, scheduled, start, stop, by_name) -> np.ndarray:
    """Antenna numbers (1..K) for scheduled passes, AOS order per station; 0 if dropped."""
    antenna = np.zeros(len(passes), dtype=np.int64)
    for name, st in by_name.items():
        idx = np.flatnonzero(scheduled & (passes.station == name))
        free_at = np.full(st.antennas, -np.inf)
        for i in idx[np.argsort(start[idx], kind="stable")]:
            a = int(np.flatnonzero(free_at <= start[i])[0])   # exists: load <= antennas
            antenna[i] = a + 1
            free_at[a] = stop[i]
    return antenna


def _priorities(passes: PassTable, priorities: dict, default) -> np.ndarray:
    table = {}
    for key, value in priorities.items():
        table[str(key).strip()] = _level(f"priority of {key!r}", value)
    known = set(passes.satellite.tolist()) | {str(x) for x in passes.norad_id.tolist()}
    unknown = sorted(k for k in table if k not in known)
    if unknown and len(passes):
        raise GroundsegError(f"priorities name satellites without passes in this table: "
                             f"{', '.join(unknown)}")
    if default is None:
        default = (max(table.values()) + 1) if table else 1
    out = np.full(len(passes), _level("default priority", default), dtype=np.int64)
    for i, (name, nid) in enumerate(zip(passes.satellite, passes.norad_id)):
        if name in table:
            out[i] = table[name]
        elif str(nid) in table:
            out[i] = table[str(nid)]
    return out


_MAX_LEVEL = 1_000_000


def _level(what: str, value) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise GroundsegError(f"{what} must be an integer, got {value!r}") from None
    if level < 1:
        raise GroundsegError(f"{what} must be >= 1 (1 is the most important)")
    if level > _MAX_LEVEL:
        raise GroundsegError(f"{what} must be at most {_MAX_LEVEL:,}, got {level}")
    return level


def parse_priorities(text: str, source: str = "<string>") -> dict:
    """``{satellite: priority}`` from CSV text with header ``satellite,priority``."""
    rows = [(i + 1, row) for i, row in enumerate(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
            if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise GroundsegError(f"{source}: no priorities")
    header = [h.strip() for h in rows[0][1]]
    if header[:2] != ["satellite", "priority"]:
        raise GroundsegError(f"{source}:{rows[0][0]}: header must be satellite,priority")
    out = {}
    for line, row in rows[1:]:
        if len(row) < 2 or not row[0].strip():
            raise GroundsegError(f"{source}:{line}: expected satellite,priority")
        try:
            level = int(row[1])
        except ValueError:
            raise GroundsegError(f"{source}:{line}: priority {row[1]!r} is not an integer") from None
        if level < 1:
            raise GroundsegError(f"{source}:{line}: priority must be >= 1 (1 is the most important)")
        out[row[0].strip()] = level
    return out


def load_priorities(path) -> dict:
    """Priorities from a CSV file (see :func:`parse_priorities`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GroundsegError(f"{path}: not a text file") from None
    return parse_priorities(text, str(path))
