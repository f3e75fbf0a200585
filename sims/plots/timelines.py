"""Timelines: passes per station (Gantt) and the plan per satellite with zoomed sessions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SimulationError
from ._style import (DPI, UNSCHEDULED, as_times, bars, date_axis, date_numbers, min_bar_width,
                     palette, pyplot, save)

__all__ = ["pass_gantt", "pass_lanes", "plan_timeline", "activity_sessions", "label_slots"]

_LANE_KINDS = ("imaging", "slew", "downlink")
_KIND_COLOURS = {"imaging": "tab:green", "slew": "tab:orange", "downlink": "tab:blue"}
_SESSION_GAP_S = 600.0
_MAX_SESSIONS = 6


def _pack(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Greedy interval partitioning (intervals in start order): lane per interval, fewest
    lanes such that no two intervals of a lane overlap."""
    lane = np.zeros(starts.size, np.int64)
    free_at: list = []
    for i in np.argsort(starts, kind="stable"):
        for k, t in enumerate(free_at):
            if t <= starts[i]:
                lane[i], free_at[k] = k, ends[i]
                break
        else:
            lane[i] = len(free_at)
            free_at.append(ends[i])
    return lane


def pass_lanes(station, aos, los, scheduled, stations):
    """Rows of the pass Gantt: per station, scheduled passes on the top lanes, then the
    passes not scheduled on lanes below, each set packed so that no bars overlap.

    Returns ``(row (n_pass,) float lane position, rows [(station, first_lane, n_lanes,
    n_scheduled_lanes)])``; lanes are numbered downward from 0 over all stations."""
    station = np.asarray(station, dtype=object)
    a, b = date_numbers(as_times(aos)), date_numbers(as_times(los))
    scheduled = np.asarray(scheduled, dtype=bool)
    row = np.zeros(station.size)
    rows, top = [], 0
    for st in stations:
        here = station == st
        n_lanes = 0
        n_sched = 0
        for kind in (True, False):
            sel = np.flatnonzero(here & (scheduled == kind))
            if sel.size:
                lanes = _pack(a[sel], b[sel])
                row[sel] = top + n_lanes + lanes
                n_lanes += int(lanes.max()) + 1
            if kind:
                n_sched = n_lanes
        rows.append((st, top, max(n_lanes, 1), n_sched))
        top += max(n_lanes, 1)
    return row, rows


