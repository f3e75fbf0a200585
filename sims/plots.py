"""Pictures for planners and engineers (matplotlib, Agg backend, PNG).

Every function takes plain arrays (so it does not depend on another module's classes),
writes one PNG to ``path`` and returns the path. Times are ``numpy.datetime64`` arrays or
ISO 8601 UTC strings, plotted in UTC. Maps are plate carrée (longitude, latitude) with the
GSHHS coastlines of :mod:`groundseg.coastlines` at a resolution chosen by the map's extent.

- :func:`ground_tracks`: sub-satellite tracks on the world map, stations with their
  visibility contours, targets; a zoom on the targets' region beside it.
- :func:`pass_gantt`: every pass per station, coloured by satellite; passes the contact
  plan did not schedule greyed on lanes of their own; a minimum drawn width.
- :func:`plan_timeline`: per satellite, lanes for imaging, slews and downlinks; below,
  one panel per busy session with the acquisitions labelled by target.
- :func:`resources`: battery and memory, one row per satellite, eclipses shaded, limit
  lines labelled.
- :func:`revisit_map`: per-cell revisit statistics (e.g. mean, 95th percentile, maximum)
  as heat maps side by side.

The data behind the pictures are functions of their own (:func:`pass_lanes`,
:func:`activity_sessions`, :func:`contour_pieces`, :func:`min_bar_width`,
:func:`label_slots`, :func:`colour_range`, :func:`cell_grid`), so they can be tested
without reading pixels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import SimulationError

__all__ = ["ground_tracks", "pass_gantt", "plan_timeline", "resources", "revisit_map",
           "pass_lanes", "activity_sessions", "contour_pieces", "min_bar_width", "label_slots",
           "colour_range", "cell_grid"]

_DPI = 110
_MIN_BAR_PX = 2.0
_SEA = "#eef4f8"
_LAND = "#e4e1d8"
_SHORE = "0.45"
_UNSCHEDULED = "0.78"
_LANE_KINDS = ("imaging", "slew", "downlink")
_KIND_COLOURS = {"imaging": "tab:green", "slew": "tab:orange", "downlink": "tab:blue"}
_SESSION_GAP_S = 600.0
_MAX_SESSIONS = 6


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _times(values) -> np.ndarray:
    a = np.asarray(values)
    if a.dtype.kind == "M":
        return a.astype("datetime64[ms]")
    from groundseg.timegrid import parse_utc
    return parse_utc(list(a)).astype("datetime64[ms]") if a.size else a.astype("datetime64[ms]")


def _days(t: np.ndarray) -> np.ndarray:
    """datetime64 -> matplotlib date numbers (days since 1970-01-01)."""
    return t.astype("datetime64[ms]").astype(np.int64) / 86_400_000.0


def _save(fig, path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise SimulationError(f"{path}: directory {path.parent} does not exist")
    fig.savefig(path, dpi=_DPI)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def _colours(n: int):
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _date_axis(ax, start=None) -> None:
    """UTC date ticks; with ``start`` (date number), the x label names the first minute."""
    import matplotlib.dates as mdates
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.grid(axis="x", linewidth=0.3, color="0.8")
    if start is not None:
        first = str(np.datetime64(int(round(start * 86_400_000)), "ms").astype("datetime64[m]"))
        ax.set_xlabel(f"UTC, from {first.replace('T', ' ')}", fontsize=9)


# --- maps ---------------------------------------------------------------------------------

def _draw_coast(ax, bbox, width_px: float, *, fill: bool = True, colour=_SHORE,
                linewidth: float = 0.5, zorder: float = 1.0) -> None:
    """Land filled (lakes in sea colour) and shorelines of :mod:`groundseg.coastlines`."""
    from matplotlib.collections import LineCollection, PolyCollection

    from groundseg.coastlines import coastlines, land_polygons, resolution_for
    res = resolution_for(bbox, width_px)
    min_area = 0.0 if res == "intermediate" else 200.0
    if fill:
        ax.set_facecolor(_SEA)
        rings = land_polygons(bbox, resolution=res, min_area_km2=min_area)
        colours = [_SEA if level == 2 else _LAND for level, _ in rings]
        ax.add_collection(PolyCollection([r for _, r in rings], facecolors=colours,
                                         edgecolors="none", zorder=zorder))
    lines = coastlines(bbox, resolution=res, min_area_km2=min_area)
    ax.add_collection(LineCollection(lines, colors=colour, linewidths=linewidth,
                                     zorder=zorder + 0.1))


def _split_antimeridian(lon, lat):
    """Break a track where it jumps across +-180 deg (NaN between the pieces)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    jump = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lon, jump, np.nan), np.insert(lat, jump, np.nan)


