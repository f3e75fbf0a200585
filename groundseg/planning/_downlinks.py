"""Downlinks given as columns, and which downlinks of a resource are usable together."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import PlanningError


@dataclass(frozen=True)
class Downlink:
    """A downlink opportunity of ``resource`` over ``station`` during [start_s, end_s]."""

    resource: int
    start_s: float
    end_s: float
    rate_gbit_s: float
    station: str = ""


def downlinks_from_columns(cols: dict) -> list[Downlink]:
    """Downlink objects from columns ``resource, start_s, end_s, rate_gbit_s[, station]``."""
    try:
        res = np.asarray(cols["resource"]).reshape(-1)
        s = np.asarray(cols["start_s"], float).reshape(-1)
        e = np.asarray(cols["end_s"], float).reshape(-1)
        rate = np.broadcast_to(np.asarray(cols["rate_gbit_s"], float), s.shape)
    except KeyError as exc:
        raise PlanningError(f"downlinks: missing column {exc.args[0]!r}") from None
    station = cols.get("station", [""] * s.size)
    if not (res.size == s.size == e.size == len(station)):
        raise PlanningError("downlinks: columns have different lengths")
    return [Downlink(int(res[k]), float(s[k]), float(e[k]), float(rate[k]), str(station[k]))
            for k in range(s.size)]


def usable_downlinks(res, start, end, rate) -> np.ndarray:
    """Per resource, the non-overlapping subset of downlinks of largest total volume
    (weighted interval scheduling). Returns a bool mask (n_downlinks,)."""
    usable = np.zeros(res.size, dtype=bool)
    for r in np.unique(res):
        idx = np.flatnonzero(res == r)
        idx = idx[np.argsort(end[idx], kind="stable")]
        ends = end[idx]
        vol = rate[idx] * (end[idx] - start[idx])
        m = idx.size
        best = np.zeros(m + 1)
        take = np.zeros(m, dtype=bool)
        prev = np.searchsorted(ends, start[idx], side="right")  # jobs 0..prev-1 end <= start
        for j in range(m):
            with_j = vol[j] + best[prev[j]]
            if with_j >= best[j]:
                best[j + 1] = with_j
                take[j] = True
            else:
                best[j + 1] = best[j]
        j = m - 1
        while j >= 0:
            if take[j] and vol[j] + best[prev[j]] >= best[j]:
                usable[idx[j]] = True
                j = prev[j] - 1
            else:
                j -= 1
        # prev[j] uses a strict end <= start test, so adjacent downlinks may both be usable
    return usable