def pass_gantt(path, station, satellite, aos, los, *, scheduled=None, stations=None,
               satellites=None, title: str = "Passes per station") -> Path:
    """Every pass as a bar from AOS to LOS on its station's row, coloured by satellite;
    passes not scheduled (``scheduled`` False) greyed on their own lanes below. All arrays
    ``(n_pass,)``. ``stations`` / ``satellites``: row and legend order (default: order of
    appearance); a station without passes keeps its row. Bars are at least 2 px wide."""
    from matplotlib.patches import Patch
    plt = pyplot()
    station = np.asarray(station, dtype=object)
    satellite = np.asarray(satellite, dtype=object)
    t0, t1 = as_times(aos), as_times(los)
    if not (station.size == satellite.size == t0.size == t1.size):
        raise SimulationError("pass Gantt: station, satellite, aos and los must have one length")
    scheduled = np.ones(station.size, bool) if scheduled is None else np.asarray(scheduled, bool)
    if scheduled.size != station.size:
        raise SimulationError("pass Gantt: scheduled must have one flag per pass")
    stations = list(dict.fromkeys(station.tolist())) if stations is None else list(stations)
    sats = list(dict.fromkeys(satellite.tolist())) if satellites is None else list(satellites)
    for what, given, known in (("stations", station, stations), ("satellites", satellite, sats)):
        missing = set(given.tolist()) - set(known)
        if missing:
            raise SimulationError(f"pass Gantt: {what} not listed: {sorted(missing)[:3]}")
    row, rows = pass_lanes(station, t0, t1, scheduled, stations)
    n_lanes = rows[-1][1] + rows[-1][2] if rows else 1
    fig = plt.figure(figsize=(13, 1.4 + 0.27 * n_lanes + 0.12 * len(rows)))
    ax = fig.add_axes([0.09, 0.6 / fig.get_figheight(), 0.89, 1 - 1.25 / fig.get_figheight()])
    x0, x1 = date_numbers(t0), date_numbers(t1)
    span = (x1.max() - x0.min()) if x0.size else 1.0
    lo, hi = (x0.min() - 0.01 * span, x1.max() + 0.01 * span) if x0.size else (0.0, 1.0)
    width_px = ax.get_position().width * fig.get_figwidth() * DPI
    min_w = min_bar_width(hi - lo, width_px)
    colour = dict(zip(sats, palette(len(sats))))
    for sa in sats:
        sel = (satellite == sa) & scheduled
        if sel.any():
            bars(ax, x0[sel], x1[sel], row[sel], 0.72, colour[sa], min_w, zorder=3)
    off = ~scheduled
    if off.any():
        bars(ax, x0[off], x1[off], row[off], 0.55, UNSCHEDULED, min_w, zorder=2)
    for k, (st, first, n, n_sched) in enumerate(rows):
        if k % 2 == 0:
            ax.axhspan(first - 0.5, first + n - 0.5, color="0.96", zorder=0)
        if n_sched and n > n_sched:
            ax.axhline(first + n_sched - 0.5, color="0.85", linewidth=0.5, zorder=1)
        if not (station == st).any():
            ax.text(lo + 0.005 * (hi - lo), first, "no pass", va="center", fontsize=7,
                    color="0.5")
    ax.set_yticks([first + 0.5 * (n - 1) for _, first, n, _ in rows])
    ax.set_yticklabels([st for st, *_ in rows], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(n_lanes - 0.5, -0.5)
    ax.set_xlim(lo, hi)
    ax.xaxis_date()
    date_axis(ax, x0.min() if x0.size else None)
    n_sched = int(scheduled.sum())
    ax.set_title(f"{title}: {n_sched} scheduled of {station.size} passes "
                 f"({station.size - n_sched} not scheduled, greyed)", fontsize=11, pad=24)
    handles = [Patch(color=colour[s], label=s) for s in sats]
    handles.append(Patch(color=UNSCHEDULED, label="not scheduled"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=min(len(handles), 10), fontsize=8, frameon=False, handlelength=1.2,
              borderaxespad=0.2)
    return save(fig, path)


def activity_sessions(satellite, start_s, end_s, gap_s: float = _SESSION_GAP_S):
    """Busy sessions: per satellite, activities closer than ``gap_s`` grouped. Returns
    ``(session (n,) int, sessions [(satellite, start_s, end_s)])`` in time order."""
    satellite = np.asarray(satellite, dtype=object)
    s0, s1 = np.asarray(start_s, float), np.asarray(end_s, float)
    session = np.full(satellite.size, -1, np.int64)
    found = []
    for sa in dict.fromkeys(satellite.tolist()):
        sel = np.flatnonzero(satellite == sa)
        sel = sel[np.argsort(s0[sel], kind="stable")]
        reach = np.maximum.accumulate(s1[sel])
        new = np.ones(sel.size, bool)
        new[1:] = s0[sel[1:]] > reach[:-1] + gap_s
        ids = np.cumsum(new) - 1
        for k in range(int(ids.max()) + 1):
            members = sel[ids == k]
            found.append((sa, float(s0[members].min()), float(s1[members].max()), members))
    found.sort(key=lambda x: (x[1], str(x[0])))
    for k, (_, _, _, members) in enumerate(found):
        session[members] = k
    return session, [(sa, a, b) for sa, a, b, _ in found]


def _lane_rows(kinds):
    order = [k for k in _LANE_KINDS if k in kinds] + [k for k in kinds if k not in _LANE_KINDS]
    return order or list(_LANE_KINDS)


def label_slots(x, min_gap: float, lo: float, hi: float) -> np.ndarray:
    """Positions for labels wanted at ``x`` ``(n,)`` (any order) on ``[lo, hi]``: each as near
    its ``x`` as possible with neighbours at least ``min_gap`` apart (one forward pass
    pushing right, one backward pass pulling left of ``hi``); if they cannot all fit,
    spread evenly over the range."""
    x = np.asarray(x, dtype=float)
    out = np.empty(x.size)
    if not x.size:
        return out
    order = np.argsort(x, kind="stable")
    pos = np.clip(x[order], lo, hi)
    if (x.size - 1) * min_gap > hi - lo:
        pos = np.linspace(lo, hi, x.size)
    else:
        for i in range(1, pos.size):
            pos[i] = max(pos[i], pos[i - 1] + min_gap)
        pos[-1] = min(pos[-1], hi)
        for i in range(pos.size - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - min_gap)
    out[order] = pos
    return out


def _lay_out(n_sats: int, n_lane: int, n_zoom: int, label_chars: int):
    """Figure size and axes rectangles (inches) of the plan timeline: the overview, then
    zoom panels three to a row (room above the lanes for labels of ``label_chars``)."""
    width, left, right = 14.0, 1.0, 0.2
    over_h = 0.12 * n_lane * max(n_sats, 1) + 0.1
    lanes_h, labels_h = 0.22 * n_lane, max(0.8, 0.06 * label_chars + 0.3)
    zoom_h = lanes_h + labels_h
    n_rows = -(-n_zoom // 3)
    height = 0.8 + over_h + 0.45 + n_rows * (0.45 + zoom_h + 0.35) + 0.1
    over = (left, height - 0.8 - over_h, width - left - right, over_h)
    cols = min(max(n_zoom, 1), 3)
    gap = 0.75
    z_w = (width - left - right - (cols - 1) * gap) / cols
    zooms = []
    for z in range(n_zoom):
        r, c = divmod(z, 3)
        top = over[1] - 0.45 - r * (0.45 + zoom_h + 0.35) - 0.45
        zooms.append((left + c * (z_w + gap), top - zoom_h, z_w, zoom_h))
    return (width, height), over, zooms, lanes_h / n_lane


def plan_timeline(path, satellite, start, end, kind, *, target=None, rows=None,
                  title: str = "Plan per satellite") -> Path:
    """Activities ``(satellite, start, end, kind)`` ``(n_activity,)``: per satellite one lane
    per kind (imaging, slew, downlink, then any other), over the whole span; below, up to
    six busy sessions (activities of one satellite closer than 10 min) zoomed in, each
    acquisition labelled with its ``target`` (``(n_activity,)``, '' for none). ``rows``:
    the satellites to show, in order (default: those with an activity)."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch
    plt = pyplot()
    satellite = np.asarray(satellite, dtype=object)
    kind = np.asarray(kind, dtype=object)
    t0, t1 = as_times(start), as_times(end)
    target = np.full(satellite.size, "", object) if target is None else np.asarray(target, object)
    if not (satellite.size == kind.size == t0.size == t1.size == target.size):
        raise SimulationError("plan timeline: satellite, start, end, kind and target must "
                              "have one length")
    sats = list(dict.fromkeys(satellite.tolist())) if rows is None else list(rows)
    missing = set(satellite.tolist()) - set(sats)
    if missing:
        raise SimulationError(f"plan timeline: satellites not in rows: {sorted(missing)[:3]}")
    lanes = _lane_rows(list(dict.fromkeys(kind.tolist())))
    spare = iter(palette(10)[4:])
    colour = {k: _KIND_COLOURS.get(k) or next(spare, "tab:gray") for k in lanes}
    x0, x1 = date_numbers(t0), date_numbers(t1)
    origin = x0.min() if x0.size else 0.0
    session, sessions = activity_sessions(satellite, (x0 - origin) * 86400.0,
                                          (x1 - origin) * 86400.0)
    with_images = [k for k in range(len(sessions)) if np.any((session == k) & (kind == "imaging"))]
    shown = (with_images or list(range(len(sessions))))[:_MAX_SESSIONS]
    n_lane = len(lanes)
    chars = max((len(str(x)) for x in target[kind == "imaging"]), default=0)
    size, over_rect, zoom_rects, lane_in = _lay_out(len(sats), n_lane, len(shown), chars)
    fig = plt.figure(figsize=size)

    def axes(rect):
        x, y, w, h = rect
        return fig.add_axes([x / size[0], y / size[1], w / size[0], h / size[1]])

    def draw(ax, sel, rows_here, lo, hi, start=None):
        width_px = ax.get_position().width * size[0] * DPI
        min_w = min_bar_width(hi - lo, width_px)
        step = n_lane + 0.6
        for j, k in enumerate(lanes):
            for i, sa in enumerate(rows_here):
                m = sel & (kind == k) & (satellite == sa)
                if m.any():
                    bars(ax, x0[m], x1[m], np.full(m.sum(), i * step + j), 0.8, colour[k],
                          min_w, zorder=2)
        ax.set_xlim(lo, hi)
        ax.xaxis_date()
        date_axis(ax, start)
        ax.tick_params(axis="y", length=0)
        return width_px

    over = axes(over_rect)
    lo = origin
    hi = x1.max() if x1.size else 1.0
    pad = 0.01 * max(hi - lo, 1e-6)
    draw(over, np.ones(satellite.size, bool), sats, lo - pad, hi + pad, lo)
    step = n_lane + 0.6
    over.set_yticks([i * step + 0.5 * (n_lane - 1) for i in range(len(sats))])
    over.set_yticklabels(sats, fontsize=8.5)
    over.set_ylim(len(sats) * step - 1.1, -0.5)
    for i in range(1, len(sats)):
        over.axhline(i * step - 0.8, color="0.88", linewidth=0.5)
    for z, k in enumerate(shown):
        sa, a, b = sessions[k]
        over.annotate(f"{z + 1}", (origin + (a + b) / 2 / 86400.0, sats.index(sa) * step - 0.5),
                      ha="center", va="bottom", fontsize=8, fontweight="bold", color="0.15")
    nouns = {"imaging": "acquisitions", "slew": "slews", "downlink": "downlinks"}
    counts = {nouns.get(k, k): int(np.count_nonzero(kind == k)) for k in lanes}
    over.set_title(f"{title}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
                   + ("; numbered sessions zoomed below" if shown else ""), fontsize=11, pad=20)
    over.legend(handles=[Patch(color=colour[k], label=k) for k in lanes], loc="lower center",
                bbox_to_anchor=(0.5, 1.0), ncol=n_lane, fontsize=8, frameon=False,
                borderaxespad=0.1)
    for z, (k, rect) in enumerate(zip(shown, zoom_rects)):
        sa, a, b = sessions[k]
        ax = axes(rect)
        sel = session == k
        lo, hi = origin + a / 86400.0, origin + b / 86400.0
        pad = 0.03 * max(hi - lo, 1.0 / 1440.0)
        width_px = draw(ax, sel, [sa], lo - pad, hi + pad)
        ax.set_yticks(range(n_lane))
        ax.set_yticklabels(lanes, fontsize=8)
        ax.tick_params(axis="x", labelsize=7.5)
        room = (rect[3] / lane_in) - n_lane                       # label space, lane units
        ax.set_ylim(n_lane - 0.5, -0.5 - room)
        img = np.flatnonzero(sel & (kind == "imaging") & (target != ""))
        mid = 0.5 * (x0[img] + x1[img])
        gap = 12.5 / width_px * (hi - lo + 2 * pad)               # one 7 pt line, days
        slot = label_slots(mid, gap, lo - pad + 0.5 * gap, hi + pad - 0.5 * gap)
        y_bar, y_text = -0.45, -0.45 - 0.22 / lane_in
        ax.add_collection(LineCollection(
            [[(m, y_bar), (m, y_bar - 0.07 / lane_in), (s, y_text + 0.07 / lane_in), (s, y_text)]
             for m, s in zip(mid, slot)], colors="0.55", linewidths=0.5, zorder=1))
        for i, s in zip(img, slot):
            ax.text(s, y_text, str(target[i]), rotation=90, ha="center", va="bottom",
                    fontsize=7, clip_on=False)
        n_here = int(np.count_nonzero(sel & (kind == "imaging")))
        clock = [str(np.datetime64(int(round(v * 86_400_000)), "ms"))[11:19] for v in (lo, hi)]
        if clock[0][:5] != clock[1][:5]:
            clock = [c[:5] for c in clock]
        ax.set_title(f"{z + 1}: {sa} {clock[0]}-{clock[1]} UTC, {n_here} acquisition"
                     + ("" if n_here == 1 else "s"), fontsize=9)
    if len(sessions) > len(shown):
        fig.text(0.99, 0.005, f"{len(shown)} of {len(sessions)} sessions zoomed",
                 ha="right", va="bottom", fontsize=7, color="0.4")
    return save(fig, path)