def contour_pieces(latitude_deg, longitude_deg):
    """A closed ground contour ``(n,)`` as what to draw on a plate carrée map.

    Longitudes are unwrapped (continuous across the antimeridian). A contour that does not
    go round a pole is one ring; one that goes round a pole (its unwrapped longitude gains
    360 deg) is filled as a band from the contour to that pole. Everything is repeated
    shifted by -360 and +360 deg, so the parts beyond +-180 show on the other edge.
    Returns ``(fills, lines, pole)``: lists of ``(m, 2)`` ``(lon, lat)`` arrays (areas, and
    the contour itself without the band's closing edges) and ``+1`` / ``-1`` / ``0``
    (encloses the north pole, the south pole, neither)."""
    lat = np.asarray(latitude_deg, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(np.asarray(longitude_deg, dtype=float))))
    line = np.column_stack([lon, lat])
    pole = 0
    fill = line
    if abs(lon[-1] - lon[0]) > 180.0:                         # goes round a pole
        pole = 1 if np.mean(lat) > 0 else -1
        if lon[-1] < lon[0]:
            line = line[::-1]
        line = line - (360.0 * np.floor((line[0, 0] + 180.0) / 360.0), 0.0)
        y = 90.0 * pole
        fill = np.vstack([line, [[line[-1, 0], y], [line[0, 0], y]]])
    shifts = (-360.0, 0.0, 360.0)
    return ([fill + (d, 0.0) for d in shifts], [line + (d, 0.0) for d in shifts], pole)


def _region_box(lat, lon, margin_deg: float = 0.8, min_span_deg: float = 3.0):
    """A box ``(lat0, lat1, lon0, lon1)`` round points, at least ``min_span_deg`` wide."""
    la0, la1 = float(np.min(lat)), float(np.max(lat))
    lo0, lo1 = float(np.min(lon)), float(np.max(lon))
    c_la, c_lo = 0.5 * (la0 + la1), 0.5 * (lo0 + lo1)
    h_la = max(0.5 * (la1 - la0) + margin_deg, 0.5 * min_span_deg)
    h_lo = max(0.5 * (lo1 - lo0) + margin_deg, 0.5 * min_span_deg)
    return (max(c_la - h_la, -90.0), min(c_la + h_la, 90.0), c_lo - h_lo, c_lo + h_lo)


def _station_groups(stations, near_deg: float = 3.0):
    """Stations closer than ``near_deg`` share one label: ``[(names, lat, lon)]``."""
    groups: list[list] = []
    for name, slat, slon in stations:
        for grp in groups:
            if abs(grp[1] - slat) < near_deg and abs(grp[2] - slon) < near_deg:
                grp[0].append(name)
                break
        else:
            groups.append([[name], slat, slon])
    return groups


def ground_tracks(path, longitude_deg, latitude_deg, names=None, *, times=None, stations=None,
                  visibility=None, visibility_label: str = "station visibility",
                  targets=None, title: str = "Ground tracks") -> Path:
    """Tracks ``(n_sat, n_time)`` degrees on the world map, sampled at ``times``
    ``(n_time,)`` (optional: labels the zoomed tracks with the time they cross it).

    ``stations``: ``[(name, latitude_deg, longitude_deg)]``; ``visibility``: one closed
    contour ``(latitude_deg, longitude_deg)`` per station (e.g.
    :func:`groundseg.footprints.visibility_contour`), drawn with ``visibility_label`` in
    the legend; ``targets``: ``(latitude_deg, longitude_deg)`` arrays. With targets, a
    second panel zooms on them (coastline at the finer resolution, tracks, stations).
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    plt = _pyplot()
    lon = np.atleast_2d(np.asarray(longitude_deg, dtype=float))
    lat = np.atleast_2d(np.asarray(latitude_deg, dtype=float))
    if lon.shape != lat.shape:
        raise SimulationError("ground tracks: longitude and latitude shapes differ")
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(lon.shape[0])]
    if len(names) != lon.shape[0]:
        raise SimulationError("ground tracks: one name per track")
    stations = list(stations or ())
    visibility = list(visibility or ())
    if visibility and len(visibility) != len(stations):
        raise SimulationError("ground tracks: one visibility contour per station")
    t_lat = t_lon = None
    if targets is not None:
        t_lat, t_lon = (np.atleast_1d(np.asarray(x, dtype=float)) for x in targets)
        if t_lat.shape != t_lon.shape:
            raise SimulationError("ground tracks: target latitude and longitude lengths differ")
        if not t_lat.size:
            t_lat = t_lon = None
    zoom = t_lat is not None
    t = None if times is None else _times(times)
    if t is not None and t.size != lon.shape[1]:
        raise SimulationError("ground tracks: one time per track sample")
    fig = plt.figure(figsize=(16.5 if zoom else 11.5, 6.9 if zoom else 6.4))
    grid = fig.add_gridspec(1, 2 if zoom else 1, width_ratios=[2.15, 1] if zoom else [1],
                            left=0.045, right=0.99, top=0.94, bottom=0.13, wspace=0.08)
    world = fig.add_subplot(grid[0, 0])
    panels = [(world, (-90.0, 90.0, -180.0, 180.0), 1100.0)]
    if zoom:
        region = _region_box(t_lat, t_lon)
        panels.append((fig.add_subplot(grid[0, 1]), region, 550.0))
    colours = _colours(len(names))
    for k, (ax, box, width_px) in enumerate(panels):
        _draw_coast(ax, box, width_px)
        for contour in visibility if k == 0 else ():
            fills, lines, _ = contour_pieces(*contour)
            ax.add_collection(PolyCollection(fills, facecolors=(0.2, 0.2, 0.2, 0.05),
                                             edgecolors="none", zorder=2))
            ax.add_collection(LineCollection(lines, colors="0.25", linewidths=0.8,
                                             linestyles="--", zorder=2.1))
        if k == 0 and zoom:
            r0, r1, q0, q1 = panels[1][1]
            ax.add_patch(Rectangle((q0, r0), q1 - q0, r1 - r0, fill=False, edgecolor="tab:red",
                                   linewidth=0.9, zorder=5))
        lat0, lat1, lon0, lon1 = box
        for colour, name, x, y in zip(colours, names, lon, lat):
            xs, ys = _split_antimeridian(x, y)
            ax.plot(xs, ys, color=colour, linewidth=1.0 if k == 0 else 1.4, zorder=3)
            ok = np.flatnonzero(np.isfinite(x))
            if ok.size and k == 0:
                ax.plot(x[ok[0]], y[ok[0]], "o", color=colour, markersize=4.5, zorder=4)
            inside = np.flatnonzero((y >= lat0) & (y <= lat1) & (x >= lon0) & (x <= lon1))
            if k == 1 and t is not None and inside.size:
                i = inside[np.argmin(np.abs(y[inside] - (0.3 * lat0 + 0.7 * lat1)))]
                hhmm = str(t[i].astype("datetime64[m]"))[11:16]
                label = ax.annotate(f"{name} {hhmm}", (x[i], y[i]), xytext=(4, 0),
                                    textcoords="offset points", fontsize=7.5, color=colour,
                                    ha="left", va="center", zorder=7, clip_on=True)
                label.set_bbox({"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1})
        if t_lat is not None:
            ax.plot(t_lon, t_lat, "o", markersize=2.5 if k == 0 else 3.5, color="tab:red",
                    markeredgecolor="white", markeredgewidth=0.3, zorder=5)
        for names_here, slat, slon in _station_groups(stations, 3.0 if k == 0 else 0.5):
            if not (lat0 <= slat <= lat1 and lon0 <= slon <= lon1):
                continue
            ax.plot(slon, slat, "^", color="black", markersize=7, markeredgecolor="white",
                    markeredgewidth=0.6, zorder=6)
            right = slon > lon0 + 0.7 * (lon1 - lon0)        # label on the side with room
            text = ax.annotate("/".join(names_here), (slon, slat), xytext=(-5 if right else 5, 4),
                               textcoords="offset points", fontsize=8, zorder=6,
                               ha="right" if right else "left", clip_on=True)
            text.set_bbox({"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        ax.set_aspect(1.0 if k == 0 else 1.0 / max(np.cos(np.radians(0.5 * (lat0 + lat1))), 0.2))
        ax.grid(linewidth=0.3, color="0.7", zorder=1.5)
        ax.tick_params(labelsize=8)
    world.set_xticks(np.arange(-180, 181, 60))
    world.set_yticks(np.arange(-90, 91, 30))
    world.set_xlabel("longitude (deg)", fontsize=9)
    world.set_ylabel("latitude (deg)", fontsize=9)
    world.set_title(title, fontsize=11)
    if zoom:
        panels[1][0].set_title(f"Targets ({t_lat.size}) and the tracks over them", fontsize=10)
    handles = [Line2D([], [], color=c, linewidth=2, label=n) for c, n in zip(colours, names)]
    handles.append(Line2D([], [], color="0.3", marker="o", linestyle="none", markersize=5,
                          label="start of track"))
    if stations:
        handles.append(Line2D([], [], color="black", marker="^", linestyle="none",
                              markersize=7, label="ground station"))
    if visibility:
        handles.append(Line2D([], [], color="0.25", linestyle="--", label=visibility_label))
    if t_lat is not None:
        handles.append(Line2D([], [], color="tab:red", marker="o", linestyle="none",
                              markersize=5, label="imaging target"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    return _save(fig, path)


# --- pass Gantt -------------------------------------------------------------------------

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
    a, b = _days(_times(aos)), _days(_times(los))
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


def min_bar_width(span_days: float, axis_width_px: float, min_px: float = _MIN_BAR_PX) -> float:
    """The narrowest bar (days) that still shows ``min_px`` pixels on an axis of
    ``axis_width_px`` pixels spanning ``span_days``."""
    return float(span_days) * float(min_px) / max(float(axis_width_px), 1.0)


def _bars(ax, x0, x1, y, height, colour, min_w, **kw):
    from matplotlib.collections import PolyCollection
    w = np.maximum(x1 - x0, min_w)
    left = np.where(x1 - x0 < min_w, 0.5 * (x0 + x1) - 0.5 * min_w, x0)
    y0, y1 = y - 0.5 * height, y + 0.5 * height
    verts = np.stack([np.column_stack([left, y0]), np.column_stack([left + w, y0]),
                      np.column_stack([left + w, y1]), np.column_stack([left, y1])], axis=1)
    ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", **kw))


def pass_gantt(path, station, satellite, aos, los, *, scheduled=None, stations=None,
               satellites=None, title: str = "Passes per station") -> Path:
    """Every pass as a bar from AOS to LOS on its station's row, coloured by satellite;
    passes not scheduled (``scheduled`` False) greyed on their own lanes below. All arrays
    ``(n_pass,)``. ``stations`` / ``satellites``: row and legend order (default: order of
    appearance); a station without passes keeps its row. Bars are at least 2 px wide."""
    from matplotlib.patches import Patch
    plt = _pyplot()
    station = np.asarray(station, dtype=object)
    satellite = np.asarray(satellite, dtype=object)
    t0, t1 = _times(aos), _times(los)
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
    x0, x1 = _days(t0), _days(t1)
    span = (x1.max() - x0.min()) if x0.size else 1.0
    lo, hi = (x0.min() - 0.01 * span, x1.max() + 0.01 * span) if x0.size else (0.0, 1.0)
    width_px = ax.get_position().width * fig.get_figwidth() * _DPI
    min_w = min_bar_width(hi - lo, width_px)
    colour = dict(zip(sats, _colours(len(sats))))
    for sa in sats:
        sel = (satellite == sa) & scheduled
        if sel.any():
            _bars(ax, x0[sel], x1[sel], row[sel], 0.72, colour[sa], min_w, zorder=3)
    off = ~scheduled
    if off.any():
        _bars(ax, x0[off], x1[off], row[off], 0.55, _UNSCHEDULED, min_w, zorder=2)
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
    _date_axis(ax, x0.min() if x0.size else None)
    n_sched = int(scheduled.sum())
    ax.set_title(f"{title}: {n_sched} scheduled of {station.size} passes "
                 f"({station.size - n_sched} not scheduled, greyed)", fontsize=11, pad=24)
    handles = [Patch(color=colour[s], label=s) for s in sats]
    handles.append(Patch(color=_UNSCHEDULED, label="not scheduled"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=min(len(handles), 10), fontsize=8, frameon=False, handlelength=1.2,
              borderaxespad=0.2)
    return _save(fig, path)


# --- plan timeline ------------------------------------------------------------------------

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
    plt = _pyplot()
    satellite = np.asarray(satellite, dtype=object)
    kind = np.asarray(kind, dtype=object)
    t0, t1 = _times(start), _times(end)
    target = np.full(satellite.size, "", object) if target is None else np.asarray(target, object)
    if not (satellite.size == kind.size == t0.size == t1.size == target.size):
        raise SimulationError("plan timeline: satellite, start, end, kind and target must "
                              "have one length")
    sats = list(dict.fromkeys(satellite.tolist())) if rows is None else list(rows)
    missing = set(satellite.tolist()) - set(sats)
    if missing:
        raise SimulationError(f"plan timeline: satellites not in rows: {sorted(missing)[:3]}")
    lanes = _lane_rows(list(dict.fromkeys(kind.tolist())))
    spare = iter(_colours(10)[4:])
    colour = {k: _KIND_COLOURS.get(k) or next(spare, "tab:gray") for k in lanes}
    x0, x1 = _days(t0), _days(t1)
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
        width_px = ax.get_position().width * size[0] * _DPI
        min_w = min_bar_width(hi - lo, width_px)
        step = n_lane + 0.6
        for j, k in enumerate(lanes):
            for i, sa in enumerate(rows_here):
                m = sel & (kind == k) & (satellite == sa)
                if m.any():
                    _bars(ax, x0[m], x1[m], np.full(m.sum(), i * step + j), 0.8, colour[k],
                          min_w, zorder=2)
        ax.set_xlim(lo, hi)
        ax.xaxis_date()
        _date_axis(ax, start)
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
    return _save(fig, path)


# --- resources ---------------------------------------------------------------------------

def _shade(ax, x, dark) -> None:
    """Shade where ``dark`` (true per sample) across the axes' height."""
    dark = np.asarray(dark, bool)
    if np.any(dark):
        ax.fill_between(x, 0, 1, where=dark, transform=ax.get_xaxis_transform(),
                        color="0.55", alpha=0.18, linewidth=0, step="mid", zorder=0)


def _limit(ax, y, text, colour) -> None:
    ax.axhline(y, color=colour, linestyle="--", linewidth=0.8, zorder=1)
    if text:
        label = ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"), xytext=(-3, 2),
                            textcoords="offset points", ha="right", va="bottom", fontsize=7,
                            color=colour, zorder=5)
        label.set_bbox({"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5})


def _thin(x: np.ndarray, y: np.ndarray, max_points: int):
    """At most ~``max_points`` samples that keep every bucket's minimum and maximum (so
    short spikes survive), in time order."""
    n = x.size
    if n <= max_points:
        return x, y
    size = int(np.ceil(2 * n / max_points))
    m = n // size * size
    blocks = y[:m].reshape(-1, size)
    base = np.arange(0, m, size)
    keep = np.concatenate([base + np.argmin(blocks, axis=1), base + np.argmax(blocks, axis=1),
                           np.arange(m, n), [0, n - 1]])
    keep = np.unique(keep)
    return x[keep], y[keep]


def resources(path, time, memory_gbit, charge_wh, names=None, *, sunlit=None,
              memory_capacity_gbit=None, battery_capacity_wh=None, min_charge_wh=None,
              title: str = "Battery and memory") -> Path:
    """Battery charge (Wh) and memory (Gbit) over ``time`` ``(n_time,)``, one row per
    satellite (small multiples, shared axes); state arrays ``(n_time, n_sat)``.
    ``sunlit``: the sunlit fraction ``(n_time, n_sat)``; below 0.5 is shaded as eclipse.
    Capacities and the charge floor are labelled dashed lines; a memory capacity far above
    the data is stated instead of squashing the curves."""
    from matplotlib.patches import Patch
    plt = _pyplot()
    t = _times(time)
    mem = np.asarray(memory_gbit, dtype=float).reshape(t.size, -1)
    bat = np.asarray(charge_wh, dtype=float).reshape(t.size, -1)
    n = mem.shape[1]
    if bat.shape != mem.shape:
        raise SimulationError("resources: memory and charge shapes differ")
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(n)]
    sun = None if sunlit is None else np.asarray(sunlit, dtype=float).reshape(t.size, -1)
    if sun is not None and sun.shape != mem.shape:
        raise SimulationError("resources: sunlit must have the state arrays' shape")
    x = _days(t)
    # Axes share limits, not tickers: rows above the last get no x ticks (tick objects are
    # most of the drawing time of small multiples).
    fig, axes = plt.subplots(n, 2, figsize=(13, 1.3 + 0.95 * n), squeeze=False,
                             gridspec_kw={"hspace": 0.12, "wspace": 0.1})
    fig.subplots_adjust(left=0.08, right=0.99, top=1 - 0.85 / fig.get_figheight(),
                        bottom=0.6 / fig.get_figheight())
    colours = _colours(n)
    bat_top = max(float(np.nanmax(bat)) if bat.size else 1.0, battery_capacity_wh or 0.0) * 1.25
    mem_peak = float(np.nanmax(mem)) if mem.size else 0.0
    show_cap = memory_capacity_gbit is not None and mem_peak >= 0.2 * memory_capacity_gbit
    mem_top = max(mem_peak, memory_capacity_gbit if show_cap else 0.0, 1e-3) * 1.15
    for i in range(n):
        a_bat, a_mem = axes[i]
        for ax, series in ((a_bat, bat[:, i]), (a_mem, mem[:, i])):
            if sun is not None:
                _shade(ax, *_thin(x, (sun[:, i] < 0.5).astype(float), 4000))
            ax.plot(*_thin(x, series, 3000), color=colours[i], linewidth=0.9, zorder=3)
            ax.grid(linewidth=0.3, color="0.85")
            ax.tick_params(labelsize=7.5)
        peak = int(np.nanargmax(mem[:, i])) if mem.size else 0
        if mem.size and mem[peak, i] > 0:
            a_mem.annotate(f"peak {mem[peak, i]:.1f} Gbit at "
                           f"{str(t[peak].astype('datetime64[m]'))[11:16]}",
                           (1.0, 1.0), xycoords="axes fraction", xytext=(-3, -3),
                           textcoords="offset points", ha="right", va="top", fontsize=7,
                           color="0.25")
        first = i == 0
        if battery_capacity_wh is not None:
            _limit(a_bat, battery_capacity_wh,
                   f"capacity {battery_capacity_wh:g} Wh" if first else "", "0.2")
        if min_charge_wh is not None:
            frac = f" ({100 * min_charge_wh / battery_capacity_wh:.0f} %)" if battery_capacity_wh else ""
            _limit(a_bat, min_charge_wh, f"floor {min_charge_wh:g} Wh{frac}" if first else "",
                   "tab:red")
        if show_cap:
            _limit(a_mem, memory_capacity_gbit,
                   f"capacity {memory_capacity_gbit:g} Gbit" if first else "", "0.2")
        a_bat.set_ylabel(names[i], fontsize=9, rotation=0, ha="right", va="center")
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator
    bat_ticks = MaxNLocator(3).tick_values(0, bat_top)
    mem_ticks = MaxNLocator(3).tick_values(0, mem_top)
    pad = 0.01 * (x[-1] - x[0]) if x.size else 0.0
    span = (x[0] - pad, x[-1] + pad) if x.size else (0.0, 1.0)
    for row in axes:
        row[0].set_ylim(0, bat_top)
        row[1].set_ylim(0, mem_top)
        row[0].yaxis.set_major_locator(FixedLocator(bat_ticks))
        row[1].yaxis.set_major_locator(FixedLocator(mem_ticks))
        for ax in row:
            ax.set_xlim(*span)
    for ax in axes[:-1].flat:
        ax.xaxis.set_major_locator(NullLocator())
    axes[0, 0].set_title("battery charge (Wh)", fontsize=10)
    cap_note = ""
    if memory_capacity_gbit is not None and not show_cap:
        cap_note = f"; capacity {memory_capacity_gbit:g} Gbit, off scale"
    axes[0, 1].set_title(f"memory (Gbit{cap_note})", fontsize=10)
    for ax in axes[-1]:
        ax.xaxis_date()
        _date_axis(ax, x[0] if x.size else None)
    handles = [Patch(color="0.55", alpha=0.3, label="eclipse (sunlit fraction < 0.5)")] \
        if sun is not None else []
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / fig.get_figheight(), va="top")
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, frameon=False,
                   bbox_to_anchor=(0.99, 1 - 0.1 / fig.get_figheight()))
    return _save(fig, path)


# --- revisit maps ---------------------------------------------------------------------------

def cell_grid(latitude_deg, longitude_deg, values, resolution_deg: float):
    """Cell centres ``(n_cell,)`` and their values as a raster: ``(lat_edges (n_rows + 1,),
    lon_edges (n_cols + 1,), grid (n_rows, n_cols))``, rows and columns the distinct centre
    latitudes and longitudes, NaN where no cell is given."""
    lat, lon = np.asarray(latitude_deg, float), np.asarray(longitude_deg, float)
    ulat, ulon = np.unique(lat), np.unique(lon)
    half = 0.5 * resolution_deg
    grid = np.full((ulat.size, ulon.size), np.nan)
    grid[np.searchsorted(ulat, lat), np.searchsorted(ulon, lon)] = np.asarray(values, float)
    return np.append(ulat - half, ulat[-1] + half), np.append(ulon - half, ulon[-1] + half), grid


def colour_range(values, min_relative_span: float = 0.25) -> tuple[float, float]:
    """Colour-scale limits for ``values`` (NaN ignored): their range, widened about its
    middle to at least ``min_relative_span`` of the median (and never below 0 for
    non-negative data), so that differences of a few per cent do not fill the scale."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    need = max(min_relative_span * abs(float(np.median(v))), 1e-9)
    if hi - lo < need:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * need, mid + 0.5 * need
        if lo < 0.0 <= float(v.min()):
            lo, hi = 0.0, need
    return lo, hi


def revisit_map(path, latitude_deg, longitude_deg, values, *, resolution_deg=None,
                label: str = "mean revisit (h)", title: str = "Revisit",
                region=None) -> Path:
    """Per-cell values at cell centres ``(n_cell,)`` as heat maps with the coastline (cells
    without a value grey). ``values``: one array (titled ``label``), or a mapping
    ``{label: array}`` drawn side by side, each with its own colour scale. ``region``:
    ``(lat_min, lat_max, lon_min, lon_max)`` to frame (default: the cells' extent)."""
    import matplotlib
    plt = _pyplot()
    lat = np.asarray(latitude_deg, dtype=float)
    lon = np.asarray(longitude_deg, dtype=float)
    panels = dict(values) if isinstance(values, dict) else {label: values}
    panels = {k: np.asarray(v, dtype=float) for k, v in panels.items()}
    if not panels or lat.size == 0 or any(not (lat.size == lon.size == v.size)
                                          for v in panels.values()):
        raise SimulationError("revisit map: latitude, longitude and values must have one length")
    if resolution_deg is None:
        steps = np.concatenate([np.diff(np.unique(lat)), np.diff(np.unique(lon)), [1.0]])
        resolution_deg = float(steps[steps > 0].min())
    r = resolution_deg
    lat_edges, lon_edges, _ = cell_grid(lat, lon, lat, r)
    if region is not None:
        lat0, lat1, lon0, lon1 = (float(x) for x in region)
    else:
        lat0, lat1, lon0, lon1 = lat_edges[0], lat_edges[-1], lon_edges[0], lon_edges[-1]
    span_lon, span_lat = lon1 - lon0, lat1 - lat0
    y_scale = 1.0 if span_lon >= 60 else 1.0 / max(np.cos(np.radians(0.5 * (lat0 + lat1))), 0.2)
    ratio = span_lat * y_scale / max(span_lon, 1e-9)         # height / width of one map
    n = len(panels)
    map_w = min(4.6, 14.0 / n) if ratio > 0.7 else min(11.0, 15.5 / n)
    map_h = min(map_w * ratio, 7.0)
    map_w = map_h / ratio
    fig, axes = plt.subplots(1, n, figsize=(n * (map_w + 0.7) + 0.4, map_h + 1.75),
                             squeeze=False)
    fig.subplots_adjust(left=0.75 / fig.get_figwidth(), right=1 - 0.15 / fig.get_figwidth(),
                        wspace=0.25, top=1 - 0.85 / fig.get_figheight(),
                        bottom=0.3 / fig.get_figheight())
    cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="0.75")
    box = (lat0, lat1, lon0, lon1)
    for ax, (name, v) in zip(axes[0], panels.items()):
        grid = cell_grid(lat, lon, v, r)[2]
        vmin, vmax = colour_range(v)
        mesh = ax.pcolormesh(lon_edges, lat_edges, np.ma.masked_invalid(grid), cmap=cmap,
                             shading="flat", zorder=1, vmin=vmin, vmax=vmax)
        _draw_coast(ax, box, map_w * _DPI, fill=False, colour="black", linewidth=0.7,
                    zorder=3)
        bar = fig.colorbar(mesh, ax=ax, orientation="horizontal", fraction=0.05, pad=0.1,
                           aspect=30)
        bar.ax.tick_params(labelsize=8)
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        ax.set_aspect(y_scale)
        ax.tick_params(labelsize=8)
        finite = v[np.isfinite(v)]
        stats = (f"median {np.median(finite):.1f}, max {finite.max():.1f}"
                 if finite.size else "no value")
        ax.set_title(f"{name}\n{stats}", fontsize=9.5)
    axes[0, 0].set_ylabel("latitude (deg)", fontsize=9)
    for ax in axes[0]:
        ax.set_xlabel("longitude (deg)", fontsize=9)
    n_val = int(np.isfinite(next(iter(panels.values()))).sum())
    fig.suptitle(f"{title}  ({lat.size} cells of {r:g} deg, {n_val} with a value; grey: none)",
                 fontsize=11, y=1 - 0.15 / fig.get_figheight(), va="top")
    return _save(fig, path)
